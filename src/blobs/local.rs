//! The local backend: blobs as files under `attachments/<2 hex>/<sha256>` in the data dir,
//! renamed into place after an fsync, their modification time the collector's clock.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{ATTACHMENTS_DIR, INCOMING_DIR, Listed, Received, attachment_path, io, is_blob_name};
use crate::error::Result;

pub(super) fn incoming(data_dir: &Path) -> Result<PathBuf> {
    let dir = data_dir.join(INCOMING_DIR);
    crate::files::create_dir_all(&dir).map_err(|e| io("cannot make the uploads folder", e))?;
    Ok(dir)
}

/// Renames a received upload into place, or drops it when the same bytes are stored.
pub(super) fn keep(data_dir: &Path, received: Received) -> Result<()> {
    let path = attachment_path(data_dir, &received.sha256);
    if path.exists() {
        freshen(&path);
        return Ok(());
    }
    let shard = path.parent().expect("a blob path has a folder");
    crate::files::create_dir_all(shard).map_err(|e| io("cannot make a blob folder", e))?;
    received
        .temp
        .persist(&path)
        .map_err(|e| io("cannot store the upload", e.error))?;
    sync_dir(shard);
    Ok(())
}

/// Stores bytes made here: hashed, written, fsynced, renamed.
pub(super) fn put(data_dir: &Path, bytes: &[u8]) -> Result<String> {
    let sha256 = hex::encode(Sha256::digest(bytes));
    let path = attachment_path(data_dir, &sha256);
    if path.exists() {
        freshen(&path);
        return Ok(sha256);
    }
    let mut temp = tempfile::NamedTempFile::new_in(incoming(data_dir)?)
        .map_err(|e| io("cannot make a blob file", e))?;
    temp.write_all(bytes)
        .and_then(|_| temp.as_file().sync_all())
        .map_err(|e| io("cannot write a blob", e))?;
    let shard = path.parent().expect("a blob path has a folder");
    crate::files::create_dir_all(shard).map_err(|e| io("cannot make a blob folder", e))?;
    temp.persist(&path)
        .map_err(|e| io("cannot store a blob", e.error))?;
    sync_dir(shard);
    Ok(sha256)
}

fn older(meta: &std::fs::Metadata, now: SystemTime, age: Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| now.duration_since(m).ok())
        .is_some_and(|d| d >= age)
}

/// Removes every blob older than `grace` that `in_use` says no row needs.
pub(super) fn collect(
    data_dir: &Path,
    grace: Duration,
    mut in_use: impl FnMut(&str) -> Result<bool>,
) -> Result<(usize, u64)> {
    let now = SystemTime::now();
    let (mut removed, mut freed) = (0, 0);
    let root = data_dir.join(ATTACHMENTS_DIR);
    for shard in read_dir(&root)? {
        if !shard.path().is_dir() {
            continue;
        }
        for entry in read_dir(&shard.path())? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            if !is_blob_name(&name) || !meta.is_file() || !older(&meta, now, grace) {
                continue;
            }
            if !in_use(&name)? && std::fs::remove_file(entry.path()).is_ok() {
                removed += 1;
                freed += meta.len();
            }
        }
    }
    Ok((removed, freed))
}

/// Removes temp files of uploads older than a day (whatever the backend: uploads always
/// arrive on the local disk first).
pub(super) fn sweep_incoming(data_dir: &Path) -> Result<()> {
    let now = SystemTime::now();
    for entry in read_dir(&data_dir.join(INCOMING_DIR))? {
        if let Ok(meta) = entry.metadata()
            && meta.is_file()
            && older(&meta, now, Duration::from_secs(24 * 3600))
        {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// Every blob stored, with its size and time.
pub(super) fn list(data_dir: &Path) -> Result<Vec<Listed>> {
    let mut found = Vec::new();
    for shard in read_dir(&data_dir.join(ATTACHMENTS_DIR))? {
        if !shard.path().is_dir() {
            continue;
        }
        for entry in read_dir(&shard.path())? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            if is_blob_name(&name) && meta.is_file() {
                found.push(Listed {
                    sha256: name,
                    size: meta.len(),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                });
            }
        }
    }
    found.sort_by(|a, b| a.sha256.cmp(&b.sha256));
    Ok(found)
}

/// The entries of a folder; none when it does not exist.
fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.filter_map(|e| e.ok()).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(format_args!("cannot list {}", dir.display()), e)),
    }
}

/// Marks a stored blob as just used, so the collector's grace time spares it until the row
/// that needs it again is written.
fn freshen(path: &Path) {
    if let Ok(f) = std::fs::File::options().write(true).open(path) {
        let _ = f.set_modified(SystemTime::now());
    }
}

/// Makes a rename in `dir` durable (best effort: not every file system allows it).
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}
