//! Settings of the instance, by name: values the server makes once and keeps (its secrets),
//! and those an admin changes at runtime (`instance.*`).

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;

/// The value stored under `name`, if any.
pub fn get(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

/// Stores `value` under `name` unless a value is there already; returns the value kept.
pub fn get_or_insert(conn: &Connection, name: &str, value: &[u8]) -> Result<Vec<u8>> {
    conn.prepare_cached(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![name, value])?;
    Ok(get(conn, name)?.unwrap_or_else(|| value.to_vec()))
}

/// Stores `value` under `name`, replacing what was there.
pub fn put(conn: &Connection, name: &str, value: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![name, value])?;
    Ok(())
}

/// Removes the value stored under `name`, if any.
pub fn delete(conn: &Connection, name: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM settings WHERE name = ?1")?
        .execute([name])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_value_stays() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(dir.path(), crate::config::Synchronous::Normal).unwrap();
        let kept = db
            .write_blocking(|ctx| {
                assert_eq!(get(ctx.conn, "k")?, None);
                assert_eq!(get_or_insert(ctx.conn, "k", b"one")?, b"one");
                get_or_insert(ctx.conn, "k", b"two")
            })
            .unwrap();
        assert_eq!(kept, b"one");
        assert_eq!(
            db.read_blocking(|c| get(c, "k")).unwrap().as_deref(),
            Some(&b"one"[..])
        );
        db.writer().shutdown();
    }
}
