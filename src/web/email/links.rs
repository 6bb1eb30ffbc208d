//! The pages an email's link opens, signed in or not: verifying an address, unsubscribing
//! (a page with a button, and the one-click POST mail programs send), and asking for a
//! password reset link.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages;
use crate::chat::email::{self, forgot, unsubscribe as unsub};
use crate::error::Error;
use crate::web::App;
use crate::web::auth::ClientIp;
use crate::web::html::{PageError, PageForm, shell};

#[derive(Deserialize, Default)]
pub struct Token {
    #[serde(default)]
    token: String,
}

/// The page for a verification link that cannot be used, saying why.
fn dead(app: &App, err: Error) -> Result<Response, PageError> {
    let message = match &err {
        Error::NotFound => "This link is not valid".to_owned(),
        Error::Gone(why) => why.clone(),
        Error::Conflict(why) => why.clone(),
        _ => return Err(err.into()),
    };
    Ok((err.status(), pages::dead_link(shell(app, None), &message)).into_response())
}

/// GET /email/verify?token=: what the link confirms, and a button to confirm it (a link
/// opened by a mail scanner confirms nothing).
pub async fn verify_page(
    State(app): State<App>,
    Query(q): Query<Token>,
) -> Result<Response, PageError> {
    match email::check_link(&app.chat, &q.token).await {
        Ok((user, address)) => {
            Ok(
                pages::confirm_address(shell(&app, None), &user, &address, &q.token)
                    .into_response(),
            )
        }
        Err(err) => dead(&app, err),
    }
}

/// POST /email/verify
pub async fn verify(
    State(app): State<App>,
    PageForm(f): PageForm<Token>,
) -> Result<Response, PageError> {
    match email::verify(&app.chat, &f.token).await {
        Ok((_, address)) => {
            Ok(pages::address_confirmed(shell(&app, None), &address).into_response())
        }
        Err(err) => dead(&app, err),
    }
}

/// GET /email/unsubscribe?token=: a page with the button that stops notification emails.
pub async fn unsubscribe_page(
    State(app): State<App>,
    Query(q): Query<Token>,
) -> Result<Response, PageError> {
    let address = unsub::check(&app.chat, &q.token).await?;
    Ok(pages::confirm_unsubscribe(shell(&app, None), &address, &q.token).into_response())
}

/// POST /email/unsubscribe?token=: stops notification emails (the page's button, or a mail
/// program's one-click `List-Unsubscribe=One-Click`, RFC 8058). Again is the same as once.
pub async fn unsubscribe(
    State(app): State<App>,
    Query(q): Query<Token>,
) -> Result<Response, PageError> {
    let address = unsub::unsubscribe(&app.chat, &q.token).await?;
    Ok(pages::unsubscribed(shell(&app, None), &address).into_response())
}

/// GET /password/forgot
pub async fn forgot_page(State(app): State<App>) -> Response {
    let view = pages::ForgotView {
        enabled: email::enabled(&app.chat),
        who: "",
        sent: false,
        error: None,
    };
    pages::forgot(shell(&app, None), &view).into_response()
}

#[derive(Deserialize)]
pub struct ForgotForm {
    who: String,
}

/// POST /password/forgot: the same answer whoever is named.
pub async fn forgot(
    State(app): State<App>,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<ForgotForm>,
) -> Result<Response, PageError> {
    let enabled = email::enabled(&app.chat);
    match forgot::request(&app.chat, ip, &f.who).await {
        Ok(()) => {
            let view = pages::ForgotView {
                enabled,
                who: "",
                sent: true,
                error: None,
            };
            Ok(pages::forgot(shell(&app, None), &view).into_response())
        }
        Err(err @ (Error::Invalid(_) | Error::RateLimited { .. })) => {
            let message = err.to_string();
            let view = pages::ForgotView {
                enabled,
                who: &f.who,
                sent: false,
                error: Some(&message),
            };
            let mut res = (err.status(), pages::forgot(shell(&app, None), &view)).into_response();
            if let Some(seconds) = err.retry_after() {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(res)
        }
        Err(err) => Err(err.into()),
    }
}
