//! A conversation's files as a page: images as a grid or every file as rows, newest first,
//! paginated.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use crate::chat::files::{self, Shared};
use crate::domain::chat::ConversationId;
use crate::domain::files::AttachmentId;
use crate::error::Error;
use crate::fragments::{clock, day, human_size, iso};
use crate::web::App;
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::pages::app_layout;
use crate::web::pages::sidebar::{Nav, Place};
use crate::web::rooms::{nav_data, shell};

/// Files shown on one page.
const PAGE: usize = 48;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Show {
    #[serde(default)]
    images: Option<String>,
    before: Option<AttachmentId>,
}

/// GET /c/{id}/files?images=1&before=ID
pub async fn files_page(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    q: Result<Query<Show>, QueryRejection>,
) -> Result<Response, PageError> {
    let Query(q) = q.map_err(|e| Error::invalid(format!("bad address: {}", e.body_text())))?;
    let user = &session.0.user;
    let images = q.images.as_deref().is_some_and(|v| v == "1");
    let (rows, next) = files::list(&app.chat, user, id, images, q.before, PAGE).await?;
    let (summaries, presence, team) = nav_data(&app, user, []).await?;
    let title: &str = summaries
        .iter()
        .find(|s| s.conversation.id == id)
        .map(|s| s.title())
        .ok_or(Error::NotFound)?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Conversation(id),
        presence: &presence,
        team: &team,
    };
    let view = FilesView {
        conversation: id,
        title,
        images,
        rows: &rows,
        next,
        first_page: q.before.is_none(),
    };
    let page_title = format!("Files in {title}");
    Ok(app_layout(shell(&app, &session), &page_title, &nav, None, files(&view)).into_response())
}

struct FilesView<'a> {
    conversation: ConversationId,
    title: &'a str,
    images: bool,
    rows: &'a [Shared],
    next: Option<AttachmentId>,
    first_page: bool,
}

fn files(v: &FilesView) -> Markup {
    let base = format!("/c/{}/files", v.conversation);
    let filter = |on: bool, label: &str, href: String| {
        html! {
            li { a href=(href) aria-current=[(on).then_some("page")] { (label) } }
        }
    };
    html! {
        section.page-section.files-page aria-labelledby="files-title" {
            header.page-head {
                h1 #files-title { "Files in " (v.title) }
                p.lead { a href={ "/c/" (v.conversation) } { "Back to the conversation" } }
            }
            nav.inbox-filters aria-label="Show" {
                ul {
                    (filter(!v.images, "All files", base.clone()))
                    (filter(v.images, "Images", format!("{base}?images=1")))
                }
            }
            @if v.rows.is_empty() {
                p.hint {
                    @if !v.first_page { "No older files." }
                    @else if v.images { "No images have been shared here yet." }
                    @else { "No files have been shared here yet. Drop one onto the conversation to share it." }
                }
            } @else {
                ul.file-list.file-grid[v.images] {
                    @for f in v.rows { (row(f)) }
                }
            }
            @if let Some(before) = v.next {
                @let more = if v.images { format!("{base}?images=1&before={before}") } else { format!("{base}?before={before}") };
                p { a.older href=(more) { "Older files" } }
            }
        }
    }
}

fn row(f: &Shared) -> Markup {
    let a = &f.attachment;
    html! {
        li.file-row {
            @if let (Some(thumb), Some(src)) = (&a.thumb, a.thumb_url()) {
                a.file-thumb href=(a.url()) data-lightbox=(a.id) data-full=(a.url()) data-name=(a.name)
                    data-animated[a.mime == "image/gif"] {
                    img src=(src) width=(thumb.width) height=(thumb.height) alt=(a.name) loading="lazy" decoding="async";
                }
            }
            div.file-meta {
                a.file-name href=(a.url()) download=(a.name) { (a.name) }
                span.file-size { (human_size(a.size)) }
                span.file-by {
                    (f.by) " · "
                    a href={ "/m/" (f.message) } {
                        time datetime=(iso(f.at)) data-ms=(f.at) { (day(f.at)) " " (clock(f.at)) " UTC" }
                    }
                }
            }
        }
    }
}
