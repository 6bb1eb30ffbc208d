//! The JSON shapes of the wire contract for messages and conversations.

use serde_json::{Value, json};

use crate::domain::UserId;
use crate::domain::chat::{Conversation, Member, Message, Summary};

/// A message as the API and events show it. With a viewer, reactions say `me`.
pub fn message(m: &Message, viewer: Option<UserId>) -> Value {
    let reactions: Vec<Value> = m
        .reactions
        .iter()
        .map(|r| {
            let mut v = json!({"emoji": r.emoji, "count": r.count, "user_ids": r.user_ids});
            if let Some(me) = viewer {
                v["me"] = json!(r.user_ids.contains(&me));
            }
            v
        })
        .collect();
    json!({
        "id": m.id,
        "conversation_id": m.conversation_id,
        "sender": m.sender,
        "body": m.body,
        "html": m.html,
        "created_at": m.created_at,
        "edited_at": m.edited_at,
        "deleted": m.deleted,
        "reply_to": m.reply_to,
        "reply": m.reply,
        "reactions": reactions,
        "client_id": m.client_id,
    })
}

pub fn conversation(c: &Conversation) -> Value {
    json!(c)
}

pub fn conversation_with_members(c: &Conversation, members: &[Member]) -> Value {
    let mut v = json!(c);
    v["members"] = json!(members);
    v
}

pub fn summary(s: &Summary) -> Value {
    let mut v = json!(s);
    v["title"] = json!(s.title());
    v
}
