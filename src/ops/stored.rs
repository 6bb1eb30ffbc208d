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
