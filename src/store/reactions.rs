//! Reactions: one row per (message, emoji, person), and loading those of a page of messages.

use rusqlite::{Connection, params};
use std::collections::HashMap;
use std::fmt::Write;

use crate::domain::UserId;
use crate::domain::chat::{Message, MessageId, Reaction};
use crate::error::Result;

/// The reactions of the messages whose ids are in the JSON array `?1`, each found through the
/// primary key. Never a range of ids: a conversation's messages are spread among everyone
/// else's, so the range between a page's first and last message can hold most of the table.
pub(crate) const OF_MESSAGES: &str = "SELECT message_id, emoji, user_id FROM reactions
     WHERE message_id IN (SELECT value FROM json_each(?1))
     ORDER BY message_id, created_at, user_id";

/// Adds a reaction; false when it was already there.
pub fn add(
    conn: &Connection,
    message: MessageId,
    emoji: &str,
    user: UserId,
    now: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![message, emoji, user, now])?
        == 1)
}

/// Removes a reaction; false when it was not there.
pub fn remove(conn: &Connection, message: MessageId, emoji: &str, user: UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM reactions WHERE message_id = ?1 AND emoji = ?2 AND user_id = ?3",
        )?
        .execute(params![message, emoji, user])?
        == 1)
}

/// How many distinct emoji a message carries (to bound them).
pub fn distinct_count(conn: &Connection, message: MessageId) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(DISTINCT emoji) FROM reactions WHERE message_id = ?1")?
        .query_row([message], |r| r.get(0))?)
}

/// Fills in each message's reactions (grouped by emoji, in order of first use).
pub fn attach(conn: &Connection, messages: &mut [Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut ids = String::with_capacity(messages.len() * 8 + 2);
    ids.push('[');
    for (i, m) in messages.iter().enumerate() {
        let comma = if i == 0 { "" } else { "," };
        write!(ids, "{comma}{}", m.id).expect("writing to a String");
    }
    ids.push(']');
    let mut by_message: HashMap<MessageId, Vec<Reaction>> = HashMap::new();
    let mut stmt = conn.prepare_cached(OF_MESSAGES)?;
    let rows = stmt.query_map([ids], |r| {
        Ok((
            r.get::<_, MessageId>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, UserId>(2)?,
        ))
    })?;
    for row in rows {
        let (message, emoji, user) = row?;
        let list = by_message.entry(message).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(r) => {
                r.count += 1;
                r.user_ids.push(user);
            }
            None => list.push(Reaction {
                emoji,
                count: 1,
                user_ids: vec![user],
            }),
        }
    }
    for m in messages {
        if let Some(reactions) = by_message.remove(&m.id) {
            m.reactions = reactions;
        }
    }
    Ok(())
}
