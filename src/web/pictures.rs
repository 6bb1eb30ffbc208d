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
use axum::routing::{get, put};
use serde_json::{Value, json};

use super::App;
use super::api::{ApiError, ApiPath, UserView};
use super::auth::{ApiSession, PageSession};
use super::files::serve;
use super::html::PageError;
use crate::chat::files::Upload;
use crate::chat::json as views;
use crate::chat::pictures::{self, Served};
use crate::domain::chat::ConversationId;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/pictures/{sha256}", get(picture))
        .route("/logo", get(logo))
        .route("/api/v1/me/avatar", put(put_avatar).delete(delete_avatar))
        .route(
            "/api/v1/conversations/{id}/picture",
            put(put_picture).delete(delete_picture),
        )
        .route("/api/v1/admin/logo", put(put_logo).delete(delete_logo))
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

/// PUT /api/v1/me/avatar: the body is the picture. Answers the person, as `/api/v1/me` does.
async fn put_avatar(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<UserView>, ApiError> {
    let user = pictures::set_avatar(&app.chat, &s.user, raw(&headers, body)).await?;
    Ok(Json(UserView::from(&user)))
}

/// DELETE /api/v1/me/avatar
async fn delete_avatar(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<UserView>, ApiError> {
    let user = pictures::remove_avatar(&app.chat, &s.user).await?;
    Ok(Json(UserView::from(&user)))
}

/// PUT /api/v1/conversations/{id}/picture: the body is the picture. Answers the conversation.
async fn put_picture(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let upload = raw(&headers, body);
    let c = pictures::set_conversation_picture(&app.chat, &s.user, id, upload).await?;
    Ok(Json(views::conversation(&c)))
}

/// DELETE /api/v1/conversations/{id}/picture
async fn delete_picture(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
) -> Result<Json<Value>, ApiError> {
    let c = pictures::remove_conversation_picture(&app.chat, &s.user, id).await?;
    Ok(Json(views::conversation(&c)))
}

/// PUT /api/v1/admin/logo: the body is the picture. Answers the settings, as
/// `/api/v1/admin/settings` does.
async fn put_logo(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let settings = pictures::set_logo(&app.chat, &s.user, raw(&headers, body)).await?;
    Ok(Json(json!({ "settings": *settings })))
}

/// DELETE /api/v1/admin/logo
async fn delete_logo(
    State(app): State<App>,
    ApiSession(s): ApiSession,
) -> Result<Json<Value>, ApiError> {
    let settings = pictures::remove_logo(&app.chat, &s.user).await?;
    Ok(Json(json!({ "settings": *settings })))
}

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
