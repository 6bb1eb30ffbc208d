//! Read state and typing: marking read, unread totals, "seen by", typing notices.

use axum::extract::ws::Utf8Bytes;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;

use super::auth::still_active;
use super::limits::Budget;
use super::{Chat, emit, membership};
use crate::domain::chat::{ConversationId, Kind, MessageId, UserRef};
use crate::domain::{User, UserId};
use crate::error::{Error, Result};
use crate::hub::Outgoing;
use crate::store::events::Audience;
use crate::store::{memberships, messages, reads};

/// Marks a conversation read up to `up_to` (default: its newest message). Never moves back.
pub async fn mark_read(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    up_to: Option<MessageId>,
) -> Result<()> {
    chat.limits.spend(Budget::Read, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, _) = membership(ctx.conn, &me, conversation)?;
            let target = match up_to {
                Some(id) if !messages::exists_in(ctx.conn, conversation, id)? => {
                    return Err(Error::invalid(format!(
                        "no message {id} in this conversation"
                    )));
                }
                Some(id) => id,
                None => c.last_message_id,
            };
            if !reads::mark_read(ctx.conn, conversation, me.id, target)? {
                return Ok(());
            }
            // Receipts matter in small rooms; in channels only the reader's other tabs need to know.
            let audience = match c.kind {
                Kind::Channel => Audience::User(me.id),
                Kind::Group | Kind::Direct => Audience::Conversation(conversation),
            };
            let data = json!({"user": UserRef::from(&me), "message_id": target});
            emit(
                ctx,
                &live,
                audience,
                "read.updated",
                Some(conversation),
                data,
            )?;
            Ok(())
        })
        .await
}

/// Unread counts for the badge and the tab title.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unread {
    pub total: i64,
    pub mentions: i64,
    pub conversations: BTreeMap<String, i64>,
    pub mention_counts: BTreeMap<String, i64>,
}

pub async fn unread(chat: &Chat, user: &User) -> Result<Unread> {
    let id = user.id;
    let rows = chat.db.read(move |conn| reads::unread(conn, id)).await?;
    let mut out = Unread {
        total: 0,
        mentions: 0,
        conversations: BTreeMap::new(),
        mention_counts: BTreeMap::new(),
    };
    for (conversation, unread, mentions) in rows {
        out.total += unread;
        out.mentions += mentions;
        out.conversations.insert(conversation.to_string(), unread);
        out.mention_counts
            .insert(conversation.to_string(), mentions);
    }
    Ok(out)
}

/// Tells the other members that `user` is typing (at most once per 2 s per conversation).
pub async fn typing(chat: &Chat, user: &User, conversation: ConversationId) -> Result<()> {
    chat.limits.spend(Budget::Typing, user.id)?;
    let (me, hub) = (user.clone(), chat.hub.clone());
    let members: Vec<UserId> = chat
        .db
        .read(move |conn| {
            still_active(conn, &hub, &me)?;
            let (c, _) = membership(conn, &me, conversation)?;
            super::writable(&c)?;
            memberships::member_ids(conn, conversation)
        })
        .await?;
    if !chat.hub.typing_allowed(user.id, conversation) {
        return Ok(());
    }
    let others: Vec<UserId> = members.into_iter().filter(|m| *m != user.id).collect();
    let frame =
        json!({"type": "typing", "conversation": conversation, "user": UserRef::from(user)});
    chat.hub.deliver(
        &others,
        &Outgoing {
            seq: 0,
            frame: Utf8Bytes::from(frame.to_string()),
        },
    );
    Ok(())
}
