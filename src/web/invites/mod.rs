//! Invites: the page that lists and makes them, the join page a newcomer opens, open
//! sign-up, and the JSON API. Thin: extract, call `chat::invites`, render.

mod api;
mod join;
mod pages;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::{PageError, base_url, shell};
use super::posted::{Plain, Posted};
use crate::chat::actor::Actor;
use crate::chat::conversations::{self, GENERAL};
use crate::chat::invites::{self, Expiry, Spec};
use crate::domain::chat::Kind;
use crate::domain::{Role, User};
use crate::error::{Error, Result};
use pages::{Choice, InvitesView};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/invites", get(page).post(create))
        .route("/invites/{id}/revoke", post(revoke))
        .route("/join/{token}", get(join::page).post(join::submit))
        .route("/signup", get(join::signup_page).post(join::signup))
        .layer(no_store())
}

/// Invites as JSON.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::list, api::create))
        .routes(routes!(api::revoke))
        .layer(no_store())
}

/// A link's token must not linger in caches or the history's restored pages.
fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}

/// The channels and groups `user` may invite into: every channel, and groups they are in
/// (admins: every group they can see through the list).
async fn choices(app: &App, user: &User) -> Result<Vec<Choice>> {
    let mut out: Vec<Choice> = conversations::channels(&app.chat, user)
        .await?
        .into_iter()
        // Everyone joins #general anyway.
        .filter(|(c, _, _)| !c.archived && c.name != GENERAL)
        .map(|(c, _, _)| Choice {
            id: c.id,
            label: format!("#{}", c.name),
        })
        .collect();
    for s in conversations::list(&app.chat, user).await? {
        let c = s.conversation;
        if c.kind == Kind::Group && !c.archived {
            out.push(Choice {
                id: c.id,
                label: format!("{} (group)", c.name),
            });
        }
    }
    Ok(out)
}

async fn render(
    app: &App,
    session: &PageSession,
    created: Option<String>,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let list = invites::list(&app.chat, Actor::User(user)).await?;
    let choices = choices(app, user).await?;
    let view = InvitesView {
        invites: &list,
        choices: &choices,
        admin: user.is_admin(),
        csrf: &session.0.csrf_token,
        created: created.as_deref(),
        error,
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, pages::invites(shell(app, Some(session)), &view)).into_response())
}

/// GET /invites (those who may invite; others 404)
async fn page(State(app): State<App>, session: PageSession) -> Result<Response, PageError> {
    render(&app, &session, None, None).await
}

/// Reads the create form: `uses` (`1`… or `unlimited`), `expires`, `role`, `conversations`.
fn spec(form: &[(String, String)]) -> Result<Spec> {
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let max_uses = match field("uses").trim() {
        "unlimited" => None,
        "" => Some(1),
        n => Some(
            n.parse()
                .map_err(|_| Error::invalid(format!("uses {n:?} is not a number")))?,
        ),
    };
    let role = match field("role") {
        "" => Role::Member,
        r => Role::parse(r)?,
    };
    let conversations = form
        .iter()
        .filter(|(k, _)| k == "conversations")
        .map(|(_, v)| {
            v.parse()
                .map_err(|_| Error::invalid(format!("conversation {v:?} is not an id")))
        })
        .collect::<Result<_>>()?;
    Ok(Spec {
        max_uses,
        expires: Expiry::parse(field("expires"))?,
        role,
        conversations,
    })
}

/// POST /invites: makes an invite and shows its link, once.
async fn create(
    State(app): State<App>,
    headers: HeaderMap,
    Posted(session, form): Posted<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = &session.0.user;
    let made = match spec(&form) {
        Ok(spec) => invites::create(&app.chat, Actor::User(user), spec).await,
        Err(err) => Err(err),
    };
    match made {
        Ok(made) => {
            let link = invites::link(&base_url(&app.config, &headers), &made.token);
            render(&app, &session, Some(link), None).await
        }
        Err(err @ (Error::Invalid(_) | Error::Forbidden(_))) => {
            let message = err.to_string();
            let mut res = render(&app, &session, None, Some(&message)).await?;
            *res.status_mut() = err.status();
            Ok(res)
        }
        Err(other) => Err(other.into()),
    }
}

/// POST /invites/{id}/revoke
async fn revoke(
    State(app): State<App>,
    Path(id): Path<String>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let id: i64 = id.parse().map_err(|_| Error::NotFound)?;
    invites::revoke(&app.chat, Actor::User(&session.0.user), id).await?;
    Ok(Redirect::to("/invites").into_response())
}
