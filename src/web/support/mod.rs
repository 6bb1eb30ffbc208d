//! The support inbox on the web: writing to the admins (`/support`), the admins' inbox
//! (`/inbox`), the admins' tools and internal notes in a support conversation, reports of
//! messages, and the JSON API for each. Thin handlers over `chat::support`, `chat::notes`
//! and `chat::reports`.

mod api;
mod forms;
mod pages;

use axum::Router;
use axum::routing::{get, post};
use maud::Markup;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use crate::chat::support;
use crate::domain::chat::Summary;
use crate::error::Result;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/support", get(forms::support_page).post(forms::start))
        .route("/inbox", get(forms::inbox))
        .route("/c/{id}/support", post(forms::update))
        .route("/c/{id}/notes", post(forms::add_note))
        .route("/m/{id}/report", post(forms::report))
}

/// The support JSON routes, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::open))
        .routes(routes!(api::inbox))
        .routes(routes!(api::thread, api::update))
        .routes(routes!(api::notes, api::add_note))
        .routes(routes!(api::report))
}

/// The admins' panel beside a support conversation, for an admin looking at one; nothing
/// for anyone else (the member included) or any other conversation.
pub async fn panel(app: &App, session: &PageSession, summary: &Summary) -> Result<Option<Markup>> {
    let user = &session.0.user;
    let is_support = summary.support.as_ref().is_some_and(|t| !t.mine);
    if !is_support || !user.is_admin() {
        return Ok(None);
    }
    let id = summary.conversation.id;
    let panel = support::panel(&app.chat, user, id).await?;
    let view = pages::PanelView {
        conversation: id,
        thread: &panel.thread,
        notes: &panel.notes,
        team: &panel.team,
        me: user,
        csrf: &session.0.csrf_token,
        max_chars: app.config.max_message_chars,
    };
    Ok(Some(pages::panel(&view)))
}
