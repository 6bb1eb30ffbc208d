//! The operator's toolkit: backups and restores, checks, statistics, exports and the
//! single-instance lock. Everything here works beside a running server: it reads the live
//! database through its own read-only connection and never takes the writer's lock.
//!
//! Layout of a data dir:
//!
//! ```text
//! hearth.db  hearth.db-wal  hearth.db-shm   the database (WAL mode)
//! hearth.lock                               held by `hearth serve` (and `hearth restore`)
//! attachments/ab/ab12…                      attachment blobs, named by their SHA-256
//! backups/                                  the default folder of scheduled backups
//! ```

pub mod archive;
pub mod backup;
pub mod check;
mod check_remote;
pub mod export;
mod export_html;
pub mod litestream;
pub mod lock;
pub mod migrate;
pub mod progress;
pub mod restore;
pub mod stats;
pub mod stored;

use rusqlite::{Connection, OpenFlags};
use std::path::Path;

use crate::db::LATEST_VERSION;
use crate::error::{Error, Result};

pub use progress::Progress;

pub const DB_FILE: &str = "hearth.db";
pub use crate::blobs::{ATTACHMENTS_DIR, attachment_path};

/// An io error that names what it was doing.
pub(crate) fn io_error(what: impl std::fmt::Display, err: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(err.kind(), format!("{what}: {err}")))
}

/// Opens the live `hearth.db` read-only, as it is (never created, never migrated).
/// A reader in WAL mode never blocks the server's writer, nor is blocked by it.
pub fn open_live(data_dir: &Path) -> Result<Connection> {
    let path = data_dir.join(DB_FILE);
    if !path.is_file() {
        return Err(Error::invalid(format!(
            "there is no database at {} (is --data-dir right?)",
            path.display()
        )));
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| Error::Database(format!("cannot open {}: {e}", path.display())))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version = schema_version(&conn).map_err(|e| {
        Error::Database(format!(
            "{} is not a Hearth database, or it is corrupt: {e}",
            path.display()
        ))
    })?;
    if version > *LATEST_VERSION {
        return Err(Error::Database(format!(
            "{} has schema version {version}, written by a newer Hearth; this binary knows up \
             to version {}. Use the newer Hearth.",
            path.display(),
            *LATEST_VERSION
        )));
    }
    Ok(conn)
}

/// `PRAGMA user_version`, after a first real read of the file (which fails on a foreign file).
pub fn schema_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })?;
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Whether a table (or virtual table) exists: the checks and counts work on any schema version.
pub(crate) fn has_table(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )?)
}

/// Whether a table has a column (columns added by later schema steps may be missing).
pub(crate) fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2)",
        [table, column],
        |r| r.get(0),
    )?)
}

/// Makes a rename or a new file in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(format_args!("cannot sync folder {}", dir.display()), e))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// `2026-11-20T22-52-22.123Z`: a UTC time that sorts as text and is safe in file names.
pub(crate) fn file_timestamp(ms: i64) -> String {
    use time::macros::format_description;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day]T[hour]-[minute]-[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_are_sharded_by_the_first_two_hex_digits() {
        let p = attachment_path(Path::new("/d"), "ab12cd");
        assert_eq!(p, std::path::PathBuf::from("/d/attachments/ab/ab12cd"));
    }

    #[test]
    fn file_timestamps_sort_as_text() {
        assert_eq!(file_timestamp(0), "1970-01-01T00-00-00.000Z");
        assert!(file_timestamp(1_700_000_000_123) < file_timestamp(1_700_000_001_000));
    }

    #[test]
    fn open_live_refuses_what_is_not_there_or_not_ours() {
        let dir = tempfile::tempdir().unwrap();
        let err = open_live(dir.path()).unwrap_err().to_string();
        assert!(err.contains("there is no database"), "{err}");
        std::fs::write(dir.path().join(DB_FILE), vec![b'x'; 4096]).unwrap();
        let err = open_live(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not a Hearth database"), "{err}");
    }
}
