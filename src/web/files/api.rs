//! The JSON side of files: uploading, a conversation's files, taking a link card away.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::chat::json::{AttachmentView, MessageView};
use crate::chat::{cards, files, files::Upload, json as views};
use crate::domain::chat::{ConversationId, MessageId};
use crate::domain::files::AttachmentId;
use crate::error::Error;
use crate::web::App;
use crate::web::api::{ApiError, ApiPath};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name as others will see it (made safe: no paths or control characters).
    name: Option<String>,
}

/// An upload waiting to be sent.
#[derive(Serialize, ToSchema)]
pub struct Uploaded<'a> {
    #[serde(flatten)]
    attachment: AttachmentView<'a>,
    /// Seconds left to send it (list its `id` in a message's `attachments`) before it is
    /// thrown away.
    expires_in_secs: i64,
}

/// A file's bytes, as a request body.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct FileBytes(Vec<u8>);

/// Upload a file: the request body is the file's bytes.
///
/// Send it within a day by listing its `id` in a message's `attachments`.
#[utoipa::path(
    post,
    path = "/api/v1/uploads",
    tag = "files",
    operation_id = "uploadFile",
    params(UploadQuery),
    request_body(
        content = inline(FileBytes),
        content_type = "application/octet-stream",
        description = "The file's bytes, up to the server's `max_upload_mb` (a body limit of its own, above the limit of other requests). Its type is read from its content, whatever `Content-Type` says; images are measured and thumbnailed.",
    ),
    responses(
        (status = 201, description = "The upload.", body = Uploaded),
        (status = 400, description = "An empty file, an image that cannot be read, or an unknown query parameter.", body = ErrorBody),
        (status = 413, description = "Larger than `max_upload_mb`, or past one's storage quota.", body = ErrorBody),
        (status = 429, description = "Too many uploads in a short time; see `Retry-After`.", body = ErrorBody),
    )
)]
pub async fn upload(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let Query(query) =
        query.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let upload = Upload {
        name: query.name.unwrap_or_default(),
        declared,
        body: body.into_data_stream(),
    };
    let attachment = files::upload(&app.chat, &s.user, upload).await?;
    let uploaded = Uploaded {
        attachment: AttachmentView::new(&attachment),
        expires_in_secs: files::PENDING_MS / 1000,
    };
    Ok((StatusCode::CREATED, Json(&uploaded)).into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Images only.
    #[serde(default)]
    images: bool,
    /// The `next_before` of the page before.
    before: Option<AttachmentId>,
    /// Files per page; 50 by default.
    #[param(minimum = 1, maximum = 100)]
    limit: Option<usize>,
}

/// A file sent into a conversation.
#[derive(Serialize, ToSchema)]
pub struct SharedFile<'a> {
    #[serde(flatten)]
    attachment: AttachmentView<'a>,
    /// The message that carries it.
    message_id: MessageId,
    /// When it was sent (unix ms).
    created_at: i64,
    /// The sender's display name.
    sender: &'a str,
}

/// A page of a conversation's files.
#[derive(Serialize, ToSchema)]
pub struct SharedFiles<'a> {
    files: Vec<SharedFile<'a>>,
    /// Gives the next page as `before`; `null` on the last.
    next_before: Option<AttachmentId>,
}

/// List the files sent into a conversation, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/files",
    tag = "files",
    operation_id = "listFiles",
    params(("id" = i64, Path, description = "The conversation's id."), ListQuery),
    responses(
        (status = 200, description = "A page of files.", body = SharedFiles),
        (status = 400, description = "A limit outside 1 to 100, or a query parameter that is unknown or of the wrong type.", body = ErrorBody),
        (status = 404, description = "No such conversation, or one is not a member of it.", body = ErrorBody),
    )
)]
pub async fn list(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let limit = q.limit.unwrap_or(50);
    let (rows, next) = files::list(&app.chat, &s.user, id, q.images, q.before, limit).await?;
    let files = rows
        .iter()
        .map(|f| SharedFile {
            attachment: AttachmentView::new(&f.attachment),
            message_id: f.message,
            created_at: f.at,
            sender: &f.by,
        })
        .collect();
    let page = SharedFiles {
        files,
        next_before: next,
    };
    Ok(Json(&page).into_response())
}

/// Take a message's link card away (its author only).
#[utoipa::path(
    delete,
    path = "/api/v1/messages/{id}/preview",
    tag = "files",
    operation_id = "removePreview",
    params(("id" = i64, Path, description = "The message's id.")),
    responses(
        (status = 200, description = "The message without its card; its conversation hears `message.updated`.", body = MessageView),
        (status = 403, description = "Someone else's message: only its author removes its preview.", body = ErrorBody),
        (status = 404, description = "No such message, or not in a conversation one is a member of.", body = ErrorBody),
    )
)]
pub async fn remove_preview(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
) -> ApiResult {
    let m = cards::remove(&app.chat, &s.user, id).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}
