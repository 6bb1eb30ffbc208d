//! The event log: every change others must see, with a global increasing `seq`.
//!
//! Seqs never repeat across timelines. Each process starts numbering at no less than the wall
//! clock in microseconds ([`seq_floor`]), and within a run they go up by one. A database restored
//! from an older copy (`hearth restore`, a Litestream replica) therefore never issues again a seq
//! that clients of the lost timeline saw: their `since` is not in this log, and they are told to
//! resync ([`resume`]) instead of silently missing what was lost.

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

/// The most events a resuming client is sent; one further behind is told to resync.
pub const REPLAY_MAX: usize = 10_000;
/// The newest events the log keeps: everything replay can use, plus a margin for what is
/// written between two prunings.
pub const KEEP: i64 = REPLAY_MAX as i64 + 10_000;
// A client exactly REPLAY_MAX behind needs its since and the REPLAY_MAX events after it.
const _: () = assert!(KEEP > REPLAY_MAX as i64);

/// The least seq a process started now may give its first event: the wall clock in
/// microseconds (about 1.8e15 in 2026, well within the 2^53 a JavaScript number holds exactly).
pub fn seq_floor() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// The seq the next event will get, at least `floor`. Only the single writer appends, so this
/// cannot race.
pub fn next_seq(conn: &Connection, floor: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT MAX(COALESCE(MAX(seq), 0) + 1, ?1) FROM events")?
        .query_row([floor], |r| r.get(0))?)
}

/// Appends an event whose frame is built knowing its seq (at least `floor`); returns
/// (seq, frame).
pub fn append(
    conn: &Connection,
    floor: i64,
    audience: Audience,
    kind: &str,
    conversation: Option<ConversationId>,
    frame: impl FnOnce(i64) -> String,
    now: i64,
) -> Result<(i64, String)> {
    let seq = next_seq(conn, floor)?;
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
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM events")?
        .query_row([], |r| r.get(0))?)
}

/// What a client that has every event up to `since` gets, the log's newest being `current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resume {
    /// It has everything.
    UpToDate,
    /// Every event after `since` is in the log, and at most [`REPLAY_MAX`] of them.
    Replay,
    /// What it has cannot be completed from the log: it must reload its state.
    Resync,
}

/// Decides how a client resumes from `since`. Its `since` must be an event this log holds (or
/// the newest): one the log no longer holds was pruned, and one it never held belongs to
/// another timeline (the database was restored from an older copy), whose seqs this log never
/// reuses.
pub fn resume(conn: &Connection, since: i64, current: i64) -> Result<Resume> {
    if since == current {
        return Ok(Resume::UpToDate);
    }
    if since <= 0 || since > current {
        return Ok(Resume::Resync);
    }
    let kept: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM events WHERE seq = ?1)")?
        .query_row([since], |r| r.get(0))?;
    if !kept {
        return Ok(Resume::Resync);
    }
    let behind: i64 = conn
        .prepare_cached("SELECT count(*) FROM (SELECT 1 FROM events WHERE seq > ?1 LIMIT ?2)")?
        .query_row(params![since, REPLAY_MAX as i64 + 1], |r| r.get(0))?;
    Ok(if behind > REPLAY_MAX as i64 {
        Resume::Resync
    } else {
        Resume::Replay
    })
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

/// Forgets the oldest events beyond the newest `keep`, at most `chunk` of them; returns how
/// many went (fewer than `chunk`: nothing is left to prune).
pub fn prune(conn: &Connection, keep: i64, chunk: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM events WHERE seq IN (
                 SELECT seq FROM events
                 WHERE seq < (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET ?1)
                 ORDER BY seq LIMIT ?2)",
        )?
        .execute(params![keep - 1, chunk])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        conn
    }

    fn add(conn: &Connection, floor: i64) -> i64 {
        let audience = Audience::User(1);
        append(conn, floor, audience, "t", None, |seq| seq.to_string(), 0)
            .unwrap()
            .0
    }

    fn seqs(conn: &Connection) -> Vec<i64> {
        between(conn, 0, i64::MAX)
            .unwrap()
            .into_iter()
            .map(|e| e.0)
            .collect()
    }

    #[test]
    fn seqs_start_at_the_floor_then_go_up_by_one_and_never_go_back() {
        let conn = log();
        assert_eq!(current_seq(&conn).unwrap(), 0);
        assert_eq!(add(&conn, 1000), 1000);
        assert_eq!(add(&conn, 1000), 1001);
        // A later process (a higher floor) jumps ahead; a lower floor never goes back.
        assert_eq!(add(&conn, 5000), 5000);
        assert_eq!(add(&conn, 10), 5001);
        assert_eq!(current_seq(&conn).unwrap(), 5001);
        let floor = seq_floor();
        assert!(
            floor > 1_700_000_000_000_000,
            "microseconds of the wall clock"
        );
        assert!(floor < 1 << 53, "exact in a JavaScript number");
    }

    #[test]
    fn resume_replays_only_from_a_seq_this_log_holds() {
        let conn = log();
        let first = add(&conn, 100);
        let second = add(&conn, 100);
        let current = add(&conn, 100);
        assert_eq!(resume(&conn, current, current).unwrap(), Resume::UpToDate);
        assert_eq!(resume(&conn, first, current).unwrap(), Resume::Replay);
        assert_eq!(resume(&conn, second, current).unwrap(), Resume::Replay);
        // Ahead of the log, zero, negative: another timeline or nonsense.
        assert_eq!(resume(&conn, current + 1, current).unwrap(), Resume::Resync);
        assert_eq!(resume(&conn, 0, current).unwrap(), Resume::Resync);
        assert_eq!(resume(&conn, -5, current).unwrap(), Resume::Resync);
        // Inside the range but never issued here (a restored database's lost timeline).
        assert_eq!(resume(&conn, first - 1, current).unwrap(), Resume::Resync);
        // Pruned.
        conn.execute("DELETE FROM events WHERE seq = ?1", [first])
            .unwrap();
        assert_eq!(resume(&conn, first, current).unwrap(), Resume::Resync);
        assert_eq!(resume(&conn, second, current).unwrap(), Resume::Replay);
    }

    #[test]
    fn resume_replays_exactly_the_replay_limit_and_not_one_more() {
        let conn = log();
        conn.execute_batch("BEGIN").unwrap();
        let first = add(&conn, 1);
        for _ in 0..=REPLAY_MAX {
            add(&conn, 1);
        }
        conn.execute_batch("COMMIT").unwrap();
        let current = current_seq(&conn).unwrap();
        // `first + 1` has exactly REPLAY_MAX after it; `first` has one more.
        assert_eq!(resume(&conn, first + 1, current).unwrap(), Resume::Replay);
        assert_eq!(resume(&conn, first, current).unwrap(), Resume::Resync);
    }

    #[test]
    fn prune_keeps_exactly_the_newest_and_deletes_in_chunks() {
        let conn = log();
        for _ in 0..25 {
            add(&conn, 1);
        }
        assert_eq!(prune(&conn, 10, 4).unwrap(), 4);
        assert_eq!(seqs(&conn), (5..=25).collect::<Vec<_>>());
        let mut more = 0;
        loop {
            let gone = prune(&conn, 10, 4).unwrap();
            more += gone;
            if gone < 4 {
                break;
            }
        }
        assert_eq!(more, 11);
        assert_eq!(seqs(&conn), (16..=25).collect::<Vec<_>>());
        assert_eq!(
            prune(&conn, 10, 4).unwrap(),
            0,
            "at the limit: nothing to prune"
        );
        assert_eq!(prune(&conn, 11, 4).unwrap(), 0, "under the limit: nothing");
        assert_eq!(prune(&conn, 9, 4).unwrap(), 1, "one past it: one goes");
        assert_eq!(seqs(&conn), (17..=25).collect::<Vec<_>>());
    }
}
