//! The one-time "set your password" page a welcome or reset link opens.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages;
use crate::chat::{auth, links};
use crate::domain::now_ms;
use crate::error::Error;
use crate::web::App;
use crate::web::auth::{ClientIp, sign_in_client, signed_in_cookies};
use crate::web::html::{PageError, PageForm, shell};

/// The page for a link that cannot be used, saying why; nothing changes.
fn dead(app: &App, err: Error) -> Result<Response, PageError> {
    let message = match &err {
        Error::NotFound => "This link is not valid".to_owned(),
        Error::Gone(why) => why.clone(),
        _ => return Err(err.into()),
    };
    Ok((err.status(), pages::dead_link(shell(app, None), &message)).into_response())
}

/// GET /password/{token}
pub async fn page(
    State(app): State<App>,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    match links::check(&app.chat, &token).await {
        Ok((user, purpose)) => {
            let view = pages::PasswordView {
                token: &token,
                user: &user,
                purpose,
                error: None,
            };
            Ok(pages::password(shell(&app, None), &view).into_response())
        }
        Err(err) => dead(&app, err),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
    confirm: String,
}

/// POST /password/{token}: sets the password, signs in, goes home.
pub async fn submit(
    State(app): State<App>,
    Path(token): Path<String>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(f): PageForm<PasswordForm>,
) -> Result<Response, PageError> {
    let set = if f.password != f.confirm {
        Err(Error::invalid("the two passwords differ"))
    } else {
        links::set_password(&app.chat, &token, f.password).await
    };
    match set {
        Ok(user) => {
            let device = app.sign_ins.devices.issue(user.id, now_ms(), None);
            let place = sign_in_client(ip, &headers).place();
            let session = auth::open_session(&app.chat, user, device, place).await?;
            let cookies = signed_in_cookies(&app.config, &session, "/login");
            Ok((cookies, Redirect::to("/")).into_response())
        }
        Err(err @ Error::Invalid(_)) => {
            let (user, purpose) = match links::check(&app.chat, &token).await {
                Ok(found) => found,
                Err(gone) => return dead(&app, gone),
            };
            let message = err.to_string();
            let view = pages::PasswordView {
                token: &token,
                user: &user,
                purpose,
                error: Some(&message),
            };
            Ok((err.status(), pages::password(shell(&app, None), &view)).into_response())
        }
        Err(err) => dead(&app, err),
    }
}
