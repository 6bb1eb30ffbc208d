//! `hearth backup`: a consistent snapshot of the live database (taken with `VACUUM INTO` on a
//! read-only connection, so the writer keeps going), checked, archived with the attachments
//! and a manifest, fsynced and renamed into place. Scheduled backups from `serve` use the same.
//! Attachments in object storage are downloaded into the archive one by one.

use rusqlite::Connection;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

mod work;

use work::WorkFolder;
pub use work::remove_leftovers;

use super::archive::{self, FORMAT, FORMAT_VERSION, Manifest};
use super::stored;
use super::{ATTACHMENTS_DIR, DB_FILE, Progress, file_timestamp, has_table, io_error, open_live};
use crate::blobs::Blobs;
use crate::domain::now_ms;
use crate::error::{Error, Result};

/// Names of backups in a backups folder: `hearth-backup-<UTC time>.tar.gz`.
pub const PREFIX: &str = "hearth-backup-";
pub const SUFFIX: &str = ".tar.gz";

/// The tables whose row counts a manifest records (those that exist in the snapshot).
const COUNTED: [&str; 6] = [
    "users",
    "conversations",
    "messages",
    "attachments",
    "events",
    "sessions",
];

/// Where a backup goes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// This file, which must not exist yet, in a folder that does.
    File(PathBuf),
    /// A new timestamped file in this folder; then only the newest `keep` backups stay.
    Folder { dir: PathBuf, keep: Option<usize> },
}

#[derive(Debug)]
pub struct Report {
    pub path: PathBuf,
    pub bytes: u64,
    pub manifest: Manifest,
    /// Older backups removed by rotation.
    pub removed: Vec<PathBuf>,
}

/// Stops a backup under way (`serve` stopping): it then removes what it wrote and fails.
#[derive(Clone, Default)]
pub struct Cancel(Arc<CancelState>);

#[derive(Default)]
struct CancelState {
    asked: AtomicBool,
    /// Interrupts the snapshot, which is one long SQLite statement.
    snapshot: Mutex<Option<rusqlite::InterruptHandle>>,
}

impl Cancel {
    pub fn cancel(&self) {
        self.0.asked.store(true, Ordering::Release);
        if let Some(handle) = &*self.0.snapshot.lock().unwrap_or_else(|p| p.into_inner()) {
            handle.interrupt();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.asked.load(Ordering::Acquire)
    }

    fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::Interrupted,
                "the backup was cancelled",
            )));
        }
        Ok(())
    }

    fn watch_snapshot(&self, source: Option<&Connection>) {
        *self.0.snapshot.lock().unwrap_or_else(|p| p.into_inner()) =
            source.map(Connection::get_interrupt_handle);
    }
}

/// Takes a backup of the data dir. On any failure nothing is left behind.
pub fn create(data_dir: &Path, dest: &Destination, progress: Progress) -> Result<Report> {
    create_until(data_dir, dest, progress, &Cancel::default())
}

/// Takes a backup unless `cancel` stops it first (between files, or during the snapshot); on
/// any failure, a cancel included, nothing is left behind.
pub fn create_until(
    data_dir: &Path,
    dest: &Destination,
    progress: Progress,
    cancel: &Cancel,
) -> Result<Report> {
    create_from(data_dir, &Blobs::new(data_dir), dest, progress, cancel)
}

/// The same, with the attachments read from `blobs` (its disk, or object storage: each
/// object is downloaded into the work folder, archived, and removed). Call it from a blocking
/// thread.
pub fn create_from(
    data_dir: &Path,
    blobs: &Blobs,
    dest: &Destination,
    progress: Progress,
    cancel: &Cancel,
) -> Result<Report> {
    let source = open_live(data_dir)?;
    let started = now_ms();
    let (target, keep) = match dest {
        Destination::File(path) => (path.clone(), None),
        Destination::Folder { dir, keep } => (
            dir.join(format!("{PREFIX}{}{SUFFIX}", file_timestamp(started))),
            *keep,
        ),
    };
    let folder = parent_folder(&target)?;
    if target.exists() {
        return Err(Error::invalid(format!(
            "{} already exists; choose another name",
            target.display()
        )));
    }
    // A hidden work folder beside the target: same file system, so the final rename is atomic.
    let work = WorkFolder::create(&folder)?;

    let snapshot = work.path().join(DB_FILE);
    let spinner = progress.spinner("snapshot");
    cancel.watch_snapshot(Some(&source));
    let taken = cancel
        .check()
        .and_then(|()| take_snapshot(&source, &snapshot));
    cancel.watch_snapshot(None);
    cancel.check()?;
    taken?;
    drop(source);
    let snap = Connection::open(&snapshot)?;
    spinner.set_message("integrity check");
    integrity_ok(&snap).map_err(|problem| {
        Error::Database(format!(
            "the snapshot failed its integrity check ({problem}); the live database may be \
             damaged: run `hearth check`"
        ))
    })?;
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        hearth_version: env!("CARGO_PKG_VERSION").into(),
        schema_version: super::schema_version(&snap)?,
        created_at: started,
        row_counts: row_counts(&snap)?,
        files: Vec::new(),
    };
    drop(snap);
    spinner.finish_and_clear();

    let remote = blobs.is_remote();
    let attachments = if remote {
        stored::listed_files(blobs)?
    } else {
        attachment_files(data_dir)?
    };
    let total = std::fs::metadata(&snapshot).map(|m| m.len()).unwrap_or(0)
        + attachments.iter().map(|(_, _, size)| size).sum::<u64>();
    let bar = progress.bytes(total, "archive");
    let partial = work.path().join("archive.tar.gz");
    let mut writer = archive::Writer::create(&partial)?;
    writer.add(DB_FILE, &snapshot, &bar)?;
    let fetched = work.path().join("blob");
    for (name, path, _) in &attachments {
        cancel.check()?;
        if !remote {
            writer.add(name, path, &bar)?;
        } else if stored::fetch(blobs, name, &fetched)? {
            writer.add(name, &fetched, &bar)?;
            let _ = std::fs::remove_file(&fetched);
        }
    }
    cancel.check()?;
    let manifest = writer.finish(manifest)?;
    bar.finish_and_clear();
    cancel.check()?;

    if target.exists() {
        return Err(Error::invalid(format!(
            "{} appeared while the backup was written; choose another name",
            target.display()
        )));
    }
    std::fs::rename(&partial, &target).map_err(|e| {
        io_error(
            format_args!("cannot move the backup to {}", target.display()),
            e,
        )
    })?;
    super::sync_dir(&folder)?;
    let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    let removed = match keep {
        Some(keep) => rotate(&folder, keep)?,
        None => Vec::new(),
    };
    Ok(Report {
        path: target,
        bytes,
        manifest,
        removed,
    })
}

/// The folder a backup file goes in, which must exist and be a folder.
fn parent_folder(target: &Path) -> Result<PathBuf> {
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !folder.is_dir() {
        return Err(Error::invalid(format!(
            "cannot write the backup: folder {} does not exist",
            folder.display()
        )));
    }
    Ok(folder)
}

/// A consistent copy of what `source` sees, in one read transaction. In WAL mode a reader
/// neither waits for nor holds up the writer; the snapshot is compacted as it is written.
pub fn take_snapshot(source: &Connection, to: &Path) -> Result<()> {
    let target = to
        .to_str()
        .ok_or_else(|| Error::invalid(format!("{} is not a UTF-8 path", to.display())))?;
    source
        .execute("VACUUM INTO ?1", [target])
        .map_err(|e| Error::Database(format!("cannot take a snapshot: {e}")))?;
    Ok(())
}

/// `PRAGMA integrity_check`: Ok, or the first problems it lists.
pub fn integrity_ok(conn: &Connection) -> std::result::Result<(), String> {
    let rows: Vec<String> = conn
        .prepare("PRAGMA integrity_check(20)")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| e.to_string())?;
    if rows.len() == 1 && rows[0] == "ok" {
        Ok(())
    } else {
        Err(rows.join("; "))
    }
}

fn row_counts(conn: &Connection) -> Result<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    for table in COUNTED {
        if has_table(conn, table)? {
            let n = conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?;
            counts.insert(table.to_owned(), n);
        }
    }
    Ok(counts)
}

/// Every file under `attachments/`, as (archive name, path, size), in a stable order.
/// Blobs are content-addressed and never rewritten, so copying them live is safe.
fn attachment_files(data_dir: &Path) -> Result<Vec<(String, PathBuf, u64)>> {
    let root = data_dir.join(ATTACHMENTS_DIR);
    let mut found = Vec::new();
    if !root.is_dir() {
        return Ok(found);
    }
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| io_error(format_args!("cannot list {}", dir.display()), e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| io_error(format_args!("cannot list {}", dir.display()), e))?;
            let path = entry.path();
            let kind = entry
                .file_type()
                .map_err(|e| io_error(format_args!("cannot read {}", path.display()), e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let rel = path.strip_prefix(data_dir).unwrap_or(&path);
                let name: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                found.push((name.join("/"), path, size));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Keeps the newest `keep` backups in `dir` (by their timestamped names); returns those removed.
pub fn rotate(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| io_error(format_args!("cannot list {}", dir.display()), e))?;
    let mut backups: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(PREFIX) && name.ends_with(SUFFIX)
        })
        .map(|e| e.path())
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for old in backups.into_iter().take(excess) {
        std::fs::remove_file(&old).map_err(|e| {
            io_error(
                format_args!("cannot remove old backup {}", old.display()),
                e,
            )
        })?;
        removed.push(old);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_backup_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.execute_batch("CREATE TABLE t (v); INSERT INTO t VALUES (1);")
            .unwrap();
        drop(conn);
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let cancel = Cancel::default();
        cancel.cancel();
        let dest = Destination::Folder {
            dir: out.clone(),
            keep: None,
        };
        let err = create_until(dir.path(), &dest, Progress::quiet(), &cancel).unwrap_err();
        assert!(err.to_string().contains("cancelled"), "{err}");
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
    }

    #[test]
    fn rotation_keeps_the_newest_and_ignores_other_files() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "hearth-backup-2026-01-01T00-00-00.000Z.tar.gz",
            "hearth-backup-2026-01-03T00-00-00.000Z.tar.gz",
            "hearth-backup-2026-01-02T00-00-00.000Z.tar.gz",
            "notes.txt",
            "hearth-backup-keep-me.txt",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        let removed = rotate(dir.path(), 2).unwrap();
        assert_eq!(removed.len(), 1);
        assert!(removed[0].ends_with("hearth-backup-2026-01-01T00-00-00.000Z.tar.gz"));
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left.len(), 4, "{left:?}");
        assert!(left.contains(&"notes.txt".to_string()));
    }
}
