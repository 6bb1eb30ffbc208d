//! API tokens on the web: a person's own tokens (the settings page and its JSON API), shared
//! with the admin pages that make a bot's. Thin: extract, call `chat::tokens`, render.

pub mod api;
pub mod pages;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::{PageError, shell};
use super::posted::{Plain, Posted};
use crate::chat::actor::Actor;
use crate::chat::tokens::{self, Spec};
use crate::domain::User;
use crate::domain::tokens::{Lifetime, Scope};
use crate::error::{Error, Result};
use pages::TokensView;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/account/tokens", get(page).post(create))
        .route("/account/tokens/{id}/revoke", post(revoke))
        .layer(no_store())
}

/// One's own tokens as JSON.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::revoke))
        .layer(no_store())
}

/// A new token's value must not linger in caches or restored pages.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// The scopes `owner` may be given, narrowest first.
pub fn scopes_for(owner: &User) -> Vec<Scope> {
    let widest = Scope::widest_for(owner.role);
    [Scope::Read, Scope::Write, Scope::Admin]
        .into_iter()
        .filter(|s| *s <= widest)
        .collect()
}

/// Reads the form that makes a token: `name`, `scope`, `expires`.
pub fn spec(form: &[(String, String)]) -> Result<Spec> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    Ok(Spec {
        name: field("name").to_owned(),
        scope: Scope::parse(field("scope"))?,
        lifetime: Lifetime::parse(field("expires"))?,
    })
}

/// What a form post's failure shows: the page again with the message (400/403), or an error.
pub fn shown(err: Error) -> Result<String, PageError> {
    match err {
        Error::Invalid(_) | Error::Forbidden(_) | Error::Conflict(_) => Ok(err.to_string()),
        other => Err(other.into()),
    }
}

async fn render(
    app: &App,
    session: &PageSession,
    made: Option<(&str, &str)>,
    error: Option<(StatusCode, &str)>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let list = tokens::list(&app.chat, Actor::User(user), user.id).await?;
    let scopes = scopes_for(user);
    let view = TokensView {
        csrf: &session.0.csrf_token,
        base: "/account/tokens",
        tokens: &list,
        scopes: &scopes,
        never: user.is_admin(),
        made,
        error: error.map(|e| e.1),
    };
    let status = error.map_or(StatusCode::OK, |e| e.0);
    Ok((status, pages::page(shell(app, Some(session)), &view)).into_response())
}

/// GET /account/tokens
async fn page(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    render(&app, &session, None, None).await
}

/// POST /account/tokens: makes a token and shows it, once.
async fn create(
    State(app): State<App>,
    Posted(session, form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let made = match spec(&form) {
        Ok(spec) => tokens::create(&app.chat, Actor::User(user), user.id, spec).await,
        Err(err) => Err(err),
    };
    match made {
        Ok(made) => {
            let shown = (made.info.name.as_str(), made.token.as_str());
            render(&app, &session, Some(shown), None).await
        }
        Err(err) => {
            let status = err.status();
            let message = shown(err)?;
            render(&app, &session, None, Some((status, &message))).await
        }
    }
}

/// POST /account/tokens/{id}/revoke
async fn revoke(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    let user = &session.0.user;
    tokens::revoke(&app.chat, Actor::User(user), user.id, id).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
