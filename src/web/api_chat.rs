//! The JSON API for conversations, their members and the people directory.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::api::{ApiError, ApiJson, ApiPath, UserView};
use super::auth::ApiSession;
use super::openapi::ErrorBody;
use crate::chat::conversations::{self as convs, Changes, NewConversation};
use crate::chat::json::{ChannelEntry, ConversationDetail, SummaryView};
use crate::domain::UserId;
use crate::domain::chat::{Conversation, ConversationId};
use crate::hub::Presence;
use crate::store::users;

pub fn documented() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(directory))
        .routes(routes!(channels))
        .routes(routes!(list, create))
        .routes(routes!(direct))
        .routes(routes!(show, update))
        .routes(routes!(join))
        .routes(routes!(leave))
        .routes(routes!(add_member))
        .routes(routes!(remove_member))
        .merge(super::api_messages::documented())
}

type ApiResult<T> = Result<T, ApiError>;

/// A person in the directory, with whether they are around.
#[derive(Serialize, ToSchema)]
struct DirectoryEntry {
    #[serde(flatten)]
    user: UserView,
    presence: Presence,
}

#[derive(Serialize, ToSchema)]
struct Directory {
    users: Vec<DirectoryEntry>,
}

/// The people of this instance who are active, with their presence.
#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "people",
    operation_id = "listUsers",
    responses((status = 200, description = "Everyone active, deactivated people left out.", body = Directory)),
)]
async fn directory(
    State(app): State<App>,
    ApiSession(_): ApiSession,
) -> ApiResult<Json<Directory>> {
    let people = app.db.read(users::list).await?;
    let users = people
        .iter()
        .filter(|u| !u.deactivated)
        .map(|u| DirectoryEntry {
            user: UserView::from(u),
            presence: app.chat.hub.presence(u.id),
        })
        .collect();
    Ok(Json(Directory { users }))
}

#[derive(Serialize, ToSchema)]
struct Channels<'a> {
    channels: Vec<ChannelEntry<'a>>,
}

/// Every channel, joined or not, for the channel browser.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "conversations",
    operation_id = "listChannels",
    responses((status = 200, description = "Every channel, with its member count and whether one has joined it.", body = Channels)),
)]
async fn channels(State(app): State<App>, ApiSession(s): ApiSession) -> ApiResult<Response> {
    let rows = convs::channels(&app.chat, &s.user).await?;
    let channels = rows
        .iter()
        .map(|(c, members, joined)| ChannelEntry::new(c, *members, *joined))
        .collect();
    Ok(Json(Channels { channels }).into_response())
}

#[derive(Serialize, ToSchema)]
struct Conversations<'a> {
    conversations: Vec<SummaryView<'a>>,
}

/// One's conversations, newest activity first, with unread counts.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = "conversations",
    operation_id = "listConversations",
    responses((status = 200, description = "The conversations one is a member of.", body = Conversations)),
)]
async fn list(State(app): State<App>, ApiSession(s): ApiSession) -> ApiResult<Response> {
    let list = convs::list(&app.chat, &s.user).await?;
    let conversations = list.iter().map(SummaryView::new).collect();
    Ok(Json(Conversations { conversations }).into_response())
}

/// Open a channel or a private group.
#[utoipa::path(
    post,
    path = "/api/v1/conversations",
    tag = "conversations",
    operation_id = "createConversation",
    request_body = NewConversation,
    responses(
        (status = 201, description = "The new conversation; one is its owner.", body = Conversation),
        (status = 400, description = "A kind other than channel or group, a bad name or topic, or a member who does not exist or is deactivated.", body = ErrorBody),
        (status = 403, description = "A channel, when this community lets only admins create channels (anyone may start a group).", body = ErrorBody),
        (status = 409, description = "A channel with that name exists.", body = ErrorBody),
        (status = 429, description = "Too many conversations opened; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn create(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(new): ApiJson<NewConversation>,
) -> ApiResult<(StatusCode, Json<Conversation>)> {
    let c = convs::create(&app.chat, &s.user, new).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Deserialize, ToSchema)]
struct DirectWith {
    #[schema(example = 2)]
    user_id: UserId,
}

/// The direct conversation with a person, opened if it does not exist yet.
#[utoipa::path(
    post,
    path = "/api/v1/directs",
    tag = "conversations",
    operation_id = "openDirect",
    request_body = DirectWith,
    responses(
        (status = 200, description = "The direct conversation with that person.", body = Conversation),
        (status = 400, description = "Oneself, or not a JSON object with a `user_id`.", body = ErrorBody),
        (status = 404, description = "No active person with that id.", body = ErrorBody),
        (status = 429, description = "Too many conversations opened; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn direct(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiJson(d): ApiJson<DirectWith>,
) -> ApiResult<Json<Conversation>> {
    let c = convs::direct(&app.chat, &s.user, d.user_id).await?;
    Ok(Json(c))
}

/// A conversation and its members.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}",
    tag = "conversations",
    operation_id = "getConversation",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    responses(
        (status = 200, description = "The conversation with its members.", body = ConversationDetail),
        (status = 404, description = "No such conversation, or one may not see it.", body = ErrorBody),
    )
)]
async fn show(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Response> {
    let (c, _, members) = convs::get(&app.chat, &s.user, id).await?;
    Ok(Json(ConversationDetail::new(&c, &members)).into_response())
}

/// Rename, set the topic, or archive. Names and archiving: owners and admins; the topic: any member.
#[utoipa::path(
    patch,
    path = "/api/v1/conversations/{id}",
    tag = "conversations",
    operation_id = "updateConversation",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    request_body = Changes,
    responses(
        (status = 200, description = "The conversation as it now is.", body = Conversation),
        (status = 400, description = "Nothing to change, a bad name or topic, or a name for a direct.", body = ErrorBody),
        (status = 403, description = "Renaming or archiving, by someone who is neither an owner nor an admin; a support conversation; any change but unarchiving to an archived conversation.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member.", body = ErrorBody),
        (status = 409, description = "Another channel has that name.", body = ErrorBody),
        (status = 429, description = "Too many changes; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn update(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(changes): ApiJson<Changes>,
) -> ApiResult<Json<Conversation>> {
    let c = convs::update(&app.chat, &s.user, id, changes).await?;
    Ok(Json(c))
}

/// Join a channel.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/join",
    tag = "conversations",
    operation_id = "joinConversation",
    params(("id" = i64, Path, description = "The channel.", example = 1)),
    responses(
        (status = 200, description = "Joined (or already a member).", body = Conversation),
        (status = 400, description = "Not a channel: groups and directs are joined by being added.", body = ErrorBody),
        (status = 403, description = "The channel is archived.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one may not see it.", body = ErrorBody),
        (status = 429, description = "Too many joins and leaves; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn join(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<Json<Conversation>> {
    let c = convs::join(&app.chat, &s.user, id).await?;
    Ok(Json(c))
}

/// Leave a channel or group.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/leave",
    tag = "conversations",
    operation_id = "leaveConversation",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    responses(
        (status = 204, description = "Left."),
        (status = 400, description = "A direct conversation cannot be left.", body = ErrorBody),
        (status = 403, description = "A support conversation, which cannot be left.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member.", body = ErrorBody),
        (status = 429, description = "Too many joins and leaves; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn leave(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> ApiResult<StatusCode> {
    convs::leave(&app.chat, &s.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
struct MemberToAdd {
    #[schema(example = 2)]
    user_id: UserId,
}

/// Add someone to a channel or group (groups: owners and admins).
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/members",
    tag = "conversations",
    operation_id = "addMember",
    params(("id" = i64, Path, description = "The conversation.", example = 1)),
    request_body = MemberToAdd,
    responses(
        (status = 204, description = "Added."),
        (status = 400, description = "A direct, or a person who does not exist or is deactivated.", body = ErrorBody),
        (status = 403, description = "Adding to a group, by someone who is neither its owner nor an admin; a support conversation; an archived conversation.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member.", body = ErrorBody),
        (status = 409, description = "Already a member.", body = ErrorBody),
        (status = 429, description = "Too many membership changes; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn add_member(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    ApiJson(m): ApiJson<MemberToAdd>,
) -> ApiResult<StatusCode> {
    convs::add(&app.chat, &s.user, id, m.user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove someone from a channel or group (owners and admins).
#[utoipa::path(
    delete,
    path = "/api/v1/conversations/{id}/members/{user}",
    tag = "conversations",
    operation_id = "removeMember",
    params(
        ("id" = i64, Path, description = "The conversation.", example = 1),
        ("user" = i64, Path, description = "The person to remove.", example = 2),
    ),
    responses(
        (status = 204, description = "Removed."),
        (status = 400, description = "A direct, or oneself (leave instead).", body = ErrorBody),
        (status = 403, description = "Someone who is neither an owner nor an admin; a support conversation.", body = ErrorBody),
        (status = 404, description = "No such conversation, or that person is not a member.", body = ErrorBody),
        (status = 429, description = "Too many membership changes; see `Retry-After`.", body = ErrorBody),
    )
)]
async fn remove_member(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath((id, user)): ApiPath<(ConversationId, UserId)>,
) -> ApiResult<StatusCode> {
    convs::remove(&app.chat, &s.user, id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
