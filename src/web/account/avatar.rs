//! The account page's picture: uploaded through a file form, or taken away.

use axum::extract::State;
use axum::response::Response;

use super::{App, Outcome, render};
use crate::chat::pictures;
use crate::domain::User;
use crate::error::{Error, Result};
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::posted::{Plain, Posted, PostedFile};

/// POST /account/avatar (`multipart/form-data`: `csrf`, then the file as `picture`)
pub async fn upload(
    State(app): State<App>,
    PostedFile(session, mut form): PostedFile,
) -> Result<Response, PageError> {
    let changed = match form.upload("picture").await {
        Ok(upload) => pictures::set_avatar(&app.chat, &session.0.user, upload).await,
        Err(err) => Err(err),
    };
    settle(&app, session, changed, "Your picture is changed.").await
}

/// POST /account/avatar/remove
pub async fn remove(
    State(app): State<App>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let changed = pictures::remove_avatar(&app.chat, &session.0.user).await;
    let done = "Your picture is removed: your initials show again.";
    settle(&app, session, changed, done).await
}

/// The account page again, saying what happened; a picture that cannot be used is said there.
async fn settle(
    app: &App,
    mut session: PageSession,
    changed: Result<User>,
    done: &str,
) -> Result<Response, PageError> {
    match changed {
        Ok(user) => {
            session.0.user = user;
            render(app, &session, Outcome::Done(done)).await
        }
        Err(err @ (Error::Invalid(_) | Error::TooLarge(_))) => {
            render(app, &session, Outcome::Refused(err)).await
        }
        Err(other) => Err(other.into()),
    }
}
