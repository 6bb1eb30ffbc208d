//! The results page: the query kept in its box, filters explained, results with their
//! conversation, sender, time and highlighted snippet, each opening its conversation around
//! the message; a link to the next page. Works without JavaScript.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::Params;
use crate::chat::search::{self, Count, Found, Hit, MAX_LIMIT};
use crate::error::Error;
use crate::fragments::{avatar, iso};
use crate::web::App;
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::pages::app_layout;
use crate::web::pages::sidebar::{Nav, Place};
use crate::web::rooms::{nav_data, shell};

/// GET /search?q=…: the form alone when empty; the error under the box when the query is bad.
pub async fn results(
    State(app): State<App>,
    session: PageSession,
    params: Result<Query<Params>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(params) =
        params.map_err(|e| Error::invalid(format!("bad address: {}", e.body_text())))?;
    let user = &session.0.user;
    let outcome = if params.q.trim().is_empty() {
        None
    } else {
        let request = params.request(MAX_LIMIT.min(25))?;
        Some(search::search(&app.chat, user, request).await)
    };
    let outcome = match outcome {
        Some(Err(Error::Invalid(why))) => Some(Err(why)),
        Some(Err(other)) => return Err(other.into()),
        Some(Ok(found)) => Some(Ok(found)),
        None => None,
    };
    let (summaries, presence, team) = nav_data(&app, user, []).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Elsewhere,
        presence: &presence,
        team: &team,
    };
    let title = if params.q.trim().is_empty() {
        "Search".to_string()
    } else {
        format!("{} – Search", params.q.trim())
    };
    let body = page(&params, outcome.as_ref());
    let mut response = app_layout(shell(&app, &session), &title, &nav, None, body).into_response();
    if matches!(outcome, Some(Err(_))) {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(response)
}

fn page(p: &Params, outcome: Option<&Result<Found, String>>) -> Markup {
    let public = matches!(p.public.as_deref(), Some("1" | "true" | "on"));
    let best = p.sort.as_deref() == Some("best");
    html! {
        section.search-page aria-labelledby="search-title" {
            h1 #search-title { "Search" }
            form.search-form method="get" action="/search" role="search" aria-label="Search with options" {
                label for="search-q" { "Search messages" }
                div.search-row {
                    input #search-q type="search" name="q" value=(p.q) maxlength="500"
                        autocomplete="off" spellcheck="false" data-autofocus
                        aria-describedby="search-help"
                        aria-invalid=[matches!(outcome, Some(Err(_))).then_some("true")];
                    button type="submit" { "Search" }
                }
                input type="hidden" name="tz" value=(p.tz.as_deref().unwrap_or("0")) data-tz;
                div.search-options {
                    label { input type="checkbox" name="public" value="1" checked[public]; " Include channels I have not joined" }
                    label for="search-sort" { "Order" }
                    select #search-sort name="sort" {
                        option value="newest" selected[!best] { "Newest first" }
                        option value="best" selected[best] { "Best match" }
                    }
                }
                details #search-help.search-help {
                    summary { "How to search" }
                    dl {
                        dt { code { "deploy friday" } } dd { "messages with every word" }
                        dt { code { "\"release notes\"" } } dd { "the exact phrase" }
                        dt { code { "deplo*" } } dd { "words that start with it" }
                        dt { code { "-flaky" } } dd { "leave out messages with the word" }
                        dt { code { "from:@ada" } } dd { "sent by a person" }
                        dt { code { "in:#general" } " " code { "in:@ada" } } dd { "in a channel or group, or your direct with a person" }
                        dt { code { "has:file" } " " code { "has:image" } " " code { "has:link" } } dd { "with files, images or links" }
                        dt { code { "is:mention" } } dd { "that mention you" }
                        dt { code { "before:2026-03-01" } " " code { "after:" } " " code { "on:" } } dd { "by date (YYYY-MM-DD, your time zone)" }
                    }
                }
            }
            @match outcome {
                None => {}
                Some(Err(why)) => {
                    p.form-error role="alert" { (why) }
                }
                Some(Ok(found)) => { (result_list(p, found)) }
            }
        }
    }
}

fn count_line(found: &Found) -> Markup {
    let shown = found.hits.len();
    html! {
        p.search-count role="status" {
            @match found.count {
                Some(Count { n: 0, .. }) | None if shown == 0 => { "No messages found." }
                Some(Count { n, exact: true }) => { (n) " " (if n == 1 { "message" } else { "messages" }) }
                Some(Count { n, exact: false }) if n >= search::COUNT_CAP => { "More than " (n) " messages" }
                Some(Count { n, exact: false }) => {
                    "At least " (n) " " (if n == 1 { "message" } else { "messages" }) " (the search went part of the way back)"
                }
                None => {}
            }
            @if found.anywhere && shown > 0 {
                " · matched inside words and runs of text"
            }
        }
    }
}

fn result_list(p: &Params, found: &Found) -> Markup {
    html! {
        (count_line(found))
        @if !found.hits.is_empty() {
            ol.search-results {
                @for hit in &found.hits { (result(hit)) }
            }
        } @else if found.next.is_some() {
            p.muted { "Nothing in the newest messages searched so far." }
        }
        @if let Some(next) = &found.next {
            @let href = next_href(p, next);
            a.button.search-more href=(href) rel="next" { "Older results" }
        }
    }
}

fn next_href(p: &Params, cursor: &str) -> String {
    let mut q = vec![("q", p.q.as_str()), ("cursor", cursor)];
    for (k, v) in [("public", &p.public), ("sort", &p.sort), ("tz", &p.tz)] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.push((k, v));
        }
    }
    format!(
        "/search?{}",
        serde_urlencoded::to_string(q).expect("a query string")
    )
}

fn result(hit: &Hit) -> Markup {
    let m = &hit.message;
    let href = format!("/c/{}?at={}#m-{}", hit.conversation.id, m.id, m.id);
    html! {
        li.search-result {
            a.result-link href=(href) {
                (avatar(m.sender.id, &m.sender.display_name, m.sender.avatar.as_deref()))
                span.result-main {
                    span.result-head {
                        span.result-where { (hit.conversation.title) }
                        " · "
                        span.result-who { (m.sender.display_name) }
                        " · "
                        time.result-when datetime=(iso(m.created_at)) data-ms=(m.created_at) data-full="1" {
                            (crate::web::pages::stamp_text(m.created_at))
                        }
                    }
                    span.result-snippet {
                        @for piece in &hit.snippet {
                            @if piece.hit { mark { (piece.text) } } @else { (piece.text) }
                        }
                    }
                    @if !m.attachments.is_empty() {
                        span.result-files {
                            @for a in &m.attachments { span.result-file { "📎 " (a.name) } }
                        }
                    }
                }
            }
        }
    }
}
