//! The form posts: each checks the CSRF token, calls one `chat` action and redirects back.

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{App, PageError, PageSession, check_csrf, directory, form};
use crate::chat::conversations::{Changes, NewConversation};
use crate::chat::messages::Draft;
use crate::chat::{accounts, conversations, messages, reads};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId};
use crate::error::Error;

fn to(path: String) -> Response {
    Redirect::to(&path).into_response()
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Plain {
    #[serde(default)]
    csrf: String,
}

/// An optional number from a form field that may be sent empty.
fn number(raw: &str, what: &str) -> Result<Option<i64>, PageError> {
    match raw.trim() {
        "" => Ok(None),
        n => n
            .parse()
            .map(Some)
            .map_err(|_| PageError(Error::invalid(format!("{what} must be a number")))),
    }
}

#[derive(Deserialize)]
pub struct SendForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    reply_to: String,
}

/// POST /c/{id}/messages
pub async fn send(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<SendForm>, FormRejection>,
) -> Result<Response, PageError> {
    let f = form(parsed)?;
    check_csrf(&session, &f.csrf)?;
    let draft = Draft {
        body: f.body,
        client_id: Some(f.client_id).filter(|c| !c.is_empty()),
        reply_to: number(&f.reply_to, "reply_to")?,
    };
    let m = messages::send(&app.chat, &session.0.user, id, draft).await?;
    Ok(to(format!("/c/{id}#m-{}", m.id)))
}

/// POST /c/{id}/read: marks everything read (the page script does this on its own).
pub async fn read(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<Plain>, FormRejection>,
) -> Result<Response, PageError> {
    check_csrf(&session, &form(parsed)?.csrf)?;
    reads::mark_read(&app.chat, &session.0.user, id, None).await?;
    Ok(to(format!("/c/{id}")))
}

/// POST /c/{id}/join
pub async fn join(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<Plain>, FormRejection>,
) -> Result<Response, PageError> {
    check_csrf(&session, &form(parsed)?.csrf)?;
    conversations::join(&app.chat, &session.0.user, id).await?;
    Ok(to(format!("/c/{id}")))
}

/// POST /c/{id}/leave
pub async fn leave(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<Plain>, FormRejection>,
) -> Result<Response, PageError> {
    check_csrf(&session, &form(parsed)?.csrf)?;
    conversations::leave(&app.chat, &session.0.user, id).await?;
    Ok(to("/".into()))
}

#[derive(Deserialize)]
pub struct ArchiveForm {
    #[serde(default)]
    csrf: String,
    archived: bool,
}

/// POST /c/{id}/archive (archived=true|false)
pub async fn archive(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<ArchiveForm>, FormRejection>,
) -> Result<Response, PageError> {
    let f = form(parsed)?;
    check_csrf(&session, &f.csrf)?;
    let changes = Changes {
        archived: Some(f.archived),
        ..Changes::default()
    };
    match conversations::update(&app.chat, &session.0.user, id, changes).await {
        Ok(_) => Ok(to(format!("/c/{id}/settings"))),
        Err(err) => directory::settings_with_error(&app, &session, id, err).await,
    }
}

#[derive(Deserialize)]
pub struct UpdateForm {
    #[serde(default)]
    csrf: String,
    name: Option<String>,
    topic: Option<String>,
}

/// POST /c/{id}/settings: name and topic; only what changed is sent, so a member who may
/// set the topic but not rename can still save the form.
pub async fn update(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<UpdateForm>, FormRejection>,
) -> Result<Response, PageError> {
    let f = form(parsed)?;
    check_csrf(&session, &f.csrf)?;
    let user = &session.0.user;
    let (current, _, _) = conversations::get(&app.chat, user, id).await?;
    let changes = Changes {
        name: f.name.filter(|n| n.trim() != current.name),
        topic: f.topic.filter(|t| t.trim() != current.topic),
        archived: None,
    };
    if changes.name.is_none() && changes.topic.is_none() {
        return Ok(to(format!("/c/{id}/settings")));
    }
    match conversations::update(&app.chat, user, id, changes).await {
        Ok(_) => Ok(to(format!("/c/{id}/settings"))),
        Err(err) => directory::settings_with_error(&app, &session, id, err).await,
    }
}

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    csrf: String,
    user_id: UserId,
}

/// POST /c/{id}/members (user_id)
pub async fn add_member(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
    parsed: Result<Form<MemberForm>, FormRejection>,
) -> Result<Response, PageError> {
    let f = form(parsed)?;
    check_csrf(&session, &f.csrf)?;
    match conversations::add(&app.chat, &session.0.user, id, f.user_id).await {
        Ok(()) => Ok(to(format!("/c/{id}/settings"))),
        Err(err) => directory::settings_with_error(&app, &session, id, err).await,
    }
}

/// POST /c/{id}/members/{user}/remove
pub async fn remove_member(
    State(app): State<App>,
    session: PageSession,
    Path((id, user)): Path<(ConversationId, UserId)>,
    parsed: Result<Form<Plain>, FormRejection>,
) -> Result<Response, PageError> {
    check_csrf(&session, &form(parsed)?.csrf)?;
    let leaving = user == session.0.user.id;
    match conversations::remove(&app.chat, &session.0.user, id, user).await {
        Ok(()) if leaving => Ok(to("/".into())),
        Ok(()) => Ok(to(format!("/c/{id}/settings"))),
        Err(err) => directory::settings_with_error(&app, &session, id, err).await,
    }
}

/// POST /channels: a channel or a private group. Fields repeat (`members`), so the body is
/// read as pairs.
pub async fn create(
    State(app): State<App>,
    session: PageSession,
    parsed: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let pairs = form(parsed)?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    check_csrf(&session, field("csrf"))?;
    let members = pairs
        .iter()
        .filter(|(k, _)| k == "members")
        .map(|(_, v)| number(v, "members"))
        .filter_map(Result::transpose)
        .collect::<Result<Vec<UserId>, _>>()?;
    let new = NewConversation {
        kind: field("kind").to_owned(),
        name: field("name").to_owned(),
        topic: Some(field("topic").to_owned()).filter(|t| !t.trim().is_empty()),
        members,
    };
    match conversations::create(&app.chat, &session.0.user, new).await {
        Ok(c) => Ok(to(format!("/c/{}", c.id))),
        Err(err @ (Error::Invalid(_) | Error::Conflict(_))) => {
            let message = err.to_string();
            let draft = crate::web::pages::channels::Draft {
                kind: field("kind"),
                name: field("name"),
                topic: field("topic"),
                error: Some(&message),
            };
            let page = directory::channels_page(&app, &session, draft).await?;
            Ok((err.status(), page).into_response())
        }
        Err(err) => Err(err.into()),
    }
}

/// POST /people/{username}/message: opens (or creates) the direct conversation.
pub async fn message_person(
    State(app): State<App>,
    session: PageSession,
    Path(username): Path<String>,
    parsed: Result<Form<Plain>, FormRejection>,
) -> Result<Response, PageError> {
    check_csrf(&session, &form(parsed)?.csrf)?;
    let other = accounts::find(&app.chat, &username).await?;
    let c = conversations::direct(&app.chat, &session.0.user, other.id).await?;
    Ok(to(format!("/c/{}", c.id)))
}

/// POST /m/{id}/delete
pub async fn delete(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<MessageId>,
    parsed: Result<Form<Plain>, FormRejection>,
) -> Result<Response, PageError> {
    check_csrf(&session, &form(parsed)?.csrf)?;
    let m = messages::delete(&app.chat, &session.0.user, id).await?;
    Ok(to(format!("/c/{}#m-{id}", m.conversation_id)))
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

/// POST /m/{id}/edit (body)
pub async fn edit(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<MessageId>,
    parsed: Result<Form<EditForm>, FormRejection>,
) -> Result<Response, PageError> {
    let f = form(parsed)?;
    check_csrf(&session, &f.csrf)?;
    let m = messages::edit(&app.chat, &session.0.user, id, &f.body).await?;
    Ok(to(format!("/c/{}#m-{id}", m.conversation_id)))
}

#[derive(Deserialize)]
pub struct ReactForm {
    #[serde(default)]
    csrf: String,
    emoji: String,
    #[serde(default = "yes")]
    on: bool,
}

fn yes() -> bool {
    true
}

/// POST /m/{id}/react (emoji, on)
pub async fn react(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<MessageId>,
    parsed: Result<Form<ReactForm>, FormRejection>,
) -> Result<Response, PageError> {
    let f = form(parsed)?;
    check_csrf(&session, &f.csrf)?;
    let m = messages::react(&app.chat, &session.0.user, id, &f.emoji, f.on).await?;
    Ok(to(format!("/c/{}#m-{id}", m.conversation_id)))
}
