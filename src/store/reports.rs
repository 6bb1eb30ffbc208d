//! Reports: a member's report of a message to the admins.

use rusqlite::{Connection, params};

use crate::domain::UserId;
use crate::domain::chat::MessageId;
use crate::error::Result;

pub fn insert(
    conn: &Connection,
    message: MessageId,
    reporter: UserId,
    reason: &str,
    now: i64,
) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO reports (message_id, reporter_id, reason, created_at)
             VALUES (?1, ?2, ?3, ?4) RETURNING id",
        )?
        .query_row(params![message, reporter, reason, now], |r| r.get(0))?)
}

/// Whether anyone reported the message (which lets the admins open it).
pub fn is_reported(conn: &Connection, message: MessageId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM reports WHERE message_id = ?1)")?
        .query_row([message], |r| r.get(0))?)
}
