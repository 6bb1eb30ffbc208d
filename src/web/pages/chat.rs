//! The conversation view: header, the message list, "seen by", the typing line and the composer.

use maud::{Markup, html};

use super::sidebar::{Presences, presence_dot, title};
use super::timeline::{self, ReadMark};
use super::{Nav, Shell, app_layout, csrf_field};
use crate::domain::User;
use crate::domain::chat::{Kind, Member, Message, Summary};
use crate::fragments::conversation_picture;

/// Everything the conversation page shows.
pub struct ConversationView<'a> {
    pub summary: &'a Summary,
    pub members: &'a [Member],
    /// One page of messages, oldest first.
    pub messages: &'a [Message],
    /// Older messages exist before this page.
    pub has_older: bool,
    /// The page ends with the newest message (live messages may be appended).
    pub latest: bool,
    pub me: &'a User,
    pub csrf: &'a str,
    /// A fresh id for the composer, so a form sent twice posts once.
    pub client_id: &'a str,
    pub max_chars: usize,
    pub presence: &'a Presences,
    /// The event seq the page is current to: its socket's first `hello` resumes from it.
    pub seq: i64,
    /// What the composer starts with (a link that starts a conversation may bring it).
    pub draft: &'a str,
    /// A panel beside the conversation (the admins' tools in a support conversation).
    pub aside: Option<Markup>,
}

/// Who other than me (and the sender) has read up to the newest message (lines about the
/// conversation are no messages: nobody "sees" them), by name as the page script lists them.
pub fn seen_by<'a>(members: &'a [Member], me: &User, page: &[Message]) -> Vec<&'a str> {
    let Some(newest) = page.iter().rev().find(|m| m.notice.is_none()) else {
        return Vec::new();
    };
    let mut names: Vec<&str> = members
        .iter()
        .filter(|m| {
            m.user.id != me.id
                && m.user.id != newest.sender.id
                && m.last_read_message_id >= newest.id
        })
        .map(|m| m.user.display_name.as_str())
        .collect();
    names.sort_by_key(|name| name.to_lowercase());
    names
}

pub fn page(shell: Shell, nav: &Nav, view: &ConversationView) -> Markup {
    let c = &view.summary.conversation;
    app_layout(
        shell,
        title(view.summary),
        nav,
        Some(c.id),
        conversation(view),
    )
}

fn conversation(view: &ConversationView) -> Markup {
    let s = view.summary;
    let c = &s.conversation;
    let mark = ReadMark {
        last_read: s.read_position(),
        unread: s.unread,
        has_older: view.has_older,
    };
    let items = timeline::arrange(view.messages, view.me.id, Some(mark));
    let divider_here = items.iter().any(|i| matches!(i, timeline::Item::Unread));
    html! {
        section.conversation aria-labelledby="conv-title" data-latest=(view.latest)
            data-last-read=(s.last_read_message_id) data-read-position=(s.read_position())
            data-kind=(c.kind.as_str()) data-seq=(view.seq) {
            (header(view))
            @if let Some(aside) = &view.aside { (aside) }
            @if s.unread > 0 {
                div.unread-bar role="status" {
                    span { strong { (s.unread) } " new " (if s.unread == 1 { "message" } else { "messages" }) }
                    @if divider_here {
                        a.jump-unread href="#unread" { "Jump to first unread" }
                    } @else if let Some(first) = view.messages.first() {
                        a.jump-unread href={ "/c/" (c.id) "?before=" (first.id) } data-older="1" { "Jump to first unread" }
                    }
                    form method="post" action={ "/c/" (c.id) "/read" } {
                        (csrf_field(view.csrf))
                        button.quiet.small type="submit" { "Mark as read" }
                    }
                }
            }
            div #messages.messages role="log" aria-label="Messages" tabindex="0" {
                div.timeline {
                    div.history-top {
                        @if let (true, Some(first)) = (view.has_older, view.messages.first()) {
                            a.older href={ "/c/" (c.id) "?before=" (first.id) } data-before=(first.id) { "Older messages" }
                        } @else {
                            p.history-start {
                                @if c.kind == Kind::Direct {
                                    "This is the very beginning of your conversation with " strong { (title(s)) } "."
                                } @else {
                                    "This is the very beginning of " strong { (title(s)) } "."
                                }
                            }
                        }
                    }
                    div #items.items { (timeline::render(&items)) }
                    @if !view.latest {
                        a.to-latest href={ "/c/" (c.id) } { "Jump to the latest messages" }
                    }
                    @if c.kind != Kind::Channel && view.latest {
                        @let seen = seen_by(view.members, view.me, view.messages);
                        p #seen.seen aria-live="polite" {
                            @if !seen.is_empty() { "Seen by " (seen.join(", ")) }
                        }
                    }
                }
            }
            p #typing.typing aria-live="polite" {}
            @if c.archived {
                p.archived-notice role="status" {
                    "This conversation is archived and read-only."
                }
            } @else {
                (composer(view))
            }
            ul #members.member-data hidden {
                @for m in view.members {
                    li data-id=(m.user.id) data-username=(m.user.username) data-name=(m.user.display_name)
                        data-last-read=(m.last_read_message_id) { (m.user.display_name) }
                }
            }
        }
    }
}

fn header(view: &ConversationView) -> Markup {
    let s = view.summary;
    let c = &s.conversation;
    html! {
        header.conv-head {
            div.conv-heading {
                h1 #conv-title {
                    @match (c.kind, &s.other, c.picture.as_deref()) {
                        (Kind::Direct, Some(other), _) => { (presence_dot(other.id, view.presence.get(&other.id))) " " }
                        (Kind::Group, _, _) if s.support.is_some() => { span.conv-icon aria-hidden="true" { "?" } }
                        (Kind::Channel | Kind::Group, _, Some(sha256)) => { (conversation_picture(sha256)) }
                        (Kind::Group, _, None) => { span.conv-icon aria-hidden="true" { "🔒" } }
                        _ => { span.conv-icon aria-hidden="true" { "#" } }
                    }
                    span.conv-name { (title(s)) }
                }
                @match (c.kind, &s.other) {
                    (Kind::Direct, Some(other)) => {
                        p.topic { a href={ "/people/" (other.username) } { "@" (other.username) } }
                    }
                    _ => {
                        @if let Some(t) = &s.support {
                            @if t.mine {
                                p.topic { "Only you and the admins see this conversation." }
                            } @else {
                                p.topic { "Support conversation of " a href={ "/people/" (t.member.username) } { "@" (t.member.username) } }
                            }
                        } @else {
                            p.topic.empty[c.topic.is_empty()] { (c.topic) }
                        }
                    }
                }
            }
            div.conv-tools {
                @if c.archived { span.tag { "Archived" } }
                @if c.kind != Kind::Direct {
                    span.member-count { (view.members.len()) " " (if view.members.len() == 1 { "member" } else { "members" }) }
                }
                a.button.quiet.small href={ "/c/" (c.id) "/files" } aria-label="Files shared here" {
                    span aria-hidden="true" { "🗂" } span.label { " Files" }
                }
                (crate::web::notify::bell_menu(c.id, s.notify, view.csrf))
                @if s.support.is_none() {
                    a.button.quiet.small href={ "/c/" (c.id) "/settings" } aria-label="Conversation settings" {
                        span aria-hidden="true" { "⚙" } span.label { " Settings" }
                    }
                }
            }
        }
    }
}

fn composer(view: &ConversationView) -> Markup {
    let c = &view.summary.conversation;
    let placeholder = match c.kind {
        Kind::Channel => format!("Message #{}", c.name),
        _ => format!("Message {}", title(view.summary)),
    };
    html! {
        form #composer.composer method="post" action={ "/c/" (c.id) "/messages" } {
            (csrf_field(view.csrf))
            input type="hidden" name="client_id" value=(view.client_id);
            input type="hidden" name="reply_to" value="";
            div #reply-chip.reply-chip hidden {
                span { "Replying to " strong.reply-name {} " " span.reply-excerpt {} }
                button.icon type="button" data-action="cancel-reply" aria-label="Cancel reply" title="Cancel reply (Esc)" { "×" }
            }
            ul #uploads.upload-list aria-label="Files to send" hidden {}
            div.composer-row {
                label.attach.js-only title="Attach files (or drop them here, or paste)" {
                    span aria-hidden="true" { "📎" }
                    span.visually-hidden { "Attach files" }
                    input #attach-input.visually-hidden type="file" multiple;
                }
                label.visually-hidden for="body" { (placeholder) }
                // A textarea may not be a combobox: the list's state is told by #mention-status.
                textarea #body name="body" rows="1" placeholder=(placeholder) maxlength=(view.max_chars)
                    required autocomplete="off" aria-describedby="composer-hint"
                    aria-autocomplete="list" aria-controls="mention-list" { (view.draft) }
                button.send type="submit" { "Send" }
            }
            ul #mention-list.mention-list role="listbox" aria-label="People to mention" hidden {}
            p #mention-status.visually-hidden role="status" {}
            p #composer-hint.hint.composer-hint {
                span.js-only { "Enter to send · Shift+Enter for a new line · ↑ to edit your last message · drop or paste files to attach" }
                span.no-js-only { "Formatting: **bold**, *italic*, `code`, > quote" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Role;
    use crate::domain::chat::{MemberRole, UserRef};

    fn user(id: i64, name: &str) -> UserRef {
        UserRef {
            id,
            username: name.to_lowercase(),
            display_name: name.into(),
            avatar: None,
            bot: false,
        }
    }

    fn member(id: i64, name: &str, read: i64) -> Member {
        Member {
            user: user(id, name),
            role: MemberRole::Member,
            last_read_message_id: read,
        }
    }

    #[test]
    fn seen_by_names_the_others_who_read_the_newest_message() {
        let me = User {
            id: 1,
            username: "me".into(),
            display_name: "Me".into(),
            role: Role::Member,
            deactivated: false,
            created_at: 0,
            avatar: None,
            bot: false,
        };
        let members = [
            member(1, "Me", 9),
            member(4, "cy", 12),
            member(2, "Ada", 9),
            member(3, "Bo", 8),
        ];
        let newest = Message::sample(9, 1, user(1, "Me"));
        assert_eq!(
            seen_by(&members, &me, std::slice::from_ref(&newest)),
            ["Ada", "cy"],
            "by name, whatever the order of the members"
        );
        assert!(seen_by(&members, &me, &[]).is_empty());
        // A line after the newest message changes nothing: Bo (read up to 8) did not see 9.
        let line = Message {
            notice: Some(crate::domain::chat::Notice::Joined {
                user: user(5, "Di"),
            }),
            ..Message::sample(10, 1, user(5, "Di"))
        };
        assert_eq!(seen_by(&members, &me, &[newest, line]), ["Ada", "cy"]);
    }
}
