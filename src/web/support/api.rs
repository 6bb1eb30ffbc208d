//! The JSON API of the support inbox.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::chat::json::MessageView;
use crate::chat::{json as views, notes, reports, support};
use crate::domain::UserId;
use crate::domain::chat::{Conversation, ConversationId, MessageId};
use crate::domain::support::{Filter, InboxEntry, Note, State as ThreadState, Thread};
use crate::error::Error;
use crate::web::App;
use crate::web::api::{ApiError, ApiJson, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

type ApiResult<T> = Result<T, ApiError>;

/// Open one's support conversation with the admins (the one one has, or a new one).
#[utoipa::path(
    post,
    path = "/api/v1/support",
    tag = "support",
    operation_id = "openSupport",
    responses(
        (status = 200, description = "One's support conversation.", body = Conversation),
        (status = 400, description = "One is an admin: admins answer support conversations from the inbox.", body = ErrorBody),
        (status = 429, description = "Too many conversations opened in a short time; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn open(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> ApiResult<Json<Conversation>> {
    Ok(Json(support::open(&app.chat, &s.user).await?))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Show {
    /// Which threads: `all` (the default), `open`, `resolved` or `mine` (assigned to one).
    #[serde(default)]
    show: String,
}

/// The admins' inbox.
#[derive(Serialize, ToSchema)]
pub struct Inbox {
    /// Newest activity first.
    threads: Vec<InboxEntry>,
    /// One's unread messages across the threads listed.
    unread: i64,
}

/// The admins' inbox of support conversations, with one's unread count (admins).
#[utoipa::path(
    get,
    path = "/api/v1/inbox",
    tag = "support",
    operation_id = "getInbox",
    params(Show),
    responses(
        (status = 200, description = "The threads shown.", body = Inbox),
        (status = 400, description = "`show` is not `all`, `open`, `resolved` or `mine`.", body = ErrorBody),
        (status = 404, description = "One is not an admin.", body = ErrorBody),
    )
)]
pub async fn inbox(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    q: Result<Query<Show>, QueryRejection>,
) -> ApiResult<Json<Inbox>> {
    let Query(q) = q.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let threads = support::inbox(&app.chat, &s.user, Filter::parse(&q.show)?).await?;
    let unread: i64 = threads.iter().map(|e| e.unread).sum();
    Ok(Json(Inbox { threads, unread }))
}

/// A support conversation's thread: its member, state and assignee (its admins).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/support",
    tag = "support",
    operation_id = "getSupportThread",
    params(("id" = i64, Path, description = "The support conversation's id.")),
    responses(
        (status = 200, description = "The thread.", body = Thread),
        (status = 404, description = "Not a support conversation one answers as an admin in it.", body = ErrorBody),
    )
)]
pub async fn thread(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Thread>> {
    Ok(Json(support::thread(&app.chat, &s.user, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = SupportUpdate)]
pub struct Update {
    #[schema(value_type = Option<ThreadState>)]
    state: Option<String>,
    /// An admin's id; `0` for nobody.
    assignee_id: Option<UserId>,
}

/// Mark a support thread open or resolved and/or assign it (its admins).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/support",
    tag = "support",
    operation_id = "updateSupportThread",
    params(("id" = i64, Path, description = "The support conversation's id.")),
    request_body = Update,
    responses(
        (status = 200, description = "The thread as it is now; its admins hear `support.updated`.", body = Thread),
        (status = 400, description = "Neither `state` nor `assignee_id` given, a state that is not `open` or `resolved`, an assignee who is not an admin who can take it, or not a JSON object.", body = ErrorBody),
        (status = 404, description = "Not a support conversation one answers as an admin in it.", body = ErrorBody),
        (status = 429, description = "Too many changes in a short time; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn update(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(u): ApiJson<Update>,
) -> ApiResult<Json<Thread>> {
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
    Ok(Json(thread))
}

/// A support conversation's internal notes.
#[derive(Serialize, ToSchema)]
pub struct Notes {
    /// Oldest first.
    notes: Vec<Note>,
}

/// The admins' internal notes in a support conversation (its admins).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/notes",
    tag = "support",
    operation_id = "listNotes",
    params(("id" = i64, Path, description = "The support conversation's id.")),
    responses(
        (status = 200, description = "The notes.", body = Notes),
        (status = 404, description = "Not a support conversation one answers as an admin in it.", body = ErrorBody),
    )
)]
pub async fn notes(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Notes>> {
    let notes = notes::list(&app.chat, &s.user, id).await?;
    Ok(Json(Notes { notes }))
}

#[derive(Deserialize, ToSchema)]
pub struct NewNote {
    /// Markdown, as a message's; at most the server's `max_message_chars`.
    body: String,
}

/// Leave an internal note in a support conversation (its admins); its member never sees it.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/notes",
    tag = "support",
    operation_id = "addNote",
    params(("id" = i64, Path, description = "The support conversation's id.")),
    request_body = NewNote,
    responses(
        (status = 201, description = "The note; the conversation's admins hear `note.created`.", body = Note),
        (status = 400, description = "An empty or too long body, control characters, or not a JSON object with a `body`.", body = ErrorBody),
        (status = 404, description = "Not a support conversation one answers as an admin in it.", body = ErrorBody),
        (status = 429, description = "Too many messages in a short time; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn add_note(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(n): ApiJson<NewNote>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let note = notes::add(&app.chat, &s.user, id, &n.body).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[derive(Deserialize, Default, ToSchema)]
#[schema(as = NewReport)]
pub struct Report {
    /// Why, for the admins; may be empty.
    #[serde(default)]
    #[schema(max_length = 500)]
    reason: String,
}

/// Report a message to the admins: the report is written into one's support conversation.
#[utoipa::path(
    post,
    path = "/api/v1/messages/{id}/report",
    tag = "support",
    operation_id = "reportMessage",
    params(("id" = i64, Path, description = "The message's id.")),
    request_body = Report,
    responses(
        (status = 201, description = "The line written into one's support conversation (created if need be).", body = MessageView),
        (status = 400, description = "A reason over 500 characters, a deleted message, one is an admin (admins have no support conversation), or not a JSON object.", body = ErrorBody),
        (status = 404, description = "No such message, or one one cannot see.", body = ErrorBody),
        (status = 429, description = "Too many messages in a short time; see `Retry-After`.", body = ErrorBody),
    )
)]
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
