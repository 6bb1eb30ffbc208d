//! The notifications JSON API: a conversation's setting, do not disturb, and push devices.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::chat::notify::{self, Change};
use crate::chat::push::{self, NewDevice};
use crate::domain::chat::ConversationId;
use crate::domain::notify::Setting;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

/// How a conversation one is in notifies one.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/notify",
    tag = "notifications",
    operation_id = "getNotifySetting",
    params(("id" = i64, Path, description = "The conversation's id.")),
    responses(
        (status = 200, description = "One's level and mute in the conversation.", body = Setting),
        (status = 404, description = "No such conversation, or one is not a member of it.", body = ErrorBody),
    )
)]
pub async fn setting(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<Setting>, ApiError> {
    Ok(Json(notify::setting(&app.chat, &s.user, id).await?))
}

/// Change how a conversation notifies one: its `level` and/or `muted`.
#[utoipa::path(
    patch,
    path = "/api/v1/conversations/{id}/notify",
    tag = "notifications",
    operation_id = "setNotifySetting",
    params(("id" = i64, Path, description = "The conversation's id.")),
    request_body = Change,
    responses(
        (status = 200, description = "The setting as it is now; one's other pages hear `notify.updated`.", body = Setting),
        (status = 400, description = "Not a JSON object of `level` and `muted`, or a level that is not `all`, `mentions` or `none`.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member of it.", body = ErrorBody),
    )
)]
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

/// Do not disturb: until when.
#[derive(Serialize, ToSchema)]
pub struct QuietUntil {
    /// Unix ms; `null` when one is not in quiet time.
    until: Option<i64>,
}

/// Until when one is not to be disturbed.
#[utoipa::path(
    get,
    path = "/api/v1/me/quiet",
    tag = "notifications",
    operation_id = "getQuiet",
    responses((status = 200, description = "The end of one's quiet time, if one is in it.", body = QuietUntil)),
)]
pub async fn quiet(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<QuietUntil>, ApiError> {
    let until = notify::quiet_until(&app.chat, &s.user).await?;
    Ok(Json(QuietUntil { until }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quiet {
    /// Unix ms, in the future and within a year; `null` (or absent) ends it.
    until: Option<i64>,
}

/// Ask not to be disturbed until a time, or end the quiet time.
#[utoipa::path(
    put,
    path = "/api/v1/me/quiet",
    tag = "notifications",
    operation_id = "setQuiet",
    request_body = Quiet,
    responses(
        (status = 200, description = "The quiet time as it is now; one's pages hear `quiet.updated`.", body = QuietUntil),
        (status = 400, description = "A time that is past or more than a year away, or not a JSON object.", body = ErrorBody),
    )
)]
pub async fn set_quiet(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(body): ApiJson<Quiet>,
) -> Result<Json<QuietUntil>, ApiError> {
    let until = notify::set_quiet_until(&app.chat, &s.user, body.until).await?;
    Ok(Json(QuietUntil { until }))
}

/// The server's Web Push key.
#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The VAPID public key, base64url: a browser's `applicationServerKey`.
    public_key: String,
}

/// The key browsers subscribe to this server's pushes with.
#[utoipa::path(
    get,
    path = "/api/v1/push/key",
    tag = "notifications",
    operation_id = "getPushKey",
    responses(
        (status = 200, description = "The key.", body = PushKey),
        (status = 404, description = "This server does not send pushes.", body = ErrorBody),
    )
)]
pub async fn push_key(
    State(app): State<App>,
    ApiSession(_): ApiSession,
) -> Result<Json<PushKey>, ApiError> {
    match push::public_key(&app.chat).await? {
        Some(public_key) => Ok(Json(PushKey { public_key })),
        None => Err(crate::error::Error::NotFound.into()),
    }
}

/// A push device as its owner sees it (never its keys).
#[derive(Serialize, ToSchema)]
pub struct PushDevice {
    id: i64,
    /// What the person named it ("Chrome on Linux").
    label: String,
    created_at: i64,
    /// Unix ms of the last push delivered, if any.
    last_sent_at: Option<i64>,
    /// Why the last push failed, if it did.
    last_error: Option<String>,
    /// The push service's host.
    service: Option<String>,
}

impl From<&crate::store::push::Device> for PushDevice {
    fn from(d: &crate::store::push::Device) -> Self {
        PushDevice {
            id: d.id,
            label: d.label.clone(),
            created_at: d.created_at,
            last_sent_at: d.last_sent_at,
            last_error: (!d.last_error.is_empty()).then(|| d.last_error.clone()),
            service: url::Url::parse(&d.endpoint)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned)),
        }
    }
}

/// One's push devices.
#[derive(Serialize, ToSchema)]
pub struct PushDevices {
    devices: Vec<PushDevice>,
}

/// List the devices one receives pushes on.
#[utoipa::path(
    get,
    path = "/api/v1/me/devices",
    tag = "notifications",
    operation_id = "listDevices",
    responses((status = 200, description = "One's devices, newest first.", body = PushDevices)),
)]
pub async fn devices(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<PushDevices>, ApiError> {
    let list = push::devices(&app.chat, &s.user).await?;
    Ok(Json(PushDevices {
        devices: list.iter().map(PushDevice::from).collect(),
    }))
}

/// Add a device: a browser's push subscription (`PushSubscription.toJSON()`) with a label.
#[utoipa::path(
    post,
    path = "/api/v1/me/devices",
    tag = "notifications",
    operation_id = "addDevice",
    request_body = NewDevice,
    responses(
        (status = 201, description = "The device; the same endpoint again replaces the one before.", body = PushDevice),
        (status = 400, description = "This server does not send pushes, a subscription that is not well formed, a push service not on a public address, or not a JSON object.", body = ErrorBody),
    )
)]
pub async fn subscribe(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(new): ApiJson<NewDevice>,
) -> Result<(StatusCode, Json<PushDevice>), ApiError> {
    let device = push::subscribe(&app.chat, &s.user, new).await?;
    Ok((StatusCode::CREATED, Json(PushDevice::from(&device))))
}

/// Remove one of one's devices: it receives no more pushes.
#[utoipa::path(
    delete,
    path = "/api/v1/me/devices/{id}",
    tag = "notifications",
    operation_id = "removeDevice",
    params(("id" = i64, Path, description = "The device's id.")),
    responses(
        (status = 204, description = "The device is removed."),
        (status = 404, description = "One has no device with this id.", body = ErrorBody),
    )
)]
pub async fn remove_device(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    push::remove(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
