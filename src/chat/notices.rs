//! Lines about a conversation in its timeline ("Bob added Ada", "Cat left", a rename). Each is
//! written among the messages, in the same transaction as the change it tells of, and goes out
//! inside that change's event: a live page, a client resuming by `since` and a fresh page load
//! all show the same line in the same place, and it stays in history after events are pruned.

use maud::html;
use serde::Serialize;

use super::Chat;
use super::json::MessageView;
use crate::db::WriteCtx;
use crate::domain::chat::{Conversation, ConversationId, Message, Notice, UserRef};
use crate::domain::now_ms;
use crate::error::Result;
use crate::fragments;
use crate::store::messages as store;

/// Writes a line done by `by` and returns it as stored. Once it commits, the conversation's
/// kept newest messages are forgotten, before the event that carries the line is delivered.
pub fn write(
    ctx: &mut WriteCtx,
    chat: &Chat,
    conversation: ConversationId,
    by: &UserRef,
    notice: &Notice,
) -> Result<Message> {
    // For clients that show only messages: the words after the sender's name.
    let html = html! { p { (fragments::notice_words(notice)) } }.into_string();
    let id = store::insert_notice(ctx.conn, conversation, by.id, notice, &html, now_ms())?;
    let recent = chat.recent.clone();
    ctx.after_commit(move || recent.forget(conversation));
    store::get(ctx.conn, id)
}

/// What a change to a conversation's name, topic or archived state changed, as a line; `None`
/// when it changed nothing (the same name again, say).
pub fn changes(
    before: &Conversation,
    name: Option<&str>,
    topic: Option<&str>,
    archived: Option<bool>,
) -> Option<Notice> {
    let name = name.filter(|n| *n != before.name);
    let topic = topic.filter(|t| *t != before.topic);
    let archived = archived.filter(|a| *a != before.archived);
    if name.is_none() && topic.is_none() && archived.is_none() {
        return None;
    }
    Some(Notice::Updated {
        name: name.map(str::to_owned),
        old_name: name.map(|_| before.name.clone()),
        topic: topic.map(str::to_owned),
        archived,
    })
}

/// The line an event carries, flattened into its `data`: the line as a message (with its
/// `notice`) and its HTML fragment, the same bytes for every recipient.
#[derive(Serialize)]
pub struct Line<'a> {
    message: MessageView<'a>,
    html: String,
}

impl<'a> Line<'a> {
    pub fn new(m: &'a Message) -> Self {
        Line {
            message: MessageView::new(m, None),
            html: fragments::message(m).into_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::Kind;

    fn planning() -> Conversation {
        Conversation {
            id: 2,
            kind: Kind::Group,
            name: "planning".into(),
            topic: "Q3".into(),
            archived: false,
            created_at: 0,
            last_message_id: 0,
            last_activity_at: 0,
            picture: None,
        }
    }

    #[test]
    fn only_what_changed_is_told() {
        let c = planning();
        assert_eq!(changes(&c, Some("planning"), Some("Q3"), Some(false)), None);
        assert_eq!(changes(&c, None, None, None), None);
        assert_eq!(
            changes(&c, Some("plans"), Some("Q3"), Some(true)),
            Some(Notice::Updated {
                name: Some("plans".into()),
                old_name: Some("planning".into()),
                topic: None,
                archived: Some(true),
            })
        );
        assert_eq!(
            changes(&c, None, Some(""), None),
            Some(Notice::Updated {
                name: None,
                old_name: None,
                topic: Some(String::new()),
                archived: None,
            })
        );
    }

    #[test]
    fn a_notice_is_json_tagged_by_its_action() {
        let ada = UserRef {
            id: 1,
            username: "ada".into(),
            display_name: "Ada".into(),
            avatar: None,
            bot: false,
        };
        let added = Notice::Added { user: ada };
        let json = serde_json::to_value(&added).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"action": "added", "user": {"id": 1, "username": "ada", "display_name": "Ada", "avatar_url": null}})
        );
        assert_eq!(serde_json::from_value::<Notice>(json).unwrap(), added);
        let renamed = changes(&planning(), Some("plans"), None, None).unwrap();
        assert_eq!(
            serde_json::to_value(&renamed).unwrap(),
            serde_json::json!({"action": "updated", "name": "plans", "old_name": "planning"})
        );
    }
}
