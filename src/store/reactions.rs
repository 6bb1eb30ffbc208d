//! Reactions: one row per (message, emoji, person).

use rusqlite::{Connection, params};

use crate::domain::UserId;
use crate::domain::chat::MessageId;
use crate::error::Result;

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
