//! Webhooks on the web: the URL that takes what other services post, and a conversation's
//! integrations page and JSON API to make, rotate and revoke its incoming hooks. Thin:
//! extract, call `chat::webhooks`, render.

mod api;
pub mod pages;
pub mod receive;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::{PageError, base_url, shell};
use super::posted::{Plain, Posted};
use crate::chat::conversations;
use crate::chat::webhooks::{self, Made};
use crate::error::Error;
use pages::IntegrationsView;

pub fn routes() -> Router<App> {
    let receiving = Router::new()
        .route("/hooks/{secret}", post(receive::by_url))
        .route("/hooks", post(receive::by_header))
        .layer(DefaultBodyLimit::max(receive::MAX_BODY));
    Router::new()
        .route("/c/{id}/integrations", get(page))
        .route("/c/{id}/integrations/hooks", post(create))
        .route("/c/{id}/integrations/hooks/{hook}/rotate", post(rotate))
        .route("/c/{id}/integrations/hooks/{hook}/revoke", post(revoke))
        .layer(no_store())
        .merge(receiving)
}

/// A conversation's incoming hooks as JSON.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::revoke))
        .routes(routes!(api::rotate))
        .layer(no_store())
}

/// A hook's URL must not linger in caches or restored pages.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// A hook's URL from its secret.
pub fn hook_url(base: &str, secret: &str) -> String {
    format!("{}/hooks/{secret}", base.trim_end_matches('/'))
}

fn id_of(raw: &str) -> Result<i64, Error> {
    raw.parse().map_err(|_| Error::NotFound)
}

async fn render(
    app: &App,
    session: &PageSession,
    id: i64,
    made: Option<(&str, &str)>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let hooks = webhooks::list(&app.chat, user, id).await?;
    let (c, _, _) = conversations::get(&app.chat, user, id).await?;
    let title = match c.kind {
        crate::domain::chat::Kind::Channel => format!("#{}", c.name),
        _ => c.name.clone(),
    };
    let view = IntegrationsView {
        csrf: &session.0.csrf_token,
        conversation: id,
        title: &title,
        hooks: &hooks,
        made,
        error: error.as_ref().map(|e| e.1.as_str()),
        more: None,
    };
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.0);
    Ok((status, pages::page(shell(app, Some(session)), &view)).into_response())
}

/// GET /c/{id}/integrations (owners and admins)
async fn page(
    State(app): State<App>,
    Path(id): Path<String>,
    session: PageSession,
) -> Result<Response, PageError> {
    render(&app, &session, id_of(&id)?, None, None).await
}

#[derive(Deserialize)]
struct HookForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}
super::posted::csrf_field!(HookForm);

async fn shown(
    app: &App,
    session: &PageSession,
    headers: &HeaderMap,
    id: i64,
    made: Result<Made, Error>,
) -> Result<Response, PageError> {
    match made {
        Ok(made) => {
            let url = hook_url(&base_url(&app.config, headers), &made.secret);
            render(app, session, id, Some((&made.hook.name, &url)), None).await
        }
        Err(err @ (Error::Invalid(_) | Error::Forbidden(_) | Error::Conflict(_))) => {
            let status = err.status();
            render(app, session, id, None, Some((status, err.to_string()))).await
        }
        Err(other) => Err(other.into()),
    }
}

/// POST /c/{id}/integrations/hooks: makes a hook and shows its URL, once.
async fn create(
    State(app): State<App>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Posted(session, form): Posted<HookForm>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let made = webhooks::create(&app.chat, &session.0.user, id, &form.name).await;
    shown(&app, &session, &headers, id, made).await
}

/// POST /c/{id}/integrations/hooks/{hook}/rotate: a new URL, shown once.
async fn rotate(
    State(app): State<App>,
    Path((id, hook)): Path<(String, String)>,
    headers: HeaderMap,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    let made = webhooks::rotate(&app.chat, &session.0.user, id, id_of(&hook)?).await;
    shown(&app, &session, &headers, id, made).await
}

/// POST /c/{id}/integrations/hooks/{hook}/revoke
async fn revoke(
    State(app): State<App>,
    Path((id, hook)): Path<(String, String)>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let id = id_of(&id)?;
    webhooks::revoke(&app.chat, &session.0.user, id, id_of(&hook)?).await?;
    Ok(Redirect::to(&format!("/c/{id}/integrations")).into_response())
}
