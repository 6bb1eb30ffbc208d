//! The outbox: jobs for work that leaves the process, written in the same transaction as what
//! causes them, taken by a worker, retried with backoff until done or given up.

use rusqlite::{Connection, params};

use crate::error::Result;

/// A job as the worker takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub attempts: i64,
}

/// Queues a job once: a second job with the same `key` is ignored. True when queued.
pub fn enqueue(conn: &Connection, kind: &str, key: &str, payload: &str, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO outbox (kind, key, payload, run_at, created_at) VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (key) DO NOTHING",
        )?
        .execute(params![kind, key, payload, now])?
        == 1)
}

/// Up to `limit` jobs due at `now`, oldest first.
pub fn due(conn: &Connection, now: i64, limit: usize) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, kind, payload, attempts FROM outbox WHERE run_at <= ?1 ORDER BY run_at, id
         LIMIT ?2",
    )?;
    let jobs = stmt
        .query_map(params![now, limit as i64], |r| {
            Ok(Job {
                id: r.get(0)?,
                kind: r.get(1)?,
                payload: r.get(2)?,
                attempts: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(jobs)
}

/// When the next job is due, if any.
pub fn next_due(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT min(run_at) FROM outbox")?
        .query_row([], |r| r.get(0))?)
}

/// Puts a job off until `run_at` (taken, or failed with `error`).
pub fn put_off(conn: &Connection, id: i64, run_at: i64, error: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, run_at = ?2, last_error = ?3 WHERE id = ?1",
    )?
    .execute(params![id, run_at, error])?;
    Ok(())
}

/// Moves a job that failed to `run_at`, keeping its count of attempts.
pub fn retry_at(conn: &Connection, id: i64, run_at: i64, error: &str) -> Result<()> {
    conn.prepare_cached("UPDATE outbox SET run_at = ?2, last_error = ?3 WHERE id = ?1")?
        .execute(params![id, run_at, error])?;
    Ok(())
}

/// Removes a job: done, or given up.
pub fn finish(conn: &Connection, id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// How many jobs wait.
pub fn len(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM outbox")?
        .query_row([], |r| r.get(0))?)
}

/// Removes the job queued under `key`, if any: a job that replaces itself, or one whose outcome
/// is recorded in the same write that removes it. True when one was there.
pub fn forget(conn: &Connection, key: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM outbox WHERE key = ?1")?
        .execute([key])?
        == 1)
}

/// Puts the job queued under `key` back to wait until `run_at`, as if new: its attempts and
/// error cleared, and under a fresh id, so that the worker, which removes the id it ran once
/// the run ends, leaves it be (a job that waits for something while it runs).
pub fn put_back(conn: &Connection, key: &str, run_at: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE outbox SET id = (SELECT max(id) + 1 FROM outbox), run_at = ?2, attempts = 0,
                 last_error = ''
             WHERE key = ?1",
        )?
        .execute(params![key, run_at])?
        == 1)
}

/// Whether some job's key starts with `prefix` (a range of the key index, not a scan).
pub fn any_with_prefix(conn: &Connection, prefix: &str) -> Result<bool> {
    let mut end = prefix.to_owned();
    let last = end.pop().map_or('\u{1}', |c| {
        char::from_u32(c as u32 + 1).unwrap_or(char::MAX)
    });
    end.push(last);
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM outbox WHERE key >= ?1 AND key < ?2)")?
        .query_row(params![prefix, end], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_put_back_outlives_the_run_that_put_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(dir.path(), crate::config::Synchronous::Normal).unwrap();
        db.write_blocking(|ctx| {
            let c = ctx.conn;
            assert!(enqueue(c, "k", "k:1", "{}", 10)?);
            assert!(!enqueue(c, "k", "k:1", "{}", 10)?, "once per key");
            let taken = due(c, 10, 8)?.pop().unwrap();
            put_off(c, taken.id, 70, "")?;
            // The run puts its job back; the worker then finishes the id it ran.
            assert!(put_back(c, "k:1", 500)?);
            finish(c, taken.id)?;
            assert_eq!(next_due(c)?, Some(500));
            let again = due(c, 500, 8)?.pop().unwrap();
            assert_ne!(again.id, taken.id);
            assert_eq!(again.attempts, 0);
            assert!(any_with_prefix(c, "k:")? && !any_with_prefix(c, "k:2")?);
            assert!(!any_with_prefix(c, "j")? && !any_with_prefix(c, "l")?);
            assert!(forget(c, "k:1")? && !forget(c, "k:1")?);
            assert_eq!(len(c)?, 0);
            Ok(())
        })
        .unwrap();
        db.writer().shutdown();
    }
}
