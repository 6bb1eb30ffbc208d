//! Views of one's account and of the one-time password page.

use maud::{Markup, html};

use crate::chat::account::SessionInfo;
use crate::domain::User;
use crate::fragments::avatar;
use crate::store::password_links::Purpose;
use crate::web::pages::{Shell, csrf_field, layout, stamp};

pub struct AccountView<'a> {
    pub user: &'a User,
    pub csrf: &'a str,
    pub sessions: &'a [SessionInfo],
    /// What the last action did, when it worked.
    pub done: Option<&'a str>,
    pub error: Option<&'a str>,
    /// The largest picture that may be uploaded, in MB.
    pub max_upload_mb: u64,
}

pub fn account(shell: Shell, view: &AccountView) -> Markup {
    layout(
        shell,
        "Your account",
        html! {
            section.page-section aria-labelledby="account-title" {
                header.page-head {
                    p { a href="/" { "← Back to Hearth" } }
                    h1 #account-title { "Your account" }
                    p.lead { "Signed in as " strong { "@" (view.user.username) } "." }
                    p { a href="/account/notifications" { "Notifications: what reaches you, and where →" } }
                    p { a href="/account/email" { "Email: your address, notification emails →" } }
                    p { a href="/account/tokens" { "API tokens: let scripts and programs act as you →" } }
                }
                @if let Some(done) = view.done { p.flash role="status" { (done) } }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                (picture_form(view))
                (name_form(view))
                (password_form(view))
                (sessions(view))
            }
        },
    )
}

/// Works without script: a file form, and a second form to take the picture away.
fn picture_form(view: &AccountView) -> Markup {
    let user = view.user;
    html! {
        section.card.wide aria-labelledby="picture-title" {
            h2 #picture-title { "Picture" }
            div.picture-now {
                div.profile-avatar { (avatar(user.id, &user.display_name, user.avatar.as_deref())) }
                p.hint { (if user.avatar.is_some() {
                    "Shown beside your name wherever people see it."
                } else {
                    "Without a picture, your initials are shown."
                }) }
            }
            form method="post" action="/account/avatar" enctype="multipart/form-data" {
                (csrf_field(view.csrf))
                label for="picture" { "A new picture" }
                input #picture type="file" name="picture" required aria-describedby="picture-hint"
                    accept="image/jpeg,image/png,image/gif,image/webp";
                p.hint #picture-hint {
                    "JPEG, PNG, GIF or WebP, up to " (view.max_upload_mb) " MB. Its middle square is kept."
                }
                button type="submit" { "Upload picture" }
            }
            @if user.avatar.is_some() {
                form method="post" action="/account/avatar/remove" {
                    (csrf_field(view.csrf))
                    button.quiet type="submit" { "Remove picture" }
                }
            }
        }
    }
}

fn name_form(view: &AccountView) -> Markup {
    html! {
        section.card.wide aria-labelledby="name-title" {
            h2 #name-title { "Display name" }
            form method="post" action="/account/name" {
                (csrf_field(view.csrf))
                label for="display_name" { "How others see you" }
                input #display_name type="text" name="display_name"
                    value=(view.user.display_name) maxlength="64" autocomplete="name" required;
                button type="submit" { "Save name" }
            }
        }
    }
}

fn password_form(view: &AccountView) -> Markup {
    html! {
        section.card.wide aria-labelledby="password-title" {
            h2 #password-title { "Password" }
            form method="post" action="/account/password" {
                (csrf_field(view.csrf))
                input type="text" name="username" value=(view.user.username)
                    autocomplete="username" hidden;
                label for="current" { "Current password" }
                input #current type="password" name="current" autocomplete="current-password" required;
                label for="new" { "New password" }
                input #new type="password" name="new" autocomplete="new-password" minlength="8"
                    required aria-describedby="new-hint";
                p.hint #new-hint { "At least 8 characters. Your other sessions will end." }
                label for="confirm" { "New password again" }
                input #confirm type="password" name="confirm" autocomplete="new-password"
                    minlength="8" required;
                button type="submit" { "Change password" }
            }
        }
    }
}

fn sessions(view: &AccountView) -> Markup {
    html! {
        section.card.wide aria-labelledby="sessions-title" {
            h2 #sessions-title { "Where you are signed in" }
            div.table-scroll {
                table.sessions {
                    thead { tr {
                        th scope="col" { "Device" } th scope="col" { "Address" }
                        th scope="col" { "Signed in" } th scope="col" { "Last seen" }
                        th scope="col" { span.visually-hidden { "Actions" } }
                    } }
                    tbody {
                        @for s in view.sessions {
                            tr data-session=(s.id) {
                                td {
                                    (if s.device.is_empty() { "Unknown device" } else { &s.device })
                                    @if s.current { " " span.tag.this-device { "this device" } }
                                }
                                td { (s.address) }
                                td { (stamp(s.created_at)) }
                                td { (stamp(s.last_seen_at)) }
                                td {
                                    form.inline method="post" action={ "/account/sessions/" (s.id) "/end" } {
                                        (csrf_field(view.csrf))
                                        button.small.quiet type="submit"
                                            aria-label={ "End the session on " (s.device) } { "End" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            div.row-actions {
                @if view.sessions.len() > 1 {
                    form.inline method="post" action="/account/sessions/end-others" {
                        (csrf_field(view.csrf))
                        button.small.quiet type="submit" { "End all other sessions" }
                    }
                }
                form.inline method="post" action="/account/sign-out-everywhere" {
                    (csrf_field(view.csrf))
                    button.small.danger type="submit" { "Sign out everywhere" }
                }
            }
        }
    }
}

pub struct PasswordView<'a> {
    pub token: &'a str,
    pub user: &'a User,
    pub purpose: Purpose,
    pub error: Option<&'a str>,
}

pub fn password(shell: Shell, view: &PasswordView) -> Markup {
    let title = match view.purpose {
        Purpose::Welcome => "Welcome to Hearth",
        Purpose::Reset => "Choose a new password",
    };
    layout(
        shell,
        title,
        html! {
            section.card {
                h1 { (title) }
                p.lead { "For " strong { "@" (view.user.username) } ". This link works once." }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                form method="post" action={ "/password/" (view.token) } {
                    input type="text" name="username" value=(view.user.username)
                        autocomplete="username" hidden;
                    label for="password" { "New password" }
                    input #password type="password" name="password" autocomplete="new-password"
                        minlength="8" required data-autofocus aria-describedby="password-hint";
                    p.hint #password-hint { "At least 8 characters." }
                    label for="confirm" { "New password again" }
                    input #confirm type="password" name="confirm" autocomplete="new-password"
                        minlength="8" required;
                    button type="submit" { "Set password and sign in" }
                }
            }
        },
    )
}

/// A password link that cannot be used, saying why.
pub fn dead_link(shell: Shell, message: &str) -> Markup {
    layout(
        shell,
        "Password link",
        html! {
            section.card role="alert" {
                h1 { (message) }
                p { "Ask an admin for a new link. If you know your password, "
                    a href="/login" { "sign in" } "." }
            }
        },
    )
}
