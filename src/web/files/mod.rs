//! Files on the web: the upload endpoint, downloads and thumbnails (membership checked on every
//! one), a card's stored image, and a conversation's files as a page and as JSON. Thin handlers
//! over `chat::files`.

mod api;
mod pages;
pub mod serve;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::PageError;
use crate::chat::files::{self, Variant};
use crate::domain::chat::MessageId;
use crate::domain::files::AttachmentId;

/// The path uploads are posted to (its body limit is `max_upload_mb`, not `max_request_bytes`).
pub const UPLOAD_PATH: &str = "/api/v1/uploads";

pub fn routes() -> Router<App> {
    Router::new()
        .route("/files/{id}", get(original))
        .route("/files/{id}/{name}", get(named))
        .route("/thumbs/{id}", get(thumbnail))
        .route("/previews/{message}/image", get(card_image))
        .route("/c/{id}/files", get(pages::files_page))
}

/// The files JSON routes, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::upload))
        .routes(routes!(api::list))
        .routes(routes!(api::remove_preview))
}

/// GET /files/{id}: the file, named as uploaded.
async fn original(
    State(app): State<App>,
    PageSession(s): PageSession,
    axum::extract::Path(id): axum::extract::Path<AttachmentId>,
    headers: HeaderMap,
) -> Response {
    file(&app, &s.user, id, Variant::Original, &headers).await
}

/// GET /files/{id}/{name}: the same, with its name in the URL for people and download tools.
async fn named(
    State(app): State<App>,
    PageSession(s): PageSession,
    axum::extract::Path((id, _name)): axum::extract::Path<(AttachmentId, String)>,
    headers: HeaderMap,
) -> Response {
    file(&app, &s.user, id, Variant::Original, &headers).await
}

/// GET /thumbs/{id}: an image's thumbnail.
async fn thumbnail(
    State(app): State<App>,
    PageSession(s): PageSession,
    axum::extract::Path(id): axum::extract::Path<AttachmentId>,
    headers: HeaderMap,
) -> Response {
    file(&app, &s.user, id, Variant::Thumbnail, &headers).await
}

async fn file(
    app: &App,
    user: &crate::domain::User,
    id: AttachmentId,
    variant: Variant,
    headers: &HeaderMap,
) -> Response {
    let (attachment, path) = match files::open(&app.chat, user, id, variant).await {
        Ok(found) => found,
        Err(err) => return PageError(err).into_response(),
    };
    let blob = match (variant, &attachment.thumb) {
        (Variant::Thumbnail, Some(thumb)) => serve::Blob {
            path: &path,
            sha256: &thumb.sha256,
            mime: &thumb.mime,
            inline: true,
            name: &attachment.name,
        },
        _ => serve::Blob {
            path: &path,
            sha256: &attachment.sha256,
            mime: &attachment.mime,
            inline: attachment.inline(),
            name: &attachment.name,
        },
    };
    serve::serve(blob, headers).await
}

/// GET /previews/{message}/image: the stored image of a message's link card.
async fn card_image(
    State(app): State<App>,
    PageSession(s): PageSession,
    axum::extract::Path(message): axum::extract::Path<MessageId>,
    headers: HeaderMap,
) -> Response {
    match files::preview_image(&app.chat, &s.user, message).await {
        Ok((picture, path)) => {
            let blob = serve::Blob {
                path: &path,
                sha256: &picture.sha256,
                mime: &picture.mime,
                inline: true,
                name: "preview",
            };
            serve::serve(blob, &headers).await
        }
        Err(err) => PageError(err).into_response(),
    }
}
