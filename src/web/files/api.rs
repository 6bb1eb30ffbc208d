//! The JSON side of files: uploading, a conversation's files, taking a link card away.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::chat::files::{self, Upload};
use crate::chat::{cards, json as views};
use crate::domain::chat::{ConversationId, MessageId};
use crate::domain::files::AttachmentId;
use crate::error::Error;
use crate::web::App;
use crate::web::api::{ApiError, ApiPath};
use crate::web::auth::ApiSession;

type ApiResult<T = Json<Value>> = Result<T, ApiError>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    name: Option<String>,
}

/// POST /api/v1/uploads?name=NAME: the body is the file's bytes. Answers the upload (201),
/// to be sent within a day by listing its id in a message's `attachments`.
pub async fn upload(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    query: Result<Query<UploadQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Value>)> {
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
    let mut v = json!(views::AttachmentView::new(&attachment));
    v["expires_in_secs"] = json!(files::PENDING_MS / 1000);
    Ok((StatusCode::CREATED, Json(v)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    #[serde(default)]
    images: bool,
    before: Option<AttachmentId>,
    limit: Option<usize>,
}

/// GET /api/v1/conversations/{id}/files?images=true&before=ID&limit=N: newest first.
pub async fn list(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<ConversationId>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult {
    let Query(q) = query.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let limit = q.limit.unwrap_or(50);
    let (rows, next) = files::list(&app.chat, &s.user, id, q.images, q.before, limit).await?;
    let files: Vec<Value> = rows
        .iter()
        .map(|f| {
            let mut v = json!(views::AttachmentView::new(&f.attachment));
            v["message_id"] = json!(f.message);
            v["created_at"] = json!(f.at);
            v["sender"] = json!(f.by);
            v
        })
        .collect();
    Ok(Json(json!({"files": files, "next_before": next})))
}

/// DELETE /api/v1/messages/{id}/preview: the author takes the link card away.
pub async fn remove_preview(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    ApiPath(id): ApiPath<MessageId>,
) -> ApiResult {
    let m = cards::remove(&app.chat, &s.user, id).await?;
    Ok(Json(views::message(&m, Some(s.user.id))))
}
