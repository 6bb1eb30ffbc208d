//! The admin console (`/admin`): people, conversations, the audit log, the instance settings and
//! the server's status, as pages and as JSON under `/api/v1/admin`. Everyone but an active
//! admin gets 404 from every part of it.

mod api;
mod audit;
mod bots;
mod conversations;
mod logo;
mod people;
mod schema;
mod settings;
mod status;
pub mod theme;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use super::auth::PageSession;
use super::html::PageError;
use super::pages::{self, Shell};
use crate::error::Error;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin", get(status::page))
        .route("/admin/people", get(people::page).post(people::add))
        .route(
            "/admin/people/{username}/reset-link",
            post(people::reset_link),
        )
        .route("/admin/people/{username}/role", post(people::role))
        .route(
            "/admin/people/{username}/deactivate",
            post(people::deactivate),
        )
        .route(
            "/admin/people/{username}/reactivate",
            post(people::reactivate),
        )
        .route(
            "/admin/people/{username}/sessions",
            post(people::end_sessions),
        )
        .route("/admin/conversations", get(conversations::page))
        .route(
            "/admin/conversations/{id}/archive",
            post(conversations::archive),
        )
        .route(
            "/admin/conversations/{id}/delete",
            post(conversations::delete),
        )
        .route("/admin/conversations/{id}/join", post(conversations::join))
        .route("/admin/audit", get(audit::page))
        .route("/admin/bots", get(bots::page).post(bots::create))
        .route("/admin/bots/{username}", get(bots::show))
        .route("/admin/bots/{username}/tokens", post(bots::create_token))
        .route(
            "/admin/bots/{username}/tokens/{id}/revoke",
            post(bots::revoke_token),
        )
        .route("/admin/settings", get(settings::page).post(settings::save))
        .route(
            "/admin/settings/logo",
            // The picture's size is checked as it streams in, against the upload limit.
            post(logo::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/admin/settings/logo/remove", post(logo::remove))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .route("/theme.css", get(theme::serve))
}

/// The console as JSON, under `/api/v1/admin`.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new()
        .routes(routes!(api::show_status))
        .routes(routes!(api::list_people, api::add_person))
        .routes(routes!(api::reset_link))
        .routes(routes!(api::change_person))
        .routes(routes!(api::end_sessions))
        .routes(routes!(api::list_conversations))
        .routes(routes!(api::change_conversation, api::delete_conversation))
        .routes(routes!(api::join))
        .routes(routes!(api::audit_log))
        .routes(routes!(api::settings, api::change_settings))
        .routes(routes!(bots::api_list, bots::api_create))
        .routes(routes!(bots::api_tokens, bots::api_create_token))
        .routes(routes!(bots::api_revoke_token))
}

/// A page request by an active admin; anyone else gets the 404 page (or the sign-in page).
pub struct AdminPage(pub PageSession);

impl<S: Send + Sync> FromRequestParts<S> for AdminPage
where
    App: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let session = PageSession::from_request_parts(parts, state).await?;
        if !session.0.user.is_admin() {
            return Err(PageError(Error::NotFound).into_response());
        }
        Ok(AdminPage(session))
    }
}

/// The parts of the console, for its tabs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Status,
    People,
    Conversations,
    Audit,
    Bots,
    Settings,
}

const SECTIONS: [(Section, &str, &str); 6] = [
    (Section::Status, "/admin", "Status"),
    (Section::People, "/admin/people", "People"),
    (
        Section::Conversations,
        "/admin/conversations",
        "Conversations",
    ),
    (Section::Audit, "/admin/audit", "Audit log"),
    (Section::Bots, "/admin/bots", "Bots"),
    (Section::Settings, "/admin/settings", "Settings"),
];

fn shell<'a>(app: &'a App, session: &'a PageSession) -> Shell<'a> {
    Shell {
        assets: Some(&app.assets),
        user: Some((&session.0.user, session.0.csrf_token.as_str())),
        instance: Some(&app.chat.instance),
    }
}

/// A console page: its tabs (with the inbox and invites, which live elsewhere), a notice of
/// what the last action did, and the section's content.
fn console(
    shell: Shell,
    section: Section,
    title: &str,
    notice: Option<&str>,
    content: Markup,
) -> Markup {
    pages::layout(
        shell,
        title,
        html! {
            div.admin {
                nav.admin-tabs aria-label="Admin console" {
                    @for (s, href, label) in SECTIONS {
                        a href=(href) aria-current=[(s == section).then_some("page")] { (label) }
                    }
                    a href="/inbox" { "Inbox" }
                    a href="/invites" { "Invites" }
                }
                @if let Some(notice) = notice {
                    p.notice role="status" { (notice) }
                }
                (content)
            }
        },
    )
}

/// A refused console action shown on its page: its status, the page, and why.
fn refused(err: Error, page: Markup) -> Response {
    match err {
        Error::Invalid(_)
        | Error::Conflict(_)
        | Error::Forbidden(_)
        | Error::NoSuchUser(_)
        | Error::TooLarge(_) => (err.status(), page).into_response(),
        other => PageError(other).into_response(),
    }
}
