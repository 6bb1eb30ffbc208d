//! Email on the web: one's address and its verification, whether notifications are emailed,
//! the unsubscribe link of every notification email (with RFC 8058's one-click POST), the
//! "forgot your password?" form, and their JSON API. Thin over `chat::email`.

mod api;
mod links;
mod pages;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::{PageError, shell};
use super::posted::{Plain, Posted, csrf_field};
use crate::chat::email::{self, State as EmailState};
use crate::error::Error;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/account/email", get(page).post(set_address))
        .route("/account/email/resend", post(resend))
        .route("/account/email/notify", post(set_notify))
        .route("/account/email/remove", post(remove))
        .route("/email/verify", get(links::verify_page).post(links::verify))
        .route(
            "/email/unsubscribe",
            get(links::unsubscribe_page).post(links::unsubscribe),
        )
        .route(
            "/password/forgot",
            get(links::forgot_page).post(links::forgot),
        )
        .layer(no_store())
}

/// The email JSON routes, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::state, api::change, api::remove))
        .routes(routes!(api::verify))
        .layer(no_store())
}

/// What one's address answers is never kept by a cache.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// What the page says after an action: done, or what went wrong.
enum Outcome {
    None,
    Done(String),
    Refused(Error),
}

async fn render(app: &App, session: &PageSession, outcome: Outcome) -> Result<Response, PageError> {
    let s = &session.0;
    let state = email::state(&app.chat, &s.user).await?;
    let (status, done, error) = match outcome {
        Outcome::None => (StatusCode::OK, None, None),
        Outcome::Done(what) => (StatusCode::OK, Some(what), None),
        Outcome::Refused(err) => (err.status(), None, Some(err.to_string())),
    };
    let view = pages::EmailView {
        csrf: &s.csrf_token,
        enabled: email::enabled(&app.chat),
        state: &state,
        done: done.as_deref(),
        error: error.as_deref(),
    };
    Ok((status, pages::email(shell(app, Some(session)), &view)).into_response())
}

/// Shows a refusal the person can act on (a bad or taken address, too many emails) on the
/// page itself; anything else is an error page.
async fn answer(
    app: &App,
    session: &PageSession,
    result: Result<String, Error>,
) -> Result<Response, PageError> {
    match result {
        Ok(done) => render(app, session, Outcome::Done(done)).await,
        Err(err @ (Error::Invalid(_) | Error::Conflict(_) | Error::RateLimited { .. })) => {
            let retry_after = err.retry_after();
            let mut res = render(app, session, Outcome::Refused(err)).await?;
            if let Some(seconds) = retry_after {
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            Ok(res)
        }
        Err(err) => Err(err.into()),
    }
}

/// GET /account/email
async fn page(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    render(&app, &session, Outcome::None).await
}

#[derive(Deserialize)]
struct AddressForm {
    #[serde(default)]
    csrf: String,
    address: String,
}

#[derive(Deserialize)]
struct NotifyForm {
    #[serde(default)]
    csrf: String,
    /// `on` or `off`.
    notify: String,
}

csrf_field!(AddressForm, NotifyForm);

fn sent_to(state: &EmailState) -> String {
    format!(
        "A link is on its way to {}: open it to confirm the address.",
        state.address.as_deref().unwrap_or_default()
    )
}

/// POST /account/email
async fn set_address(
    State(app): State<App>,
    Posted(session, f): Posted<AddressForm>,
) -> Result<Response, PageError> {
    let result = email::set_address(&app.chat, &session.0.user, &f.address)
        .await
        .map(|state| match state.verified {
            true => "This address is already yours.".to_string(),
            false => sent_to(&state),
        });
    answer(&app, &session, result).await
}

/// POST /account/email/resend
async fn resend(
    State(app): State<App>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let result = email::resend(&app.chat, &session.0.user)
        .await
        .map(|state| sent_to(&state));
    answer(&app, &session, result).await
}

/// POST /account/email/notify
async fn set_notify(
    State(app): State<App>,
    Posted(session, f): Posted<NotifyForm>,
) -> Result<Response, PageError> {
    let on = match f.notify.as_str() {
        "on" => true,
        "off" => false,
        _ => return Err(Error::invalid("notify is on or off").into()),
    };
    let result = email::set_notify(&app.chat, &session.0.user, on)
        .await
        .map(|_| match on {
            true => "Notification emails are on.".to_string(),
            false => "Notification emails are off.".to_string(),
        });
    answer(&app, &session, result).await
}

/// POST /account/email/remove
async fn remove(
    State(app): State<App>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    email::remove(&app.chat, &session.0.user).await?;
    Ok(Redirect::to("/account/email").into_response())
}
