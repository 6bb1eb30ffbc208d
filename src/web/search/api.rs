//! GET /api/v1/search: results as JSON, each with its message, conversation and snippet.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use super::Params;
use crate::chat::json::MessageView;
use crate::chat::search::{self, Count, Where};
use crate::error::Error;
use crate::search::snippet::Piece;
use crate::web::App;
use crate::web::api::{ApiError, json_sized};
use crate::web::auth::ApiSession;
use crate::web::openapi::ErrorBody;

/// A page of results.
#[derive(Serialize, ToSchema)]
struct SearchResults<'a> {
    results: Vec<SearchHit<'a>>,
    /// Gives the next page as `cursor`; `null` on the last.
    next_cursor: Option<&'a str>,
    /// How many results there are: on the first page only (`null` on the others).
    count: Option<Count>,
    matching: Matching,
}

/// How the terms were matched.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = SearchMatching)]
enum Matching {
    /// As whole words.
    Words,
    /// Anywhere inside runs of text (no word matched, or a script written without spaces).
    Anywhere,
}

/// One result.
#[derive(Serialize, ToSchema)]
struct SearchHit<'a> {
    message: MessageView<'a>,
    conversation: &'a Where,
    /// A window of the message's text around its first match, matches marked.
    snippet: &'a [Piece],
    /// Opens the conversation around the message.
    url: String,
}

/// The order of results.
#[derive(ToSchema)]
#[allow(dead_code)]
enum SearchSort {
    #[schema(rename = "newest")]
    Newest,
    #[schema(rename = "best")]
    Best,
}

/// Search the messages one may read: one's conversations, and with `public` every channel.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    operation_id = "search",
    params(
        ("q" = String, Query, max_length = 500, description = "Words (all must match), `\"exact phrases\"`, `prefix*`, `-excluded`, and filters: `from:@name`, `in:#channel`, `in:@person`, `has:file|image|link`, `is:mention`, `before:`, `after:`, `on:` (dates as YYYY-MM-DD); at most 16 words and phrases."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before."),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 50, description = "Results per page; 20 by default."),
        ("public" = Option<bool>, Query, description = "Also search channels one has not joined."),
        ("sort" = inline(Option<SearchSort>), Query, description = "`newest` first (the default) or `best` match first."),
        ("tz" = Option<i32>, Query, minimum = -840, maximum = 840, description = "One's time zone in minutes east of UTC, for date filters; 0 by default."),
    ),
    responses(
        (status = 200, description = "A page of results, newest (or best) first.", body = SearchResults),
        (status = 400, description = "No words or filters, a filter naming nobody or nothing one can read, a cursor this search did not give, or a parameter out of range or of the wrong type.", body = ErrorBody),
    )
)]
pub async fn search(
    State(app): State<App>,
    ApiSession(s): ApiSession,
    params: std::result::Result<Query<Params>, QueryRejection>,
) -> std::result::Result<Response, ApiError> {
    let Query(params) =
        params.map_err(|e| Error::invalid(format!("bad query: {}", e.body_text())))?;
    let found = search::search(&app.chat, &s.user, params.request(20)?).await?;
    let results: Vec<SearchHit> = found
        .hits
        .iter()
        .map(|h| SearchHit {
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
    let body = SearchResults {
        results,
        next_cursor: found.next.as_deref(),
        count: found.count,
        matching: if found.anywhere {
            Matching::Anywhere
        } else {
            Matching::Words
        },
    };
    Ok(json_sized(&body, size))
}
