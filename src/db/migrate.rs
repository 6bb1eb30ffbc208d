//! Schema migrations: `schema.sql` split at its `-- version N` lines, keyed on `PRAGMA user_version`.

use rusqlite::Connection;

use crate::error::{Error, Result};

const SCHEMA: &str = include_str!("../../schema.sql");

/// The steps of `schema.sql`, as (version, sql).
fn steps() -> Vec<(u32, &'static str)> {
    let mut steps = Vec::new();
    let mut rest = SCHEMA;
    while let Some(start) = rest.find("\n-- version ") {
        let after = &rest[start + "\n-- version ".len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        let version: u32 = digits.parse().expect("schema.sql: version number");
        let body_end = after.find("\n-- version ").unwrap_or(after.len());
        let body_start = after.find('\n').unwrap_or(body_end).min(body_end);
        steps.push((version, &after[body_start..body_end]));
        rest = &after[body_end..];
        if body_end == after.len() {
            break;
        }
    }
    steps
}

/// The schema version this binary writes.
pub static LATEST_VERSION: std::sync::LazyLock<u32> =
    std::sync::LazyLock::new(|| steps().last().map_or(0, |s| s.0));

/// Brings the database up to [`LATEST_VERSION`], one step per transaction.
/// A file from a newer Hearth is refused untouched.
pub fn migrate(conn: &mut Connection) -> Result<u32> {
    migrate_to(conn, *LATEST_VERSION)
}

/// Migrates up to `target` (tests use this to build an older file).
pub fn migrate_to(conn: &mut Connection, target: u32) -> Result<u32> {
    let current: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > *LATEST_VERSION {
        return Err(Error::Database(format!(
            "hearth.db has schema version {current}, written by a newer Hearth; this binary \
             knows up to version {}. Upgrade Hearth (or restore a backup made by this version).",
            *LATEST_VERSION
        )));
    }
    for (version, sql) in steps() {
        if version <= current || version > target {
            continue;
        }
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "database migrated");
    }
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_numbered_one_after_another() {
        let versions: Vec<u32> = steps().iter().map(|s| s.0).collect();
        assert!(!versions.is_empty());
        assert_eq!(versions, (1..=versions.len() as u32).collect::<Vec<_>>());
    }

    #[test]
    fn an_older_file_is_migrated_forward() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("x.db")).unwrap();
        assert_eq!(migrate_to(&mut conn, 1).unwrap(), 1);
        conn.execute(
            "INSERT INTO users (username, display_name, password_hash, created_at) VALUES ('ada','Ada','x',0)",
            [],
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), *LATEST_VERSION);
        assert!(*LATEST_VERSION >= 2);
        // The old rows are kept and the new tables exist.
        let n: i64 = conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        let n: i64 = conn
            .query_row("SELECT count(*) FROM messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // Running again is a no-op.
        assert_eq!(migrate(&mut conn).unwrap(), *LATEST_VERSION);
    }

    #[test]
    fn a_newer_file_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("x.db")).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
        let err = migrate(&mut conn).unwrap_err();
        assert!(err.to_string().contains("newer Hearth"), "{err}");
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 0);
    }
}
