//! `hearth restore FILE`: unpack a backup into a staging folder inside the data dir, verify
//! the manifest, every checksum and the database's integrity, and only then move it into
//! place with renames. Refuses while a server holds the data dir, and refuses to replace
//! an existing database without `--force` (which keeps the old files in `pre-restore-…/`).
//! The staging and the putting in place are shared with `--from-litestream` (litestream.rs).

use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

use super::archive::{self, Manifest};
use super::backup::integrity_ok;
use super::lock::{self, InstanceLock};
use super::{ATTACHMENTS_DIR, DB_FILE, Progress, file_timestamp, io_error, sync_dir};
use crate::domain::now_ms;
use crate::error::{Error, Result};

/// The database files that move together (a WAL belongs to its database).
const DB_FILES: [&str; 3] = [DB_FILE, "hearth.db-wal", "hearth.db-shm"];
/// Litestream's record of how far it replicated the database beside it: it describes the
/// files being replaced, so it goes aside with them.
pub const LITESTREAM_META: &str = ".hearth.db-litestream";

#[derive(Debug)]
pub struct Report {
    pub manifest: Manifest,
    /// Where the files that were replaced now are (with `--force`).
    pub set_aside: Option<PathBuf>,
}

pub fn restore(archive: &Path, data_dir: &Path, force: bool, progress: Progress) -> Result<Report> {
    let size = std::fs::metadata(archive)
        .map_err(|e| io_error(format_args!("cannot open {}", archive.display()), e))?
        .len();
    in_data_dir(data_dir, || {
        let staging = Staging::begin(data_dir, force, &[DB_FILE, ATTACHMENTS_DIR])?;
        let bar = progress.bytes(size, "verify");
        let manifest = archive::unpack_verified(archive, staging.path(), &bar)?;
        bar.finish_and_clear();
        check_database(&staging.path().join(DB_FILE), &manifest, archive)?;
        let set_aside = staging.finish(data_dir)?;
        Ok(Report {
            manifest,
            set_aside,
        })
    })
}

/// Runs a restore into `data_dir`; one that fails leaves no trace of a folder it created.
pub(super) fn in_data_dir<T>(data_dir: &Path, restore: impl FnOnce() -> Result<T>) -> Result<T> {
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(Error::invalid(format!(
            "{} is not a folder",
            data_dir.display()
        )));
    }
    let created = !data_dir.exists();
    let outcome = restore();
    if outcome.is_err() && created {
        let _ = std::fs::remove_dir_all(data_dir);
    }
    outcome
}

/// A restore under way: the data dir's lock held, and a staging folder inside it.
pub(super) struct Staging {
    lock: InstanceLock,
    stage: TempDir,
    /// What the restore puts in place: the database, and the attachments when it has them.
    names: &'static [&'static str],
    occupied: bool,
}

impl Staging {
    /// Refuses while a server holds the data dir, or when it holds what `names` would replace
    /// and `force` is not given; both before the lock is taken, so a refused restore writes
    /// nothing at all.
    pub(super) fn begin(
        data_dir: &Path,
        force: bool,
        names: &'static [&'static str],
    ) -> Result<Staging> {
        let running = |who: &str| {
            Error::Conflict(format!(
                "another Hearth ({who}) is using data dir {}; stop it before restoring",
                data_dir.display()
            ))
        };
        if let Some(who) = lock::holder(data_dir)? {
            return Err(running(&who));
        }
        let occupied = occupied(data_dir, names.contains(&ATTACHMENTS_DIR))?;
        if occupied && !force {
            return Err(Error::Conflict(format!(
                "data dir {} already holds a database; to replace it, restore with --force \
                 (the current files are then kept in a pre-restore-… folder beside them)",
                data_dir.display()
            )));
        }
        let lock = InstanceLock::acquire(data_dir, "restore").map_err(|e| match e {
            Error::Conflict(m) => Error::Conflict(format!("{m}; stop it before restoring")),
            other => other,
        })?;
        let stage = tempfile::Builder::new()
            .prefix(".hearth-restore-")
            .tempdir_in(data_dir)
            .map_err(|e| io_error(format_args!("cannot write in {}", data_dir.display()), e))?;
        Ok(Staging {
            lock,
            stage,
            names,
            occupied,
        })
    }

    pub(super) fn path(&self) -> &Path {
        self.stage.path()
    }

    /// Whether the data dir held what the restore replaces when it began.
    pub(super) fn occupied(&self) -> bool {
        self.occupied
    }

    /// Sets the current files aside (when there are any) and moves the staged ones into
    /// place; answers where the old files went.
    pub(super) fn finish(self, data_dir: &Path) -> Result<Option<PathBuf>> {
        let set_aside = if self.occupied {
            Some(set_aside(data_dir, self.names)?)
        } else {
            None
        };
        for name in self.names {
            let (from, to) = (self.stage.path().join(name), data_dir.join(name));
            if from.exists() {
                std::fs::rename(&from, &to).map_err(|e| {
                    io_error(format_args!("cannot move {} into place", to.display()), e)
                })?;
            }
        }
        sync_dir(data_dir)?;
        drop(self.stage);
        drop(self.lock);
        Ok(set_aside)
    }
}

/// Whether the data dir holds a database (or, when they are replaced too, attachments).
fn occupied(data_dir: &Path, with_attachments: bool) -> Result<bool> {
    if DB_FILES.iter().any(|f| data_dir.join(f).exists()) {
        return Ok(true);
    }
    let attachments = data_dir.join(ATTACHMENTS_DIR);
    Ok(with_attachments
        && attachments.is_dir()
        && std::fs::read_dir(&attachments)
            .map_err(|e| io_error(format_args!("cannot list {}", attachments.display()), e))?
            .next()
            .is_some())
}

/// The staged database opens, is the schema the manifest says, and passes integrity_check.
fn check_database(path: &Path, manifest: &Manifest, archive: &Path) -> Result<()> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let version = super::schema_version(&conn).map_err(|e| {
        Error::invalid(format!(
            "{}: its database cannot be read ({e})",
            archive.display()
        ))
    })?;
    if version != manifest.schema_version {
        return Err(Error::invalid(format!(
            "{}: its database has schema version {version} but its manifest says {}: the \
             archive was altered",
            archive.display(),
            manifest.schema_version
        )));
    }
    integrity_ok(&conn).map_err(|problem| {
        Error::invalid(format!(
            "{}: its database fails its integrity check ({problem})",
            archive.display()
        ))
    })
}

/// Moves the current database files (with Litestream's record of them) and, when `names`
/// replaces them, the attachments into `pre-restore-<time>/`.
fn set_aside(data_dir: &Path, names: &[&str]) -> Result<PathBuf> {
    let aside = data_dir.join(format!("pre-restore-{}", file_timestamp(now_ms())));
    crate::files::create_dir(&aside)
        .map_err(|e| io_error(format_args!("cannot create {}", aside.display()), e))?;
    let attachments = names.contains(&ATTACHMENTS_DIR).then_some(ATTACHMENTS_DIR);
    for name in DB_FILES
        .iter()
        .copied()
        .chain([LITESTREAM_META])
        .chain(attachments)
    {
        let from = data_dir.join(name);
        if from.exists() {
            std::fs::rename(&from, aside.join(name))
                .map_err(|e| io_error(format_args!("cannot move {} aside", from.display()), e))?;
        }
    }
    Ok(aside)
}
