//! The event log: every change others must see, with a global increasing `seq`.

use rusqlite::{Connection, params};

use crate::domain::UserId;
use crate::domain::chat::ConversationId;
use crate::error::Result;

/// Who an event is for: the members of a conversation, or one user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Conversation(ConversationId),
    User(UserId),
}

/// The seq the next event will get. Only the single writer appends, so this cannot race.
pub fn next_seq(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) + 1 FROM events")?
        .query_row([], |r| r.get(0))?)
}

/// Appends an event whose frame is built knowing its seq; returns (seq, frame).
pub fn append(
    conn: &Connection,
    audience: Audience,
    kind: &str,
    conversation: Option<ConversationId>,
    frame: impl FnOnce(i64) -> String,
    now: i64,
) -> Result<(i64, String)> {
    let seq = next_seq(conn)?;
    let frame = frame(seq);
    let user = match audience {
        Audience::User(u) => Some(u),
        Audience::Conversation(_) => None,
    };
    let conversation = match audience {
        Audience::Conversation(c) => Some(c),
        Audience::User(_) => conversation,
    };
    conn.prepare_cached(
        "INSERT INTO events (seq, conversation_id, user_id, kind, frame, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![seq, conversation, user, kind, frame, now])?;
    Ok((seq, frame))
}

/// The newest seq (0 when none).
pub fn current_seq(conn: &Connection) -> Result<i64> {
    Ok(next_seq(conn)? - 1)
}

/// The oldest seq still kept (None when the log is empty).
pub fn oldest_seq(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MIN(seq) FROM events")?
        .query_row([], |r| r.get(0))?)
}

/// Events for `user` after `since`, in order, at most `limit`.
pub fn since(
    conn: &Connection,
    user: UserId,
    since: i64,
    limit: usize,
) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, frame FROM events
         WHERE seq > ?2 AND (user_id = ?1 OR (user_id IS NULL AND conversation_id IN
               (SELECT conversation_id FROM memberships WHERE user_id = ?1)))
         ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![user, since, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// One stored event: (seq, conversation, user, frame).
pub type Stored = (i64, Option<ConversationId>, Option<UserId>, String);

/// Events with `after < seq < before`, in order.
pub fn between(conn: &Connection, after: i64, before: i64) -> Result<Vec<Stored>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, conversation_id, user_id, frame FROM events
         WHERE seq > ?1 AND seq < ?2 ORDER BY seq",
    )?;
    let rows = stmt
        .query_map(params![after, before], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Forgets events older than `before_ms`, always keeping the newest `keep` of them.
pub fn prune(conn: &Connection, before_ms: i64, keep: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM events WHERE created_at < ?1 AND seq <= (SELECT MAX(seq) FROM events) - ?2",
        params![before_ms, keep],
    )?)
}
