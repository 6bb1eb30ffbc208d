//! Views: one's email address, the pages its links open, and the forgotten-password form.

use maud::{Markup, html};

use crate::chat::email::State;
use crate::domain::User;
use crate::web::pages::{Shell, csrf_field, layout, stamp};

/// Everything the email page shows.
pub struct EmailView<'a> {
    pub csrf: &'a str,
    /// Whether this server sends email.
    pub enabled: bool,
    pub state: &'a State,
    pub done: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn email(shell: Shell, view: &EmailView) -> Markup {
    layout(
        shell,
        "Email",
        html! {
            section.page-section aria-labelledby="email-title" {
                header.page-head {
                    p { a href="/account" { "← Your account" } }
                    h1 #email-title { "Email" }
                    p.lead { "An address for notifications while you are away, and for resetting a forgotten password." }
                }
                @if let Some(done) = view.done { p.flash role="status" { (done) } }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                @if !view.enabled {
                    section.card.wide {
                        p.hint { "This server does not send email: its operator has not set it up." }
                    }
                } @else {
                    (address(view))
                    @if view.state.verified { (notifications(view)) }
                }
            }
        },
    )
}

fn address(view: &EmailView) -> Markup {
    let state = view.state;
    html! {
        section.card.wide aria-labelledby="address-title" {
            h2 #address-title { "Your address" }
            @match (&state.address, state.verified) {
                (None, _) => p.hint { "You have not given an address." },
                (Some(a), true) => p { strong { (a) } " · " span.tag { "confirmed" } },
                (Some(a), false) => {
                    p { strong { (a) } " · " span.tag { "waiting for confirmation" } }
                    p.hint {
                        "Open the link we emailed to confirm it"
                        @if let Some(until) = state.link_expires_at { " (it works until " (stamp(until)) ")" }
                        "."
                    }
                    form.inline method="post" action="/account/email/resend" {
                        (csrf_field(view.csrf))
                        button.small.quiet type="submit" { "Send the link again" }
                    }
                }
            }
            form method="post" action="/account/email" {
                (csrf_field(view.csrf))
                label for="address" { @if state.address.is_some() { "A new address" } @else { "Address" } }
                input #address type="email" name="address" autocomplete="email" maxlength="254"
                    required aria-describedby="address-hint";
                p.hint #address-hint { "We email it a link; it is used once you open the link." }
                button type="submit" { "Save address" }
            }
            @if state.address.is_some() {
                form method="post" action="/account/email/remove" {
                    (csrf_field(view.csrf))
                    button.quiet type="submit" { "Remove address" }
                }
            }
        }
    }
}

fn notifications(view: &EmailView) -> Markup {
    let on = view.state.notify;
    html! {
        section.card.wide aria-labelledby="email-notify-title" {
            h2 #email-notify-title { "Notification emails" }
            p.hint {
                "When you have had Hearth closed for a while, what would notify you (mentions, direct messages, "
                a href="/account/notifications" { "as your settings say" } ") comes in one email."
            }
            p role="status" { "Notification emails are " strong { (if on { "on" } else { "off" }) } "." }
            form method="post" action="/account/email/notify" {
                (csrf_field(view.csrf))
                input type="hidden" name="notify" value=(if on { "off" } else { "on" });
                button type="submit" { (if on { "Turn off notification emails" } else { "Turn on notification emails" }) }
            }
        }
    }
}

/// The page a verification link opens: what it confirms, and the button that does.
pub fn confirm_address(shell: Shell, user: &User, address: &str, token: &str) -> Markup {
    layout(
        shell,
        "Confirm your address",
        html! {
            section.card {
                h1 { "Confirm your address" }
                p { "Use " strong { (address) } " for " strong { "@" (user.username) } "?" }
                form method="post" action="/email/verify" {
                    input type="hidden" name="token" value=(token);
                    button type="submit" data-autofocus { "Confirm address" }
                }
            }
        },
    )
}

pub fn address_confirmed(shell: Shell, address: &str) -> Markup {
    layout(
        shell,
        "Address confirmed",
        html! {
            section.card role="status" {
                h1 { "Address confirmed" }
                p { strong { (address) } " is confirmed. Notifications reach it while you are away; "
                    a href="/account/email" { "change that" } "." }
            }
        },
    )
}

/// A verification link that cannot be used, saying why.
pub fn dead_link(shell: Shell, message: &str) -> Markup {
    layout(
        shell,
        "Email link",
        html! {
            section.card role="alert" {
                h1 { (message) }
                p { "Ask for a new link on " a href="/account/email" { "your email page" } "." }
            }
        },
    )
}

/// The page an unsubscribe link opens: a button that stops notification emails.
pub fn confirm_unsubscribe(shell: Shell, address: &str, token: &str) -> Markup {
    layout(
        shell,
        "Stop notification emails",
        html! {
            section.card {
                h1 { "Stop notification emails?" }
                p { "No more notification emails will go to " strong { (address) } "." }
                form method="post" action={ "/email/unsubscribe?token=" (token) } {
                    input type="hidden" name="List-Unsubscribe" value="One-Click";
                    button type="submit" data-autofocus { "Stop notification emails" }
                }
            }
        },
    )
}

pub fn unsubscribed(shell: Shell, address: &str) -> Markup {
    layout(
        shell,
        "Notification emails stopped",
        html! {
            section.card role="status" {
                h1 { "Notification emails stopped" }
                p { "No more notification emails go to " strong { (address) } ". Turn them back on from "
                    a href="/account/email" { "your email page" } "." }
            }
        },
    )
}

/// What the forgotten-password form shows.
pub struct ForgotView<'a> {
    pub enabled: bool,
    pub who: &'a str,
    /// The request was taken: the same words whoever was named.
    pub sent: bool,
    pub error: Option<&'a str>,
}

/// The words every taken request gets.
pub const SENT: &str = "If an account with a confirmed email address matches, a link to choose a new password is on its way there.";

pub fn forgot(shell: Shell, view: &ForgotView) -> Markup {
    layout(
        shell,
        "Forgot your password?",
        html! {
            section.card {
                h1 { "Forgot your password?" }
                @if !view.enabled {
                    p { "This server does not send email. Ask an admin for a link to choose a new password." }
                } @else if view.sent {
                    p.flash role="status" { (SENT) }
                    p.hint { "It works once, for 24 hours. Nothing arrived? Check your spam folder, or ask an admin." }
                } @else {
                    @if let Some(error) = view.error { p.error role="alert" { (error) } }
                    p { "We email a link to choose a new password to the confirmed address of your account." }
                    form method="post" action="/password/forgot" {
                        label for="who" { "Username or email address" }
                        input #who type="text" name="who" value=(view.who) autocomplete="username"
                            autocapitalize="none" spellcheck="false" maxlength="254" required data-autofocus;
                        button type="submit" { "Email me a link" }
                    }
                }
                p { a href="/login" { "← Back to sign in" } }
            }
        },
    )
}
