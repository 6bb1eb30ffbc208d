//! The support pages and their forms (each form carries the session's CSRF token).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::pages;
use crate::chat::messages::Draft;
use crate::chat::{notes, reports, support};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId};
use crate::domain::support::{Filter, State as ThreadState};
use crate::error::Error;
use crate::web::App;
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::pages::Nav;
use crate::web::pages::sidebar::Place;
use crate::web::posted::{Posted, csrf_field};
use crate::web::rooms::{client_id, nav_data, shell};

csrf_field!(StartForm, UpdateForm, NoteForm, ReportForm);

fn to(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// GET /support: one's support conversation, or a composer to start it.
pub async fn support_page(
    State(app): State<App>,
    session: PageSession,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    if user.is_admin() {
        return Ok(to("/inbox".into()));
    }
    if let Some(id) = support::mine(&app.chat, user).await? {
        return Ok(to(format!("/c/{id}")));
    }
    let (summaries, presence, team) = nav_data(&app, user, []).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Support,
        presence: &presence,
        team: &team,
    };
    let max = app.config.max_message_chars;
    let csrf = &session.0.csrf_token;
    let page = pages::compose(shell(&app, &session), &nav, &team, csrf, &client_id(), max);
    Ok(page.into_response())
}

#[derive(Deserialize)]
pub struct StartForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    client_id: String,
}

/// POST /support: the support conversation and its first message, in one write.
pub async fn start(
    State(app): State<App>,
    Posted(session, f): Posted<StartForm>,
) -> Result<Response, PageError> {
    let draft = Draft {
        body: f.body,
        client_id: Some(f.client_id).filter(|c| !c.is_empty()),
        reply_to: None,
        attachments: Vec::new(),
    };
    let m = support::start(&app.chat, &session.0.user, draft).await?;
    Ok(to(format!("/c/{}#m-{}", m.conversation_id, m.id)))
}

#[derive(Deserialize, Default)]
pub struct Show {
    #[serde(default)]
    show: String,
}

/// GET /inbox?show=all|open|resolved|mine (admins; 404 for anyone else)
pub async fn inbox(
    State(app): State<App>,
    session: PageSession,
    q: Result<Query<Show>, QueryRejection>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let Query(q) = q.map_err(|e| Error::invalid(format!("bad address: {}", e.body_text())))?;
    let filter = Filter::parse(&q.show)?;
    let entries = support::inbox(&app.chat, user, filter).await?;
    let (summaries, presence, team) = nav_data(&app, user, []).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Support,
        presence: &presence,
        team: &team,
    };
    Ok(pages::inbox(shell(&app, &session), &nav, &entries, filter).into_response())
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    csrf: String,
    state: Option<String>,
    assignee: Option<String>,
}

/// POST /c/{id}/support (state=open|resolved, or assignee=ID or empty for nobody)
pub async fn update(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<UpdateForm>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    match (f.state, f.assignee) {
        (Some(state), None) => {
            support::set_state(&app.chat, user, id, ThreadState::parse(&state)?).await?;
        }
        (None, Some(raw)) => {
            let assignee = match raw.trim() {
                "" => None,
                n => Some(n.parse::<UserId>().map_err(|_| {
                    Error::invalid("assignee must be the id of an admin, or empty")
                })?),
            };
            support::assign(&app.chat, user, id, assignee).await?;
        }
        _ => return Err(Error::invalid("give state or assignee").into()),
    }
    Ok(to(format!("/c/{id}")))
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

/// POST /c/{id}/notes (body): an internal note (admins of the support conversation).
pub async fn add_note(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<NoteForm>,
) -> Result<Response, PageError> {
    let note = notes::add(&app.chat, &session.0.user, id, &f.body).await?;
    Ok(to(format!("/c/{id}#note-{}", note.id)))
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// POST /m/{id}/report (reason): to the reporter's support conversation, where it shows.
pub async fn report(
    State(app): State<App>,
    Path(id): Path<MessageId>,
    Posted(session, f): Posted<ReportForm>,
) -> Result<Response, PageError> {
    let line = reports::report(&app.chat, &session.0.user, id, &f.reason).await?;
    Ok(to(format!("/c/{}#m-{}", line.conversation_id, line.id)))
}
