//! The console's audit log: who did what to whom and when, filtered by person and action,
//! newest first, a page at a time.

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::{AdminPage, Section, console, shell};
use crate::chat::admin;
use crate::fragments::{clock, day, iso};
use crate::store::audit::{Entry, Filter};
use crate::web::App;
use crate::web::html::PageError;

/// `?person=&action=&before=`
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Search {
    /// Rows whose actor or target is this name (the first 64 characters count).
    #[serde(default)]
    pub person: String,
    /// An action (`user.role.admin`) or its family (`user`); the first 64 characters count.
    #[serde(default)]
    pub action: String,
    /// Rows older than this row id: the next page.
    pub before: Option<i64>,
}

impl Search {
    pub fn filter(&self) -> Filter {
        Filter {
            person: self.person.chars().take(64).collect(),
            action: self.action.chars().take(64).collect(),
            before: self.before,
        }
    }
}

/// The families of actions offered in the filter.
const ACTIONS: [(&str, &str); 8] = [
    ("", "Any action"),
    ("session", "Sign-ins"),
    ("user", "People"),
    ("invite", "Invites"),
    ("conversation", "Conversations"),
    ("setting", "Settings"),
    ("message", "Messages"),
    ("support", "Support"),
];

/// GET /admin/audit
pub async fn page(
    State(app): State<App>,
    AdminPage(session): AdminPage,
    Query(search): Query<Search>,
) -> Result<Markup, PageError> {
    let (rows, more) = admin::audit_log(&app.chat, &session.0.user, search.filter()).await?;
    Ok(console(
        shell(&app, &session),
        Section::Audit,
        "Audit log",
        None,
        view(&rows, more, &search),
    ))
}

fn view(rows: &[Entry], more: bool, search: &Search) -> Markup {
    let older = rows.last().filter(|_| more).map(|last| {
        let query = serde_urlencoded::to_string([
            ("person", search.person.as_str()),
            ("action", search.action.as_str()),
            ("before", &last.id.to_string()),
        ])
        .unwrap_or_default();
        format!("/admin/audit?{query}")
    });
    html! {
        section aria-labelledby="audit-title" {
            h1 #audit-title { "Audit log" }
            form.filters method="get" action="/admin/audit" role="search" {
                label for="person" { "Person" }
                input #person type="text" name="person" value=(search.person) autocomplete="off";
                label for="action" { "Action" }
                select #action name="action" {
                    @for (value, label) in ACTIONS {
                        option value=(value) selected[value == search.action] { (label) }
                    }
                }
                button.quiet type="submit" { "Filter" }
            }
            @if rows.is_empty() {
                p { "Nothing recorded matches." }
            } @else {
                div.table-wrap tabindex="0" role="region" aria-label="Audit entries" {
                    table.audit {
                        thead { tr { th scope="col" { "When" } th scope="col" { "Who" } th scope="col" { "Did" } th scope="col" { "To" } th scope="col" { "Details" } } }
                        tbody {
                            @for r in rows {
                                tr {
                                    td { time datetime=(iso(r.at)) { (day(r.at)) " " (clock(r.at)) } }
                                    td { (r.actor) }
                                    td { code { (r.action) } }
                                    td { (r.target) }
                                    td.detail { (r.detail) }
                                }
                            }
                        }
                    }
                }
            }
            @if let Some(href) = older {
                p { a.button.quiet href=(href) { "Older entries" } }
            }
        }
    }
}
