//! The channel browser, and the forms that open a channel or a private group.

use maud::{Markup, html};

use super::{Nav, Shell, app_layout, csrf_field};
use crate::domain::User;
use crate::domain::chat::Conversation;

/// A channel as the browser lists it.
pub struct ChannelRow<'a> {
    pub channel: &'a Conversation,
    pub members: i64,
    pub joined: bool,
}

/// A refused create form, shown again with what was typed.
#[derive(Default)]
pub struct Draft<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub topic: &'a str,
    pub error: Option<&'a str>,
}

pub struct ChannelsView<'a> {
    pub channels: &'a [ChannelRow<'a>],
    /// People who may be put in a new group (everyone active but me).
    pub people: &'a [User],
    pub csrf: &'a str,
    pub draft: Draft<'a>,
}

pub fn browser(shell: Shell, nav: &Nav, view: &ChannelsView) -> Markup {
    app_layout(
        shell,
        "Channels",
        nav,
        None,
        html! {
            section.page-section aria-labelledby="channels-title" {
                header.page-head {
                    h1 #channels-title { "Channels" }
                    p.lead { "Open to everyone on this Hearth. Join any of them." }
                }
                @if view.channels.is_empty() {
                    p.hint { "No channels yet. Create the first one below." }
                }
                ul.channel-list {
                    @for row in view.channels { (channel(row, view.csrf)) }
                }
            }
            div.create-forms {
                (create_form(view, "channel"))
                (create_form(view, "group"))
            }
        },
    )
}

fn channel(row: &ChannelRow, csrf: &str) -> Markup {
    let c = row.channel;
    html! {
        li.channel-row.archived[c.archived] {
            div.channel-text {
                a.channel-name href={ "/c/" (c.id) } { span aria-hidden="true" { "# " } (c.name) }
                @if c.archived { " " span.tag { "archived" } }
                @if !c.topic.is_empty() { p.topic { (c.topic) } }
                p.hint { (row.members) " " (if row.members == 1 { "member" } else { "members" }) }
            }
            @if row.joined {
                a.button.quiet.small href={ "/c/" (c.id) } aria-label={ "Open #" (c.name) } { "Open" }
            } @else if !c.archived {
                form.inline method="post" action={ "/c/" (c.id) "/join" } {
                    (csrf_field(csrf))
                    button.small type="submit" aria-label={ "Join #" (c.name) } { "Join" }
                }
            }
        }
    }
}

fn create_form(view: &ChannelsView, kind: &str) -> Markup {
    let group = kind == "group";
    let (id, heading, lead) = if group {
        (
            "new-group",
            "New private group",
            "Only the people you add can see a group. You can add more later.",
        )
    } else {
        (
            "new-channel",
            "New channel",
            "Anyone can find and join a channel.",
        )
    };
    let draft = (view.draft.kind == kind).then_some(&view.draft);
    html! {
        section.card.create-card #(id) aria-labelledby={ (id) "-title" } {
            h2 id={ (id) "-title" } { (heading) }
            p.hint { (lead) }
            @if let Some(error) = draft.and_then(|d| d.error) { p.error role="alert" { (error) } }
            form method="post" action="/channels" {
                (csrf_field(view.csrf))
                input type="hidden" name="kind" value=(kind);
                label for={ (id) "-name" } { "Name" }
                input id={ (id) "-name" } type="text" name="name" maxlength="80" required
                    value=(draft.map_or("", |d| d.name)) placeholder=(if group { "weekend-trip" } else { "announcements" });
                label for={ (id) "-topic" } { "Topic " span.optional { "(optional)" } }
                input id={ (id) "-topic" } type="text" name="topic" maxlength="250"
                    value=(draft.map_or("", |d| d.topic));
                @if group {
                    fieldset.people-picker {
                        legend { "Members" }
                        @if view.people.is_empty() { p.hint { "Nobody else is here yet." } }
                        ul {
                            @for p in view.people {
                                li {
                                    label.check {
                                        input type="checkbox" name="members" value=(p.id);
                                        " " (p.display_name) " " span.hint { "@" (p.username) }
                                    }
                                }
                            }
                        }
                    }
                }
                button type="submit" { (if group { "Create group" } else { "Create channel" }) }
            }
        }
    }
}
