//! The audit log: who did what to whom, for administrative actions.

use rusqlite::{Connection, params};

use crate::domain::now_ms;
use crate::error::Result;

/// Records an action; `actor` is a username or `cli` for the command line.
pub fn record(conn: &Connection, actor: &str, action: &str, target: &str) -> Result<()> {
    record_detail(conn, actor, action, target, "")
}

/// Records an action with what it was about beyond its target (JSON, or empty).
pub fn record_detail(
    conn: &Connection,
    actor: &str,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![now_ms(), actor, action, target, detail])?;
    Ok(())
}

/// Audit rows after `after_id`, as (id, action, target), oldest first.
pub fn since(conn: &Connection, after_id: i64) -> Result<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, action, target FROM audit_log WHERE id > ?1 ORDER BY id LIMIT 1000",
    )?;
    let rows = stmt
        .query_map([after_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The newest audit row id (0 when none).
pub fn last_id(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM audit_log")?
        .query_row([], |r| r.get(0))?)
}
