//! The audit log: who did what to whom, for administrative actions.

use rusqlite::{Connection, params};

use crate::domain::now_ms;
use crate::error::Result;

/// Records an action; `actor` is a username or `cli` for the command line.
pub fn record(conn: &Connection, actor: &str, action: &str, target: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log (at, actor, action, target) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![now_ms(), actor, action, target])?;
    Ok(())
}
