//! The form posts: each takes a [`Posted`] form (CSRF checked), calls one `chat` action and
//! redirects back.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{App, PageError, directory};
use crate::chat::conversations::{Changes, NewConversation};
use crate::chat::messages::Draft;
use crate::chat::{accounts, conversations, messages, reads};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId};
use crate::error::Error;
use crate::web::posted::{Plain, Posted, csrf_field};

csrf_field!(
    SendForm,
    ArchiveForm,
    UpdateForm,
    MemberForm,
    EditForm,
    ReactForm
);

fn to(path: String) -> Response {
    Redirect::to(&path).into_response()
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
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<SendForm>,
) -> Result<Response, PageError> {
    let draft = Draft {
        body: f.body,
        client_id: Some(f.client_id).filter(|c| !c.is_empty()),
        reply_to: number(&f.reply_to, "reply_to")?,
        attachments: Vec::new(),
    };
    let m = messages::send(&app.chat, &session.0.user, id, draft).await?;
    Ok(to(format!("/c/{id}#m-{}", m.id)))
}

/// POST /c/{id}/read: marks everything read (the page script does this on its own).
pub async fn read(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    reads::mark_read(&app.chat, &session.0.user, id, None).await?;
    Ok(to(format!("/c/{id}")))
}

/// POST /c/{id}/join
pub async fn join(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    conversations::join(&app.chat, &session.0.user, id).await?;
    Ok(to(format!("/c/{id}")))
}

/// POST /c/{id}/leave
pub async fn leave(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
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
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<ArchiveForm>,
) -> Result<Response, PageError> {
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
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<UpdateForm>,
) -> Result<Response, PageError> {
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
    Path(id): Path<ConversationId>,
    Posted(session, f): Posted<MemberForm>,
) -> Result<Response, PageError> {
    match conversations::add(&app.chat, &session.0.user, id, f.user_id).await {
        Ok(()) => Ok(to(format!("/c/{id}/settings"))),
        Err(err) => directory::settings_with_error(&app, &session, id, err).await,
    }
}

/// POST /c/{id}/members/{user}/remove
pub async fn remove_member(
    State(app): State<App>,
    Path((id, user)): Path<(ConversationId, UserId)>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
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
    Posted(session, pairs): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
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
    Path(username): Path<String>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    let other = accounts::find(&app.chat, &username).await?;
    let c = conversations::direct(&app.chat, &session.0.user, other.id).await?;
    Ok(to(format!("/c/{}", c.id)))
}

/// POST /m/{id}/delete
pub async fn delete(
    State(app): State<App>,
    Path(id): Path<MessageId>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
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
    Path(id): Path<MessageId>,
    Posted(session, f): Posted<EditForm>,
) -> Result<Response, PageError> {
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
    Path(id): Path<MessageId>,
    Posted(session, f): Posted<ReactForm>,
) -> Result<Response, PageError> {
    let m = messages::react(&app.chat, &session.0.user, id, &f.emoji, f.on).await?;
    Ok(to(format!("/c/{}#m-{id}", m.conversation_id)))
}
