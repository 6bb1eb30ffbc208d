//! The notifications JSON API: a conversation's setting, and do not disturb.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::notify::{self, Change};
use crate::domain::chat::ConversationId;
use crate::domain::notify::Setting;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;

/// GET /api/v1/conversations/{id}/notify
pub async fn setting(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<Setting>, ApiError> {
    Ok(Json(notify::setting(&app.chat, &s.user, id).await?))
}

/// PATCH /api/v1/conversations/{id}/notify: `level` and/or `muted`.
pub async fn set_setting(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(change): ApiJson<Change>,
) -> Result<Json<Setting>, ApiError> {
    Ok(Json(
        notify::set_setting(&app.chat, &s.user, id, change).await?,
    ))
}

/// GET /api/v1/me/quiet
pub async fn quiet(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let until = notify::quiet_until(&app.chat, &s.user).await?;
    Ok(Json(json!({ "until": until })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quiet {
    /// Unix ms, within a year; `null` ends it.
    until: Option<i64>,
}

/// PUT /api/v1/me/quiet
pub async fn set_quiet(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(body): ApiJson<Quiet>,
) -> Result<Json<Value>, ApiError> {
    let until = notify::set_quiet_until(&app.chat, &s.user, body.until).await?;
    Ok(Json(json!({ "until": until })))
}
