//! Conversations: channels, groups and directs, and the list a member sees.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::UserId;
use crate::domain::chat::{Conversation, ConversationId, Kind};
use crate::error::Result;

/// The columns `from_row` reads, in its order; a query that adds its own puts them after.
pub(crate) const COLUMNS: &str = "c.id, c.kind, c.name, c.topic, c.archived, c.created_at, c.last_message_id, c.last_activity_at, c.picture_sha256";

pub fn from_row(row: &Row) -> rusqlite::Result<Conversation> {
    let kind: String = row.get(1)?;
    Ok(Conversation {
        id: row.get(0)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Group),
        name: row.get(2)?,
        topic: row.get(3)?,
        archived: row.get(4)?,
        created_at: row.get(5)?,
        last_message_id: row.get(6)?,
        last_activity_at: row.get(7)?,
        picture: row.get(8)?,
    })
}

pub fn insert(
    conn: &Connection,
    kind: Kind,
    name: &str,
    topic: &str,
    direct_key: Option<&str>,
    created_by: Option<UserId>,
    now: i64,
) -> Result<ConversationId> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO conversations (kind, name, topic, direct_key, created_by, created_at, last_activity_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) RETURNING id",
        )?
        .query_row(params![kind.as_str(), name, topic, direct_key, created_by, now], |r| r.get(0))?)
}

pub fn get(conn: &Connection, id: ConversationId) -> Result<Conversation> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM conversations c WHERE c.id = ?1"
        ))?
        .query_row([id], from_row)?)
}

/// The direct conversation of a pair, if it exists.
pub fn direct(conn: &Connection, key: &str) -> Result<Option<ConversationId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM conversations WHERE direct_key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// The key that makes directs unique per pair, whatever the order.
pub fn direct_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

/// A channel by name, any letter case.
pub fn channel_by_name(conn: &Connection, name: &str) -> Result<Option<ConversationId>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM conversations WHERE kind = 'channel' AND name = ?1 COLLATE NOCASE",
        )?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Every channel, for the channel browser, with its member count.
pub fn channels(conn: &Connection) -> Result<Vec<(Conversation, i64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, (SELECT count(*) FROM memberships m WHERE m.conversation_id = c.id)
         FROM conversations c WHERE c.kind = 'channel' ORDER BY c.archived, c.name COLLATE NOCASE"
    ))?;
    let rows = stmt
        .query_map([], |r| Ok((from_row(r)?, r.get(9)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn set_name(conn: &Connection, id: ConversationId, name: &str) -> Result<()> {
    conn.execute(
        "UPDATE conversations SET name = ?2 WHERE id = ?1",
        params![id, name],
    )?;
    Ok(())
}

pub fn set_topic(conn: &Connection, id: ConversationId, topic: &str) -> Result<()> {
    conn.execute(
        "UPDATE conversations SET topic = ?2 WHERE id = ?1",
        params![id, topic],
    )?;
    Ok(())
}

pub fn set_archived(conn: &Connection, id: ConversationId, archived: bool) -> Result<()> {
    conn.execute(
        "UPDATE conversations SET archived = ?2 WHERE id = ?1",
        params![id, archived],
    )?;
    Ok(())
}

/// Sets or clears a channel's or group's picture.
pub fn set_picture(conn: &Connection, id: ConversationId, sha256: Option<&str>) -> Result<()> {
    conn.execute(
        "UPDATE conversations SET picture_sha256 = ?2 WHERE id = ?1",
        params![id, sha256],
    )?;
    Ok(())
}

/// Records a new message as the conversation's latest activity.
pub fn touch(conn: &Connection, id: ConversationId, message_id: i64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET last_message_id = max(last_message_id, ?2), last_activity_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, message_id, now])?;
    Ok(())
}

/// Records `message_id`, written at `at`, as the conversation's latest activity unless later
/// activity is already recorded (imported history arrives with its own, older times).
pub fn touch_at(conn: &Connection, id: ConversationId, message_id: i64, at: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET last_message_id = max(last_message_id, ?2),
                                  last_activity_at = max(last_activity_at, ?3)
         WHERE id = ?1",
    )?
    .execute(params![id, message_id, at])?;
    Ok(())
}

/// Every channel and group (support conversations aside), for the admin console, with its
/// member count: channels first, then by name.
pub fn all_shared(conn: &Connection) -> Result<Vec<(Conversation, i64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, (SELECT count(*) FROM memberships m WHERE m.conversation_id = c.id)
         FROM conversations c
         WHERE c.kind IN ('channel', 'group')
           AND NOT EXISTS (SELECT 1 FROM support_threads t WHERE t.conversation_id = c.id)
         ORDER BY c.kind, c.name COLLATE NOCASE, c.id"
    ))?;
    let rows = stmt
        .query_map([], |r| Ok((from_row(r)?, r.get(9)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Deletes a conversation with everything in it (messages, memberships, reactions, mentions
/// and their search rows go with it by cascade and trigger).
pub fn delete(conn: &Connection, id: ConversationId) -> Result<()> {
    conn.execute("DELETE FROM conversations WHERE id = ?1", [id])?;
    Ok(())
}
