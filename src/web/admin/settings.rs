//! The console's instance settings: the community's name, the welcome text on the sign-in
//! page, the accent colour, who may create channels and who may invite, the admin team's name;
//! and the logo's card, whose forms `logo` answers.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{AdminPage, Section, console, refused, shell};
use crate::chat::instance::{self, Change, Settings, Who};
use crate::web::App;
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::pages::csrf_field;
use crate::web::posted::{Posted, csrf_field as csrf_form};

/// GET /admin/settings
pub async fn page(State(app): State<App>, AdminPage(session): AdminPage) -> Markup {
    render(&app, &session, None)
}

/// The settings page as they are now, with what was refused when something was.
pub(super) fn render(app: &App, session: &PageSession, error: Option<&str>) -> Markup {
    let current = app.chat.instance();
    let csrf = &session.0.csrf_token;
    let content = html! {
        (view(&current, csrf, error))
        (super::logo::card(&current, csrf, app.config.max_upload_mb))
    };
    console(
        shell(app, session),
        Section::Settings,
        "Settings",
        None,
        content,
    )
}

fn view(s: &Settings, csrf: &str, error: Option<&str>) -> Markup {
    let who = |name: &str, label: &str, current: Who| {
        html! {
            fieldset {
                legend { (label) }
                label.check { input type="radio" name=(name) value="admins" checked[current == Who::Admins]; "Admins only" }
                label.check { input type="radio" name=(name) value="members" checked[current == Who::Members]; "Every member" }
            }
        }
    };
    html! {
        section aria-labelledby="settings-title" {
            h1 #settings-title { "Settings" }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form.settings method="post" action="/admin/settings" {
                (csrf_field(csrf))
                label for="community_name" { "Community name" }
                input #community_name type="text" name="community_name" value=(s.community_name)
                    maxlength=(instance::NAME_MAX) required;
                p.hint { "Shown in the top bar and in every page's title." }
                label for="welcome_text" { "Welcome text " span.optional { "(on the sign-in page)" } }
                textarea #welcome_text name="welcome_text" rows="4" maxlength=(instance::WELCOME_MAX) { (s.welcome_text) }
                label for="accent" { "Accent colour" }
                input #accent type="color" name="accent" value=(s.accent);
                p.hint { "Adjusted where needed so that text stays readable in light and dark themes." }
                (who("channel_creators", "Who may create channels", s.channel_creators))
                (who("inviters", "Who may invite people", s.inviters))
                label for="support_name" { "The admin team's name" }
                input #support_name type="text" name="support_name" value=(s.support_name)
                    maxlength=(instance::NAME_MAX) required;
                p.hint { "Members see “Contact the " (s.support_name) "” in their sidebar." }
                button type="submit" { "Save settings" }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct SettingsForm {
    csrf: String,
    community_name: Option<String>,
    welcome_text: Option<String>,
    accent: Option<String>,
    channel_creators: Option<String>,
    inviters: Option<String>,
    support_name: Option<String>,
}

csrf_form!(SettingsForm);

/// POST /admin/settings
pub async fn save(
    State(app): State<App>,
    Posted(session, form): Posted<SettingsForm>,
) -> Result<Response, PageError> {
    let change = Change {
        community_name: form.community_name,
        welcome_text: form.welcome_text,
        accent: form.accent,
        channel_creators: form.channel_creators,
        inviters: form.inviters,
        support_name: form.support_name,
    };
    match instance::change(&app.chat, &session.0.user, change).await {
        Ok(_) => Ok(Redirect::to("/admin/settings").into_response()),
        Err(err) => {
            let page = render(&app, &session, Some(&err.to_string()));
            Ok(refused(err, page))
        }
    }
}
