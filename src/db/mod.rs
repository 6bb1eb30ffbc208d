//! The database: opening and migrating `hearth.db`, the read pool and the single writer.

mod migrate;
mod writer;

pub use migrate::{LATEST_VERSION, migrate};
#[cfg(test)]
pub(crate) use writer::tests::fill_the_disk;
pub use writer::{WriteCtx, Writer, WriterLimits, WriterStats};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Synchronous;
use crate::error::{Error, Result};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// Cheap-to-clone handle to the database: a read pool and the writer.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    writer: Writer,
    path: Arc<PathBuf>,
}

/// Pragmas every connection gets. `synchronous` matters only to the writer, but is harmless on readers.
fn configure(conn: &Connection, sync: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let level = match sync {
        Synchronous::Full => "FULL",
        Synchronous::Normal => "NORMAL",
    };
    conn.pragma_update(None, "synchronous", level)?;
    conn.set_prepared_statement_cache_capacity(64);
    stable_plans(conn)
}

/// Plans must not depend on bound values. Otherwise a query that could use a partial index
/// (`messages_unread`, `messages_by_client_id`) is compiled again on every new binding, which
/// measured 14% of a history request's CPU.
pub(crate) fn stable_plans(conn: &Connection) -> rusqlite::Result<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}

/// Runs `f` in one read transaction: one snapshot and one WAL read lock for all its
/// statements (each statement would otherwise take its own).
fn in_snapshot<T>(conn: &Connection, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
    /// Ends the read however `f` ends (error or panic): a pooled connection must not keep it.
    struct End<'a>(&'a Connection);
    impl Drop for End<'_> {
        fn drop(&mut self) {
            let ended = self.0.is_autocommit()
                || self
                    .0
                    .prepare_cached("COMMIT")
                    .and_then(|mut s| s.execute([]))
                    .is_ok();
            if !ended {
                let _ = self.0.execute_batch("ROLLBACK");
            }
        }
    }
    if conn.is_autocommit() {
        conn.prepare_cached("BEGIN")?.execute([])?;
    }
    let _end = End(conn);
    f(conn)
}

/// Opens the write connection: creates the file if missing, refuses what is not a Hearth database.
pub fn open_writer_conn(path: &Path, sync: Synchronous) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| unusable(path, e))?;
    // The first real read of the header: a foreign or corrupt file fails here, before any write.
    conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| unusable(path, e))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(|e| unusable(path, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::Database(format!(
            "{}: could not switch to WAL mode (got {mode})",
            path.display()
        )));
    }
    configure(&conn, sync).map_err(|e| unusable(path, e))?;
    Ok(conn)
}

fn unusable(path: &Path, err: rusqlite::Error) -> Error {
    let why = match &err {
        rusqlite::Error::SqliteFailure(e, _) => match e.code {
            rusqlite::ErrorCode::NotADatabase => {
                "is not a SQLite database (or is corrupt); Hearth will not touch it".to_string()
            }
            rusqlite::ErrorCode::DatabaseCorrupt => {
                "is corrupt; restore it from a backup (Hearth will not repair it)".to_string()
            }
            rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied => {
                format!("cannot be opened: {err}")
            }
            rusqlite::ErrorCode::ReadOnly => format!("is read-only: {err}"),
            _ => format!("cannot be used: {err}"),
        },
        _ => format!("cannot be used: {err}"),
    };
    Error::Database(format!("database {} {why}", path.display()))
}

/// Narrows a database that an older Hearth left readable by others (made under umask 022),
/// with its WAL and shared-memory files, to the owner. Done once the file proved to be ours.
fn owner_only(path: &Path) -> Result<()> {
    let cannot = |e: std::io::Error| {
        Error::Database(format!("database {} cannot be opened: {e}", path.display()))
    };
    for suffix in ["", "-wal", "-shm"] {
        let file = path.with_file_name(format!("hearth.db{suffix}"));
        crate::files::restrict(&file).map_err(cannot)?;
    }
    Ok(())
}

impl Db {
    /// Opens (creating if needed) `<data_dir>/hearth.db`, migrates it and starts the writer.
    pub fn open(data_dir: &Path, sync: Synchronous) -> Result<Db> {
        Db::open_with(data_dir, sync, WriterLimits::default())
    }

    /// [`Db::open`] with the writer's queue and deadline given.
    pub fn open_with(data_dir: &Path, sync: Synchronous, limits: WriterLimits) -> Result<Db> {
        crate::files::create_dir_all(data_dir).map_err(|e| {
            Error::Database(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join("hearth.db");
        if !path.exists() {
            // SQLite gives its WAL and shared-memory files the database file's permissions.
            crate::files::create_file(&path)
                .map_err(|e| Error::Database(format!("cannot create {}: {e}", path.display())))?;
        }
        let mut conn = open_writer_conn(&path, sync)?;
        migrate(&mut conn).map_err(|e| match e {
            Error::Sqlite(err) => unusable(&path, err),
            other => other,
        })?;
        owner_only(&path)?;
        let manager = SqliteConnectionManager::file(&path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| configure(c, sync));
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .min_idle(Some(1))
            // A local file cannot have dropped: no round trip to test it on every checkout.
            .test_on_check_out(false)
            .build(manager)?;
        Ok(Db {
            pool,
            writer: Writer::start_with(conn, limits),
            path: Arc::new(path),
        })
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs a read on a pooled connection off the async runtime, in one read transaction.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || in_snapshot(&*pool.get()?, f))
            .await
            .map_err(|e| Error::Internal(format!("read task failed: {e}")))?
    }

    /// Runs a short read on this thread when a pooled connection is free, else like
    /// [`Db::read`]. Such a read takes a few microseconds, less than the hop to the blocking
    /// pool and back costs.
    ///
    /// Only for reads whose cost is bounded by a constant: indexed point lookups (a session, a
    /// membership, a setting) or one page of a fixed size that touches nothing else. Anything
    /// whose cost grows with the database — a scan, a count, a range of ids, rows that come
    /// with an unbounded number of others (a page of messages and all their reactions) — goes
    /// through [`Db::read`]: here it would hold one of the few async workers, and every socket
    /// and request scheduled on it waits, `/healthz` included.
    pub async fn read_short<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        match self.pool.try_get() {
            Some(conn) => in_snapshot(&conn, f),
            None => self.read(f).await,
        }
    }

    /// Runs a read on the calling thread (for the CLI and for code already off the runtime).
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&*self.pool.get()?)
    }

    /// Runs a write job through the single writer and waits for its commit.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        self.writer.run(f).await
    }

    /// The same as [`Db::write`], blocking the calling thread.
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut WriteCtx) -> Result<T> + Send + 'static,
    {
        self.writer.run_blocking(f)
    }
}
