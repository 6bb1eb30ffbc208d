//! `hearth restore --from-litestream CONFIG`: has `litestream restore` rebuild `hearth.db` from
//! the replica CONFIG names for this data dir, into a staging folder; checks that the result
//! is a sound Hearth database, of the same community as the one it replaces and not behind
//! it; and only then puts it in place as `hearth restore` does. Attachments are not in a
//! Litestream replica: those in the data dir stay where they are.

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::backup::integrity_ok;
use super::restore::{Staging, in_data_dir};
use super::{DB_FILE, has_table, io_error};
use crate::db::LATEST_VERSION;
use crate::error::{Error, Result};
use crate::fragments::iso;

/// Where a database stands: its newest event, and how many messages it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    /// The newest event's seq (0 when there is none).
    pub seq: i64,
    /// When the newest event happened (unix ms).
    pub at: Option<i64>,
    pub messages: i64,
    pub schema_version: u32,
}

#[derive(Debug)]
pub struct Report {
    /// The database now in the data dir.
    pub restored: Position,
    /// Where the files that were replaced now are (with `--force`).
    pub set_aside: Option<PathBuf>,
    /// Why the replaced database could not be compared with the replica, when it could not.
    pub uncompared: Option<String>,
}

/// Where to restore from, and with what.
#[derive(Debug)]
pub struct Source<'a> {
    /// The litestream.yml that names the replica.
    pub config: &'a Path,
    /// The database whose replica it is, as the config names it [default: the data dir's].
    pub replica_of: Option<&'a Path>,
    /// The litestream binary [default: `litestream` on PATH].
    pub binary: Option<&'a Path>,
}

/// Restores `<data_dir>/hearth.db` from the Litestream replica `source` names.
pub fn restore(source: &Source, data_dir: &Path, force: bool) -> Result<Report> {
    let Source {
        config,
        replica_of,
        binary,
    } = *source;
    let binary = find_binary(binary)?;
    if !config.is_file() {
        return Err(Error::invalid(format!(
            "there is no Litestream config at {}",
            config.display()
        )));
    }
    let db_path =
        std::path::absolute(replica_of.map_or_else(|| data_dir.join(DB_FILE), Path::to_owned))
            .map_err(|e| io_error(format_args!("cannot resolve {}", data_dir.display()), e))?;
    let current = data_dir.join(DB_FILE);
    in_data_dir(data_dir, || {
        let staging = Staging::begin(data_dir, force, &[DB_FILE])?;
        let staged = staging.path().join(DB_FILE);
        run_restore(&binary, config, &db_path, &staged)?;
        let restored = examine(&staged).map_err(|why| {
            Error::invalid(format!(
                "the Litestream replica of {} is not usable: {why}; nothing was changed",
                db_path.display()
            ))
        })?;
        let uncompared = if staging.occupied() {
            compare(&staged, &restored, &current)?
        } else {
            None
        };
        let set_aside = staging.finish(data_dir)?;
        Ok(Report {
            restored,
            set_aside,
            uncompared,
        })
    })
}

/// The `litestream` to run: the one given, or the first on PATH.
fn find_binary(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path.to_owned())
        } else {
            Err(Error::invalid(format!(
                "there is no litestream binary at {}",
                path.display()
            )))
        };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("litestream"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            Error::invalid(
                "litestream is not installed (it is not on PATH); install it, or name it with \
                 --litestream PATH",
            )
        })
}

/// `litestream restore -config CONFIG -o STAGED DB_PATH`; its own error when it fails.
fn run_restore(binary: &Path, config: &Path, db_path: &Path, staged: &Path) -> Result<()> {
    let out = Command::new(binary)
        .arg("restore")
        .arg("-config")
        .arg(config)
        .arg("-o")
        .arg(staged)
        .arg(db_path)
        .output()
        .map_err(|e| io_error(format_args!("cannot run {}", binary.display()), e))?;
    if out.status.success() && staged.is_file() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("it printed nothing")
        .trim()
        .trim_start_matches("Error: ");
    let hint = if said.contains("no matching backup files") {
        "the replica holds no copy of this database (is Litestream replicating it, to where \
         the config says?)"
    } else if said.contains("database not found in config") {
        "the config has no entry whose path is this database (name it with --replica-of)"
    } else {
        "litestream restore failed"
    };
    Err(Error::invalid(format!(
        "cannot restore {} from the Litestream replica in {}: {hint} (litestream: {said}); \
         nothing was changed",
        db_path.display(),
        config.display()
    )))
}

/// A sound Hearth database that this Hearth can serve, and where it stands.
fn examine(path: &Path) -> std::result::Result<Position, String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| format!("it cannot be opened ({e})"))?;
    let version =
        super::schema_version(&conn).map_err(|e| format!("it is not a SQLite database ({e})"))?;
    let ours = ["users", "events", "messages"]
        .iter()
        .all(|t| has_table(&conn, t).unwrap_or(false));
    if version == 0 || !ours {
        return Err("it is not a Hearth database".into());
    }
    if version > *LATEST_VERSION {
        return Err(format!(
            "it has schema version {version}, written by a newer Hearth (this one knows up to \
             {})",
            *LATEST_VERSION
        ));
    }
    integrity_ok(&conn).map_err(|problem| format!("it fails its integrity check ({problem})"))?;
    position(&conn, version).map_err(|e| format!("it cannot be read ({e})"))
}

fn position(conn: &Connection, schema_version: u32) -> rusqlite::Result<Position> {
    let newest: Option<(i64, i64)> = conn
        .query_row(
            "SELECT seq, created_at FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let messages = conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
    Ok(Position {
        seq: newest.map_or(0, |n| n.0),
        at: newest.map(|n| n.1),
        messages,
        schema_version,
    })
}

/// The community a database belongs to: its first account's name and creation time. A
/// restored copy keeps it; another community's database (made by its own `hearth init`)
/// has another.
fn lineage(conn: &Connection) -> rusqlite::Result<Option<(String, i64)>> {
    conn.query_row(
        "SELECT username, created_at FROM users ORDER BY id LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Refuses a replica of another community's database, or one behind the database it would
/// replace. A current database that cannot be read (the usual reason to restore) is not
/// compared: the reason is answered instead.
fn compare(staged: &Path, restored: &Position, current: &Path) -> Result<Option<String>> {
    let read = |path: &Path| -> rusqlite::Result<(Option<(String, i64)>, Position)> {
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let version = super::schema_version(&conn)?;
        Ok((lineage(&conn)?, position(&conn, version)?))
    };
    let (theirs, _) = read(staged)?;
    let (ours, now) = match read(current) {
        Ok(found) => found,
        Err(e) => {
            return Ok(Some(format!(
                "the database it replaced could not be read ({e})"
            )));
        }
    };
    if let (Some(theirs), Some(ours)) = (&theirs, &ours)
        && theirs != ours
    {
        return Err(Error::invalid(format!(
            "the Litestream replica is of another Hearth database: its first account is {:?}, \
             made {}, but {} began with {:?}, made {}. Check the replica's path in the \
             config; nothing was changed",
            theirs.0,
            iso(theirs.1),
            current.display(),
            ours.0,
            iso(ours.1)
        )));
    }
    if now.seq > restored.seq {
        return Err(Error::invalid(format!(
            "the Litestream replica is behind {}: its newest event is from {}, the database's \
             from {}, so restoring would lose what happened since. Is Litestream replicating? \
             To go back on purpose, move hearth.db away first; nothing was changed",
            current.display(),
            restored
                .at
                .map_or_else(|| "nothing (it has none)".into(), iso),
            now.at.map_or_else(String::new, iso),
        )));
    }
    Ok(None)
}
