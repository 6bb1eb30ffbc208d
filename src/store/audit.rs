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

/// One row of the audit log as the admin console shows it.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = AuditEntry)]
pub struct Entry {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Which rows to show: by actor or target (a name), by action (or its family: `user` matches
/// `user.role.admin`), older than `before` (an id).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub person: String,
    pub action: String,
    pub before: Option<i64>,
}

/// Up to `limit` rows matching `filter`, newest first.
pub fn page(conn: &Connection, filter: &Filter, limit: usize) -> Result<Vec<Entry>> {
    let person = filter.person.trim();
    let action = filter.action.trim();
    let mut stmt = conn.prepare_cached(
        "SELECT id, at, actor, action, target, detail FROM audit_log
         WHERE id < ?1
           AND (?2 = '' OR actor = ?2 COLLATE NOCASE OR target = ?2 COLLATE NOCASE)
           AND (?3 = '' OR action = ?3 OR substr(action, 1, length(?3) + 1) = ?3 || '.')
         ORDER BY id DESC LIMIT ?4",
    )?;
    let rows = stmt
        .query_map(
            params![
                filter.before.unwrap_or(i64::MAX),
                person,
                action,
                limit as i64
            ],
            |r| {
                Ok(Entry {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    detail: r.get(5)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Removes up to `chunk` rows older than `before` (unix ms); returns how many went.
pub fn prune(conn: &Connection, before: i64, chunk: usize) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM audit_log WHERE id IN
           (SELECT id FROM audit_log WHERE at < ?1 ORDER BY id LIMIT ?2)",
        params![before, chunk as i64],
    )?)
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
