//! The invites JSON API: list, make, revoke.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::chat::actor::Actor;
use crate::chat::invites::{self, Expiry, Spec};
use crate::domain::{Role, now_ms};
use crate::store::invites::{Invite, State as InviteState};
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::html::base_url;
use crate::web::openapi::ErrorBody;

/// An invite as the API shows it (never its token, which is only in the link once).
#[derive(Serialize, ToSchema)]
pub struct InviteView {
    id: i64,
    /// Unix ms.
    created_at: i64,
    /// The username of who made it; `null` when made from the command line or their
    /// account is gone.
    created_by: Option<String>,
    /// Unix ms; `null`: never expires.
    expires_at: Option<i64>,
    /// `null`: any number of uses.
    max_uses: Option<i64>,
    /// The accounts made with it so far.
    uses: i64,
    /// The role of the accounts it makes.
    role: Role,
    /// The channels and groups a newcomer joins (besides #general).
    conversations: Vec<i64>,
    state: InviteState,
    /// Unix ms; `null` unless revoked.
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

/// The invites one may see.
#[derive(Serialize, ToSchema)]
pub struct InviteList {
    invites: Vec<InviteView>,
}

/// An invite just made and its link, shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedInvite {
    invite: InviteView,
    /// The link a newcomer opens to make their account (`…/join/<token>`).
    link: String,
}

/// List the invites one may see: an admin all of them, a member their own.
#[utoipa::path(
    get,
    path = "/api/v1/invites",
    tag = "invites",
    operation_id = "listInvites",
    responses(
        (status = 200, description = "The invites, newest first.", body = InviteList),
        (status = 404, description = "One may not manage invites (members, unless the instance lets them invite).", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    ApiSession(session): ApiSession,
) -> Result<Json<InviteList>, ApiError> {
    let list = invites::list(&app.chat, Actor::User(&session.user)).await?;
    let invites = list.iter().map(InviteView::from).collect();
    Ok(Json(InviteList { invites }))
}

/// What makes an invite.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    /// Omitted or null: any number of uses.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10_000)]
    max_uses: Option<i64>,
    /// `1d`, `7d` (default), `30d` or `never`.
    #[serde(default)]
    expires: Option<String>,
    /// The role of the accounts it makes (default `member`; `admin` only by an admin).
    #[serde(default)]
    #[schema(value_type = Option<Role>)]
    role: Option<String>,
    /// Channels and groups (not directs or support) the newcomer joins; each one the
    /// maker can see. At most 50.
    #[serde(default)]
    conversations: Vec<i64>,
}

/// Make an invite; its link is answered this once.
#[utoipa::path(
    post,
    path = "/api/v1/invites",
    tag = "invites",
    operation_id = "createInvite",
    request_body = NewInvite,
    responses(
        (status = 201, description = "The invite and its link, shown only now.", body = CreatedInvite),
        (status = 400, description = "Not a JSON object of the fields above, uses out of range, an unknown expiry or role, over 50 conversations, or a conversation one cannot see or that cannot be joined by invite.", body = ErrorBody),
        (status = 403, description = "An invite that makes admins, from someone who is not an admin.", body = ErrorBody),
        (status = 404, description = "One may not make invites (members, unless the instance lets them invite).", body = ErrorBody),
    )
)]
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
    let body = CreatedInvite {
        invite: InviteView::from(&made.invite),
        link,
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Revoke an invite (an admin any, a member their own); revoking twice changes nothing.
#[utoipa::path(
    delete,
    path = "/api/v1/invites/{id}",
    tag = "invites",
    operation_id = "revokeInvite",
    params(("id" = i64, Path, description = "The invite's id.")),
    responses(
        (status = 204, description = "Revoked: its link no longer makes accounts."),
        (status = 404, description = "No invite with this id that one may manage, or one may not manage invites.", body = ErrorBody),
    )
)]
pub async fn revoke(
    State(app): State<App>,
    ApiSession(session): ApiSession,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    invites::revoke(&app.chat, Actor::User(&session.user), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
