//! A channel's or group's picture, from its settings page: uploaded through a file form, or
//! taken away. Back to the settings page either way, saying what was refused.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::{App, PageError, PageSession, directory};
use crate::chat::pictures;
use crate::domain::chat::{Conversation, ConversationId};
use crate::error::Result;
use crate::web::posted::{Plain, Posted, PostedFile};

/// POST /c/{id}/picture (`multipart/form-data`: `csrf`, then the file as `picture`)
pub async fn upload(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    PostedFile(session, mut form): PostedFile,
) -> Result<Response, PageError> {
    let changed = match form.upload("picture").await {
        Ok(upload) => {
            pictures::set_conversation_picture(&app.chat, &session.0.user, id, upload).await
        }
        Err(err) => Err(err),
    };
    settle(&app, &session, id, changed).await
}

/// POST /c/{id}/picture/remove
pub async fn remove(
    State(app): State<App>,
    Path(id): Path<ConversationId>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let changed = pictures::remove_conversation_picture(&app.chat, &session.0.user, id).await;
    settle(&app, &session, id, changed).await
}

async fn settle(
    app: &App,
    session: &PageSession,
    id: ConversationId,
    changed: Result<Conversation>,
) -> Result<Response, PageError> {
    match changed {
        Ok(_) => Ok(Redirect::to(&format!("/c/{id}/settings")).into_response()),
        Err(err) => directory::settings_with_error(app, session, id, err).await,
    }
}
