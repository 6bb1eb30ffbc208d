//! The people directory and profile pages, each with a way to start a direct conversation.

use maud::{Markup, html};

use super::sidebar::{Presences, presence_dot};
use super::{Nav, Shell, app_layout, csrf_field};
use crate::domain::User;
use crate::fragments::{avatar, day};

fn message_button(person: &User, csrf: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action={ "/people/" (person.username) "/message" } {
            (csrf_field(csrf))
            button.small type="submit" aria-label={ "Message " (person.display_name) } { (label) }
        }
    }
}

/// Opens the direct conversation with them (`/new`, which creates it on first use).
fn message_link(person: &User, label: &str) -> Markup {
    html! {
        a.button.small href={ "/new?to=" (person.username) } aria-label={ "Message " (person.display_name) } { (label) }
    }
}

/// Everyone active on this Hearth, with presence.
pub fn directory(
    shell: Shell,
    nav: &Nav,
    people: &[User],
    me: &User,
    csrf: &str,
    presence: &Presences,
) -> Markup {
    app_layout(
        shell,
        "People",
        nav,
        None,
        html! {
            section.page-section aria-labelledby="people-title" {
                header.page-head {
                    h1 #people-title { "People" }
                    p.lead { (people.len()) " " (if people.len() == 1 { "person" } else { "people" }) " on this Hearth" }
                }
                ul.people {
                    @for p in people {
                        li.person {
                            (avatar(p.id, &p.display_name, p.avatar.as_deref()))
                            div.person-text {
                                a.person-name href={ "/people/" (p.username) } { (p.display_name) }
                                " "
                                (presence_dot(p.id, presence.get(&p.id)))
                                @if p.is_admin() { " " span.tag { "admin" } }
                                @if p.bot { " " span.bot-badge { "bot" } }
                                div.hint { "@" (p.username) }
                            }
                            @if p.id != me.id {
                                (message_button(p, csrf, "Message"))
                            } @else {
                                span.hint { "you" }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// One person's profile.
pub fn profile(
    shell: Shell,
    nav: &Nav,
    person: &User,
    me: &User,
    _csrf: &str,
    presence: &Presences,
) -> Markup {
    let status = super::sidebar::status(presence.get(&person.id));
    app_layout(
        shell,
        &person.display_name,
        nav,
        None,
        html! {
            section.page-section.profile aria-labelledby="profile-title" {
                div.profile-card {
                    div.profile-avatar { (avatar(person.id, &person.display_name, person.avatar.as_deref())) }
                    div {
                        h1 #profile-title { (person.display_name) }
                        p.lead { "@" (person.username) }
                        p { (presence_dot(person.id, presence.get(&person.id))) " " span.status-word data-status-for=(person.id) { (status) } }
                        @if person.is_admin() { p { span.tag { "admin" } } }
                        @if person.bot { p { span.bot-badge { "bot" } " It acts through a token or a webhook." } }
                        @if person.deactivated { p.hint { "This account is deactivated." } }
                        p.hint { "Member since " (day(person.created_at)) }
                        @if person.id != me.id && !person.deactivated {
                            (message_link(person, "Message"))
                        } @else if person.id == me.id {
                            p.hint { "This is you." }
                        }
                    }
                }
                p { a href="/people" { "← All people" } }
            }
        },
    )
}
