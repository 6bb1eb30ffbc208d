//! The join page an invite link opens, and open sign-up: a newcomer makes their account
//! and is signed in.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages::{self, JoinView};
use crate::chat::auth;
use crate::chat::invites::{self, Newcomer};
use crate::domain::{User, now_ms};
use crate::error::Error;
use crate::web::App;
use crate::web::auth::{ClientIp, PageSession, sign_in_client, signed_in_cookies};
use crate::web::html::{PageError, PageForm, shell};

#[derive(Deserialize)]
pub struct JoinForm {
    username: String,
    #[serde(default)]
    display_name: String,
    password: String,
    confirm: String,
}

impl JoinForm {
    fn newcomer(&self) -> Result<Newcomer, Error> {
        if self.password != self.confirm {
            return Err(Error::invalid("the two passwords differ"));
        }
        Ok(Newcomer {
            username: self.username.clone(),
            display_name: Some(self.display_name.clone()).filter(|d| !d.trim().is_empty()),
            password: self.password.clone(),
        })
    }
}

/// The page for a link that cannot be used, saying why; nothing changes.
fn dead(app: &App, err: Error) -> Result<Response, PageError> {
    let message = match &err {
        Error::NotFound => "This invite link is not valid".to_owned(),
        Error::Gone(why) => why.clone(),
        _ => return Err(err.into()),
    };
    let page = pages::dead_link(shell(app, None), &message);
    Ok((err.status(), page).into_response())
}

fn signed_in(app: &App, session: &PageSession) -> Response {
    pages::already_signed_in(shell(app, Some(session)), &session.0.user).into_response()
}

/// GET /join/{token}
pub async fn page(
    State(app): State<App>,
    Path(token): Path<String>,
    session: Option<PageSession>,
) -> Result<Response, PageError> {
    if let Some(session) = &session {
        return Ok(signed_in(&app, session));
    }
    match invites::check(&app.chat, &token).await {
        Ok(_) => {
            let view = JoinView::invite(&token);
            Ok(pages::join(shell(&app, None), &view).into_response())
        }
        Err(err) => dead(&app, err),
    }
}

/// Opens a session for a newcomer and sends them home.
async fn welcome(
    app: &App,
    user: User,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Response, PageError> {
    let device = app.sign_ins.devices.issue(user.id, now_ms(), None);
    let place = sign_in_client(ip, headers).place();
    let session = auth::open_session(&app.chat, user, device, place).await?;
    let cookies = signed_in_cookies(&app.config, &session, "/login");
    Ok((cookies, Redirect::to("/")).into_response())
}

/// POST /join/{token}
pub async fn submit(
    State(app): State<App>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    session: Option<PageSession>,
    PageForm(f): PageForm<JoinForm>,
) -> Result<Response, PageError> {
    if let Some(session) = &session {
        return Ok(signed_in(&app, session));
    }
    let joined = match f.newcomer() {
        Ok(newcomer) => {
            invites::join(&app.chat, &app.sign_ins.throttle, ip, &token, newcomer).await
        }
        Err(err) => Err(err),
    };
    match joined {
        Ok(user) => welcome(&app, user, ip, &headers).await,
        Err(err @ (Error::Invalid(_) | Error::Conflict(_))) => {
            let message = err.to_string();
            let view = JoinView {
                username: &f.username,
                display_name: &f.display_name,
                error: Some(&message),
                ..JoinView::invite(&token)
            };
            Ok((err.status(), pages::join(shell(&app, None), &view)).into_response())
        }
        Err(err) => dead(&app, err),
    }
}

/// GET /signup (only when `open_signup` is on)
pub async fn signup_page(
    State(app): State<App>,
    session: Option<PageSession>,
) -> Result<Response, PageError> {
    if !app.config.open_signup {
        return Err(Error::NotFound.into());
    }
    if let Some(session) = &session {
        return Ok(signed_in(&app, session));
    }
    Ok(pages::join(shell(&app, None), &JoinView::signup()).into_response())
}

/// POST /signup
pub async fn signup(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    session: Option<PageSession>,
    PageForm(f): PageForm<JoinForm>,
) -> Result<Response, PageError> {
    if !app.config.open_signup {
        return Err(Error::NotFound.into());
    }
    if let Some(session) = &session {
        return Ok(signed_in(&app, session));
    }
    let made = match f.newcomer() {
        Ok(newcomer) => invites::sign_up(&app.chat, &app.sign_ins.throttle, ip, newcomer).await,
        Err(err) => Err(err),
    };
    match made {
        Ok(user) => welcome(&app, user, ip, &headers).await,
        Err(err @ (Error::Invalid(_) | Error::Conflict(_))) => {
            let message = err.to_string();
            let view = JoinView {
                username: &f.username,
                display_name: &f.display_name,
                error: Some(&message),
                ..JoinView::signup()
            };
            let status = if matches!(err, Error::Conflict(_)) {
                StatusCode::CONFLICT
            } else {
                StatusCode::BAD_REQUEST
            };
            Ok((status, pages::join(shell(&app, None), &view)).into_response())
        }
        Err(other) => Err(other.into()),
    }
}
