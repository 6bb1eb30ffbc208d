//! The JSON API of the support inbox.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::{json as views, notes, reports, support};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId};
use crate::domain::support::{Filter, State as ThreadState};
use crate::error::Error;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

/// POST /support: my support conversation (get or create).
pub async fn open(State(app): State<App>, ApiSession(s): ApiSession) -> ApiResult {
    let c = support::open(&app.chat, &s.user).await?;
    Ok(Json(views::conversation(&c)))
}

#[derive(Deserialize, Default)]
pub struct Show {
    #[serde(default)]
    show: String,
}

/// GET /inbox?show=: the admins' inbox with my unread total (admins; 404 for anyone else).
pub async fn inbox(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    q: Result<Query<Show>, QueryRejection>,
) -> ApiResult {
    let Query(q) = q.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let entries = support::inbox(&app.chat, &s.user, Filter::parse(&q.show)?).await?;
    let unread: i64 = entries.iter().map(|e| e.unread).sum();
    Ok(Json(json!({"threads": entries, "unread": unread})))
}

/// GET /conversations/{id}/support: the thread (admins of it).
pub async fn thread(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult {
    let thread = support::thread(&app.chat, &s.user, id).await?;
    Ok(Json(json!(thread)))
}

#[derive(Deserialize)]
pub struct Update {
    state: Option<String>,
    /// An admin's id; `0` for nobody.
    assignee_id: Option<UserId>,
}

/// POST /conversations/{id}/support: `{"state"}` and/or `{"assignee_id"}` (0: nobody).
pub async fn update(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(u): ApiJson<Update>,
) -> ApiResult {
    let state = u.state.as_deref().map(ThreadState::parse).transpose()?;
    if state.is_none() && u.assignee_id.is_none() {
        return Err(Error::invalid("nothing to change: give state or assignee_id").into());
    }
    let mut thread = support::thread(&app.chat, &s.user, id).await?;
    if let Some(assignee) = u.assignee_id {
        let assignee = Some(assignee).filter(|a| *a != 0);
        thread = support::assign(&app.chat, &s.user, id, assignee).await?;
    }
    if let Some(state) = state {
        thread = support::set_state(&app.chat, &s.user, id, state).await?;
    }
    Ok(Json(json!(thread)))
}

/// GET /conversations/{id}/notes (admins of the support conversation; 404 for anyone else)
pub async fn notes(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult {
    let list = notes::list(&app.chat, &s.user, id).await?;
    Ok(Json(json!({"notes": list})))
}

#[derive(Deserialize)]
pub struct NewNote {
    body: String,
}

/// POST /conversations/{id}/notes `{"body"}`
pub async fn add_note(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(n): ApiJson<NewNote>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let note = notes::add(&app.chat, &s.user, id, &n.body).await?;
    Ok((StatusCode::CREATED, Json(json!(note))))
}

#[derive(Deserialize, Default)]
pub struct Report {
    #[serde(default)]
    reason: String,
}

/// POST /messages/{id}/report `{"reason"?}`: 201 with the line written into my support
/// conversation.
pub async fn report(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
    ApiJson(r): ApiJson<Report>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let line = reports::report(&app.chat, &s.user, id, &r.reason).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::message(&line, Some(s.user.id))),
    ))
}
