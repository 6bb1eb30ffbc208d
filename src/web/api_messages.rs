//! The JSON API for messages: history, sending, editing, reactions, read markers and typing.

use axum::Json;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::api::{ApiError, ApiJson, ApiPath};
use super::auth::ApiSession;
use super::openapi::ErrorBody;
use super::strict::Object;
use crate::chat::json::{HistoryPage, MessageView};
use crate::chat::messages::{self, Draft};
use crate::chat::{json as views, reads};
use crate::domain::chat::{ConversationId, MessageId};
use crate::error::Error;
use crate::store::messages::Cursor;

pub fn documented() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(history, send))
        .routes(routes!(edit, delete))
        .routes(routes!(react_on, react_off))
        .routes(routes!(read))
        .routes(routes!(typing))
        .routes(routes!(unread))
}

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

/// Which page of history: the newest by default; at most one of `before`, `after`, `around`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Page {
    /// Messages older than this one.
    #[param(value_type = Option<i64>, minimum = 1)]
    before: Option<String>,
    /// Messages newer than this one.
    #[param(value_type = Option<i64>, minimum = 1)]
    after: Option<String>,
    /// A page centred on this message (the answer then says `has_newer`).
    #[param(value_type = Option<i64>, minimum = 1)]
    around: Option<String>,
    /// How many messages (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

fn cursor(page: &Page) -> Result<(Cursor, usize), Error> {
    let id = |raw: &str, what: &str| {
        raw.parse::<MessageId>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| Error::invalid(format!("{what} must be a message id")))
    };
    if page.around.is_some() && (page.before.is_some() || page.after.is_some()) {
        return Err(Error::invalid("give before, after or around, only one"));
    }
    let cursor = match (&page.before, &page.after) {
        (Some(_), Some(_)) => return Err(Error::invalid("give before or after, not both")),
        (Some(b), None) => Cursor::Before(id(b, "before")?),
        (None, Some(a)) => Cursor::After(id(a, "after")?),
        (None, None) => Cursor::Latest,
    };
    let limit = match &page.limit {
        None => 50,
        Some(raw) => raw
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=100).contains(l))
            .ok_or_else(|| Error::invalid("limit must be between 1 and 100"))?,
    };
    Ok((cursor, limit))
}

/// A page of a conversation's messages, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messages",
    operation_id = "listMessages",
    params(("id" = i64, Path, description = "The conversation.", example = 1), Page),
    responses(
        (status = 200, description = "The page; `has_more` says whether older messages exist.", body = HistoryPage),
        (status = 400, description = "A bad cursor or limit, or more than one of before, after and around.", body = ErrorBody),
        (status = 404, description = "No such conversation, one may not see it, or no such message to be around.", body = ErrorBody),
    )
)]
async fn history(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(page) = page.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let (cursor, limit) = cursor(&page)?;
    if let Some(raw) = &page.around {
        let at = raw
            .parse::<MessageId>()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| Error::invalid("around must be a message id"))?;
        let (list, older, newer) = messages::around(&app.chat, &s.user, id, at, limit).await?;
        let page = views::HistoryPage::new(&list, older, Some(s.user.id)).with_newer(newer);
        return Ok(super::api::json_sized(&page, page.size_hint()));
    }
    let (list, has_more) = messages::history(&app.chat, &s.user, id, cursor, limit).await?;
    let page = views::HistoryPage::new(&list, has_more, Some(s.user.id));
    Ok(super::api::json_sized(&page, page.size_hint()))
}

/// Send a message (with `client_id`, a retry returns the message already sent).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messages",
    operation_id = "sendMessage",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    request_body = Draft,
    responses(
        (status = 201, description = "The message as sent.", body = MessageView),
        (status = 400, description = "An empty or too long body, a bad `client_id`, a reply to a message not here, or uploads that are not one's own and pending.", body = ErrorBody),
        (status = 403, description = "The conversation is archived.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member.", body = ErrorBody),
        (status = 429, description = "Too many messages; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn send(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(draft): ApiJson<Draft>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let m = messages::send(&app.chat, &s.user, id, draft).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::message(&m, Some(s.user.id))),
    ))
}

#[derive(Deserialize, ToSchema)]
struct Edit {
    body: String,
}

/// Edit one's own message.
#[utoipa::path(
    patch,
    path = "/api/v1/messages/{id}",
    tag = "messages",
    operation_id = "editMessage",
    params(("id" = i64, Path, description = "The message.", example = 1)),
    request_body = Edit,
    responses(
        (status = 200, description = "The message as edited.", body = MessageView),
        (status = 400, description = "An empty or too long body, a deleted message, or a line about the conversation.", body = ErrorBody),
        (status = 403, description = "Someone else's message; the conversation is archived.", body = ErrorBody),
        (status = 404, description = "No such message, or one may not see it.", body = ErrorBody),
        (status = 429, description = "Too many messages; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn edit(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
    ApiJson(e): ApiJson<Edit>,
) -> ApiResult {
    let m = messages::edit(&app.chat, &s.user, id, &e.body).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}

/// Delete a message: one's own, or any as an owner or admin.
#[utoipa::path(
    delete,
    path = "/api/v1/messages/{id}",
    tag = "messages",
    operation_id = "deleteMessage",
    params(("id" = i64, Path, description = "The message.", example = 1)),
    responses(
        (status = 204, description = "Deleted (it stays in history as deleted)."),
        (status = 400, description = "A line about the conversation.", body = ErrorBody),
        (status = 403, description = "Someone else's message, for anyone but an admin; the conversation is archived.", body = ErrorBody),
        (status = 404, description = "No such message, or one may not see it.", body = ErrorBody),
        (status = 429, description = "Too many messages; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn delete(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
) -> ApiResult<StatusCode> {
    messages::delete(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// React to a message with an emoji.
#[utoipa::path(
    put,
    path = "/api/v1/messages/{id}/reactions/{emoji}",
    tag = "messages",
    operation_id = "addReaction",
    params(
        ("id" = i64, Path, description = "The message.", example = 1),
        ("emoji" = String, Path, description = "One emoji.", example = "👍"),
    ),
    responses(
        (status = 200, description = "The message with its reactions.", body = MessageView),
        (status = 400, description = "Not one emoji, a deleted message, a line about the conversation, or too many distinct emoji.", body = ErrorBody),
        (status = 403, description = "The conversation is archived.", body = ErrorBody),
        (status = 404, description = "No such message, or one may not see it.", body = ErrorBody),
        (status = 429, description = "Too many messages; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn react_on(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, emoji)): ApiPath<(MessageId, String)>,
) -> ApiResult {
    let m = messages::react(&app.chat, &s.user, id, &emoji, true).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}

/// Take one's reaction back.
#[utoipa::path(
    delete,
    path = "/api/v1/messages/{id}/reactions/{emoji}",
    tag = "messages",
    operation_id = "removeReaction",
    params(
        ("id" = i64, Path, description = "The message.", example = 1),
        ("emoji" = String, Path, description = "One emoji.", example = "👍"),
    ),
    responses(
        (status = 200, description = "The message with its reactions.", body = MessageView),
        (status = 400, description = "Not one emoji, a deleted message, a line about the conversation, or too many distinct emoji.", body = ErrorBody),
        (status = 403, description = "The conversation is archived.", body = ErrorBody),
        (status = 404, description = "No such message, or one may not see it.", body = ErrorBody),
        (status = 429, description = "Too many messages; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn react_off(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, emoji)): ApiPath<(MessageId, String)>,
) -> ApiResult {
    let m = messages::react(&app.chat, &s.user, id, &emoji, false).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}

/// How far one has read; without it (or with an empty body), everything.
#[derive(Deserialize, Default, ToSchema)]
struct ReadUpTo {
    message_id: Option<MessageId>,
}

/// Move one's read marker.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/read",
    tag = "messages",
    operation_id = "markRead",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    request_body(content = Option<ReadUpTo>, description = "An empty body marks everything read."),
    responses(
        (status = 204, description = "Marked."),
        (status = 400, description = "Not JSON, or a message that is not in this conversation.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member.", body = ErrorBody),
        (status = 429, description = "The marker moved too often; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn read(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    body: Result<axum::body::Bytes, BytesRejection>,
) -> ApiResult<StatusCode> {
    let body = body.map_err(|_| Error::TooLarge("request body too large".into()))?;
    let up_to: ReadUpTo = if body.iter().all(u8::is_ascii_whitespace) {
        ReadUpTo::default()
    } else {
        serde_json::from_slice::<Object<ReadUpTo>>(&body)
            .map_err(|e| Error::invalid(format!("invalid JSON: {e}")))?
            .0
    };
    reads::mark_read(&app.chat, &s.user, id, up_to.message_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tell the others one is typing.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/typing",
    tag = "messages",
    operation_id = "sendTyping",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    responses(
        (status = 204, description = "Sent."),
        (status = 403, description = "The conversation is archived.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member.", body = ErrorBody),
        (status = 429, description = "Too many typing notices; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn typing(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<StatusCode> {
    reads::typing(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unread counts for every conversation.
#[utoipa::path(
    get,
    path = "/api/v1/unread",
    tag = "messages",
    operation_id = "getUnread",
    responses((status = 200, description = "Totals and counts by conversation id.", body = reads::Unread)),
)]
async fn unread(State(app): State<App>, ApiSession(s): ApiSession) -> Result<Response, ApiError> {
    Ok(Json(reads::unread(&app.chat, &s.user).await?).into_response())
}
