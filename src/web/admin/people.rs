//! The console's people: find anyone, change their role, deactivate (optionally deleting what
//! they wrote) or reactivate them, end their sessions.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{AdminPage, Section, console, refused, shell};
use crate::chat::actor::Actor;
use crate::chat::{admin, links};
use crate::domain::Role;
use crate::error::Error;
use crate::fragments::{day, iso};
use crate::store::users::{Filter, Person};
use crate::web::App;
use crate::web::html::PageError;
use crate::web::html::base_url;
use crate::web::pages::csrf_field;
use crate::web::posted::{Plain, Posted, csrf_field as csrf_form};
use axum::http::HeaderMap;

/// `?q=&role=&state=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Text found in the username or display name (the first 64 characters count).
    #[serde(default)]
    q: String,
    /// `admin` or `member`; empty or `any` for both.
    #[serde(default)]
    role: String,
    /// `active` or `deactivated`; empty or `any` for both.
    #[serde(default)]
    state: String,
}

impl Search {
    /// The store's filter; unknown choices are a clear error.
    pub fn filter(&self) -> Result<Filter, Error> {
        let role = match self.role.as_str() {
            "" | "any" => None,
            other => Some(Role::parse(other)?),
        };
        let deactivated = match self.state.as_str() {
            "" | "any" => None,
            "active" => Some(false),
            "deactivated" => Some(true),
            other => {
                return Err(Error::invalid(format!(
                    "state must be active or deactivated, not {other:?}"
                )));
            }
        };
        Ok(Filter {
            text: self.q.chars().take(64).collect(),
            role,
            deactivated,
        })
    }
}

/// GET /admin/people
pub async fn page(
    State(app): State<App>,
    AdminPage(session): AdminPage,
    Query(search): Query<Search>,
) -> Result<Response, PageError> {
    render(&app, &session, &search, None).await
}

/// A one-time link just made, shown once above the list.
struct Made {
    title: String,
    hint: &'static str,
    link: String,
}

async fn render(
    app: &App,
    session: &crate::web::auth::PageSession,
    search: &Search,
    error: Option<Error>,
) -> Result<Response, PageError> {
    render_with(app, session, search, error, None).await
}

async fn render_with(
    app: &App,
    session: &crate::web::auth::PageSession,
    search: &Search,
    error: Option<Error>,
    made: Option<Made>,
) -> Result<Response, PageError> {
    let me = &session.0.user;
    let people = admin::people(&app.chat, me, search.filter()?).await?;
    let message = error.as_ref().map(ToString::to_string);
    let page = console(
        shell(app, session),
        Section::People,
        "People",
        None,
        html! {
            @if let Some(made) = &made { (made_link(made)) }
            (view(&people, search, &session.0.csrf_token, message.as_deref()))
        },
    );
    Ok(match error {
        Some(err) => refused(err, page),
        None => page.into_response(),
    })
}

fn made_link(made: &Made) -> Markup {
    html! {
        section.card.wide.created aria-labelledby="made-title" {
            h2 #made-title { (made.title) }
            p.hint { (made.hint) " Copy it now: it is shown only once." }
            label for="made-link" { "Link" }
            div.copy-row {
                input #made-link type="text" readonly value=(made.link) data-copy-source;
                button.small.quiet type="button" data-copy="made-link" hidden { "Copy" }
            }
            p.hint.copied role="status" data-copied-for="made-link" {}
        }
    }
}

fn add_form(csrf: &str) -> Markup {
    html! {
        details.add-person {
            summary { "Add a person…" }
            form method="post" action="/admin/people" {
                (csrf_field(csrf))
                p.hint { "They get a link to choose their own password; nobody else ever knows it." }
                label for="new-username" { "Username" }
                input #new-username type="text" name="username" required maxlength="32"
                    autocapitalize="none" spellcheck="false" autocomplete="off";
                label for="new-display" { "Display name " span.optional { "(optional)" } }
                input #new-display type="text" name="display_name" maxlength="64" autocomplete="off";
                label.check { input type="checkbox" name="admin" value="on"; "Make them an admin" }
                button.small type="submit" { "Add and make a welcome link" }
            }
        }
    }
}

fn view(people: &[Person], search: &Search, csrf: &str, error: Option<&str>) -> Markup {
    let option = |value: &str, label: &str, current: &str| {
        html! { option value=(value) selected[value == current] { (label) } }
    };
    html! {
        section aria-labelledby="people-title" {
            h1 #people-title { "People" }
            p.lead { "Bring people in with an " a href="/invites" { "invite" } ", or add them here." }
            (add_form(csrf))
            form.filters method="get" action="/admin/people" role="search" {
                label for="q" { "Name" }
                input #q type="text" name="q" value=(search.q) autocomplete="off";
                label for="role" { "Role" }
                select #role name="role" {
                    (option("", "Any role", &search.role))
                    (option("admin", "Admins", &search.role))
                    (option("member", "Members", &search.role))
                }
                label for="state" { "State" }
                select #state name="state" {
                    (option("", "Any state", &search.state))
                    (option("active", "Active", &search.state))
                    (option("deactivated", "Deactivated", &search.state))
                }
                button.quiet type="submit" { "Search" }
            }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            @if people.is_empty() {
                p { "Nobody matches." }
            } @else {
                p.hint { (people.len()) " shown" @if people.len() == admin::PEOPLE_MAX { " (the first " (admin::PEOPLE_MAX) "; narrow the search)" } "." }
                ul.admin-list {
                    @for p in people { (row(p, csrf)) }
                }
            }
        }
    }
}

fn row(p: &Person, csrf: &str) -> Markup {
    let u = &p.user;
    let base = format!("/admin/people/{}", u.username);
    html! {
        li.admin-row {
            div.admin-row-head {
                a href={ "/people/" (u.username) } { strong { (u.display_name) } } " "
                span.muted { "@" (u.username) } " "
                @if u.is_admin() { span.tag { "admin" } }
                @if u.deactivated { span.tag.off { "deactivated" } }
            }
            p.hint {
                @if p.last_seen_at > 0 {
                    "Last seen " time datetime=(iso(p.last_seen_at)) { (day(p.last_seen_at)) }
                } @else { "Never seen" }
                " · " (p.sessions) @if p.sessions == 1 { " session" } @else { " sessions" }
                " · joined " (day(u.created_at))
            }
            div.actions {
                form.inline method="post" action={ (base) "/role" } {
                    (csrf_field(csrf))
                    @if u.is_admin() {
                        input type="hidden" name="role" value="member";
                        button.small.quiet type="submit" { "Make member" }
                    } @else {
                        input type="hidden" name="role" value="admin";
                        button.small.quiet type="submit" { "Make admin" }
                    }
                }
                @if u.deactivated {
                    form.inline method="post" action={ (base) "/reactivate" } {
                        (csrf_field(csrf))
                        button.small.quiet type="submit" { "Reactivate" }
                    }
                } @else {
                    form.inline method="post" action={ (base) "/sessions" } {
                        (csrf_field(csrf))
                        button.small.quiet type="submit" { "End sessions" }
                    }
                    form.inline method="post" action={ (base) "/reset-link" } {
                        (csrf_field(csrf))
                        button.small.quiet type="submit" aria-label={ "Reset password of " (u.username) } { "Reset password" }
                    }
                    details.danger-zone {
                        summary { "Deactivate…" }
                        form method="post" action={ (base) "/deactivate" } {
                            (csrf_field(csrf))
                            p.hint { "Their sessions end now and they cannot sign in until reactivated." }
                            label.check {
                                input type="checkbox" name="delete_messages" value="on";
                                "Also delete every message they wrote"
                            }
                            label for={ "confirm-" (u.id) } { "Type " strong { (u.username) } " to confirm" }
                            input id={ "confirm-" (u.id) } type="text" name="confirm" autocomplete="off" required;
                            button.small.danger type="submit" { "Deactivate " (u.username) }
                        }
                    }
                }
            }
        }
    }
}

fn back() -> Response {
    Redirect::to("/admin/people").into_response()
}

#[derive(Deserialize)]
pub struct RoleForm {
    csrf: String,
    role: String,
}

#[derive(Deserialize)]
pub struct DeactivateForm {
    csrf: String,
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    delete_messages: Option<String>,
}

#[derive(Deserialize)]
pub struct AddForm {
    csrf: String,
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    admin: Option<String>,
}

csrf_form!(RoleForm, DeactivateForm, AddForm);

/// POST /admin/people: adds a person and shows their welcome link once.
pub async fn add(
    State(app): State<App>,
    headers: HeaderMap,
    Posted(session, form): Posted<AddForm>,
) -> Result<Response, PageError> {
    let role = if form.admin.is_some() {
        Role::Admin
    } else {
        Role::Member
    };
    let display = Some(form.display_name).filter(|d| !d.trim().is_empty());
    let me = Actor::User(&session.0.user);
    match links::add_person(&app.chat, me, &form.username, display, role).await {
        Ok((user, token)) => {
            let made = Made {
                title: format!("{} was added", user.username),
                hint: "Send them this welcome link; it works once, for 7 days.",
                link: links::link(&base_url(&app.config, &headers), &token),
            };
            render_with(&app, &session, &Search::default(), None, Some(made)).await
        }
        Err(err) => render(&app, &session, &Search::default(), Some(err)).await,
    }
}

/// POST /admin/people/{username}/reset-link: ends their sessions and shows the link once.
pub async fn reset_link(
    State(app): State<App>,
    Path(username): Path<String>,
    headers: HeaderMap,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    match links::reset_link(&app.chat, Actor::User(&session.0.user), &username).await {
        Ok(token) => {
            let made = Made {
                title: format!("Reset link for {username}"),
                hint: "Their sessions have ended. Send them this link; it works once, for 24 hours.",
                link: links::link(&base_url(&app.config, &headers), &token),
            };
            render_with(&app, &session, &Search::default(), None, Some(made)).await
        }
        Err(err) => render(&app, &session, &Search::default(), Some(err)).await,
    }
}

/// What a refused action shows: the people page with the reason.
async fn or_refused(
    app: &App,
    session: &crate::web::auth::PageSession,
    done: Result<(), Error>,
) -> Result<Response, PageError> {
    match done {
        Ok(()) => Ok(back()),
        Err(err) => render(app, session, &Search::default(), Some(err)).await,
    }
}

/// POST /admin/people/{username}/role
pub async fn role(
    State(app): State<App>,
    Path(username): Path<String>,
    Posted(session, form): Posted<RoleForm>,
) -> Result<Response, PageError> {
    let done = match Role::parse(&form.role) {
        Ok(role) => admin::set_role(&app.chat, &session.0.user, &username, role)
            .await
            .map(drop),
        Err(err) => Err(err),
    };
    or_refused(&app, &session, done).await
}

/// POST /admin/people/{username}/deactivate
pub async fn deactivate(
    State(app): State<App>,
    Path(username): Path<String>,
    Posted(session, form): Posted<DeactivateForm>,
) -> Result<Response, PageError> {
    let done = if !form.confirm.trim().eq_ignore_ascii_case(&username) {
        Err(Error::invalid(format!(
            "type {username:?} to confirm the deactivation"
        )))
    } else {
        let purge = form.delete_messages.is_some();
        admin::deactivate(&app.chat, &session.0.user, &username, purge)
            .await
            .map(drop)
    };
    or_refused(&app, &session, done).await
}

/// POST /admin/people/{username}/reactivate
pub async fn reactivate(
    State(app): State<App>,
    Path(username): Path<String>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    let done = admin::reactivate(&app.chat, &session.0.user, &username)
        .await
        .map(drop);
    or_refused(&app, &session, done).await
}

/// POST /admin/people/{username}/sessions
pub async fn end_sessions(
    State(app): State<App>,
    Path(username): Path<String>,
    Posted(session, _): Posted<Plain>,
) -> Result<Response, PageError> {
    let done = admin::end_sessions(&app.chat, &session.0.user, &username)
        .await
        .map(drop);
    or_refused(&app, &session, done).await
}
