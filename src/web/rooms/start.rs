//! `GET /new?to=USERNAME&text=…`: a link that starts a conversation with someone, its
//! composer holding a first message to send (or change) — from anywhere, through sign-in.

use axum::extract::rejection::QueryRejection;
use axum::extract::{OriginalUri, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{App, PageError, PageSession, Window, conversation_page, query};
use crate::chat::{accounts, conversations};
use crate::error::Error;

#[derive(Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    to: String,
    #[serde(default)]
    text: String,
}

/// GET /new: the direct conversation with `to` (opened if new), `text` in its composer.
pub async fn new_conversation(
    State(app): State<App>,
    session: Option<PageSession>,
    OriginalUri(uri): OriginalUri,
    q: Result<Query<NewQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    let Some(session) = session else {
        let here = uri.path_and_query().map_or("/new", |p| p.as_str());
        let next = serde_urlencoded::to_string([("next", here)]).unwrap_or_default();
        return Ok(Redirect::to(&format!("/login?{next}")).into_response());
    };
    let q = query(q)?;
    let max = app.config.max_message_chars;
    if q.text.chars().count() > max {
        return Err(Error::invalid(format!(
            "the text is longer than a message may be ({max} characters)"
        ))
        .into());
    }
    if q.to.trim().is_empty() {
        return Err(Error::invalid("say who to write to: /new?to=USERNAME").into());
    }
    let other = accounts::find(&app.chat, q.to.trim_start_matches('@')).await?;
    let c = conversations::direct(&app.chat, &session.0.user, other.id)
        .await
        .map_err(|e| match e {
            Error::NotFound => Error::NoSuchUser(other.username.clone()),
            e => e,
        })?;
    conversation_page(&app, &session, c.id, &Window::default(), &q.text).await
}
