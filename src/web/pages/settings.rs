//! Conversation settings: name and topic, picture, members (add, remove), archive, leave.

use maud::{Markup, html};

use super::sidebar::{Presences, presence_dot};
use super::{Nav, Shell, app_layout, csrf_field};
use crate::domain::User;
use crate::domain::chat::{Conversation, Kind, Member, MemberRole};
use crate::fragments::{avatar, conversation_picture};

pub struct SettingsView<'a> {
    pub conversation: &'a Conversation,
    /// What the conversation is called for me (a direct: the other person).
    pub title: &'a str,
    pub role: Option<MemberRole>,
    pub members: &'a [Member],
    /// Active people who are not members, for the add form.
    pub candidates: &'a [User],
    pub me: &'a User,
    pub csrf: &'a str,
    pub presence: &'a Presences,
    pub error: Option<&'a str>,
    /// The largest picture that may be uploaded, in MB.
    pub max_upload_mb: u64,
}

impl SettingsView<'_> {
    fn may_manage(&self) -> bool {
        self.me.is_admin() || self.role == Some(MemberRole::Owner)
    }

    fn may_add(&self) -> bool {
        match self.conversation.kind {
            Kind::Direct => false,
            Kind::Group => self.may_manage(),
            Kind::Channel => self.role.is_some() || self.me.is_admin(),
        }
    }
}

pub fn page(shell: Shell, nav: &Nav, view: &SettingsView) -> Markup {
    let c = view.conversation;
    let action = |what: &str| format!("/c/{}/{what}", c.id);
    app_layout(
        shell,
        &format!("Settings · {}", view.title),
        nav,
        None,
        html! {
            section.page-section.settings aria-labelledby="settings-title" {
                header.page-head {
                    p { a href={ "/c/" (c.id) } { "← Back to the conversation" } }
                    h1 #settings-title { "Settings" span.hint { " · " (view.title) } }
                }
                @if let Some(error) = view.error { p.error role="alert" { (error) } }
                @if c.archived {
                    p.archived-notice role="status" { "This conversation is archived and read-only." }
                }
                @if c.kind != Kind::Direct && !c.archived {
                    section.card.wide aria-labelledby="details-title" {
                        h2 #details-title { "Details" }
                        form method="post" action=(action("settings")) {
                            (csrf_field(view.csrf))
                            label for="name" { "Name" }
                            input #name type="text" name="name" value=(c.name) maxlength="80" required
                                readonly[!view.may_manage()] aria-describedby=[(!view.may_manage()).then_some("name-hint")];
                            @if !view.may_manage() { p.hint #name-hint { "Only owners and admins may rename." } }
                            label for="topic" { "Topic" }
                            input #topic type="text" name="topic" value=(c.topic) maxlength="250";
                            button type="submit" { "Save" }
                        }
                    }
                }
                @if c.kind != Kind::Direct && view.may_manage() && !c.archived {
                    (picture(view))
                    section.card.wide aria-labelledby="integrations-link-title" {
                        h2 #integrations-link-title { "Integrations" }
                        p { a href=(action("integrations")) { "Webhooks: let other services post here →" } }
                    }
                }
                (members(view))
                @if c.kind != Kind::Direct && view.may_manage() {
                    section.card.wide aria-labelledby="archive-title" {
                        h2 #archive-title { (if c.archived { "Unarchive" } else { "Archive" }) }
                        p.hint { (if c.archived {
                            "Make the conversation writable again."
                        } else {
                            "Archiving keeps the history but makes the conversation read-only for everyone."
                        }) }
                        form method="post" action=(action("archive")) {
                            (csrf_field(view.csrf))
                            input type="hidden" name="archived" value=(!c.archived);
                            button.quiet type="submit" { (if c.archived { "Unarchive" } else { "Archive" }) }
                        }
                    }
                }
                @if c.kind != Kind::Direct && view.me.is_admin() {
                    section.card.wide aria-labelledby="outgoing-title" {
                        h2 #outgoing-title { "Outgoing webhooks" }
                        p.hint { "Send this conversation's new messages to another service, and post its answers." }
                        p { a href=(action("outgoing")) { "Outgoing webhooks" } }
                    }
                }
                @if c.kind != Kind::Direct && view.role.is_some() {
                    section.card.wide aria-labelledby="leave-title" {
                        h2 #leave-title { "Leave" }
                        p.hint { (if c.kind == Kind::Group {
                            "You will need an owner to add you again."
                        } else {
                            "You can join again from the channel browser."
                        }) }
                        form method="post" action=(action("leave")) {
                            (csrf_field(view.csrf))
                            button.danger type="submit" { "Leave " (view.title) }
                        }
                    }
                }
            }
        },
    )
}

/// Works without script: a file form, and a second form to take the picture away.
fn picture(view: &SettingsView) -> Markup {
    let c = view.conversation;
    html! {
        section.card.wide aria-labelledby="picture-title" {
            h2 #picture-title { "Picture" }
            div.picture-now {
                @if let Some(sha256) = &c.picture { (conversation_picture(sha256)) }
                p.hint { (if c.picture.is_some() {
                    "Shown in the conversation's header and in everyone's list."
                } else {
                    "Without a picture, the conversation shows its sign."
                }) }
            }
            form method="post" action={ "/c/" (c.id) "/picture" } enctype="multipart/form-data" {
                (csrf_field(view.csrf))
                label for="picture" { "A new picture" }
                input #picture type="file" name="picture" required aria-describedby="picture-hint"
                    accept="image/jpeg,image/png,image/gif,image/webp";
                p.hint #picture-hint {
                    "JPEG, PNG, GIF or WebP, up to " (view.max_upload_mb) " MB. Its middle square is kept."
                }
                button type="submit" { "Upload picture" }
            }
            @if c.picture.is_some() {
                form method="post" action={ "/c/" (c.id) "/picture/remove" } {
                    (csrf_field(view.csrf))
                    button.quiet type="submit" { "Remove picture" }
                }
            }
        }
    }
}

fn members(view: &SettingsView) -> Markup {
    let c = view.conversation;
    let removable = |m: &Member| {
        c.kind != Kind::Direct && view.may_manage() && m.user.id != view.me.id && !c.archived
    };
    html! {
        section.card.wide aria-labelledby="members-title" {
            h2 #members-title { "Members " span.hint { "(" (view.members.len()) ")" } }
            ul.people.compact {
                @for m in view.members {
                    li.person {
                        (avatar(m.user.id, &m.user.display_name, m.user.avatar.as_deref()))
                        div.person-text {
                            a.person-name href={ "/people/" (m.user.username) } { (m.user.display_name) }
                            @if m.user.bot { " " span.bot-badge { "bot" } }
                            " " (presence_dot(m.user.id, view.presence.get(&m.user.id)))
                            @if m.role == MemberRole::Owner { " " span.tag { "owner" } }
                            div.hint { "@" (m.user.username) }
                        }
                        @if removable(m) {
                            form.inline method="post" action={ "/c/" (c.id) "/members/" (m.user.id) "/remove" } {
                                (csrf_field(view.csrf))
                                button.quiet.small type="submit" aria-label={ "Remove " (m.user.display_name) } { "Remove" }
                            }
                        }
                    }
                }
            }
            @if view.may_add() && !c.archived {
                form.add-member method="post" action={ "/c/" (c.id) "/members" } {
                    (csrf_field(view.csrf))
                    label for="add-user" { "Add someone" }
                    @if view.candidates.is_empty() {
                        p.hint { "Everyone is already here." }
                    } @else {
                        div.row {
                            select #add-user name="user_id" required {
                                @for p in view.candidates {
                                    option value=(p.id) { (p.display_name) " (@" (p.username) ")" }
                                }
                            }
                            button type="submit" { "Add" }
                        }
                    }
                }
            }
        }
    }
}
