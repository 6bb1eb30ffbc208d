//! Chat page handlers: the conversation view, forms that work without JavaScript, people and channels.
//! Thin: extract, call `chat`, render. Every form carries the session's CSRF token.

mod actions;
mod directory;
mod picture;
mod preview;
mod start;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use std::collections::HashSet;
use tower_http::set_header::SetResponseHeaderLayer;

use super::App;
use super::auth::PageSession;
use super::html::PageError;
use super::pages::sidebar::{Place, Presences};
use super::pages::{self, Nav, Shell, chat::ConversationView, timeline};
use crate::chat::recent::Messages;
use crate::chat::{self, secrets};
use crate::domain::chat::{ConversationId, MessageId, Summary};
use crate::domain::{User, UserId};
use crate::error::{Error, Result};
use crate::store::messages::Cursor;

/// Messages per page of history.
const PAGE: usize = 50;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/", get(home))
        .route("/c/{id}", get(conversation))
        .route("/c/{id}/older", get(older))
        .route("/c/{id}/newer", get(newer))
        .route("/c/{id}/messages", post(actions::send))
        .route("/c/{id}/read", post(actions::read))
        .route("/c/{id}/join", post(actions::join))
        .route("/c/{id}/leave", post(actions::leave))
        .route("/c/{id}/archive", post(actions::archive))
        .route("/c/{id}/members", post(actions::add_member))
        .route(
            "/c/{id}/members/{user}/remove",
            post(actions::remove_member),
        )
        .route(
            "/c/{id}/settings",
            get(directory::settings).post(actions::update),
        )
        .route(
            "/c/{id}/picture",
            // The picture's size is checked as it streams in, against the upload limit.
            post(picture::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/c/{id}/picture/remove", post(picture::remove))
        .route("/channels", get(directory::channels).post(actions::create))
        .route("/people", get(directory::people))
        .route("/people/{username}", get(directory::profile))
        .route("/people/{username}/message", post(actions::message_person))
        .route("/m/{id}", get(message_page))
        .route("/new", get(start::new_conversation))
        .route("/m/{id}/delete", post(actions::delete))
        .route("/m/{id}/edit", post(actions::edit))
        .route("/m/{id}/react", post(actions::react))
        // Pages hold private text and per-session tokens: never cached, nor restored by Back.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The frame's view of the signed-in session.
pub(crate) fn shell<'a>(app: &'a App, session: &'a PageSession) -> Shell<'a> {
    Shell {
        assets: Some(&app.assets),
        user: Some((&session.0.user, session.0.csrf_token.as_str())),
        instance: Some(&app.chat.instance),
    }
}

/// The conversation list, and who among `also` (and the direct partners) is around.
pub(crate) async fn nav_data(
    app: &App,
    user: &User,
    also: impl IntoIterator<Item = UserId>,
) -> Result<(Vec<Summary>, Presences, String)> {
    let summaries = chat::conversations::list(&app.chat, user).await?;
    let ids: HashSet<UserId> = summaries
        .iter()
        .filter_map(|s| s.other.as_ref().map(|o| o.id))
        .chain(also)
        .chain([user.id])
        .collect();
    let presence = ids
        .into_iter()
        .map(|id| (id, app.chat.hub.presence(id)))
        .collect();
    Ok((summaries, presence, chat::support::team_name(&app.chat)))
}

fn query<T>(parsed: Result<Query<T>, QueryRejection>) -> Result<T, PageError> {
    parsed
        .map(|Query(q)| q)
        .map_err(|e| PageError(Error::invalid(format!("bad address: {}", e.body_text()))))
}

/// A fresh id for a composer, so a form sent twice posts one message.
pub(super) fn client_id() -> String {
    format!("form-{}", &secrets::new_token()[..24])
}

/// GET /: the most recently active conversation, or a welcome page.
async fn home(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    let user = &session.0.user;
    let (summaries, presence, team) = nav_data(&app, user, []).await?;
    let newest = summaries
        .iter()
        .find(|s| !s.conversation.archived && s.support.is_none())
        .or(summaries.first());
    if let Some(s) = newest {
        return Ok(Redirect::to(&format!("/c/{}", s.conversation.id)).into_response());
    }
    let nav = Nav {
        summaries: &summaries,
        place: Place::Elsewhere,
        presence: &presence,
        team: &team,
    };
    Ok(pages::welcome(shell(&app, &session), &nav, user).into_response())
}

#[derive(Deserialize, Default)]
pub(super) struct Window {
    /// Messages older than this one.
    before: Option<MessageId>,
    /// Messages around this one (a reply's original, a link to a message).
    at: Option<MessageId>,
}

/// One page of messages: (oldest first, older exist, reaches the newest).
async fn page_of(
    app: &App,
    user: &User,
    id: ConversationId,
    window: &Window,
) -> Result<(Messages, bool, bool)> {
    let history = |cursor, n| chat::messages::history(&app.chat, user, id, cursor, n);
    match (window.at, window.before) {
        (Some(at), _) => {
            let half = PAGE / 2;
            let (newer, newer_more) = history(Cursor::After(at), half).await?;
            let (page, older) = match newer.first() {
                Some(next) => history(Cursor::Before(next.id), half).await?,
                None => history(Cursor::Latest, half).await?,
            };
            let around = page.iter().chain(newer.iter()).cloned().collect();
            Ok((Messages::Owned(around), older, !newer_more))
        }
        (None, Some(before)) => {
            let (page, older) = history(Cursor::Before(before), PAGE).await?;
            Ok((page, older, false))
        }
        (None, None) => {
            let (page, older) = history(Cursor::Latest, PAGE).await?;
            Ok((page, older, true))
        }
    }
}

/// GET /c/{id}: the app shell with one conversation; for someone not in a channel, its
/// preview with a way to join.
async fn conversation(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    window: Result<Query<Window>, QueryRejection>,
) -> Result<Response, PageError> {
    let window = query(window)?;
    conversation_page(&app, &session, id, &window, "").await
}

/// The conversation page, its composer holding `draft`.
pub(super) async fn conversation_page(
    app: &App,
    session: &PageSession,
    id: ConversationId,
    window: &Window,
    draft: &str,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    // First: the page must show everything up to this seq (its socket resumes from it).
    let seq = super::ws::snapshot_seq(app).await?;
    let (messages, has_older, latest) = match page_of(app, user, id, window).await {
        Ok(page) => page,
        Err(Error::NotFound) => return preview::page(app, session, id, window.at).await,
        Err(other) => return Err(other.into()),
    };
    let (_, _, members) = chat::conversations::get(&app.chat, user, id).await?;
    let (summaries, presence, team) =
        nav_data(app, user, members.iter().map(|m| m.user.id)).await?;
    let summary = summaries
        .iter()
        .find(|s| s.conversation.id == id)
        .ok_or(Error::NotFound)?;
    let aside = super::support::panel(app, session, summary).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Conversation(id),
        presence: &presence,
        team: &team,
    };
    let view = ConversationView {
        summary,
        members: &members,
        messages: &messages[..],
        has_older,
        latest,
        me: user,
        csrf: &session.0.csrf_token,
        client_id: &client_id(),
        max_chars: app.config.max_message_chars,
        presence: &presence,
        seq,
        draft,
        aside,
    };
    let page = pages::chat::page(shell(app, session), &nav, &view);
    Ok(page.into_response())
}

#[derive(Deserialize)]
struct Older {
    before: MessageId,
}

/// GET /c/{id}/older?before=ID: a fragment of older messages for infinite scroll.
async fn older(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    q: Result<Query<Older>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let user = &session.0.user;
    let (messages, has_more) =
        chat::messages::history(&app.chat, user, id, Cursor::Before(q.before), PAGE).await?;
    let fragment = timeline::older_page(&messages, user.id, has_more);
    Ok(fragment.into_response())
}

#[derive(Deserialize)]
struct Newer {
    after: MessageId,
}

/// GET /c/{id}/newer?after=ID: a fragment of newer messages, scrolling down from a page
/// around a message toward the latest.
async fn newer(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    q: Result<Query<Newer>, QueryRejection>,
) -> Result<Response, PageError> {
    let q = query(q)?;
    let user = &session.0.user;
    let (messages, has_more) =
        chat::messages::history(&app.chat, user, id, Cursor::After(q.after), PAGE).await?;
    let fragment = timeline::newer_page(&messages, user.id, has_more);
    Ok(fragment.into_response())
}

/// GET /m/{id}: one message with reply, react, edit and delete as plain forms.
async fn message_page(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<MessageId>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let message = chat::messages::get(&app.chat, user, id).await?;
    let (summaries, presence, team) = nav_data(&app, user, []).await?;
    let read_only = summaries
        .iter()
        .find(|s| s.conversation.id == message.conversation_id)
        .is_none_or(|s| s.conversation.archived);
    let nav = Nav {
        summaries: &summaries,
        place: Place::Conversation(message.conversation_id),
        presence: &presence,
        team: &team,
    };
    let view = pages::message::MessageView {
        message: &message,
        me: user,
        csrf: &session.0.csrf_token,
        client_id: &client_id(),
        max_chars: app.config.max_message_chars,
        read_only,
    };
    Ok(pages::message::page(shell(&app, &session), &nav, &view).into_response())
}
