//! GET /api/v1/search: results as JSON, each with its message, conversation and snippet.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;

use super::Params;
use crate::chat::json::MessageView;
use crate::chat::search::{self, Count, Where};
use crate::error::Error;
use crate::search::snippet::Piece;
use crate::web::App;
use crate::web::api::{ApiError, json_sized};
use crate::web::auth::ApiSession;

#[derive(Serialize)]
struct Results<'a> {
    results: Vec<Result<'a>>,
    next_cursor: Option<&'a str>,
    /// First page only.
    count: Option<Count>,
    /// "words" or "anywhere" (inside runs of text).
    matching: &'static str,
}

#[derive(Serialize)]
struct Result<'a> {
    message: MessageView<'a>,
    conversation: &'a Where,
    snippet: &'a [Piece],
    /// Opens the conversation around the message.
    url: String,
}

/// GET /api/v1/search?q=&cursor=&limit=&public=&sort=&tz=
pub async fn search(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    params: std::result::Result<Query<Params>, QueryRejection>,
) -> std::result::Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let found = search::search(&app.chat, &s.user, params.request(20)?).await?;
    let results: Vec<Result> = found
        .hits
        .iter()
        .map(|h| Result {
            message: MessageView::new(&h.message, Some(s.user.id)),
            conversation: &h.conversation,
            snippet: &h.snippet,
            url: format!(
                "/c/{}?at={}#m-{}",
                h.conversation.id, h.message.id, h.message.id
            ),
        })
        .collect();
    let text: usize = found
        .hits
        .iter()
        .map(|h| h.message.body.len() + h.message.html.len())
        .sum();
    let size = 512 + text + text / 8 + 900 * results.len();
    let body = Results {
        results,
        next_cursor: found.next.as_deref(),
        count: found.count,
        matching: if found.anywhere { "anywhere" } else { "words" },
    };
    Ok(json_sized(&body, size))
}
