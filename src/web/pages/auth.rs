//! Views for signing in and for creating the first admin.

use maud::{Markup, html};

use super::{Shell, layout};
use crate::domain::pictures;

/// What the login form shows again after a failed attempt.
#[derive(Default)]
pub struct LoginView<'a> {
    pub username: &'a str,
    pub error: Option<&'a str>,
    /// No admin exists yet: point to the setup link instead.
    pub needs_setup: bool,
    /// Where to go once signed in (a path on this site), when not the start page.
    pub next: &'a str,
    /// Why the visitor's last session ended, when someone else ended it.
    pub notice: Option<&'a str>,
    /// Open sign-up is on: link to it.
    pub signup: bool,
}

pub fn login(shell: Shell, view: LoginView) -> Markup {
    let settings = shell.settings();
    layout(
        shell,
        "Sign in",
        html! {
            section.card {
                @if let Some(logo) = &settings.logo {
                    img.login-logo src=(pictures::logo_url(logo)) alt="" width="64" height="64";
                }
                h1 { "Sign in to " (settings.community_name) }
                @for paragraph in settings.welcome_text.split("\n\n").filter(|p| !p.trim().is_empty()) {
                    p.welcome-text { (paragraph.trim()) }
                }
                @if view.needs_setup {
                    p.hint role="status" {
                        "Nobody can sign in yet. Open the setup link that "
                        code { "hearth serve" } " printed, or run "
                        code { "hearth init --admin NAME" } "."
                    }
                }
                @if let Some(notice) = view.notice {
                    p.flash role="status" { (notice) "." }
                }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                form method="post" action="/login" {
                    @if !view.next.is_empty() { input type="hidden" name="next" value=(view.next); }
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(view.username)
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        maxlength="32" required data-autofocus;
                    label for="password" { "Password" }
                    input #password type="password" name="password"
                        autocomplete="current-password" required;
                    button type="submit" { "Sign in" }
                }
                p.hint { a href="/password/forgot" { "Forgot your password?" } }
                @if view.signup {
                    p.hint { "New here? " a href="/signup" { "Create an account" } }
                }
            }
        },
    )
}

/// What the setup form shows again after a refused attempt.
#[derive(Default)]
pub struct SetupView<'a> {
    pub token: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub error: Option<&'a str>,
}

pub fn setup(shell: Shell, view: SetupView) -> Markup {
    layout(
        shell,
        "Set up",
        html! {
            section.card {
                h1 { "Welcome to Hearth" }
                p.lead { "Create the first admin account. Add everyone else afterwards with " code { "hearth user add" } "." }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                form method="post" action="/setup" {
                    input type="hidden" name="token" value=(view.token);
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(view.username)
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        maxlength="32" required data-autofocus aria-describedby="username-hint";
                    p.hint #username-hint { "1–32 letters, digits, “_”, “.” or “-”." }
                    label for="display_name" { "Display name" }
                    input #display_name type="text" name="display_name" value=(view.display_name)
                        maxlength="64" autocomplete="name";
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="new-password"
                        minlength="8" required aria-describedby="password-hint";
                    p.hint #password-hint { "At least 8 characters." }
                    label for="confirm" { "Password again" }
                    input #confirm type="password" name="confirm" autocomplete="new-password"
                        minlength="8" required;
                    button type="submit" { "Create admin and sign in" }
                }
            }
        },
    )
}

/// The setup link was wrong, used, or no longer needed.
pub fn setup_closed(shell: Shell, admin_exists: bool) -> Markup {
    layout(
        shell,
        "Set up",
        html! {
            section.card {
                h1 { "Setup link not valid" }
                @if admin_exists {
                    p { "Hearth is already set up. " a href="/login" { "Sign in" } " instead." }
                } @else {
                    p { "This setup link is wrong or out of date. Use the link that "
                        code { "hearth serve" } " printed most recently." }
                }
            }
        },
    )
}
