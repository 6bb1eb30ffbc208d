//! Views: pure functions from values to `Markup`, all composed by one `layout`.

pub mod auth;

use maud::{DOCTYPE, Markup, html};

use crate::domain::User;
use crate::web::Assets;

/// What the frame around every page needs to know.
#[derive(Clone, Copy)]
pub struct Shell<'a> {
    /// Asset URLs are cache-busted when known; error pages fall back to plain URLs.
    pub assets: Option<&'a Assets>,
    /// The signed-in user and their CSRF token, for the top bar.
    pub user: Option<(&'a User, &'a str)>,
}

impl Shell<'_> {
    fn asset(&self, name: &str) -> String {
        self.assets
            .map_or_else(|| format!("/assets/{name}"), |a| a.url(name))
    }
}

/// The page frame: head, top bar, and the page's own content in `main`.
pub fn layout(shell: Shell, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) " · Hearth" }
                link rel="icon" href=(shell.asset("favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(shell.asset("hearth.css"));
                script type="module" src=(shell.asset("app.js")) {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    a.brand href="/" { "Hearth" }
                    @if let Some((user, csrf)) = shell.user {
                        div.who {
                            span { "Signed in as " strong { (user.display_name) } }
                            (logout_form(csrf))
                        }
                    }
                }
                main #main { (content) }
            }
        }
    }
}

fn logout_form(csrf: &str) -> Markup {
    html! {
        form method="post" action="/logout" {
            input type="hidden" name="csrf" value=(csrf);
            button.quiet type="submit" { "Sign out" }
        }
    }
}

/// A page that says what went wrong, in words a person can act on.
pub fn error_page(shell: Shell, status: u16, message: &str) -> Markup {
    layout(
        shell,
        "Error",
        html! {
            section.card role="alert" {
                h1 { "Something is not right" }
                p { (message) }
                p.hint { "Error " (status) ". " a href="/" { "Back to Hearth" } }
            }
        },
    )
}

/// The signed-in landing page.
pub fn home(shell: Shell, user: &User) -> Markup {
    layout(
        shell,
        "Home",
        html! {
            section.welcome {
                h1 { "Welcome, " (user.display_name) }
                p { "You are signed in as " strong { "@" (user.username) } "." }
            }
        },
    )
}
