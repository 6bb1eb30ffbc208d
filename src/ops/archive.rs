//! The backup archive: a gzip'd tar holding `hearth.db`, `attachments/…` and, last,
//! `manifest.json` with the SHA-256 of every file. Written in one pass (each file hashed as
//! it streams in); read back into a staging folder and verified before anything is trusted.

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read};
use std::path::{Component, Path, PathBuf};

use super::{ATTACHMENTS_DIR, DB_FILE, io_error};
use crate::db::LATEST_VERSION;
use crate::error::{Error, Result};

pub const FORMAT: &str = "hearth-backup";
/// The archive layout this binary writes; a higher one is refused on restore.
pub const FORMAT_VERSION: u32 = 1;
pub const MANIFEST: &str = "manifest.json";
/// A manifest is small; a huge one is not ours.
const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// What a backup holds, with a checksum for every file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub hearth_version: String,
    pub schema_version: u32,
    /// Unix milliseconds when the snapshot was taken.
    pub created_at: i64,
    pub row_counts: BTreeMap<String, i64>,
    pub files: Vec<FileEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path inside the archive, `/`-separated: `hearth.db` or `attachments/ab/ab12…`.
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// Hashes and counts what passes through, and moves a progress bar.
struct Hashing<'a, R> {
    inner: R,
    hasher: Sha256,
    size: u64,
    progress: &'a ProgressBar,
}

impl<'a, R> Hashing<'a, R> {
    fn new(inner: R, progress: &'a ProgressBar) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            size: 0,
            progress,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.size, hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

/// The SHA-256 (hex) and size of a file.
pub fn hash_file(path: &Path) -> Result<(u64, String)> {
    let file = File::open(path)
        .map_err(|e| io_error(format_args!("cannot read {}", path.display()), e))?;
    let hidden = ProgressBar::hidden();
    let mut reader = Hashing::new(BufReader::new(file), &hidden);
    io::copy(&mut reader, &mut io::sink())
        .map_err(|e| io_error(format_args!("cannot read {}", path.display()), e))?;
    Ok(reader.finish())
}

/// Writes an archive: files first, the manifest last.
pub struct Writer {
    tar: tar::Builder<GzEncoder<BufWriter<File>>>,
    files: Vec<FileEntry>,
    path: PathBuf,
}

impl Writer {
    pub fn create(path: &Path) -> Result<Writer> {
        let file = crate::files::create_new(path)
            .map_err(|e| io_error(format_args!("cannot create {}", path.display()), e))?;
        let gz = GzEncoder::new(BufWriter::with_capacity(1 << 20, file), Compression::new(6));
        let mut tar = tar::Builder::new(gz);
        tar.mode(tar::HeaderMode::Deterministic);
        Ok(Writer {
            tar,
            files: Vec::new(),
            path: path.to_owned(),
        })
    }

    /// Adds the file at `source` as `name`, hashing it on the way.
    pub fn add(&mut self, name: &str, source: &Path, progress: &ProgressBar) -> Result<()> {
        let fail = |e| io_error(format_args!("cannot archive {}", source.display()), e);
        let file = File::open(source).map_err(fail)?;
        let size = file.metadata().map_err(fail)?.len();
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        let mut reader = Hashing::new(BufReader::new(file).take(size), progress);
        self.tar
            .append_data(&mut header, name, &mut reader)
            .map_err(fail)?;
        let (read, sha256) = reader.finish();
        if read != size {
            return Err(Error::invalid(format!(
                "{} changed size while it was being archived",
                source.display()
            )));
        }
        self.files.push(FileEntry {
            path: name.to_owned(),
            size,
            sha256,
        });
        Ok(())
    }

    /// Appends the manifest (its `files` filled in here), flushes and fsyncs the archive.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<Manifest> {
        let fail = |e| io_error(format_args!("cannot write {}", self.path.display()), e);
        manifest.files = std::mem::take(&mut self.files);
        let json = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        self.tar
            .append_data(&mut header, MANIFEST, json.as_slice())
            .map_err(fail)?;
        let gz = self.tar.into_inner().map_err(fail)?;
        let buffered = gz.finish().map_err(fail)?;
        let file = buffered.into_inner().map_err(|e| fail(e.into_error()))?;
        file.sync_all().map_err(fail)?;
        Ok(manifest)
    }
}

/// Where an archive entry may go: `hearth.db`, `manifest.json` or under `attachments/`.
/// Anything else (absolute paths, `..`, other names) means the archive is not ours.
fn allowed_entry(path: &Path) -> Option<String> {
    let parts: Vec<&str> = path
        .components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let ok = match parts.as_slice() {
        [one] => *one == DB_FILE || *one == MANIFEST,
        [first, rest @ ..] => *first == ATTACHMENTS_DIR && !rest.is_empty(),
        [] => false,
    };
    ok.then(|| parts.join("/"))
}

/// Unpacks `archive` into the empty folder `dest`, checking every entry against the
/// manifest: the same set of files, each with its size and SHA-256. Returns the manifest.
pub fn unpack_verified(archive: &Path, dest: &Path, progress: &ProgressBar) -> Result<Manifest> {
    let name = archive.display();
    let file = File::open(archive).map_err(|e| io_error(format_args!("cannot open {name}"), e))?;
    let damaged = |e: io::Error| {
        Error::invalid(format!(
            "cannot read {name}: {e}; the file is truncated, damaged or not a Hearth backup"
        ))
    };
    let counted = progress.wrap_read(BufReader::with_capacity(1 << 20, file));
    let mut tar = tar::Archive::new(GzDecoder::new(counted));
    let mut found: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest_text: Option<Vec<u8>> = None;
    let hidden = ProgressBar::hidden();
    for entry in tar.entries().map_err(damaged)? {
        let mut entry = entry.map_err(damaged)?;
        let raw = entry.path().map_err(damaged)?.into_owned();
        let Some(path) = allowed_entry(&raw) else {
            return Err(Error::invalid(format!(
                "{name} holds {:?}, which no Hearth backup holds: it is not a Hearth backup",
                raw.display().to_string()
            )));
        };
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(Error::invalid(format!(
                "{name}: {path} is not a regular file; this is not a Hearth backup"
            )));
        }
        if found.contains_key(&path) || (path == MANIFEST && manifest_text.is_some()) {
            return Err(Error::invalid(format!("{name} holds {path} twice")));
        }
        if path == MANIFEST {
            let mut text = Vec::new();
            (&mut entry)
                .take(MAX_MANIFEST_BYTES)
                .read_to_end(&mut text)
                .map_err(damaged)?;
            manifest_text = Some(text);
            continue;
        }
        let target = dest.join(&path);
        if let Some(parent) = target.parent() {
            crate::files::create_dir_all(parent)
                .map_err(|e| io_error(format_args!("cannot create {}", parent.display()), e))?;
        }
        let out = crate::files::create_file(&target)
            .map_err(|e| io_error(format_args!("cannot write {}", target.display()), e))?;
        let mut writer = BufWriter::new(out);
        let mut reader = Hashing::new(&mut entry, &hidden);
        io::copy(&mut reader, &mut writer).map_err(damaged)?;
        let out = writer.into_inner().map_err(|e| {
            io_error(
                format_args!("cannot write {}", target.display()),
                e.into_error(),
            )
        })?;
        out.sync_all()
            .map_err(|e| io_error(format_args!("cannot write {}", target.display()), e))?;
        found.insert(path, reader.finish());
    }
    // Read to the end of the gzip stream so its length and CRC are checked too.
    io::copy(&mut tar.into_inner(), &mut io::sink()).map_err(damaged)?;

    let text = manifest_text.ok_or_else(|| {
        Error::invalid(format!(
            "{name} holds no {MANIFEST}: it is not a Hearth backup, or it is truncated"
        ))
    })?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|e| {
        Error::invalid(format!(
            "{name}: its {MANIFEST} cannot be read ({e}); not a Hearth backup"
        ))
    })?;
    verify(&manifest, &found, &name.to_string())?;
    Ok(manifest)
}

/// Checks the manifest's promises against the files found.
fn verify(manifest: &Manifest, found: &BTreeMap<String, (u64, String)>, name: &str) -> Result<()> {
    if manifest.format != FORMAT {
        return Err(Error::invalid(format!(
            "{name} is not a Hearth backup (its manifest says format {:?})",
            manifest.format
        )));
    }
    if manifest.format_version > FORMAT_VERSION || manifest.schema_version > *LATEST_VERSION {
        return Err(Error::invalid(format!(
            "{name} was made by a newer Hearth ({}, schema version {}); this binary knows up to \
             schema version {}. Restore it with that version or newer.",
            manifest.hearth_version, manifest.schema_version, *LATEST_VERSION
        )));
    }
    let promised: BTreeSet<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    if promised.len() != manifest.files.len() {
        return Err(Error::invalid(format!(
            "{name}: its manifest lists a file twice"
        )));
    }
    if !promised.contains(DB_FILE) {
        return Err(Error::invalid(format!(
            "{name}: its manifest lists no {DB_FILE}"
        )));
    }
    for entry in &manifest.files {
        match found.get(&entry.path) {
            None => {
                return Err(Error::invalid(format!(
                    "{name} lacks {}, which its manifest lists: it is truncated or was altered",
                    entry.path
                )));
            }
            Some((size, sha)) if *size != entry.size || *sha != entry.sha256 => {
                return Err(Error::invalid(format!(
                    "{name}: {} does not match its checksum in the manifest (sha256 {sha}, \
                     expected {}): the archive was altered or damaged",
                    entry.path, entry.sha256
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().find(|p| !promised.contains(p.as_str())) {
        return Err(Error::invalid(format!(
            "{name} holds {extra}, which its manifest does not list: the archive was altered"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_entry_names_are_allowed() {
        let ok = |p: &str| allowed_entry(Path::new(p));
        assert_eq!(ok("hearth.db").as_deref(), Some("hearth.db"));
        assert_eq!(ok("./manifest.json").as_deref(), None);
        assert_eq!(
            ok("attachments/ab/abc").as_deref(),
            Some("attachments/ab/abc")
        );
        for bad in [
            "/etc/passwd",
            "../hearth.db",
            "attachments/../../x",
            "attachments",
            "other.db",
            "",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
    }
}
