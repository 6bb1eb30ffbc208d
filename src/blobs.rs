//! Content-addressed blobs, named by their SHA-256 and stored once: on disk under
//! `attachments/<first two hex digits>/<sha256>` (the default), or as objects in an
//! S3-compatible bucket (`attachments = "s3://bucket/prefix"`). Uploads always arrive in a
//! local temp file first, hashed as they come; collected when no row needs them.

mod local;
pub mod remote;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tempfile::TempPath;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use remote::Remote;

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

/// The blobs of one data dir: its `attachments/` folder, or a bucket.
#[derive(Debug, Clone)]
pub struct Blobs {
    data_dir: PathBuf,
    remote: Option<Arc<Remote>>,
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

/// A stored blob as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub sha256: String,
    pub size: u64,
    pub modified: SystemTime,
}

/// Where one blob lives, to be opened when it is served.
#[derive(Debug, Clone)]
pub struct Location {
    blobs: Blobs,
    pub sha256: String,
}

/// A blob found and ready to read: its length, then the bytes wanted.
pub struct Opened {
    pub len: u64,
    source: Source,
}

enum Source {
    File(tokio::fs::File),
    Remote(Arc<Remote>, String),
}

impl Blobs {
    /// The blobs on disk in `data_dir`.
    pub fn new(data_dir: &Path) -> Blobs {
        Blobs {
            data_dir: data_dir.to_owned(),
            remote: None,
        }
    }

    /// The blobs where the config puts them; object storage is reached once here, so a
    /// wrong setting stops the start with an error that names it.
    pub async fn connect(config: &crate::config::Config) -> Result<Blobs> {
        let mut blobs = Blobs::new(&config.data_dir);
        if !config.attachments.is_empty() {
            let remote = Remote::connect(&config.attachments, &config.s3).await?;
            blobs.remote = Some(Arc::new(remote));
        }
        Ok(blobs)
    }

    /// Where the blobs are, for people: a folder or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match &self.remote {
            Some(r) => r.url.clone(),
            None => self.data_dir.join(ATTACHMENTS_DIR).display().to_string(),
        }
    }

    pub fn is_remote(&self) -> bool {
        self.remote.is_some()
    }

    /// The file of a blob on the local disk (whichever backend is in use).
    pub fn path(&self, sha256: &str) -> PathBuf {
        attachment_path(&self.data_dir, sha256)
    }

    /// Where the blob `sha256` is, to serve it.
    pub fn location(&self, sha256: &str) -> Location {
        Location {
            blobs: self.clone(),
            sha256: sha256.to_owned(),
        }
    }

    fn incoming(&self) -> Result<PathBuf> {
        local::incoming(&self.data_dir)
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

    /// Makes a received upload a blob: moved into place (or sent to the bucket), or dropped
    /// when the same bytes are already stored. Failed, the temp file is gone all the same.
    pub async fn keep(&self, received: Received) -> Result<()> {
        match &self.remote {
            Some(remote) => remote.keep(received).await,
            None => {
                let dir = self.data_dir.clone();
                blocking(move || local::keep(&dir, received)).await
            }
        }
    }

    /// Stores the file at `from` as the blob `sha256` (its hash already checked), keeping
    /// the file: what moving blobs between backends needs.
    pub async fn put_file(&self, sha256: &str, from: &Path, size: u64) -> Result<()> {
        match &self.remote {
            Some(remote) => remote.put_file(sha256, from, size).await,
            None => {
                let file = tokio::fs::File::open(from).await?;
                let received = self
                    .receive(tokio_util::io::ReaderStream::new(file), u64::MAX)
                    .await?;
                if received.sha256 != sha256 {
                    return Err(Error::Internal(format!(
                        "{} is not {sha256}",
                        from.display()
                    )));
                }
                self.keep(received).await
            }
        }
    }

    /// Stores bytes made here (a thumbnail, an avatar); answers their SHA-256.
    pub async fn put(&self, bytes: Vec<u8>) -> Result<String> {
        match &self.remote {
            Some(remote) => {
                let sha256 = hex::encode(Sha256::digest(&bytes));
                remote.put(&sha256, bytes).await?;
                Ok(sha256)
            }
            None => {
                let dir = self.data_dir.clone();
                blocking(move || local::put(&dir, &bytes)).await
            }
        }
    }

    /// The size of a stored blob; `None` when it is missing.
    pub async fn size(&self, sha256: &str) -> Result<Option<u64>> {
        match &self.remote {
            Some(remote) => remote.size(sha256).await,
            None => match tokio::fs::metadata(self.path(sha256)).await {
                Ok(meta) if meta.is_file() => Ok(Some(meta.len())),
                Ok(_) => Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Opens a blob to read it; `None` when it is missing.
    pub async fn open(&self, sha256: &str) -> Result<Option<Opened>> {
        if let Some(remote) = &self.remote {
            return Ok(remote.size(sha256).await?.map(|len| Opened {
                len,
                source: Source::Remote(remote.clone(), sha256.to_owned()),
            }));
        }
        let file = match tokio::fs::File::open(self.path(sha256)).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata().await?.len();
        Ok(Some(Opened {
            len,
            source: Source::File(file),
        }))
    }

    /// The whole of a blob, in memory (pictures, small files).
    pub async fn read_all(&self, sha256: &str) -> Result<Vec<u8>> {
        let opened = self.open(sha256).await?.ok_or(Error::NotFound)?;
        let mut stream = opened.stream(None).await?;
        let mut all = Vec::new();
        while let Some(chunk) = stream.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }

    /// Removes a blob (nothing when it is already gone).
    pub async fn delete(&self, sha256: &str) -> Result<()> {
        match &self.remote {
            Some(remote) => remote.delete(sha256).await,
            None => match tokio::fs::remove_file(self.path(sha256)).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Every stored blob, ordered by name.
    pub async fn list(&self) -> Result<Vec<Listed>> {
        match &self.remote {
            Some(remote) => remote.list().await,
            None => {
                let dir = self.data_dir.clone();
                blocking(move || local::list(&dir)).await
            }
        }
    }

    /// Removes every blob on disk that `in_use` says no row needs and that is older than
    /// `grace` (a blob just stored may be waiting for the write that records it), and temp
    /// files of uploads older than a day. Answers (blobs removed, bytes freed). Blocking; for
    /// the local backend (object storage is collected through `remote_candidates`).
    pub fn collect(
        &self,
        grace: Duration,
        in_use: impl FnMut(&str) -> Result<bool>,
    ) -> Result<(usize, u64)> {
        let found = local::collect(&self.data_dir, grace, in_use)?;
        local::sweep_incoming(&self.data_dir)?;
        Ok(found)
    }

    /// The blobs in object storage older than `grace`, for the collector to ask the rows
    /// about (none on the local backend); sweeps old upload temp files too.
    pub async fn remote_candidates(&self, grace: Duration) -> Result<Vec<Listed>> {
        let Some(remote) = &self.remote else {
            return Ok(Vec::new());
        };
        let dir = self.data_dir.clone();
        blocking(move || local::sweep_incoming(&dir)).await?;
        let now = SystemTime::now();
        Ok(remote
            .list()
            .await?
            .into_iter()
            .filter(|b| now.duration_since(b.modified).is_ok_and(|age| age >= grace))
            .collect())
    }
}

impl Location {
    pub async fn open(&self) -> Result<Option<Opened>> {
        self.blobs.open(&self.sha256).await
    }

    /// Where it is, for log lines: the file's path, or the object's `s3://` URL.
    pub fn describe(&self) -> String {
        match &self.blobs.remote {
            Some(r) => format!(
                "{}/{}/{}",
                r.url.trim_end_matches('/'),
                self.sha256.get(..2).unwrap_or("__"),
                self.sha256
            ),
            None => self.blobs.path(&self.sha256).display().to_string(),
        }
    }
}

impl Opened {
    /// Bytes `first..=last` of the blob (all of it when `None`), as they are read.
    pub async fn stream(
        self,
        range: Option<(u64, u64)>,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>> {
        match self.source {
            Source::Remote(remote, sha256) => remote.read(&sha256, range).await,
            Source::File(mut file) => match range {
                None => Ok(tokio_util::io::ReaderStream::new(file).boxed()),
                Some((first, last)) => {
                    file.seek(std::io::SeekFrom::Start(first)).await?;
                    let part = file.take(last - first + 1);
                    Ok(tokio_util::io::ReaderStream::new(part).boxed())
                }
            },
        }
    }
}

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
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
