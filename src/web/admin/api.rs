//! The console as JSON under `/api/v1/admin`: the same `chat` functions as its pages.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

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
use axum::http::HeaderMap;

type ApiResult = Result<Response, ApiError>;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin/status", get(show_status))
        .route("/admin/people", get(list_people).post(add_person))
        .route("/admin/people/{username}/reset-link", post(reset_link))
        .route(
            "/admin/people/{username}",
            axum::routing::patch(change_person),
        )
        .route(
            "/admin/people/{username}/sessions",
            axum::routing::delete(end_sessions),
        )
        .route("/admin/conversations", get(list_conversations))
        .route(
            "/admin/conversations/{id}",
            axum::routing::patch(change_conversation).delete(delete_conversation),
        )
        .route("/admin/conversations/{id}/join", post(join))
        .route("/admin/audit", get(audit_log))
        .route("/admin/settings", get(settings).patch(change_settings))
}

fn admin_only(session: &ApiSession) -> Result<(), ApiError> {
    if session.0.user.is_admin() {
        Ok(())
    } else {
        Err(ApiError(Error::NotFound))
    }
}

/// GET /api/v1/admin/status
async fn show_status(State(app): State<App>, s: ApiSession) -> ApiResult {
    admin_only(&s)?;
    Ok(Json(status::gather(&app).await?).into_response())
}

/// GET /api/v1/admin/people?q=&role=&state=
async fn list_people(
    State(app): State<App>,
    s: ApiSession,
    Query(search): Query<people::Search>,
) -> ApiResult {
    let found = admin::people(&app.chat, &s.0.user, search.filter()?).await?;
    Ok(Json(json!({ "people": found })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPerson {
    username: String,
    display_name: Option<String>,
    #[serde(default = "member")]
    role: Role,
}

fn member() -> Role {
    Role::Member
}

/// POST /api/v1/admin/people `{"username", "display_name"?, "role"?}` → 201
/// `{"user", "link"}`: the account and its one-time welcome link.
async fn add_person(
    State(app): State<App>,
    s: ApiSession,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewPerson>,
) -> ApiResult {
    let me = Actor::User(&s.0.user);
    let (user, token) =
        links::add_person(&app.chat, me, &new.username, new.display_name, new.role).await?;
    let link = links::link(&base_url(&app.config, &headers), &token);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": user, "link": link })),
    )
        .into_response())
}

/// POST /api/v1/admin/people/{username}/reset-link → `{"link"}`; their sessions end.
async fn reset_link(
    State(app): State<App>,
    s: ApiSession,
    headers: HeaderMap,
    ApiPath(username): ApiPath<String>,
) -> ApiResult {
    let token = links::reset_link(&app.chat, Actor::User(&s.0.user), &username).await?;
    let link = links::link(&base_url(&app.config, &headers), &token);
    Ok(Json(json!({ "link": link })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonChange {
    role: Option<Role>,
    active: Option<bool>,
    #[serde(default)]
    delete_messages: bool,
}

/// PATCH /api/v1/admin/people/{username} `{"role"?, "active"?, "delete_messages"?}`
async fn change_person(
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
    Ok(Json(json!({ "user": user, "messages_deleted": deleted })).into_response())
}

/// DELETE /api/v1/admin/people/{username}/sessions
async fn end_sessions(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(username): ApiPath<String>,
) -> ApiResult {
    let ended = admin::end_sessions(&app.chat, &s.0.user, &username).await?;
    Ok(Json(json!({ "ended": ended })).into_response())
}

/// GET /api/v1/admin/conversations
async fn list_conversations(State(app): State<App>, s: ApiSession) -> ApiResult {
    let list = admin::conversations(&app.chat, &s.0.user).await?;
    Ok(Json(json!({ "conversations": list })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConversationChange {
    archived: bool,
}

/// PATCH /api/v1/admin/conversations/{id} `{"archived"}`
async fn change_conversation(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(change): ApiJson<ConversationChange>,
) -> ApiResult {
    let c = admin::set_archived(&app.chat, &s.0.user, id, change.archived).await?;
    Ok(Json(json!({ "conversation": c })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Confirm {
    confirm: String,
}

/// DELETE /api/v1/admin/conversations/{id} `{"confirm": name}`
async fn delete_conversation(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(confirm): ApiJson<Confirm>,
) -> ApiResult {
    admin::delete_conversation(&app.chat, &s.0.user, id, &confirm.confirm).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// POST /api/v1/admin/conversations/{id}/join
async fn join(
    State(app): State<App>,
    s: ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult {
    let c = admin::join_group(&app.chat, &s.0.user, id).await?;
    Ok(Json(json!({ "conversation": c })).into_response())
}

/// GET /api/v1/admin/audit?person=&action=&before=
async fn audit_log(
    State(app): State<App>,
    s: ApiSession,
    Query(search): Query<audit::Search>,
) -> ApiResult {
    let (entries, more) = admin::audit_log(&app.chat, &s.0.user, search.filter()).await?;
    Ok(Json(json!({ "entries": entries, "has_more": more })).into_response())
}

/// GET /api/v1/admin/settings
async fn settings(State(app): State<App>, s: ApiSession) -> ApiResult {
    admin_only(&s)?;
    Ok(Json(json!({ "settings": *app.chat.instance() })).into_response())
}

/// PATCH /api/v1/admin/settings `{"community_name"?, "welcome_text"?, "accent"?, …}`
async fn change_settings(
    State(app): State<App>,
    s: ApiSession,
    ApiJson(change): ApiJson<instance::Change>,
) -> ApiResult {
    let next = instance::change(&app.chat, &s.0.user, change).await?;
    Ok(Json(json!({ "settings": *next })).into_response())
}
