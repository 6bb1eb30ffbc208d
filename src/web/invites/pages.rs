//! Views of invites: the list and create form, the join form, and dead links.

use maud::{Markup, html};

use crate::domain::User;
use crate::domain::now_ms;
use crate::store::invites::{Invite, State};
use crate::web::pages::{Shell, csrf_field, layout, stamp};

/// A conversation an invite may join a newcomer to.
pub struct Choice {
    pub id: i64,
    pub label: String,
}

pub struct InvitesView<'a> {
    pub invites: &'a [Invite],
    pub choices: &'a [Choice],
    /// Admins may make admin invites.
    pub admin: bool,
    pub csrf: &'a str,
    /// The link of the invite just made: shown this once.
    pub created: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn invites(shell: Shell, view: &InvitesView) -> Markup {
    layout(
        shell,
        "Invites",
        html! {
            section.page-section aria-labelledby="invites-title" {
                header.page-head {
                    p { a href="/" { "← Back to Hearth" } }
                    h1 #invites-title { "Invites" }
                    p.lead { "An invite link lets someone make their own account." }
                }
                @if let Some(link) = view.created { (created(link)) }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                (create_form(view))
                (list(view))
            }
        },
    )
}

fn created(link: &str) -> Markup {
    html! {
        section.card.wide.created aria-labelledby="created-title" {
            h2 #created-title { "Invite link made" }
            p.hint { "Copy it now: it is shown only once." }
            label for="invite-link" { "Invite link" }
            div.copy-row {
                input #invite-link type="text" readonly value=(link) data-copy-source;
                button.small.quiet type="button" data-copy="invite-link" hidden { "Copy" }
            }
            p.hint.copied role="status" data-copied-for="invite-link" {}
        }
    }
}

fn create_form(view: &InvitesView) -> Markup {
    html! {
        section.card.wide aria-labelledby="create-title" {
            h2 #create-title { "New invite" }
            form method="post" action="/invites" {
                (csrf_field(view.csrf))
                div.form-row {
                    div {
                        label for="uses" { "Uses" }
                        select #uses name="uses" {
                            option value="1" selected { "Once" }
                            option value="5" { "5 people" }
                            option value="25" { "25 people" }
                            option value="100" { "100 people" }
                            option value="unlimited" { "Any number" }
                        }
                    }
                    div {
                        label for="expires" { "Expires after" }
                        select #expires name="expires" {
                            option value="1d" { "1 day" }
                            option value="7d" selected { "7 days" }
                            option value="30d" { "30 days" }
                            option value="never" { "Never" }
                        }
                    }
                    @if view.admin {
                        div {
                            label for="role" { "Role" }
                            select #role name="role" {
                                option value="member" selected { "Member" }
                                option value="admin" { "Admin" }
                            }
                        }
                    }
                }
                @if !view.choices.is_empty() {
                    fieldset.choices {
                        legend { "Also join " span.optional { "(besides #general)" } }
                        @for c in view.choices {
                            label.check {
                                input type="checkbox" name="conversations" value=(c.id);
                                (c.label)
                            }
                        }
                    }
                }
                button type="submit" { "Make invite link" }
            }
        }
    }
}

fn uses(invite: &Invite) -> String {
    match invite.max_uses {
        Some(max) => format!("{} of {max}", invite.uses),
        None => format!("{} (no limit)", invite.uses),
    }
}

fn list(view: &InvitesView) -> Markup {
    let now = now_ms();
    html! {
        section.card.wide aria-labelledby="list-title" {
            h2 #list-title { "Invites made" }
            @if view.invites.is_empty() {
                p.hint { "No invites yet." }
            } @else {
                div.table-scroll {
                    table.invites {
                        thead { tr {
                            th scope="col" { "Made" } th scope="col" { "By" }
                            th scope="col" { "Uses" } th scope="col" { "Expires" }
                            th scope="col" { "Role" } th scope="col" { "State" }
                            th scope="col" { span.visually-hidden { "Actions" } }
                        } }
                        tbody {
                            @for i in view.invites {
                                @let state = i.state(now);
                                tr data-invite=(i.id) {
                                    td { (stamp(i.created_at)) }
                                    td { (i.creator.as_deref().unwrap_or("command line")) }
                                    td { (uses(i)) }
                                    td { @match i.expires_at { Some(at) => (stamp(at)), None => "never" } }
                                    td { (i.role.as_str()) }
                                    td { span.tag.state { (state.as_str()) } }
                                    td {
                                        @if state != State::Revoked {
                                            form.inline method="post" action={ "/invites/" (i.id) "/revoke" } {
                                                (csrf_field(view.csrf))
                                                button.small.danger type="submit"
                                                    aria-label={ "Revoke invite " (i.id) } { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the join (or sign-up) form shows, again after a refused attempt.
pub struct JoinView<'a> {
    pub action: String,
    pub title: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub error: Option<&'a str>,
}

impl JoinView<'_> {
    pub fn invite(token: &str) -> JoinView<'static> {
        JoinView {
            action: format!("/join/{token}"),
            title: "You are invited to Hearth",
            username: "",
            display_name: "",
            error: None,
        }
    }

    pub fn signup() -> JoinView<'static> {
        JoinView {
            action: "/signup".into(),
            title: "Create your account",
            username: "",
            display_name: "",
            error: None,
        }
    }
}

pub fn join(shell: Shell, view: &JoinView) -> Markup {
    layout(
        shell,
        "Join",
        html! {
            section.card {
                h1 { (view.title) }
                p.lead { "Choose how you sign in and how others see you." }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                form method="post" action=(view.action) {
                    label for="username" { "Username" }
                    input #username type="text" name="username" value=(view.username)
                        autocomplete="username" autocapitalize="none" spellcheck="false"
                        maxlength="32" required data-autofocus aria-describedby="username-hint";
                    p.hint #username-hint { "1–32 letters, digits, “_”, “.” or “-”." }
                    label for="display_name" { "Display name " span.optional { "(optional)" } }
                    input #display_name type="text" name="display_name" value=(view.display_name)
                        maxlength="64" autocomplete="name";
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="new-password"
                        minlength="8" required aria-describedby="password-hint";
                    p.hint #password-hint { "At least 8 characters." }
                    label for="confirm" { "Password again" }
                    input #confirm type="password" name="confirm" autocomplete="new-password"
                        minlength="8" required;
                    button type="submit" { "Create account and sign in" }
                }
            }
        },
    )
}

/// An invite link that cannot be used, saying why.
pub fn dead_link(shell: Shell, message: &str) -> Markup {
    layout(
        shell,
        "Invite",
        html! {
            section.card role="alert" {
                h1 { (message) }
                p { "Ask the person who sent it for a new one. "
                    "If you already have an account, " a href="/login" { "sign in" } "." }
            }
        },
    )
}

/// A signed-in visitor opened a join or sign-up page.
pub fn already_signed_in(shell: Shell, user: &User) -> Markup {
    layout(
        shell,
        "Join",
        html! {
            section.card {
                h1 { "You are already signed in" }
                p { "You are signed in as " strong { "@" (user.username) } ". "
                    "To make another account with this link, sign out first and open it again." }
                p { a href="/" { "Go to Hearth" } }
            }
        },
    )
}
