//! The notifications JSON API: a conversation's setting, do not disturb, and push devices.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::notify::{self, Change};
use crate::chat::push::{self, NewDevice};
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

/// GET /api/v1/push/key: the key browsers subscribe with (404 when this server does not push).
pub async fn push_key(
    State(app): State<App>,
    ApiSession(_): ApiSession,
) -> Result<Json<Value>, ApiError> {
    match push::public_key(&app.chat).await? {
        Some(key) => Ok(Json(json!({ "public_key": key }))),
        None => Err(crate::error::Error::NotFound.into()),
    }
}

/// A device as its owner sees it (never its keys).
fn device_json(d: &crate::store::push::Device) -> Value {
    json!({
        "id": d.id, "label": d.label, "created_at": d.created_at,
        "last_sent_at": d.last_sent_at,
        "last_error": (!d.last_error.is_empty()).then_some(&d.last_error),
        "service": url::Url::parse(&d.endpoint).ok().and_then(|u| u.host_str().map(str::to_owned)),
    })
}

/// GET /api/v1/me/devices
pub async fn devices(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let list = push::devices(&app.chat, &s.user).await?;
    Ok(Json(
        json!({ "devices": list.iter().map(device_json).collect::<Vec<_>>() }),
    ))
}

/// POST /api/v1/me/devices: a browser's push subscription.
pub async fn subscribe(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(new): ApiJson<NewDevice>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let device = push::subscribe(&app.chat, &s.user, new).await?;
    Ok((StatusCode::CREATED, Json(device_json(&device))))
}

/// DELETE /api/v1/me/devices/{id}
pub async fn remove_device(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    push::remove(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
