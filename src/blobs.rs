//! Content-addressed blobs on disk: `attachments/<first two hex digits>/<sha256>`, written to a
//! temp file, fsynced and renamed into place, the same bytes stored once, collected when no
//! row needs them.

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// The folder of the blobs, inside the data dir.
pub const ATTACHMENTS_DIR: &str = "attachments";
/// Where uploads are written while they arrive (same file system, so a rename finishes them;
/// outside `attachments/`, so a backup never carries half a file).
pub const INCOMING_DIR: &str = "incoming";
/// How many first bytes of an upload are kept for sniffing its type.
const HEAD: usize = 8192;

/// Where the blob with this SHA-256 lives.
pub fn attachment_path(data_dir: &Path, sha256: &str) -> PathBuf {
    let shard = sha256.get(..2).unwrap_or("__");
    data_dir.join(ATTACHMENTS_DIR).join(shard).join(sha256)
}

/// Whether `name` looks like a blob's name (64 lowercase hex digits).
pub fn is_blob_name(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The blobs of one data dir.
#[derive(Debug, Clone)]
pub struct Blobs {
    data_dir: PathBuf,
}

/// An upload fully written to a temp file (fsynced), not yet a blob. Dropped, it is deleted.
#[derive(Debug)]
pub struct Received {
    pub temp: TempPath,
    pub sha256: String,
    pub size: u64,
    /// The first bytes, to sniff the type from.
    pub head: Vec<u8>,
}

impl Blobs {
    pub fn new(data_dir: &Path) -> Blobs {
        Blobs {
            data_dir: data_dir.to_owned(),
        }
    }

    pub fn path(&self, sha256: &str) -> PathBuf {
        attachment_path(&self.data_dir, sha256)
    }

    fn incoming(&self) -> Result<PathBuf> {
        let dir = self.data_dir.join(INCOMING_DIR);
        crate::files::create_dir_all(&dir).map_err(|e| io("cannot make the uploads folder", e))?;
        Ok(dir)
    }

    /// Streams a body to a temp file, hashing it as it comes. More than `limit` bytes:
    /// `TooLarge`, and the temp file is gone. A stream that fails (the client went away)
    /// leaves nothing behind either.
    pub async fn receive<S, B, E>(&self, mut body: S, limit: u64) -> Result<Received>
    where
        S: Stream<Item = std::result::Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let dir = self.incoming()?;
        let temp = tokio::task::spawn_blocking(move || tempfile::NamedTempFile::new_in(dir))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(|e| io("cannot make an upload file", e))?;
        let (file, temp) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let (mut hasher, mut size, mut head) = (Sha256::new(), 0u64, Vec::new());
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::invalid(format!("the upload broke off: {e}")))?;
            let chunk = chunk.as_ref();
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..take]);
            }
            hasher.update(chunk);
            file.write_all(chunk)
                .await
                .map_err(|e| io("cannot write the upload", e))?;
        }
        file.sync_all()
            .await
            .map_err(|e| io("cannot write the upload", e))?;
        Ok(Received {
            temp,
            sha256: hex::encode(hasher.finalize()),
            size,
            head,
        })
    }

    /// Makes a received upload a blob: renamed into place, or dropped when the same bytes are
    /// already stored.
    pub fn keep(&self, received: Received) -> Result<()> {
        let path = self.path(&received.sha256);
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

    /// Stores bytes made here (a thumbnail, an avatar): hashed, written, fsynced, renamed.
    pub fn put(&self, bytes: &[u8]) -> Result<String> {
        let sha256 = hex::encode(Sha256::digest(bytes));
        let path = self.path(&sha256);
        if path.exists() {
            freshen(&path);
            return Ok(sha256);
        }
        let mut temp = tempfile::NamedTempFile::new_in(self.incoming()?)
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

    /// Removes every blob that `in_use` says no row needs and that is older than `grace` (a
    /// blob just stored may be waiting for the write that records it), and temp files of
    /// uploads older than a day. Answers (blobs removed, bytes freed).
    pub fn collect(
        &self,
        grace: Duration,
        mut in_use: impl FnMut(&str) -> Result<bool>,
    ) -> Result<(usize, u64)> {
        let now = SystemTime::now();
        let old = |meta: &std::fs::Metadata, age: Duration| {
            meta.modified()
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|d| d >= age)
        };
        let (mut removed, mut freed) = (0, 0);
        let root = self.data_dir.join(ATTACHMENTS_DIR);
        for shard in read_dir(&root)? {
            if !shard.path().is_dir() {
                continue;
            }
            for entry in read_dir(&shard.path())? {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Ok(meta) = entry.metadata() else { continue };
                if !is_blob_name(&name) || !meta.is_file() || !old(&meta, grace) {
                    continue;
                }
                if !in_use(&name)? && std::fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                    freed += meta.len();
                }
            }
        }
        for entry in read_dir(&self.data_dir.join(INCOMING_DIR))? {
            if let Ok(meta) = entry.metadata()
                && meta.is_file()
                && old(&meta, Duration::from_secs(24 * 3600))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok((removed, freed))
    }
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

/// The refusal of a file over the upload limit (in bytes), in the words people see.
pub fn too_large(limit: u64) -> Error {
    Error::TooLarge(format!(
        "the file is larger than the limit of {} MB",
        limit / (1024 * 1024)
    ))
}

fn io(what: impl std::fmt::Display, err: std::io::Error) -> Error {
    Error::Io(std::io::Error::new(err.kind(), format!("{what}: {err}")))
}

#[cfg(test)]
mod tests;
