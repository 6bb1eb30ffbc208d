//! Your account: picture, display name, password, the sessions you have open; and the page a
//! one-time password link opens. Thin: extract, call `chat::account` / `chat::links`, render.

pub mod api;
mod avatar;
mod pages;
mod password;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::{PageSession, signed_out_headers};
use super::html::{PageError, shell};
use super::posted::{Plain, Posted, csrf_field};
use crate::chat::account;
use crate::error::Error;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/account", get(page))
        .route(
            "/account/avatar",
            // The picture's size is checked as it streams in, against the upload limit.
            post(avatar::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/account/avatar/remove", post(avatar::remove))
        .route("/account/name", post(rename))
        .route("/account/password", post(change_password))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/sessions/end-others", post(end_others))
        .route("/account/sign-out-everywhere", post(everywhere))
        .route(
            "/password/{token}",
            get(password::page).post(password::submit),
        )
        .layer(no_store())
}

/// The account's JSON routes, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::sessions))
        .routes(routes!(api::end_session))
        .routes(routes!(api::change_password))
        .layer(no_store())
}

/// What one's account answers is never kept by a cache.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// What the account page says after an action: done, or what went wrong.
enum Outcome<'a> {
    None,
    Done(&'a str),
    Refused(Error),
}

async fn render(
    app: &App,
    session: &PageSession,
    outcome: Outcome<'_>,
) -> Result<Response, PageError> {
    let s = &session.0;
    let list = account::sessions(&app.chat, &s.user, &s.token_hash).await?;
    let (status, done, error) = match &outcome {
        Outcome::None => (StatusCode::OK, None, None),
        Outcome::Done(what) => (StatusCode::OK, Some(*what), None),
        Outcome::Refused(err) => (err.status(), None, Some(err.to_string())),
    };
    let view = pages::AccountView {
        user: &s.user,
        csrf: &s.csrf_token,
        sessions: &list,
        done,
        error: error.as_deref(),
        max_upload_mb: app.config.max_upload_mb,
    };
    Ok((status, pages::account(shell(app, Some(session)), &view)).into_response())
}

/// GET /account
async fn page(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    render(&app, &session, Outcome::None).await
}

#[derive(Deserialize)]
struct NameForm {
    #[serde(default)]
    csrf: String,
    display_name: String,
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    current: String,
    new: String,
    confirm: String,
}

csrf_field!(NameForm, PasswordForm);

/// POST /account/name
async fn rename(
    State(app): State<App>,
    Posted(mut session, f): Posted<NameForm>,
) -> Result<Response, PageError> {
    match account::rename(&app.chat, &session.0.user, &f.display_name).await {
        Ok(user) => {
            session.0.user = user;
            render(
                &app,
                &session,
                Outcome::Done("Your display name is changed."),
            )
            .await
        }
        Err(err @ Error::Invalid(_)) => render(&app, &session, Outcome::Refused(err)).await,
        Err(other) => Err(other.into()),
    }
}

/// POST /account/password
async fn change_password(
    State(app): State<App>,
    Posted(session, f): Posted<PasswordForm>,
) -> Result<Response, PageError> {
    let s = &session.0;
    let changed = if f.new != f.confirm {
        Err(Error::invalid("the two new passwords differ"))
    } else {
        account::change_password(&app.chat, &s.user, &s.token_hash, &f.current, f.new).await
    };
    match changed {
        Ok(()) => {
            let done = "Your password is changed. Every other session has ended.";
            render(&app, &session, Outcome::Done(done)).await
        }
        Err(err @ Error::Invalid(_)) => render(&app, &session, Outcome::Refused(err)).await,
        Err(other) => Err(other.into()),
    }
}

/// Signed out: the cookie goes, and so does the visitor, to the login page.
fn signed_out(app: &App) -> Response {
    (signed_out_headers(&app.config), Redirect::to("/login")).into_response()
}

/// POST /account/sessions/{id}/end (ending this one signs out)
async fn end_session(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let s = &session.0;
    account::end_session(&app.chat, &s.user, &id).await?;
    if account::public_id(&s.token_hash) == id.to_ascii_lowercase() {
        return Ok(signed_out(&app));
    }
    Ok(Redirect::to("/account").into_response())
}

/// POST /account/sessions/end-others
async fn end_others(
    State(app): State<App>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let s = &session.0;
    account::end_other_sessions(&app.chat, &s.user, &s.token_hash).await?;
    Ok(Redirect::to("/account").into_response())
}

/// POST /account/sign-out-everywhere
async fn everywhere(
    State(app): State<App>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    account::sign_out_everywhere(&app.chat, &session.0.user).await?;
    Ok(signed_out(&app))
}
