//! `hearth attachments migrate`: copies a data dir's blobs from its disk to object storage or
//! back. Only what the destination lacks (or holds at another size) is copied, so a second
//! run copies nothing and an interrupted one resumes; each copy is checked by its SHA-256 on
//! the way and by its size where it lands. Nothing is switched: the config decides which
//! backend the server uses.

use std::collections::BTreeMap;
use std::path::Path;

use super::Progress;
use super::stored::download;
use crate::blobs::Blobs;
use crate::error::{Error, Result};

/// What a migration did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Migrated {
    /// Blobs copied now, and their bytes.
    pub copied: usize,
    pub bytes: u64,
    /// Blobs the destination already held.
    pub present: usize,
    /// Blobs that could not be copied (named in the log).
    pub failed: usize,
}

/// Copies every blob of `from` that `to` does not hold yet.
pub async fn migrate(
    data_dir: &Path,
    from: &Blobs,
    to: &Blobs,
    progress: Progress,
) -> Result<Migrated> {
    let there: BTreeMap<String, u64> = to
        .list()
        .await?
        .into_iter()
        .map(|b| (b.sha256, b.size))
        .collect();
    let mut done = Migrated::default();
    let wanted: Vec<_> = from
        .list()
        .await?
        .into_iter()
        .filter(|b| {
            let present = there.get(&b.sha256) == Some(&b.size);
            done.present += usize::from(present);
            !present
        })
        .collect();
    let bar = progress.bytes(wanted.iter().map(|b| b.size).sum(), "copying");
    let work = tempfile::Builder::new()
        .prefix(".hearth-migrate-")
        .tempdir_in(data_dir)
        .map_err(|e| super::io_error(format_args!("cannot write in {}", data_dir.display()), e))?;
    for blob in wanted {
        match copy(from, to, &blob.sha256, blob.size, work.path()).await {
            Ok(()) => {
                done.copied += 1;
                done.bytes += blob.size;
            }
            Err(e) => {
                done.failed += 1;
                tracing::warn!(blob = %blob.sha256, error = %e, "a blob could not be copied");
                bar.suspend(|| eprintln!("cannot copy {}: {e}", blob.sha256));
            }
        }
        bar.inc(blob.size);
    }
    bar.finish_and_clear();
    Ok(done)
}

/// One blob: downloaded (or read in place), its hash checked against its name, stored, and
/// its size checked where it landed.
async fn copy(from: &Blobs, to: &Blobs, sha256: &str, size: u64, work: &Path) -> Result<()> {
    let local = work.join(sha256);
    let source = if from.is_remote() {
        download(from, sha256, &local).await?;
        local.clone()
    } else {
        from.path(sha256)
    };
    let (actual_size, actual) = {
        let path = source.clone();
        tokio::task::spawn_blocking(move || super::archive::hash_file(&path))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??
    };
    if actual != sha256 || actual_size != size {
        let _ = tokio::fs::remove_file(&local).await;
        return Err(Error::invalid(format!(
            "the stored bytes are damaged ({actual_size} bytes, sha256 {actual}): run `hearth check`"
        )));
    }
    let stored = to.put_file(sha256, &source, size).await;
    let _ = tokio::fs::remove_file(&local).await;
    stored?;
    match to.size(sha256).await? {
        Some(n) if n == size => Ok(()),
        other => Err(Error::Internal(format!(
            "{sha256} was stored but reads back as {other:?} bytes, not {size}"
        ))),
    }
}
