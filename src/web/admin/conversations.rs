//! The console's conversations: every channel and group with its members and last activity;
//! archive, unarchive, delete (the name typed to confirm), and the audited way into a group.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{AdminPage, Section, console, refused, shell};
use crate::chat::admin::{self, Shared};
use crate::domain::chat::{ConversationId, Kind};
use crate::error::Error;
use crate::fragments::{day, iso};
use crate::web::App;
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::pages::csrf_field;
use crate::web::posted::{Plain, Posted, csrf_field as csrf_form};

/// GET /admin/conversations
pub async fn page(
    State(app): State<App>,
    AdminPage(session): AdminPage,
) -> Result<Response, PageError> {
    render(&app, &session, None).await
}

async fn render(
    app: &App,
    session: &PageSession,
    error: Option<Error>,
) -> Result<Response, PageError> {
    let list = admin::conversations(&app.chat, &session.0.user).await?;
    let message = error.as_ref().map(ToString::to_string);
    let page = console(
        shell(app, session),
        Section::Conversations,
        "Conversations",
        None,
        view(&list, &session.0.csrf_token, message.as_deref()),
    );
    Ok(match error {
        Some(err) => refused(err, page),
        None => page.into_response(),
    })
}

fn view(list: &[Shared], csrf: &str, error: Option<&str>) -> Markup {
    html! {
        section aria-labelledby="conversations-title" {
            h1 #conversations-title { "Conversations" }
            p.lead { "Every channel and private group. Direct conversations are private to their two people." }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            ul.admin-list {
                @for s in list { (row(s, csrf)) }
            }
        }
    }
}

fn row(s: &Shared, csrf: &str) -> Markup {
    let c = &s.conversation;
    let base = format!("/admin/conversations/{}", c.id);
    let (mark, kind) = match c.kind {
        Kind::Channel => ("#", "channel"),
        _ => ("🔒 ", "private group"),
    };
    html! {
        li.admin-row {
            div.admin-row-head {
                @if c.kind == Kind::Channel || s.member {
                    a href={ "/c/" (c.id) } { strong { (mark) (c.name) } }
                } @else {
                    strong { (mark) (c.name) }
                }
                " " span.muted { (kind) }
                @if c.archived { " " span.tag { "archived" } }
            }
            p.hint {
                (s.members) @if s.members == 1 { " member" } @else { " members" }
                " · last activity " time datetime=(iso(c.last_activity_at)) { (day(c.last_activity_at)) }
            }
            div.actions {
                form.inline method="post" action={ (base) "/archive" } {
                    (csrf_field(csrf))
                    @if c.archived {
                        input type="hidden" name="archived" value="false";
                        button.small.quiet type="submit" { "Unarchive" }
                    } @else {
                        input type="hidden" name="archived" value="true";
                        button.small.quiet type="submit" { "Archive" }
                    }
                }
                @if c.kind == Kind::Group && !s.member {
                    details.danger-zone {
                        summary { "Join…" }
                        form method="post" action={ (base) "/join" } {
                            (csrf_field(csrf))
                            p.hint { "Its members will see that you joined, and the audit log keeps it." }
                            button.small type="submit" { "Join " (c.name) }
                        }
                    }
                }
                details.danger-zone {
                    summary { "Delete…" }
                    form method="post" action={ (base) "/delete" } {
                        (csrf_field(csrf))
                        p.hint { "Every message in it is deleted for good." }
                        label for={ "confirm-" (c.id) } { "Type " strong { (c.name) } " to confirm" }
                        input id={ "confirm-" (c.id) } type="text" name="confirm" autocomplete="off" required;
                        button.small.danger type="submit" { "Delete " (c.name) }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct ArchiveForm {
    csrf: String,
    archived: String,
}

#[derive(Deserialize)]
pub struct DeleteForm {
    csrf: String,
    #[serde(default)]
    confirm: String,
}

csrf_form!(ArchiveForm, DeleteForm);

async fn or_refused(
    app: &App,
    session: &PageSession,
    done: Result<(), Error>,
    to: Option<String>,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(Redirect::to(to.as_deref().unwrap_or("/admin/conversations")).into_response()),
        Err(err) => render(app, session, Some(err)).await,
    }
}

/// POST /admin/conversations/{id}/archive
pub async fn archive(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, form): Posted<ArchiveForm>,
) -> Result<Response, PageError> {
    let done = match form.archived.as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid("archived must be true or false")),
    };
    let done = match done {
        Ok(archived) => admin::set_archived(&app.chat, &session.0.user, id, archived)
            .await
            .map(drop),
        Err(err) => Err(err),
    };
    or_refused(&app, &session, done, None).await
}

/// POST /admin/conversations/{id}/delete
pub async fn delete(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, form): Posted<DeleteForm>,
) -> Result<Response, PageError> {
    let done = admin::delete_conversation(&app.chat, &session.0.user, id, &form.confirm).await;
    or_refused(&app, &session, done, None).await
}

/// POST /admin/conversations/{id}/join
pub async fn join(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    let done = admin::join_group(&app.chat, &session.0.user, id)
        .await
        .map(drop);
    or_refused(&app, &session, done, Some(format!("/c/{id}"))).await
}
