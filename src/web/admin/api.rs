//! The console as JSON under `/api/v1/admin`: the same `chat` functions as its pages. Anyone
//! but an active admin is told none of it exists (404).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::ToSchema;

use super::schema::{
    AddedPerson, AdminConversation, AdminConversations, AdminPeople, AdminSettings, AuditPage,
    PersonChanged, ResetLink, SessionsEnded,
};
use super::{audit, people, status};
use crate::chat::actor::Actor;
use crate::chat::{admin, instance, links};
use crate::domain::Role;
use crate::domain::chat::ConversationId;
use crate::error::Error;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::html::base_url;
use crate::web::openapi::ErrorBody;

type ApiResult = Result<Response, ApiError>;

fn admin_only(session: &ApiSession) -> Result<(), ApiError> {
    if session.0.user.is_admin() {
        Ok(())
    } else {
        Err(ApiError(Error::NotFound))
    }
}

/// A query string read into `T`; one that does not fit is a 400 like any other.
fn query<T>(parsed: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    parsed
        .map(|Query(q)| q)
        .map_err(|e| ApiError(Error::invalid(format!("bad query: {}", e.body_text()))))
}

/// How the server is doing: version, uptime, sizes, people and connections.
#[utoipa::path(
    get,
    path = "/api/v1/admin/status",
    tag = "admin",
    operation_id = "adminStatus",
    responses(
        (status = 200, description = "The server's status.", body = status::Status),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn show_status(State(app): State<App>, s: ApiSession) -> ApiResult {
    admin_only(&s)?;
    Ok(Json(status::gather(&app).await?).into_response())
}

/// Find people by name, role and state.
#[utoipa::path(
    get,
    path = "/api/v1/admin/people",
    tag = "admin",
    operation_id = "adminListPeople",
    params(people::Search),
    responses(
        (status = 200, description = "The people found, by username (at most 200).", body = AdminPeople),
        (status = 400, description = "A role or state that is not one of the choices.", body = ErrorBody),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn list_people(
    State(app): State<App>,
    s: ApiSession,
    search: Result<Query<people::Search>, QueryRejection>,
) -> ApiResult {
    let search = query(search)?;
    let people = admin::people(&app.chat, &s.0.user, search.filter()?).await?;
    Ok(Json(AdminPeople { people }).into_response())
}

/// An account to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPerson {
    /// 1–32 letters, digits, `_`, `.` or `-` (surrounding spaces trimmed); unique regardless
    /// of letter case.
    username: String,
    /// 1–64 characters; the username when omitted.
    display_name: Option<String>,
    /// `member` when omitted.
    #[serde(default = "member")]
    #[schema(default = "member")]
    role: Role,
}

fn member() -> Role {
    Role::Member
}

/// Add a person: an account with no password yet, and the one-time link that lets them choose one.
#[utoipa::path(
    post,
    path = "/api/v1/admin/people",
    tag = "admin",
    operation_id = "adminAddPerson",
    request_body = NewPerson,
    responses(
        (status = 201, description = "The account and its welcome link, shown only now.", body = AddedPerson),
        (status = 400, description = "Not a JSON object of the fields above, or a bad username, display name or role.", body = ErrorBody),
        (status = 404, description = "Not an admin.", body = ErrorBody),
        (status = 409, description = "The username is taken.", body = ErrorBody),
    )
)]
pub async fn add_person(
    State(app): State<App>,
    s: ApiSession,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewPerson>,
) -> ApiResult {
    let me = Actor::User(&s.0.user);
    let (user, token) =
        links::add_person(&app.chat, me, &new.username, new.display_name, new.role).await?;
    let link = links::link(&base_url(&app.config, &headers), &token);
    Ok((StatusCode::CREATED, Json(AddedPerson { user, link })).into_response())
}

/// Make a password reset link for a person: their password stops working and their sessions end.
#[utoipa::path(
    post,
    path = "/api/v1/admin/people/{username}/reset-link",
    tag = "admin",
    operation_id = "adminResetLink",
    params(("username" = String, Path, description = "The person's username (any letter case).")),
    responses(
        (status = 200, description = "The reset link, shown only now.", body = ResetLink),
        (status = 400, description = "The account is a bot: it has no password.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no one has this username.", body = ErrorBody),
    )
)]
pub async fn reset_link(
    State(app): State<App>,
    s: ApiSession,
    headers: HeaderMap,
    ApiPath(username): ApiPath<String>,
) -> ApiResult {
    let token = links::reset_link(&app.chat, Actor::User(&s.0.user), &username).await?;
    let link = links::link(&base_url(&app.config, &headers), &token);
    Ok(Json(ResetLink { link }).into_response())
}

/// A change to a person: their role, whether they may sign in, or both.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonChange {
    role: Option<Role>,
    /// `false` deactivates (their sessions end at once), `true` reactivates.
    active: Option<bool>,
    /// With `"active": false` only: delete every message they wrote, for everyone.
    #[serde(default)]
    delete_messages: bool,
}

/// Change a person's role, or deactivate or reactivate them.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/people/{username}",
    tag = "admin",
    operation_id = "adminChangePerson",
    params(("username" = String, Path, description = "The person's username (any letter case).")),
    request_body = PersonChange,
    responses(
        (status = 200, description = "The person as they are now.", body = PersonChanged),
        (status = 400, description = "Not a JSON object of the fields above, neither role nor active given, delete_messages without `\"active\": false`, or a bot made an admin.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no one has this username.", body = ErrorBody),
        (status = 409, description = "The change would leave no active admin.", body = ErrorBody),
    )
)]
pub async fn change_person(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(username): ApiPath<String>,
    ApiJson(change): ApiJson<PersonChange>,
) -> ApiResult {
    admin_only(&s)?;
    let me = &s.0.user;
    if change.role.is_none() && change.active.is_none() {
        return Err(Error::invalid("nothing to change: give role or active").into());
    }
    if change.delete_messages && change.active != Some(false) {
        return Err(Error::invalid("delete_messages goes with \"active\": false").into());
    }
    let mut deleted = 0;
    if let Some(role) = change.role {
        admin::set_role(&app.chat, me, &username, role).await?;
    }
    match change.active {
        Some(false) => {
            deleted = admin::deactivate(&app.chat, me, &username, change.delete_messages)
                .await?
                .messages_deleted;
        }
        Some(true) => {
            admin::reactivate(&app.chat, me, &username).await?;
        }
        None => {}
    }
    let user = crate::chat::accounts::find(&app.chat, &username).await?;
    let body = PersonChanged {
        user,
        messages_deleted: deleted,
    };
    Ok(Json(body).into_response())
}

/// End every session of a person: they sign in again.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/people/{username}/sessions",
    tag = "admin",
    operation_id = "adminEndSessions",
    params(("username" = String, Path, description = "The person's username (any letter case).")),
    responses(
        (status = 200, description = "How many sessions ended.", body = SessionsEnded),
        (status = 404, description = "Not an admin, or no one has this username.", body = ErrorBody),
    )
)]
pub async fn end_sessions(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(username): ApiPath<String>,
) -> ApiResult {
    let ended = admin::end_sessions(&app.chat, &s.0.user, &username).await?;
    Ok(Json(SessionsEnded { ended }).into_response())
}

/// List every channel and group, with their member counts.
#[utoipa::path(
    get,
    path = "/api/v1/admin/conversations",
    tag = "admin",
    operation_id = "adminListConversations",
    responses(
        (status = 200, description = "Every channel and group, channels first.", body = AdminConversations),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn list_conversations(State(app): State<App>, s: ApiSession) -> ApiResult {
    let conversations = admin::conversations(&app.chat, &s.0.user).await?;
    Ok(Json(AdminConversations { conversations }).into_response())
}

/// Archive or unarchive.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Archiving {
    /// `true` makes it read-only; `false` opens it again.
    archived: bool,
}

/// Archive or unarchive a channel or group.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/conversations/{id}",
    tag = "admin",
    operation_id = "adminArchiveConversation",
    params(("id" = i64, Path, description = "The channel's or group's id.")),
    request_body = Archiving,
    responses(
        (status = 200, description = "The conversation as it is now.", body = AdminConversation),
        (status = 400, description = "Not a JSON object with `archived`.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no channel or group with this id.", body = ErrorBody),
        (status = 429, description = "Too many conversation changes; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn change_conversation(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(change): ApiJson<Archiving>,
) -> ApiResult {
    let conversation = admin::set_archived(&app.chat, &s.0.user, id, change.archived).await?;
    Ok(Json(AdminConversation { conversation }).into_response())
}

/// The name of the conversation to delete, typed to confirm.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeleteConfirm)]
pub struct Confirm {
    /// The conversation's name (any letter case).
    confirm: String,
}

/// Delete a channel or group and everything in it; its members are told.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/conversations/{id}",
    tag = "admin",
    operation_id = "adminDeleteConversation",
    params(("id" = i64, Path, description = "The channel's or group's id.")),
    request_body = Confirm,
    responses(
        (status = 204, description = "Deleted."),
        (status = 400, description = "Not a JSON object with `confirm`, or not the conversation's name.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no channel or group with this id.", body = ErrorBody),
    )
)]
pub async fn delete_conversation(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(confirm): ApiJson<Confirm>,
) -> ApiResult {
    admin::delete_conversation(&app.chat, &s.0.user, id, &confirm.confirm).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Join a private group one is not in; its members see a line that says so.
#[utoipa::path(
    post,
    path = "/api/v1/admin/conversations/{id}/join",
    tag = "admin",
    operation_id = "adminJoinGroup",
    params(("id" = i64, Path, description = "The group's id.")),
    responses(
        (status = 200, description = "The group joined.", body = AdminConversation),
        (status = 400, description = "A channel: channels are joined like any member joins them.", body = ErrorBody),
        (status = 404, description = "Not an admin, or no channel or group with this id.", body = ErrorBody),
        (status = 409, description = "Already a member.", body = ErrorBody),
    )
)]
pub async fn join(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult {
    let conversation = admin::join_group(&app.chat, &s.0.user, id).await?;
    Ok(Json(AdminConversation { conversation }).into_response())
}

/// Read the audit log, a page at a time, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/admin/audit",
    tag = "admin",
    operation_id = "adminAuditLog",
    params(audit::Search),
    responses(
        (status = 200, description = "A page of the log.", body = AuditPage),
        (status = 400, description = "`before` is not a number.", body = ErrorBody),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn audit_log(
    State(app): State<App>,
    s: ApiSession,
    search: Result<Query<audit::Search>, QueryRejection>,
) -> ApiResult {
    let search = query(search)?;
    let (entries, has_more) = admin::audit_log(&app.chat, &s.0.user, search.filter()).await?;
    Ok(Json(AuditPage { entries, has_more }).into_response())
}

/// Read the instance's settings.
#[utoipa::path(
    get,
    path = "/api/v1/admin/settings",
    tag = "admin",
    operation_id = "adminSettings",
    responses(
        (status = 200, description = "The settings as they are now.", body = AdminSettings),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn settings(State(app): State<App>, s: ApiSession) -> ApiResult {
    admin_only(&s)?;
    let settings = (*app.chat.instance()).clone();
    Ok(Json(AdminSettings { settings }).into_response())
}

/// Change some of the instance's settings; each value is checked first, and a bad one changes nothing.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/settings",
    tag = "admin",
    operation_id = "adminChangeSettings",
    request_body = instance::Change,
    responses(
        (status = 200, description = "The settings as they are now.", body = AdminSettings),
        (status = 400, description = "Not a JSON object of the fields above, or a value that breaks its rule.", body = ErrorBody),
        (status = 404, description = "Not an admin.", body = ErrorBody),
    )
)]
pub async fn change_settings(
    State(app): State<App>,
    s: ApiSession,
    ApiJson(change): ApiJson<instance::Change>,
) -> ApiResult {
    let next = instance::change(&app.chat, &s.0.user, change).await?;
    let settings = (*next).clone();
    Ok(Json(AdminSettings { settings }).into_response())
}
