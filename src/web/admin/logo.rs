//! The community's logo in the console: its card on the settings page, uploaded through a
//! file form or taken away (audited as a setting).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use std::sync::Arc;

use super::{refused, settings};
use crate::chat::instance::Settings;
use crate::chat::pictures;
use crate::domain::pictures::logo_url;
use crate::error::Result;
use crate::web::App;
use crate::web::auth::PageSession;
use crate::web::html::PageError;
use crate::web::pages::csrf_field;
use crate::web::posted::{Plain, Posted, PostedFile};

/// Works without script: a file form, and a second form to take the logo away.
pub fn card(s: &Settings, csrf: &str, max_upload_mb: u64) -> Markup {
    html! {
        section.card.wide aria-labelledby="logo-title" {
            h2 #logo-title { "Logo" }
            div.picture-now {
                @if let Some(sha256) = &s.logo {
                    img.logo src=(logo_url(sha256)) alt="" width="48" height="48";
                }
                p.hint { (if s.logo.is_some() {
                    "Shown on the sign-in page and beside the community's name, and as the icon of its tabs."
                } else {
                    "Without a logo, the community's name stands alone and tabs show Hearth's icon."
                }) }
            }
            form method="post" action="/admin/settings/logo" enctype="multipart/form-data" {
                (csrf_field(csrf))
                label for="logo" { "A new logo" }
                input #logo type="file" name="logo" required aria-describedby="logo-hint"
                    accept="image/jpeg,image/png,image/gif,image/webp";
                p.hint #logo-hint {
                    "JPEG, PNG, GIF or WebP, up to " (max_upload_mb) " MB. Its middle square is kept."
                }
                button type="submit" { "Upload logo" }
            }
            @if s.logo.is_some() {
                form method="post" action="/admin/settings/logo/remove" {
                    (csrf_field(csrf))
                    button.quiet type="submit" { "Remove logo" }
                }
            }
        }
    }
}

/// POST /admin/settings/logo (`multipart/form-data`: `csrf`, then the file as `logo`)
pub async fn upload(
    State(app): State<App>,
    PostedFile(session, mut form): PostedFile,
) -> Result<Response, PageError> {
    let changed = match form.upload("logo").await {
        Ok(upload) => pictures::set_logo(&app.chat, &session.0.user, upload).await,
        Err(err) => Err(err),
    };
    Ok(settle(&app, &session, changed))
}

/// POST /admin/settings/logo/remove
pub async fn remove(
    State(app): State<App>,
    Posted(session, Plain { .. }): Posted<Plain>,
) -> Result<Response, PageError> {
    let changed = pictures::remove_logo(&app.chat, &session.0.user).await;
    Ok(settle(&app, &session, changed))
}

fn settle(app: &App, session: &PageSession, changed: Result<Arc<Settings>>) -> Response {
    match changed {
        Ok(_) => Redirect::to("/admin/settings").into_response(),
        Err(err) => {
            let page = settings::render(app, session, Some(&err.to_string()));
            refused(err, page)
        }
    }
}
