//! The incoming webhooks JSON API: a conversation's hooks (list, make), a new URL for one,
//! and revoking one. For the conversation's owners and admins.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::hook_url;
use crate::chat::webhooks;
use crate::store::webhooks::Incoming;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::html::base_url;
use crate::web::openapi::ErrorBody;

/// An incoming hook as the API shows it, with its bot's username.
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    #[serde(flatten)]
    pub hook: Incoming,
    /// The username of the bot it posts as.
    pub bot: String,
}

/// A conversation's working incoming hooks.
#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookView>,
}

/// A hook just made or rotated, with its URL, shown this once.
#[derive(Serialize, ToSchema)]
pub struct MadeWebhook {
    pub webhook: Incoming,
    /// The secret URL other services post to (`…/hooks/<secret>`).
    pub url: String,
}

/// What makes an incoming hook.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// The hook's name, also its bot's display name: 1–64 characters (surrounding spaces
    /// trimmed), no control characters.
    pub name: String,
}

/// List a conversation's working incoming webhooks.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/webhooks",
    tag = "webhooks",
    operation_id = "listWebhooks",
    params(("id" = i64, Path, description = "The channel's or group's id.")),
    responses(
        (status = 200, description = "The hooks, each with its bot's username (never their URLs).", body = WebhookList),
        (status = 400, description = "The conversation is a direct or support conversation: hooks post to channels and groups only.", body = ErrorBody),
        (status = 403, description = "A member of the conversation who is not an owner (or an admin).", body = ErrorBody),
        (status = 404, description = "No conversation with this id that one can see.", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = webhooks::list(&app.chat, &s.user, id)
        .await?
        .into_iter()
        .map(|(hook, bot)| WebhookView { hook, bot })
        .collect();
    Ok(Json(WebhookList { webhooks }))
}

/// Make an incoming webhook (and the bot it posts as); its URL is answered this once.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/webhooks",
    tag = "webhooks",
    operation_id = "createWebhook",
    params(("id" = i64, Path, description = "The channel's or group's id.")),
    request_body = NewWebhook,
    responses(
        (status = 201, description = "The hook and its URL, shown only now.", body = MadeWebhook),
        (status = 400, description = "Not a JSON object with a name, a bad name, or a direct or support conversation.", body = ErrorBody),
        (status = 403, description = "A member who is neither an owner nor an admin; the conversation is archived.", body = ErrorBody),
        (status = 404, description = "No conversation with this id that one can see.", body = ErrorBody),
        (status = 409, description = "The conversation already has 20 working hooks, or no free username is left for the bot.", body = ErrorBody),
    )
)]
pub async fn create(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewWebhook>,
) -> Result<Response, ApiError> {
    let made = webhooks::create(&app.chat, &s.user, id, &new.name).await?;
    let url = hook_url(&base_url(&app.config, &headers), &made.secret);
    let body = MadeWebhook {
        webhook: made.hook,
        url,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Give an incoming webhook a new URL: the old one stops working at once.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/webhooks/{hook}/rotate",
    tag = "webhooks",
    operation_id = "rotateWebhook",
    params(
        ("id" = i64, Path, description = "The conversation's id."),
        ("hook" = i64, Path, description = "The hook's id."),
    ),
    responses(
        (status = 200, description = "The hook and its new URL, shown only now.", body = MadeWebhook),
        (status = 400, description = "The conversation is a direct or support conversation.", body = ErrorBody),
        (status = 403, description = "A member who is neither an owner nor an admin.", body = ErrorBody),
        (status = 404, description = "No conversation one can see with this id, or no working hook of it with this id.", body = ErrorBody),
    )
)]
pub async fn rotate(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    ApiPath((id, hook)): ApiPath<(i64, i64)>,
) -> Result<Json<MadeWebhook>, ApiError> {
    let made = webhooks::rotate(&app.chat, &s.user, id, hook).await?;
    let url = hook_url(&base_url(&app.config, &headers), &made.secret);
    Ok(Json(MadeWebhook {
        webhook: made.hook,
        url,
    }))
}

/// Revoke an incoming webhook: its URL stops working and its bot is deactivated.
#[utoipa::path(
    delete,
    path = "/api/v1/conversations/{id}/webhooks/{hook}",
    tag = "webhooks",
    operation_id = "revokeWebhook",
    params(
        ("id" = i64, Path, description = "The conversation's id."),
        ("hook" = i64, Path, description = "The hook's id."),
    ),
    responses(
        (status = 204, description = "Revoked; what it posted stays."),
        (status = 400, description = "The conversation is a direct or support conversation.", body = ErrorBody),
        (status = 403, description = "A member who is neither an owner nor an admin.", body = ErrorBody),
        (status = 404, description = "No conversation one can see with this id, or no working hook of it with this id.", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, hook)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    webhooks::revoke(&app.chat, &s.user, id, hook).await?;
    Ok(StatusCode::NO_CONTENT)
}
