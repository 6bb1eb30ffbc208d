//! The pages that find people and places: channel browser, people, profiles, settings.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::Markup;

use super::{App, PageError, PageSession, Place, nav_data, shell};
use crate::chat::{accounts, conversations};
use crate::domain::User;
use crate::domain::chat::ConversationId;
use crate::error::Error;
use crate::web::pages::channels::{self, ChannelRow, ChannelsView, Draft};
use crate::web::pages::settings::{self, SettingsView};
use crate::web::pages::{Nav, people as people_pages, sidebar};

/// Everyone whose account is active, by display name.
async fn active_people(app: &App) -> Result<Vec<User>, Error> {
    let mut people: Vec<User> = accounts::list_users(&app.chat)
        .await?
        .into_iter()
        .filter(|u| !u.deactivated)
        .collect();
    people.sort_by_key(|u| u.display_name.to_lowercase());
    Ok(people)
}

/// GET /channels
pub async fn channels(State(app): State<App>, session: PageSession) -> Result<Markup, PageError> {
    channels_page(&app, &session, Draft::default()).await
}

/// The channel browser, with a refused create form shown again when there is one.
pub async fn channels_page(
    app: &App,
    session: &PageSession,
    draft: Draft<'_>,
) -> Result<Markup, PageError> {
    let user = &session.0.user;
    let list = conversations::channels(&app.chat, user).await?;
    let rows: Vec<ChannelRow> = list
        .iter()
        .map(|(c, members, joined)| ChannelRow {
            channel: c,
            members: *members,
            joined: *joined,
        })
        .collect();
    let people: Vec<User> = active_people(app)
        .await?
        .into_iter()
        .filter(|p| p.id != user.id)
        .collect();
    let (summaries, presence, team) = nav_data(app, user, []).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Channels,
        presence: &presence,
        team: &team,
    };
    let view = ChannelsView {
        channels: &rows,
        people: &people,
        csrf: &session.0.csrf_token,
        draft,
    };
    Ok(channels::browser(shell(app, session), &nav, &view))
}

/// GET /people
pub async fn people(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    let user = &session.0.user;
    let people = active_people(&app).await?;
    let (summaries, presence, team) = nav_data(&app, user, people.iter().map(|p| p.id)).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::People,
        presence: &presence,
        team: &team,
    };
    let page = people_pages::directory(
        shell(&app, &session),
        &nav,
        &people,
        user,
        &session.0.csrf_token,
        &presence,
    );
    Ok(page.into_response())
}

/// GET /people/{username}
pub async fn profile(
    State(app): State<App>,
    session: PageSession,
    Path(username): Path<String>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let person = accounts::find(&app.chat, &username)
        .await
        .map_err(|_| Error::NotFound)?;
    let (summaries, presence, team) = nav_data(&app, user, [person.id]).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::People,
        presence: &presence,
        team: &team,
    };
    let page = people_pages::profile(
        shell(&app, &session),
        &nav,
        &person,
        user,
        &session.0.csrf_token,
        &presence,
    );
    Ok(page.into_response())
}

/// GET /c/{id}/settings
pub async fn settings(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<ConversationId>,
) -> Result<Markup, PageError> {
    settings_page(&app, &session, id, None).await
}

async fn settings_page(
    app: &App,
    session: &PageSession,
    id: ConversationId,
    error: Option<&str>,
) -> Result<Markup, PageError> {
    let user = &session.0.user;
    let (conversation, role, members) = conversations::get(&app.chat, user, id).await?;
    let candidates: Vec<User> = active_people(app)
        .await?
        .into_iter()
        .filter(|p| !members.iter().any(|m| m.user.id == p.id))
        .collect();
    let (summaries, presence, team) =
        nav_data(app, user, members.iter().map(|m| m.user.id)).await?;
    let summary = summaries.iter().find(|s| s.conversation.id == id);
    // A support conversation has no settings: its name, members and life are Hearth's.
    if summary.is_some_and(|s| s.support.is_some()) {
        return Err(Error::NotFound.into());
    }
    let title = summary.map_or(conversation.name.clone(), |s| sidebar::title(s).to_owned());
    let nav = Nav {
        summaries: &summaries,
        place: Place::Conversation(id),
        presence: &presence,
        team: &team,
    };
    let view = SettingsView {
        conversation: &conversation,
        title: &title,
        role,
        members: &members,
        candidates: &candidates,
        me: user,
        csrf: &session.0.csrf_token,
        presence: &presence,
        error,
        max_upload_mb: app.config.max_upload_mb,
    };
    Ok(settings::page(shell(app, session), &nav, &view))
}

/// The settings page again with what was refused, for errors a person can fix there;
/// anything else (not found, server trouble) is an error page.
pub async fn settings_with_error(
    app: &App,
    session: &PageSession,
    id: ConversationId,
    err: Error,
) -> Result<Response, PageError> {
    match err {
        Error::Invalid(_) | Error::Conflict(_) | Error::Forbidden(_) | Error::TooLarge(_) => {
            let message = err.to_string();
            let page = settings_page(app, session, id, Some(&message)).await?;
            Ok((err.status(), page).into_response())
        }
        other => Err(other.into()),
    }
}
