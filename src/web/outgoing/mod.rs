//! Outgoing webhooks on the web: a conversation's hooks for its admins (`/c/{id}/outgoing`,
//! reached from the conversation's settings), each hook's secret and delivery log, and the
//! JSON API. Thin over `chat::outgoing`; anyone but an admin is told there is nothing here.

mod api;
mod pages;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::{PageError, shell};
use super::posted::{Plain, Posted, csrf_field};
use crate::chat::outgoing::{self, NewOutgoing};
use crate::domain::chat::ConversationId;
use crate::error::Error;
use pages::{HookView, ListView};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/c/{id}/outgoing", get(list_page).post(create))
        .route("/c/{id}/outgoing/{hook}", get(hook_page))
        .route("/c/{id}/outgoing/{hook}/rotate", post(rotate))
        .route("/c/{id}/outgoing/{hook}/revoke", post(revoke))
        .layer(no_store())
}

/// Outgoing webhooks as JSON.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::show, api::revoke))
        .routes(routes!(api::rotate))
        .routes(routes!(api::deliveries))
        .layer(no_store())
}

/// The pages and answers show secrets: never kept by a cache.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// The form that makes a hook.
#[derive(Deserialize)]
struct HookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    trigger: String,
    #[serde(default)]
    words: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    allow_private: Option<String>,
}

csrf_field!(HookForm);

impl HookForm {
    fn into_new(self) -> NewOutgoing {
        NewOutgoing {
            name: self.name,
            url: self.url,
            trigger: Some(self.trigger),
            words: Some(self.words),
            allow_private: self.allow_private.is_some(),
        }
    }
}

/// A path's id; one that is not a number names nothing.
fn id(raw: &str) -> Result<i64, Error> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn render_list(
    app: &App,
    session: &PageSession,
    id: ConversationId,
    error: Option<(StatusCode, &str)>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let (conversation, hooks) = outgoing::list(&app.chat, user, id).await?;
    let view = ListView {
        csrf: &session.0.csrf_token,
        conversation: &conversation,
        hooks: &hooks,
        error: error.map(|e| e.1),
    };
    let status = error.map_or(StatusCode::OK, |e| e.0);
    Ok((status, pages::list(shell(app, Some(session)), &view)).into_response())
}

/// GET /c/{id}/outgoing
async fn list_page(
    State(app): State<App>,
    session: PageSession,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    render_list(&app, &session, self::id(&id)?, None).await
}

/// POST /c/{id}/outgoing: makes a hook and opens it (its secret is there).
async fn create(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted(session, form): Posted<HookForm>,
) -> Result<Response, PageError> {
    let conversation = self::id(&id)?;
    let user = &session.0.user;
    match outgoing::create(&app.chat, user, conversation, form.into_new()).await {
        Ok(hook) => {
            Ok(Redirect::to(&format!("/c/{conversation}/outgoing/{}", hook.id)).into_response())
        }
        Err(err @ (Error::Invalid(_) | Error::Conflict(_) | Error::Forbidden(_))) => {
            let message = err.to_string();
            render_list(&app, &session, conversation, Some((err.status(), &message))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// GET /c/{id}/outgoing/{hook}: the hook, its secret and its delivery log.
async fn hook_page(
    State(app): State<App>,
    session: PageSession,
    Path((id, hook)): Path<(String, String)>,
) -> Result<Response, PageError> {
    let (conversation, hook) = (self::id(&id)?, self::id(&hook)?);
    let user = &session.0.user;
    let (c, hook, log) = outgoing::get(&app.chat, user, hook).await?;
    if c.id != conversation {
        return Err(Error::NotFound.into());
    }
    let view = HookView {
        csrf: &session.0.csrf_token,
        conversation: &c,
        hook: &hook,
        log: &log,
    };
    Ok(pages::hook(shell(&app, Some(&session)), &view).into_response())
}

/// The hook of `/c/{id}/outgoing/{hook}` if it is that conversation's.
async fn hook_in(
    app: &App,
    session: &PageSession,
    id: &str,
    hook: &str,
) -> Result<(ConversationId, i64), PageError> {
    let (conversation, hook) = (self::id(id)?, self::id(hook)?);
    let (c, _, _) = outgoing::get(&app.chat, &session.0.user, hook).await?;
    if c.id != conversation {
        return Err(Error::NotFound.into());
    }
    Ok((conversation, hook))
}

/// POST /c/{id}/outgoing/{hook}/rotate
async fn rotate(
    State(app): State<App>,
    Path((id, hook)): Path<(String, String)>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let (conversation, hook) = hook_in(&app, &session, &id, &hook).await?;
    outgoing::rotate(&app.chat, &session.0.user, hook).await?;
    Ok(Redirect::to(&format!("/c/{conversation}/outgoing/{hook}")).into_response())
}

/// POST /c/{id}/outgoing/{hook}/revoke
async fn revoke(
    State(app): State<App>,
    Path((id, hook)): Path<(String, String)>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let (conversation, hook) = hook_in(&app, &session, &id, &hook).await?;
    outgoing::revoke(&app.chat, &session.0.user, hook).await?;
    Ok(Redirect::to(&format!("/c/{conversation}/outgoing")).into_response())
}
