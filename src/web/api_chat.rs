//! The JSON API for conversations, messages, read state and the people directory.

use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::api::{ApiError, ApiJson, ApiPath, UserView};
use super::auth::ApiSession;
use super::strict::Object;
use crate::chat::conversations::{self as convs, Changes, NewConversation};
use crate::chat::messages::{self, Draft};
use crate::chat::{json as views, reads};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId};
use crate::error::Error;
use crate::store::messages::Cursor;
use crate::store::users;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/users", get(directory))
        .route("/channels", get(channels))
        .route("/conversations", get(list).post(create))
        .route("/directs", post(direct))
        .route("/conversations/{id}", get(show).patch(update))
        .route("/conversations/{id}/join", post(join))
        .route("/conversations/{id}/leave", post(leave))
        .route("/conversations/{id}/members", post(add_member))
        .route(
            "/conversations/{id}/members/{user}",
            axum::routing::delete(remove_member),
        )
        .route("/conversations/{id}/messages", get(history).post(send))
        .route("/conversations/{id}/read", post(read))
        .route("/conversations/{id}/typing", post(typing))
        .route("/messages/{id}", patch(edit).delete(delete))
        .route(
            "/messages/{id}/reactions/{emoji}",
            put(react_on).delete(react_off),
        )
        .route("/unread", get(unread))
}

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

/// GET /users: active people, with presence.
async fn directory(State(app): State<App>, ApiSession(_): ApiSession) -> ApiResult {
    let people = app.db.read(users::list).await?;
    let list: Vec<Value> = people
        .iter()
        .filter(|u| !u.deactivated)
        .map(|u| {
            let mut v = json!(UserView::from(u));
            v["presence"] = json!(app.chat.hub.presence(u.id));
            v
        })
        .collect();
    Ok(Json(json!({"users": list})))
}

/// GET /channels: every channel, for the channel browser.
async fn channels(State(app): State<App>, ApiSession(s): ApiSession) -> ApiResult {
    let rows = convs::channels(&app.chat, &s.user).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|(c, members, joined)| {
            let mut v = views::conversation(c);
            v["member_count"] = json!(members);
            v["joined"] = json!(joined);
            v
        })
        .collect();
    Ok(Json(json!({"channels": list})))
}

/// GET /conversations: mine, newest activity first.
async fn list(State(app): State<App>, ApiSession(s): ApiSession) -> ApiResult {
    let list = convs::list(&app.chat, &s.user).await?;
    Ok(Json(
        json!({"conversations": list.iter().map(views::summary).collect::<Vec<_>>()}),
    ))
}

/// POST /conversations
async fn create(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(new): ApiJson<NewConversation>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let c = convs::create(&app.chat, &s.user, new).await?;
    Ok((StatusCode::CREATED, Json(views::conversation(&c))))
}

#[derive(Deserialize)]
struct DirectWith {
    user_id: UserId,
}

/// POST /directs: the direct conversation with that person (get or create).
async fn direct(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(d): ApiJson<DirectWith>,
) -> ApiResult {
    let c = convs::direct(&app.chat, &s.user, d.user_id).await?;
    Ok(Json(views::conversation(&c)))
}

/// GET /conversations/{id}
async fn show(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult {
    let (c, _, members) = convs::get(&app.chat, &s.user, id).await?;
    Ok(Json(views::conversation_with_members(&c, &members)))
}

/// PATCH /conversations/{id}: name, topic, archived.
async fn update(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(changes): ApiJson<Changes>,
) -> ApiResult {
    let c = convs::update(&app.chat, &s.user, id, changes).await?;
    Ok(Json(views::conversation(&c)))
}

/// POST /conversations/{id}/join
async fn join(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult {
    let c = convs::join(&app.chat, &s.user, id).await?;
    Ok(Json(views::conversation(&c)))
}

/// POST /conversations/{id}/leave
async fn leave(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<StatusCode> {
    convs::leave(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct MemberToAdd {
    user_id: UserId,
}

/// POST /conversations/{id}/members
async fn add_member(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(m): ApiJson<MemberToAdd>,
) -> ApiResult<StatusCode> {
    convs::add(&app.chat, &s.user, id, m.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// DELETE /conversations/{id}/members/{user}
async fn remove_member(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, user)): ApiPath<(ConversationId, UserId)>,
) -> ApiResult<StatusCode> {
    convs::remove(&app.chat, &s.user, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct Page {
    before: Option<String>,
    after: Option<String>,
    around: Option<String>,
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

/// GET /conversations/{id}/messages?before=&after=&limit=
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

/// POST /conversations/{id}/messages
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

#[derive(Deserialize)]
struct Edit {
    body: String,
}

/// PATCH /messages/{id}
async fn edit(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
    ApiJson(e): ApiJson<Edit>,
) -> ApiResult {
    let m = messages::edit(&app.chat, &s.user, id, &e.body).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}

/// DELETE /messages/{id}
async fn delete(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
) -> ApiResult<StatusCode> {
    messages::delete(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// PUT /messages/{id}/reactions/{emoji}
async fn react_on(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, emoji)): ApiPath<(MessageId, String)>,
) -> ApiResult {
    let m = messages::react(&app.chat, &s.user, id, &emoji, true).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}

/// DELETE /messages/{id}/reactions/{emoji}
async fn react_off(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, emoji)): ApiPath<(MessageId, String)>,
) -> ApiResult {
    let m = messages::react(&app.chat, &s.user, id, &emoji, false).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}

#[derive(Deserialize, Default)]
struct ReadUpTo {
    message_id: Option<MessageId>,
}

/// POST /conversations/{id}/read (an empty body means "everything")
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

/// POST /conversations/{id}/typing
async fn typing(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<StatusCode> {
    reads::typing(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// GET /unread
async fn unread(State(app): State<App>, ApiSession(s): ApiSession) -> Result<Response, ApiError> {
    Ok(Json(reads::unread(&app.chat, &s.user).await?).into_response())
}
