//! Notifications on the web: a conversation's bell (its level and mute), do not disturb, the
//! notifications settings page, push devices, and their JSON API. Thin over `chat::notify` and
//! `chat::push`.

mod api;
mod pages;

pub use pages::bell_menu;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
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
use crate::chat::notify::{self, Change};
use crate::chat::push;
use crate::domain::chat::ConversationId;
use crate::domain::notify::Level;
use crate::domain::now_ms;
use crate::error::Error;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/c/{id}/notify", post(set_level))
        .route("/account/notifications", get(page))
        .route("/account/notifications/quiet", post(set_quiet))
        .route(
            "/account/notifications/devices/{id}/remove",
            post(remove_device),
        )
        .layer(no_store())
}

/// The notifications JSON routes, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::setting, api::set_setting))
        .routes(routes!(api::quiet, api::set_quiet))
        .routes(routes!(api::push_key))
        .routes(routes!(api::devices, api::subscribe))
        .routes(routes!(api::remove_device))
        .layer(no_store())
}

/// What one's settings answer is never kept by a cache.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

#[derive(Deserialize)]
struct LevelForm {
    #[serde(default)]
    csrf: String,
    level: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    muted: Option<String>,
    /// Where to go back to: the conversation (default) or the settings page.
    #[serde(default)]
    back: String,
}

#[derive(Deserialize)]
struct QuietForm {
    #[serde(default)]
    csrf: String,
    /// Minutes of quiet from now; `0` ends it.
    minutes: String,
}

csrf_field!(LevelForm, QuietForm);

/// POST /c/{id}/notify: the bell's form.
async fn set_level(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<LevelForm>,
) -> Result<Response, PageError> {
    let change = Change {
        level: Some(Level::parse(&f.level)?),
        muted: Some(
            f.muted
                .as_deref()
                .is_some_and(|v| !v.is_empty() && v != "0"),
        ),
    };
    notify::set_setting(&app.chat, &session.0.user, id, change).await?;
    let back = match f.back.as_str() {
        "settings" => "/account/notifications".to_string(),
        _ => format!("/c/{id}"),
    };
    Ok(Redirect::to(&back).into_response())
}

/// The quiet times the settings page offers, in minutes (`0` ends it).
pub const QUIET_CHOICES: &[(i64, &str)] = &[
    (30, "30 minutes"),
    (60, "1 hour"),
    (4 * 60, "4 hours"),
    (8 * 60, "8 hours"),
    (24 * 60, "24 hours"),
    (7 * 24 * 60, "1 week"),
];

/// POST /account/notifications/quiet
async fn set_quiet(
    State(app): State<App>,
    Posted(session, f): Posted<QuietForm>,
) -> Result<Response, PageError> {
    let minutes: i64 = f
        .minutes
        .trim()
        .parse()
        .map_err(|_| Error::invalid("choose how long to be left alone"))?;
    let until = match minutes {
        0 => None,
        m if QUIET_CHOICES.iter().any(|(c, _)| *c == m) => Some(now_ms() + m * 60_000),
        _ => return Err(Error::invalid("choose one of the offered times").into()),
    };
    notify::set_quiet_until(&app.chat, &session.0.user, until).await?;
    Ok(Redirect::to("/account/notifications").into_response())
}

/// GET /account/notifications
async fn page(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    let user = &session.0.user;
    let quiet = notify::quiet_until(&app.chat, user).await?;
    let summaries = crate::chat::conversations::list(&app.chat, user).await?;
    let devices = push::devices(&app.chat, user).await?;
    let view = pages::SettingsView {
        csrf: &session.0.csrf_token,
        quiet_until: quiet,
        summaries: &summaries,
        push: app.config.push_subject().is_some(),
        devices: &devices,
    };
    Ok(pages::settings(shell(&app, Some(&session)), &view).into_response())
}

/// POST /account/notifications/devices/{id}/remove
async fn remove_device(
    State(app): State<App>,
    Path(id): Path<i64>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    push::remove(&app.chat, &session.0.user, id).await?;
    Ok(Redirect::to("/account/notifications").into_response())
}
