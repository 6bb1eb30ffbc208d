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
