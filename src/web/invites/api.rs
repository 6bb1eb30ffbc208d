//! The invites JSON API: list, make, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::chat::actor::Actor;
use crate::chat::invites::{self, Expiry, Spec};
use crate::domain::{Role, now_ms};
use crate::store::invites::{Invite, State as InviteState};
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::html::base_url;

/// An invite as the API shows it (never its token, which is only in the link once).
#[derive(Serialize)]
pub struct InviteView {
    id: i64,
    created_at: i64,
    created_by: Option<String>,
    expires_at: Option<i64>,
    max_uses: Option<i64>,
    uses: i64,
    role: Role,
    conversations: Vec<i64>,
    state: InviteState,
    revoked_at: Option<i64>,
}

impl From<&Invite> for InviteView {
    fn from(i: &Invite) -> Self {
        InviteView {
            id: i.id,
            created_at: i.created_at,
            created_by: i.creator.clone(),
            expires_at: i.expires_at,
            max_uses: i.max_uses,
            uses: i.uses,
            role: i.role,
            conversations: i.conversations.clone(),
            state: i.state(now_ms()),
            revoked_at: i.revoked_at,
        }
    }
}

/// GET /api/v1/invites
pub async fn list(
    State(app): State<App>,
    ApiSession(session): ApiSession,
) -> Result<Json<serde_json::Value>, ApiError> {
    let list = invites::list(&app.chat, Actor::User(&session.user)).await?;
    let views: Vec<InviteView> = list.iter().map(InviteView::from).collect();
    Ok(Json(json!({ "invites": views })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    /// Omitted or null: any number of uses.
    #[serde(default)]
    max_uses: Option<i64>,
    /// `1d`, `7d` (default), `30d` or `never`.
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    conversations: Vec<i64>,
}

/// POST /api/v1/invites: 201 `{"invite", "link"}`; the link is shown this once.
pub async fn create(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewInvite>,
) -> Result<Response, ApiError> {
    let spec = Spec {
        max_uses: new.max_uses,
        expires: Expiry::parse(new.expires.as_deref().unwrap_or("7d"))?,
        role: Role::parse(new.role.as_deref().unwrap_or("member"))?,
        conversations: new.conversations,
    };
    let made = invites::create(&app.chat, Actor::User(&session.user), spec).await?;
    let link = invites::link(&base_url(&app.config, &headers), &made.token);
    let body = json!({"invite": InviteView::from(&made.invite), "link": link});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// DELETE /api/v1/invites/{id}: revokes; 204.
pub async fn revoke(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    invites::revoke(&app.chat, Actor::User(&session.user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
