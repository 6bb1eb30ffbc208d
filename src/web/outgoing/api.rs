//! The outgoing webhooks JSON API, for admins: a conversation's hooks (list, make), one hook
//! (read, revoke, a new secret) and its delivery log.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::chat::outgoing::{self, NewOutgoing};
use crate::domain::chat::ConversationId;
use crate::store::outgoing::{Delivery, Hook};
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;

/// A conversation's hooks, working ones first.
#[derive(Serialize)]
pub struct HookList {
    pub hooks: Vec<Hook>,
}

/// A hook's newest attempts, newest first (at most 50).
#[derive(Serialize)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// GET /api/v1/conversations/{id}/outgoing-webhooks
pub async fn list(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<HookList>, ApiError> {
    let (_, hooks) = outgoing::list(&app.chat, &session.user, id).await?;
    Ok(Json(HookList { hooks }))
}

/// POST /api/v1/conversations/{id}/outgoing-webhooks: 201 with the hook and its secret.
pub async fn create(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(new): ApiJson<NewOutgoing>,
) -> Result<(StatusCode, Json<Hook>), ApiError> {
    let hook = outgoing::create(&app.chat, &session.user, id, new).await?;
    Ok((StatusCode::CREATED, Json(hook)))
}

/// GET /api/v1/outgoing-webhooks/{id}
pub async fn show(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Hook>, ApiError> {
    let (_, hook, _) = outgoing::get(&app.chat, &session.user, id).await?;
    Ok(Json(hook))
}

/// DELETE /api/v1/outgoing-webhooks/{id}: 204; nothing more is sent, its bot leaves.
pub async fn revoke(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    outgoing::revoke(&app.chat, &session.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// POST /api/v1/outgoing-webhooks/{id}/rotate: the hook with its new secret.
pub async fn rotate(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Hook>, ApiError> {
    Ok(Json(outgoing::rotate(&app.chat, &session.user, id).await?))
}

/// GET /api/v1/outgoing-webhooks/{id}/deliveries
pub async fn deliveries(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DeliveryList>, ApiError> {
    let (_, _, deliveries) = outgoing::get(&app.chat, &session.user, id).await?;
    Ok(Json(DeliveryList { deliveries }))
}
