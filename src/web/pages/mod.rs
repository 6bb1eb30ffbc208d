//! Views: pure functions from values to `Markup`, all composed by one `layout`.

pub mod auth;
pub mod channels;
pub mod chat;
pub mod message;
pub mod people;
pub mod preview;
pub mod settings;
pub mod sidebar;
pub mod timeline;

use maud::{DOCTYPE, Markup, html};

use std::sync::Arc;

use crate::chat::instance::{Kept, Settings};
use crate::domain::chat::ConversationId;
use crate::domain::{User, pictures};
use crate::web::Assets;

pub use sidebar::Nav;

/// What search engines and link previews say about any page of Hearth.
pub const DESCRIPTION: &str = "Hearth is a small, self-hosted chat: channels, private groups \
                               and direct conversations for one community.";

/// What the frame around every page needs to know.
#[derive(Clone, Copy)]
pub struct Shell<'a> {
    /// Asset URLs are cache-busted when known; error pages fall back to plain URLs.
    pub assets: Option<&'a Assets>,
    /// The signed-in user and their CSRF token, for the top bar.
    pub user: Option<(&'a User, &'a str)>,
    /// The community's name and accent colour; error pages go without.
    pub instance: Option<&'a Kept>,
}

impl Shell<'_> {
    fn asset(&self, name: &str) -> String {
        self.assets
            .map_or_else(|| format!("/assets/{name}"), |a| a.url(name))
    }

    /// The instance settings as they are now (the defaults for error pages).
    pub fn settings(&self) -> Arc<Settings> {
        self.instance.map(Kept::get).unwrap_or_default()
    }
}

/// The page frame: head, top bar, and the page's own content in `main`.
pub fn layout(shell: Shell, title: &str, content: Markup) -> Markup {
    document(shell, title, None, None, content)
}

/// The signed-in frame: the conversation list beside the page's content.
/// `conversation` is the one on screen, for the page script.
pub fn app_layout(
    shell: Shell,
    title: &str,
    nav: &Nav,
    conversation: Option<ConversationId>,
    content: Markup,
) -> Markup {
    document(shell, title, Some(nav), conversation, content)
}

/// The dialog in which the page script shows an image large, with its neighbours a key away.
fn lightbox() -> Markup {
    html! {
        dialog #lightbox.lightbox aria-label="Image" {
            div.lightbox-bar {
                span.lightbox-name {}
                span.lightbox-count {}
                a.lightbox-download.button.small.quiet href="#" download { "Download" }
                button.icon type="button" data-action="close" aria-label="Close (Esc)" title="Close (Esc)" { "×" }
            }
            div.lightbox-stage {
                button.icon.lightbox-prev type="button" data-action="prev" aria-label="Previous image (←)" title="Previous (←)" { "‹" }
                // The page script puts the image here when it opens.
                figure.lightbox-figure {}
                button.icon.lightbox-next type="button" data-action="next" aria-label="Next image (→)" title="Next (→)" { "›" }
            }
        }
    }
}

fn document(
    shell: Shell,
    title: &str,
    nav: Option<&Nav>,
    conversation: Option<ConversationId>,
    content: Markup,
) -> Markup {
    let me = shell.user.map(|(u, _)| u.id);
    let csrf = shell.user.map(|(_, c)| c);
    let admin = shell.user.is_some_and(|(u, _)| u.is_admin());
    let settings = shell.settings();
    let custom_accent = settings.accent != Settings::default().accent;
    let may_invite = shell.user.is_some_and(|(u, _)| settings.may_invite(u));
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                meta name="description" content=(DESCRIPTION);
                title { (title) " · " (settings.community_name) }
                @if let Some(logo) = &settings.logo {
                    link rel="icon" href=(pictures::logo_url(logo));
                } @else {
                    link rel="icon" href=(shell.asset("favicon.svg")) type="image/svg+xml";
                }
                link rel="manifest" href="/manifest.webmanifest";
                meta name="theme-color" content=(settings.accent);
                link rel="apple-touch-icon" href=(shell.asset("icon-192.png"));
                link rel="stylesheet" href=(shell.asset("hearth.css"));
                @if custom_accent {
                    link rel="stylesheet" href={ "/theme.css?v=" (settings.accent.trim_start_matches('#')) };
                }
                script type="module" src=(shell.asset("app.js")) {}
            }
            body.app-page[nav.is_some()] data-me=[me] data-csrf=[csrf] data-admin[admin]
                data-conversation=[conversation] {
                a.skip href="#main" { "Skip to content" }
                header.topbar {
                    @if nav.is_some() {
                        // Named by its content, so the name holds the visible count too.
                        a.menu-toggle href="#sidebar" role="button" aria-controls="sidebar"
                            aria-expanded="false" {
                            span aria-hidden="true" { "☰" }
                            span.visually-hidden { "Conversations" }
                            span.badge.total-badge hidden {
                                span.n {} span.visually-hidden { " unread" }
                            }
                        }
                    }
                    a.brand.with-logo[settings.logo.is_some()] href="/" {
                        @if let Some(logo) = &settings.logo {
                            img.brand-logo src=(pictures::logo_url(logo)) alt="" width="28" height="28";
                        }
                        (settings.community_name)
                    }
                    @if nav.is_some() {
                        form.top-search method="get" action="/search" role="search" aria-label="Search messages" {
                            label.visually-hidden for="top-search" { "Search messages" }
                            input #top-search type="search" name="q" placeholder="Search  /"
                                autocomplete="off" maxlength="500" aria-keyshortcuts="/";
                        }
                        a.search-link href="/search" aria-label="Search messages" title="Search messages" { "🔍" }
                    }
                    @if let Some((user, csrf)) = shell.user {
                        div.who {
                            a.me href="/account" title="Your account" {
                                span.presence data-user-id=(user.id) data-status="online" {}
                                span.me-name { "Signed in as " strong { (user.display_name) } }
                            }
                            a.account-link href="/account" { "Account" }
                            @if admin {
                                a.admin-link href="/admin" { "Admin" }
                            }
                            (logout_form(csrf))
                        }
                    }
                }
                @if let Some(nav) = nav {
                    div.app {
                        (sidebar::sidebar(nav, admin, may_invite))
                        main #main.pane tabindex="-1" { (content) }
                    }
                    div #banner.banner hidden {
                        span role="status" { "Connection lost. Reconnecting…" }
                        button.small.quiet type="button" data-action="reconnect" { "Reconnect now" }
                    }
                    // Shown by the page script on a copy of this page kept for offline use.
                    div #offline-banner.banner.offline-banner hidden {
                        span role="status" { "You are offline — showing what this device last saw" }
                    }
                    (lightbox())
                } @else {
                    main #main { (content) }
                }
            }
        }
    }
}

fn logout_form(csrf: &str) -> Markup {
    html! {
        form.logout method="post" action="/logout" {
            input type="hidden" name="csrf" value=(csrf);
            button.quiet type="submit" { "Sign out" }
        }
    }
}

/// A moment as a date and time in UTC, in a `time` element.
pub fn stamp(ms: i64) -> Markup {
    let iso = crate::fragments::iso(ms);
    html! { time datetime=(iso) { (stamp_text(ms)) } }
}

/// `2026-11-20 09:30 UTC`.
pub fn stamp_text(ms: i64) -> String {
    let iso = crate::fragments::iso(ms);
    format!("{} UTC", iso.get(..16).unwrap_or(&iso).replace('T', " "))
}

/// The hidden CSRF field every signed-in form carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
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

/// The plain signed-in landing page (kept for `html::home`; `/` now goes to `welcome`).
pub fn home(shell: Shell, user: &User) -> Markup {
    layout(shell, "Home", welcome_text(user))
}

/// The signed-in landing page when there is no conversation to open yet.
pub fn welcome(shell: Shell, nav: &Nav, user: &User) -> Markup {
    app_layout(shell, "Home", nav, None, welcome_text(user))
}

fn welcome_text(user: &User) -> Markup {
    html! {
        section.welcome {
            h1 { "Welcome, " (user.display_name) }
            p { "You are signed in as " strong { "@" (user.username) } "." }
            p { "You are not in any conversation yet. Find a channel to join, or start a conversation with someone." }
            p.actions {
                a.button href="/channels" { "Browse channels" }
                " "
                a.button.quiet href="/people" { "People" }
            }
        }
    }
}
