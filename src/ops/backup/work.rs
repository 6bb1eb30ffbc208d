//! A backup's work folder: hidden beside its target, where the snapshot and the archive are
//! written before the archive is renamed into place. Locked while its backup runs, so that what
//! a killed backup left can be told from a backup still at work, and removed.

use fs2::FileExt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tempfile::TempDir;

use crate::error::Result;
use crate::ops::io_error;

/// Work folders are named `.hearth-backup-<random>`.
const PREFIX: &str = ".hearth-backup-";
/// Held locked inside the work folder while its backup runs.
const LOCK: &str = "in-use.lock";
/// A work folder without its lock file is someone's only this long after it was made.
const UNLOCKED_GRACE: Duration = Duration::from_secs(60);

/// A work folder in use: removed, with what is in it, when dropped.
pub struct WorkFolder {
    // Let go of before the folder is removed (fields drop in this order).
    _lock: File,
    dir: TempDir,
}

impl WorkFolder {
    /// Makes a work folder in `folder` and locks it.
    pub fn create(folder: &Path) -> Result<WorkFolder> {
        let dir = tempfile::Builder::new()
            .prefix(PREFIX)
            .tempdir_in(folder)
            .map_err(|e| {
                io_error(
                    format_args!("cannot write in folder {}", folder.display()),
                    e,
                )
            })?;
        let path = dir.path().join(LOCK);
        let lock = crate::files::create_new(&path)
            .map_err(|e| io_error(format_args!("cannot create {}", path.display()), e))?;
        FileExt::try_lock_exclusive(&lock)
            .map_err(|e| io_error(format_args!("cannot lock {}", path.display()), e))?;
        Ok(WorkFolder { _lock: lock, dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Removes the work folders that backups killed midway left in `dir` (a finished or failed
/// backup removes its own); returns them. A backup still running holds its folder's lock and
/// is left alone.
pub fn remove_leftovers(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_error(format_args!("cannot list {}", dir.display()), e)),
    };
    let mut removed = Vec::new();
    for entry in entries.filter_map(|e| e.ok()) {
        let is_work = entry.file_name().to_string_lossy().starts_with(PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_work || in_use(&entry.path()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_dir_all(&path)
            .map_err(|e| io_error(format_args!("cannot remove {}", path.display()), e))?;
        removed.push(path);
    }
    removed.sort();
    Ok(removed)
}

/// Whether a backup is still writing in this work folder: its lock is held, or (made so
/// recently that its lock file may not exist yet) it is younger than a minute.
fn in_use(work: &Path) -> bool {
    match File::open(work.join(LOCK)) {
        Ok(file) => FileExt::try_lock_exclusive(&file).is_err(),
        Err(_) => std::fs::metadata(work)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|made| SystemTime::now().duration_since(made).ok())
            .is_none_or(|age| age < UNLOCKED_GRACE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A work folder as a backup makes it, dated `age` ago.
    fn work_folder(dir: &Path, name: &str, age: Duration, lock_file: bool) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("hearth.db"), "half a snapshot").unwrap();
        if lock_file {
            std::fs::write(path.join(LOCK), "").unwrap();
        }
        let when = SystemTime::now() - age;
        File::open(&path).unwrap().set_modified(when).unwrap();
        path
    }

    #[test]
    fn leftovers_of_killed_backups_go_and_running_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        let hour = Duration::from_secs(3600);
        let killed = work_folder(dir.path(), ".hearth-backup-killed", hour, true);
        let killed_early = work_folder(dir.path(), ".hearth-backup-early", hour, false);
        let running = work_folder(dir.path(), ".hearth-backup-running", hour, true);
        let holder = File::open(running.join(LOCK)).unwrap();
        FileExt::lock_exclusive(&holder).unwrap();
        let just_made = work_folder(dir.path(), ".hearth-backup-new", Duration::ZERO, false);
        let archive = dir
            .path()
            .join("hearth-backup-2026-01-01T00-00-00.000Z.tar.gz");
        std::fs::write(&archive, "x").unwrap();
        std::fs::create_dir(dir.path().join("keep-me")).unwrap();

        let removed = remove_leftovers(dir.path()).unwrap();
        assert_eq!(removed, [killed_early.clone(), killed.clone()]);
        assert!(!killed.exists() && !killed_early.exists());
        assert!(running.exists() && just_made.exists() && archive.exists());
        assert!(dir.path().join("keep-me").exists());
        assert!(
            remove_leftovers(&dir.path().join("absent"))
                .unwrap()
                .is_empty()
        );
    }
}
