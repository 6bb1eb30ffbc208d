//! The outgoing webhooks JSON API, for admins: a conversation's hooks (list, make), one hook
//! (read, revoke, a new secret) and its delivery log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use crate::chat::outgoing::{self, NewOutgoing};
use crate::domain::chat::ConversationId;
use crate::store::outgoing::{Delivery, Hook};
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

/// A conversation's hooks, working ones first.
#[derive(Serialize, ToSchema)]
pub struct OutgoingWebhookList {
    pub hooks: Vec<Hook>,
}

/// A hook's newest attempts, newest first (at most 50).
#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// List a conversation's outgoing webhooks (admins).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/outgoing-webhooks",
    tag = "outgoing-webhooks",
    operation_id = "listOutgoingWebhooks",
    params(("id" = i64, Path, description = "The channel's or group's id.")),
    responses(
        (status = 200, description = "The hooks, with their secrets, working ones first.", body = OutgoingWebhookList),
        (status = 404, description = "Not an admin, or no channel or group with this id that one can see.", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<OutgoingWebhookList>, ApiError> {
    let (_, hooks) = outgoing::list(&app.chat, &session.user, id).await?;
    Ok(Json(OutgoingWebhookList { hooks }))
}

/// Make an outgoing webhook (and the bot its answers are posted as) (admins).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/outgoing-webhooks",
    tag = "outgoing-webhooks",
    operation_id = "createOutgoingWebhook",
    params(("id" = i64, Path, description = "The channel's or group's id.")),
    request_body = NewOutgoing,
    responses(
        (status = 201, description = "The hook, with the secret that signs what it sends.", body = Hook),
        (status = 400, description = "Not a JSON object of the fields above, or a bad name, URL, trigger or words.", body = ErrorBody),
        (status = 403, description = "The conversation is archived.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no channel or group with this id that one can see.", body = ErrorBody),
        (status = 409, description = "The conversation already has 10 working hooks, or no free username is left for the bot.", body = ErrorBody),
    )
)]
pub async fn create(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(new): ApiJson<NewOutgoing>,
) -> Result<(StatusCode, Json<Hook>), ApiError> {
    let hook = outgoing::create(&app.chat, &session.user, id, new).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// Read an outgoing webhook, with its secret (admins).
#[utoipa::path(
    get,
    path = "/api/v1/outgoing-webhooks/{id}",
    tag = "outgoing-webhooks",
    operation_id = "getOutgoingWebhook",
    params(("id" = i64, Path, description = "The hook's id.")),
    responses(
        (status = 200, description = "The hook.", body = Hook),
        (status = 404, description = "Not an admin, or no hook with this id in a conversation one can see.", body = ErrorBody),
    )
)]
pub async fn show(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Hook>, ApiError> {
    let (_, hook, _) = outgoing::get(&app.chat, &session.user, id).await?;
    Ok(Json(hook))
}

/// Revoke an outgoing webhook: nothing more is sent and its bot leaves (admins).
#[utoipa::path(
    delete,
    path = "/api/v1/outgoing-webhooks/{id}",
    tag = "outgoing-webhooks",
    operation_id = "revokeOutgoingWebhook",
    params(("id" = i64, Path, description = "The hook's id.")),
    responses(
        (status = 204, description = "Revoked (or it already was); what its bot posted stays."),
        (status = 404, description = "Not an admin, or no hook with this id in a conversation one can see.", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    outgoing::revoke(&app.chat, &session.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give an outgoing webhook a new secret: the old one stops signing at once (admins).
#[utoipa::path(
    post,
    path = "/api/v1/outgoing-webhooks/{id}/rotate",
    tag = "outgoing-webhooks",
    operation_id = "rotateOutgoingWebhook",
    params(("id" = i64, Path, description = "The hook's id.")),
    responses(
        (status = 200, description = "The hook with its new secret.", body = Hook),
        (status = 400, description = "The hook is revoked.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no hook with this id in a conversation one can see.", body = ErrorBody),
    )
)]
pub async fn rotate(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Hook>, ApiError> {
    Ok(Json(outgoing::rotate(&app.chat, &session.user, id).await?))
}

/// Read an outgoing webhook's newest delivery attempts (admins).
#[utoipa::path(
    get,
    path = "/api/v1/outgoing-webhooks/{id}/deliveries",
    tag = "outgoing-webhooks",
    operation_id = "listOutgoingWebhookDeliveries",
    params(("id" = i64, Path, description = "The hook's id.")),
    responses(
        (status = 200, description = "At most 50 attempts, newest first.", body = DeliveryList),
        (status = 404, description = "Not an admin, or no hook with this id in a conversation one can see.", body = ErrorBody),
    )
)]
pub async fn deliveries(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeliveryList>, ApiError> {
    let (_, _, deliveries) = outgoing::get(&app.chat, &session.user, id).await?;
    Ok(Json(DeliveryList { deliveries }))
}
