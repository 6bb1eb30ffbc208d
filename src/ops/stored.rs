//! The blocking side of the blobs for the operator's tools, which run on plain threads: wait
//! for an async blob operation, and copy one blob to a local file.

use futures_util::StreamExt;
use std::future::Future;
use std::path::Path;
use tokio::io::AsyncWriteExt;

use crate::blobs::Blobs;
use crate::error::{Error, Result};

/// Runs `fut` to its end from a blocking thread: on the runtime this thread belongs to (a
/// `spawn_blocking` job), or on a small one made for it (a plain thread).
pub fn wait<F: Future>(fut: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(fut),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the blobs")
            .block_on(fut),
    }
}

/// Writes the blob `sha256` to `to` (created or replaced) and answers its size.
pub async fn download(blobs: &Blobs, sha256: &str, to: &Path) -> Result<u64> {
    let opened = blobs.open(sha256).await?.ok_or(Error::NotFound)?;
    let mut stream = opened.stream(None).await?;
    let mut file = tokio::fs::File::create(to).await?;
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        file.write_all(&chunk).await?;
    }
    file.sync_all().await?;
    Ok(size)
}

/// The blobs of a bucket as backup entries: (`attachments/ab/ab12…`, no local path, size).
pub fn listed_files(blobs: &Blobs) -> Result<Vec<(String, std::path::PathBuf, u64)>> {
    Ok(wait(blobs.list())?
        .into_iter()
        .map(|b| {
            let name = format!(
                "{}/{}/{}",
                crate::blobs::ATTACHMENTS_DIR,
                &b.sha256[..2],
                b.sha256
            );
            (name, std::path::PathBuf::new(), b.size)
        })
        .collect())
}

/// Downloads the blob of a backup entry named `attachments/ab/<sha256>` to `to`; `false` when
/// it went in the meantime (collected), which leaves it out.
pub fn fetch(blobs: &Blobs, name: &str, to: &Path) -> Result<bool> {
    let sha256 = name.rsplit('/').next().unwrap_or(name);
    match wait(download(blobs, sha256, to)) {
        Ok(_) => Ok(true),
        Err(Error::NotFound) => {
            tracing::warn!(
                blob = sha256,
                "a blob listed for the backup went before it was read"
            );
            Ok(false)
        }
        Err(e) => Err(e),
    }
}
