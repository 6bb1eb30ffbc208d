//! A channel as someone not in it sees it: its name, topic, member count and newest messages,
//! with a way to join.

use maud::{Markup, html};

use super::timeline;
use super::{Nav, Shell, app_layout, csrf_field};
use crate::domain::User;
use crate::domain::chat::{Conversation, Message};

pub struct PreviewView<'a> {
    pub channel: &'a Conversation,
    pub member_count: usize,
    /// Its newest messages (or those around a linked one), oldest first.
    pub messages: &'a [Message],
    /// The messages are around a linked one, not the newest.
    pub around: bool,
    pub me: &'a User,
    pub csrf: &'a str,
}

pub fn page(shell: Shell, nav: &Nav, view: &PreviewView) -> Markup {
    let c = view.channel;
    let items = timeline::arrange(view.messages, view.me.id, None);
    let people = if view.member_count == 1 {
        "member"
    } else {
        "members"
    };
    app_layout(
        shell,
        &c.name,
        nav,
        None,
        html! {
            section.page-section.preview aria-labelledby="preview-title" {
                header.page-head {
                    h1 #preview-title { span.conv-icon aria-hidden="true" { "#" } (c.name) }
                    @if !c.topic.is_empty() { p.lead.topic { (c.topic) } }
                    p.hint { (view.member_count) " " (people) " · You are not in this channel." }
                }
                @if c.archived {
                    p.archived-notice role="status" { "This channel is archived and read-only." }
                } @else {
                    form.join-form method="post" action={ "/c/" (c.id) "/join" } {
                        (csrf_field(view.csrf))
                        button type="submit" { "Join #" (c.name) }
                    }
                }
                section.preview-messages aria-labelledby="preview-latest" {
                    h2 #preview-latest {
                        @if view.around { "Around the message you followed" } @else { "Latest messages" }
                    }
                    @if view.messages.is_empty() {
                        p.hint { "Nothing has been said here yet." }
                    } @else {
                        div.timeline.preview-timeline { (timeline::render(&items)) }
                    }
                }
            }
        },
    )
}
