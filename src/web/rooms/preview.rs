//! The preview of a channel for someone not in it (what `/c/{id}` shows them).

use axum::response::{IntoResponse, Response};

use super::{App, PageError, PageSession, Place, nav_data, shell};
use crate::chat::previews;
use crate::domain::chat::{ConversationId, MessageId};
use crate::error::Error;
use crate::web::pages::Nav;
use crate::web::pages::preview::{self, PreviewView};

/// The channel's preview; a member is sent to the conversation itself, and a group or
/// direct one is not in does not exist (404).
pub async fn page(
    app: &App,
    session: &PageSession,
    id: ConversationId,
    at: Option<MessageId>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let Some(p) = previews::preview(&app.chat, user, id, at).await? else {
        // Became a member since: nothing to preview, yet nothing was found a moment ago.
        return Err(Error::NotFound.into());
    };
    let (summaries, presence, team) = nav_data(app, user, []).await?;
    let nav = Nav {
        summaries: &summaries,
        place: Place::Elsewhere,
        presence: &presence,
        team: &team,
    };
    let view = PreviewView {
        channel: &p.conversation,
        member_count: p.member_count,
        messages: &p.messages,
        around: at.is_some_and(|at| p.messages.iter().any(|m| m.id == at)),
        me: user,
        csrf: &session.0.csrf_token,
    };
    Ok(preview::page(shell(app, session), &nav, &view).into_response())
}
