//! The message list of a conversation: date separators, runs of one sender, and the
//! "new messages" divider; lines about the conversation sit among the messages. Arranging is a
//! pure function so it can be tested alone.

use maud::{Markup, html};

use crate::domain::UserId;
use crate::domain::chat::{Message, MessageId};
use crate::fragments;

/// Messages from one sender closer together than this read as one run.
pub const RUN_GAP_MS: i64 = 5 * 60 * 1000;

/// Where the viewer stopped reading, to place the "new messages" divider.
#[derive(Debug, Clone, Copy)]
pub struct ReadMark {
    /// Where unread begins ([`crate::domain::chat::Summary::read_position`]).
    pub last_read: MessageId,
    /// Unread messages in the whole conversation (from the viewer's summary).
    pub unread: i64,
    /// Older messages exist before this page.
    pub has_older: bool,
}

#[derive(Debug)]
pub enum Item<'a> {
    /// A new day starts with the message sent at this time.
    Day(i64),
    /// The first message the viewer has not read follows.
    Unread,
    Message {
        message: &'a Message,
        continued: bool,
    },
}

/// Arranges one page of messages (oldest first) for `me`.
///
/// The divider goes before the first unread message from someone else, but only when it is
/// the first in the conversation: the page starts with a read message or nothing is older.
/// Lines about the conversation are never unread and never part of a run.
pub fn arrange(messages: &[Message], me: UserId, mark: Option<ReadMark>) -> Vec<Item<'_>> {
    let divider_at = mark
        .filter(|mark| mark.unread > 0)
        .filter(|mark| !mark.has_older || messages.first().is_some_and(|m| m.id <= mark.last_read))
        .and_then(|mark| {
            messages
                .iter()
                .position(|m| m.id > mark.last_read && m.sender.id != me && m.notice.is_none())
        });
    let mut items = Vec::with_capacity(messages.len() + 4);
    let mut previous: Option<&Message> = None;
    for (i, m) in messages.iter().enumerate() {
        let new_day = previous.is_none_or(|p| {
            fragments::day_number(p.created_at) != fragments::day_number(m.created_at)
        });
        if new_day {
            items.push(Item::Day(m.created_at));
        }
        let divider = divider_at == Some(i);
        if divider {
            items.push(Item::Unread);
        }
        let continued = !new_day
            && !divider
            && m.reply.is_none()
            && m.notice.is_none()
            && previous.is_some_and(|p| {
                p.notice.is_none()
                    && p.sender.id == m.sender.id
                    && p.posted_as == m.posted_as
                    && m.created_at - p.created_at < RUN_GAP_MS
            });
        items.push(Item::Message {
            message: m,
            continued,
        });
        previous = Some(m);
    }
    items
}

/// The arranged items as HTML.
pub fn render(items: &[Item]) -> Markup {
    html! {
        @for item in items {
            @match item {
                Item::Day(ms) => { (fragments::day_separator(*ms)) }
                Item::Unread => { (unread_divider()) }
                Item::Message { message, continued } => { (fragments::message_in_run(message, *continued)) }
            }
        }
    }
}

/// The line above the first unread message; "jump to first unread" links here.
pub fn unread_divider() -> Markup {
    html! {
        div #unread.unread-divider role="separator" aria-label="New messages" {
            span { "New messages" }
        }
    }
}

/// A page of older messages for infinite scroll: no layout, just the items in a wrapper
/// saying whether there are more and where the next page starts.
pub fn older_page(messages: &[Message], me: UserId, has_more: bool) -> Markup {
    let items = arrange(messages, me, None);
    html! {
        div.older-page data-has-more=(has_more) data-before=[messages.first().map(|m| m.id)] {
            (render(&items))
        }
    }
}

/// A page of newer messages for scrolling down from a page around a message.
pub fn newer_page(messages: &[Message], me: UserId, has_more: bool) -> Markup {
    let items = arrange(messages, me, None);
    html! {
        div.newer-page data-has-more=(has_more) data-after=[messages.last().map(|m| m.id)] {
            (render(&items))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{Notice, ReplyPreview, UserRef};

    const DAY: i64 = 86_400_000;
    const T0: i64 = 1_763_631_000_000; // Thursday 20 November 2025, 09:30 UTC

    fn msg(id: MessageId, sender: UserId, at: i64) -> Message {
        let from = UserRef {
            id: sender,
            username: format!("u{sender}"),
            display_name: format!("User {sender}"),
            avatar: None,
            bot: false,
        };
        Message {
            created_at: at,
            ..Message::sample(id, 1, from)
        }
    }

    /// A compact picture of the arrangement: `D` day, `N` new-messages divider, `id` or `id+` (continued).
    fn shape(items: &[Item]) -> String {
        items
            .iter()
            .map(|i| match i {
                Item::Day(_) => "D".to_string(),
                Item::Unread => "N".to_string(),
                Item::Message {
                    message,
                    continued: true,
                } => format!("{}+", message.id),
                Item::Message {
                    message,
                    continued: false,
                } => message.id.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn runs_of_one_sender_within_five_minutes_are_grouped() {
        let page = [
            msg(1, 2, T0),
            msg(2, 2, T0 + 60_000),
            msg(3, 2, T0 + 60_000 + RUN_GAP_MS), // too late: a new run
            msg(4, 3, T0 + 7 * 60_000),          // someone else
            msg(5, 2, T0 + 8 * 60_000),
        ];
        assert_eq!(shape(&arrange(&page, 9, None)), "D 1 2+ 3 4 5");
    }

    #[test]
    fn a_new_day_gets_a_separator_and_breaks_the_run() {
        let late = T0 - 9 * 3_600_000 - 30 * 60_000 + DAY - 60_000; // 23:59 that day
        let page = [
            msg(1, 2, late),
            msg(2, 2, late + 120_000),
            msg(3, 2, late + 180_000),
        ];
        assert_eq!(shape(&arrange(&page, 9, None)), "D 1 D 2 3+");
        let html = render(&arrange(&page, 9, None)).into_string();
        assert!(
            html.contains("Thursday, 20 November 2025")
                && html.contains("Friday, 21 November 2025")
        );
    }

    #[test]
    fn the_divider_precedes_the_first_unread_message_from_someone_else() {
        let page = [
            msg(1, 2, T0),
            msg(2, 9, T0 + 1000),
            msg(3, 9, T0 + 2000),
            msg(4, 2, T0 + 3000),
            msg(5, 2, T0 + 4000),
        ];
        // Read up to 1; my own 2 and 3 do not count as unread.
        let mark = ReadMark {
            last_read: 1,
            unread: 2,
            has_older: true,
        };
        assert_eq!(shape(&arrange(&page, 9, Some(mark))), "D 1 2 3+ N 4 5+");
        // Nothing unread: no divider.
        let mark = ReadMark {
            last_read: 5,
            unread: 0,
            has_older: false,
        };
        assert_eq!(shape(&arrange(&page, 9, Some(mark))), "D 1 2 3+ 4 5+");
    }

    #[test]
    fn no_divider_when_the_first_unread_is_on_an_older_page() {
        let page = [msg(10, 2, T0), msg(11, 2, T0 + 1000)];
        let mark = ReadMark {
            last_read: 3,
            unread: 8,
            has_older: true,
        };
        assert_eq!(shape(&arrange(&page, 9, Some(mark))), "D 10 11+");
        // The conversation's first page: divider on top.
        let mark = ReadMark {
            last_read: 0,
            unread: 2,
            has_older: false,
        };
        assert_eq!(shape(&arrange(&page, 9, Some(mark))), "D N 10 11+");
    }

    #[test]
    fn lines_about_the_conversation_are_never_unread_nor_in_a_run() {
        let line = |id, sender, at| Message {
            notice: Some(Notice::Joined {
                user: UserRef {
                    id: sender,
                    username: format!("u{sender}"),
                    display_name: format!("User {sender}"),
                    avatar: None,
                    bot: false,
                },
            }),
            ..msg(id, sender, at)
        };
        let page = [
            msg(1, 2, T0),
            line(2, 3, T0 + 1000),
            msg(3, 3, T0 + 2000),
            msg(4, 3, T0 + 3000),
            line(5, 2, T0 + 4000),
            line(6, 2, T0 + 5000),
            msg(7, 2, T0 + 6000),
        ];
        // Read up to 1: the line 2 is not where unread begins, the message 3 is.
        let mark = ReadMark {
            last_read: 1,
            unread: 3,
            has_older: false,
        };
        assert_eq!(shape(&arrange(&page, 9, Some(mark))), "D 1 2 N 3 4+ 5 6 7");
        let html = render(&arrange(&page, 9, None)).into_string();
        assert!(html.contains(r#"<div class="notice" id="m-2""#), "{html}");
        // A page of older history carries its lines too.
        let older = older_page(&page[1..3], 9, true).into_string();
        assert!(older.contains(r#"data-before="2""#) && older.contains(r#"id="m-2""#));
    }

    #[test]
    fn a_reply_starts_its_own_run() {
        let mut reply = msg(2, 2, T0 + 1000);
        reply.reply_to = Some(1);
        reply.reply = Some(ReplyPreview {
            id: 1,
            sender: reply.sender.clone(),
            excerpt: "x".into(),
            deleted: false,
        });
        let page = [msg(1, 2, T0), reply];
        assert_eq!(shape(&arrange(&page, 9, None)), "D 1 2");
    }

    #[test]
    fn an_older_page_says_whether_there_is_more() {
        let page = [msg(4, 2, T0), msg(5, 3, T0 + 1000)];
        let html = older_page(&page, 9, true).into_string();
        assert!(
            html.starts_with(r#"<div class="older-page" data-has-more="true" data-before="4">"#),
            "{html}"
        );
        assert!(html.contains(r#"id="m-4""#) && html.contains(r#"id="m-5""#));
        assert!(
            older_page(&[], 9, false)
                .into_string()
                .contains(r#"data-has-more="false""#)
        );
    }
}
