//! Pictures on the web: avatars, conversation pictures and the logo served (pictures to
//! signed-in people, the logo to anyone), and set or taken away through the JSON API. The page
//! forms live with their pages (account, conversation settings, admin settings). Thin handlers
//! over `chat::pictures`.

use axum::Json;
use axum::Router;
use axum::body::{Body, BodyDataStream};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::api::{ApiError, ApiPath, UserView};
use super::auth::{ApiSession, PageSession};
use super::files::serve;
use super::html::PageError;
use super::openapi::ErrorBody;
use crate::chat::files::Upload;
use crate::chat::instance::Settings;
use crate::chat::pictures::{self, Served};
use crate::domain::chat::{Conversation, ConversationId};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/pictures/{sha256}", get(picture))
        .route("/logo", get(logo))
}

/// The pictures JSON routes, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(put_avatar, delete_avatar))
        .routes(routes!(put_picture, delete_picture))
        .routes(routes!(put_logo, delete_logo))
}

/// Whether a request to `path` brings a picture, so that its declared length may be an
/// upload's (and a form's other fields) rather than `max_request_bytes`.
pub fn takes_picture(path: &str) -> bool {
    let conversation = |prefix: &str| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix("/picture"))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    };
    matches!(
        path,
        "/api/v1/me/avatar" | "/account/avatar" | "/api/v1/admin/logo" | "/admin/settings/logo"
    ) || conversation("/api/v1/conversations/")
        || conversation("/c/")
}

/// The picture as a blob response: shown in place, never anything but a picture.
async fn send(served: &Served, sha256: &str, headers: &HeaderMap) -> Response {
    let blob = serve::Blob {
        path: &served.path,
        sha256,
        mime: served.mime,
        inline: true,
        name: "picture",
    };
    serve::serve(blob, headers).await
}

/// GET /pictures/{sha256}: someone's avatar, a picture of a conversation one may see, the
/// logo. Its name is its content: cached for good.
async fn picture(
    State(app): State<App>,
    PageSession(s): PageSession,
    Path(sha256): Path<String>,
    headers: HeaderMap,
) -> Response {
    match pictures::open(&app.chat, &s.user, &sha256).await {
        Ok(served) => send(&served, &sha256, &headers).await,
        Err(err) => PageError(err).into_response(),
    }
}

/// GET /logo: the community's logo, for anyone; 404 without one. Asked for by its version
/// (`?v=`, as pages link it) it is cached for good; asked for plainly, checked each time.
async fn logo(State(app): State<App>, RawQuery(query): RawQuery, headers: HeaderMap) -> Response {
    let (sha256, served) = match pictures::logo(&app.chat).await {
        Ok(found) => found,
        Err(err) => return PageError(err).into_response(),
    };
    let versioned = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("v=")))
        .is_some_and(|v| v.len() >= 16 && sha256.starts_with(v));
    let mut res = send(&served, &sha256, &headers).await;
    let cache = if versioned {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// A raw request body as an upload: the picture's bytes, streamed.
fn raw(headers: &HeaderMap, body: Body) -> Upload<BodyDataStream> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    Upload {
        name: String::new(),
        declared,
        body: body.into_data_stream(),
    }
}

/// Set one's avatar: the request body is the picture, cut to its middle square.
#[utoipa::path(
    put,
    path = "/api/v1/me/avatar",
    tag = "pictures",
    operation_id = "setAvatar",
    request_body(
        content((inline(PictureBytes) = "image/png"), (inline(PictureBytes) = "image/jpeg"), (inline(PictureBytes) = "image/gif"), (inline(PictureBytes) = "image/webp")),
        description = PICTURE,
    ),
    responses(
        (status = 200, description = "The person with their new avatar, as `GET /api/v1/me` answers.", body = UserView),
        (status = 400, description = NOT_A_PICTURE, body = ErrorBody),
        (status = 413, description = TOO_LARGE, body = ErrorBody),
        (status = 429, description = TOO_MANY, body = ErrorBody),
    )
)]
async fn put_avatar(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UserView>, ApiError> {
    let user = pictures::set_avatar(&app.chat, &s.user, raw(&headers, body)).await?;
    Ok(Json(UserView::from(&user)))
}

/// Take one's avatar away: one's initials show again.
#[utoipa::path(
    delete,
    path = "/api/v1/me/avatar",
    tag = "pictures",
    operation_id = "removeAvatar",
    responses((status = 200, description = "The person without an avatar.", body = UserView)),
)]
async fn delete_avatar(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<UserView>, ApiError> {
    let user = pictures::remove_avatar(&app.chat, &s.user).await?;
    Ok(Json(UserView::from(&user)))
}

/// Set a channel's or group's picture (its owners and admins).
///
/// The request body is the picture, cut to its middle square.
#[utoipa::path(
    put,
    path = "/api/v1/conversations/{id}/picture",
    tag = "pictures",
    operation_id = "setConversationPicture",
    params(("id" = i64, Path, description = "The conversation's id.")),
    request_body(
        content((inline(PictureBytes) = "image/png"), (inline(PictureBytes) = "image/jpeg"), (inline(PictureBytes) = "image/gif"), (inline(PictureBytes) = "image/webp")),
        description = PICTURE,
    ),
    responses(
        (status = 200, description = "The conversation with its new picture; its members hear `conversation.updated`.", body = Conversation),
        (status = 400, description = "A direct conversation (it has no picture), or not a picture Hearth shows.", body = ErrorBody),
        (status = 403, description = "Someone who is neither an owner nor an admin; a support conversation; an archived conversation.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one one is not a member of (nor, for a group, an admin).", body = ErrorBody),
        (status = 413, description = TOO_LARGE, body = ErrorBody),
        (status = 429, description = TOO_MANY, body = ErrorBody),
    )
)]
async fn put_picture(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Conversation>, ApiError> {
    let upload = raw(&headers, body);
    let c = pictures::set_conversation_picture(&app.chat, &s.user, id, upload).await?;
    Ok(Json(c))
}

/// Take a channel's or group's picture away (its owners and admins).
#[utoipa::path(
    delete,
    path = "/api/v1/conversations/{id}/picture",
    tag = "pictures",
    operation_id = "removeConversationPicture",
    params(("id" = i64, Path, description = "The conversation's id.")),
    responses(
        (status = 200, description = "The conversation without a picture; its members hear `conversation.updated`.", body = Conversation),
        (status = 400, description = "A direct conversation (it has no picture).", body = ErrorBody),
        (status = 403, description = "Someone who is neither an owner nor an admin; a support conversation; an archived conversation.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one one is not a member of (nor, for a group, an admin).", body = ErrorBody),
    )
)]
async fn delete_picture(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<Conversation>, ApiError> {
    let c = pictures::remove_conversation_picture(&app.chat, &s.user, id).await?;
    Ok(Json(c))
}

/// The community's settings, after a change of its logo.
#[derive(Serialize, ToSchema)]
pub struct LogoChanged {
    settings: Settings,
}

impl From<Arc<Settings>> for LogoChanged {
    fn from(settings: Arc<Settings>) -> Self {
        LogoChanged {
            settings: Arc::unwrap_or_clone(settings),
        }
    }
}

/// Set the community's logo (admins): the request body is the picture.
///
/// It is cut to its middle square.
#[utoipa::path(
    put,
    path = "/api/v1/admin/logo",
    tag = "pictures",
    operation_id = "setLogo",
    request_body(
        content((inline(PictureBytes) = "image/png"), (inline(PictureBytes) = "image/jpeg"), (inline(PictureBytes) = "image/gif"), (inline(PictureBytes) = "image/webp")),
        description = PICTURE,
    ),
    responses(
        (status = 200, description = "The settings with the new `logo_url`, as `GET /api/v1/admin/settings` answers.", body = LogoChanged),
        (status = 400, description = NOT_A_PICTURE, body = ErrorBody),
        (status = 404, description = "One is not an admin.", body = ErrorBody),
        (status = 413, description = TOO_LARGE, body = ErrorBody),
        (status = 429, description = TOO_MANY, body = ErrorBody),
    )
)]
async fn put_logo(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<LogoChanged>, ApiError> {
    let settings = pictures::set_logo(&app.chat, &s.user, raw(&headers, body)).await?;
    Ok(Json(settings.into()))
}

/// Take the community's logo away (admins): its name stands alone again.
#[utoipa::path(
    delete,
    path = "/api/v1/admin/logo",
    tag = "pictures",
    operation_id = "removeLogo",
    responses(
        (status = 200, description = "The settings with `logo_url` `null`.", body = LogoChanged),
        (status = 404, description = "One is not an admin.", body = ErrorBody),
    )
)]
async fn delete_logo(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<LogoChanged>, ApiError> {
    let settings = pictures::remove_logo(&app.chat, &s.user).await?;
    Ok(Json(settings.into()))
}

/// A picture's bytes, as a request body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct PictureBytes(Vec<u8>);

/// What a picture's request body is.
const PICTURE: &str = "The picture's bytes: a JPEG, PNG, GIF or WebP image, up to the server's `max_upload_mb` (a body limit of its own). Its type is read from its content, whatever `Content-Type` says.";
const NOT_A_PICTURE: &str =
    "An empty body, or not a picture Hearth shows (JPEG, PNG, GIF or WebP) or can decode.";
const TOO_LARGE: &str = "Larger than `max_upload_mb`.";
const TOO_MANY: &str = "Too many uploads in a short time; see `Retry-After`.";

#[cfg(test)]
mod tests {
    #[test]
    fn the_paths_that_bring_pictures_are_known() {
        use super::takes_picture;
        assert!(takes_picture("/api/v1/me/avatar"));
        assert!(takes_picture("/account/avatar"));
        assert!(takes_picture("/c/12/picture"));
        assert!(takes_picture("/api/v1/conversations/7/picture"));
        assert!(takes_picture("/admin/settings/logo"));
        assert!(!takes_picture("/c/12/messages"));
        assert!(!takes_picture("/c//picture"));
        assert!(!takes_picture("/c/1/2/picture"));
        assert!(!takes_picture("/api/v1/me"));
    }
}
