//! Reading a zip archive that someone else made, safely: every entry is checked before
//! anything is read (no path leaving the archive, no absolute path, no link, no encryption,
//! no method but stored and deflate, sizes and expansion within limits), and what is read is
//! bounded by what was declared, whatever the archive claims.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

use zip::CompressionMethod;
use zip::ZipArchive;

use crate::error::{Error, Result};

/// How much an archive may hold. Everything read is kept in memory while the import is
/// planned, so the total is the bound on what an import costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries (files and folders).
    pub max_entries: usize,
    /// Bytes of all entries together, uncompressed, as declared and as read.
    pub max_total: u64,
    /// Bytes of one entry, uncompressed.
    pub max_entry: u64,
    /// How many times its compressed size an entry may expand to...
    pub max_ratio: u64,
    /// ...once it is at least this large (small files are harmless whatever their ratio).
    pub ratio_from: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 500_000,
            max_total: 2 << 30,
            max_entry: 256 << 20,
            // JSON compresses 5–30 times; deflate's best is about 1,030.
            max_ratio: 200,
            ratio_from: 1 << 20,
        }
    }
}

/// An archive whose entries all passed the checks, open for reading.
pub struct Archive<R> {
    zip: ZipArchive<R>,
    /// What the archive is called in messages.
    label: String,
    limits: Limits,
    /// File entries (not folders) by name.
    files: HashMap<String, Entry>,
    declared: u64,
    read: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    index: usize,
    size: u64,
}

impl Archive<BufReader<File>> {
    /// Opens and checks the archive at `path`.
    pub fn open(path: &Path, limits: Limits) -> Result<Self> {
        let file = File::open(path)
            .map_err(|e| Error::invalid(format!("cannot open {}: {e}", path.display())))?;
        Archive::new(BufReader::new(file), path.display().to_string(), limits)
    }
}

impl<R: Read + Seek> Archive<R> {
    /// Checks every entry of the archive `reader` holds; any one that fails refuses it all.
    pub fn new(mut reader: R, label: String, limits: Limits) -> Result<Self> {
        let refuse = |why: String| Error::invalid(format!("{label}: {why}; nothing was imported"));
        let damaged = |e: &dyn std::fmt::Display| {
            refuse(format!(
                "not a zip archive, or a truncated or damaged one ({e})"
            ))
        };
        let listed = listed_entries(&mut reader).map_err(|e| damaged(&e))?;
        let mut zip = ZipArchive::new(reader).map_err(|e| damaged(&e))?;
        // The reader keeps one entry per name: the count of the directory tells of the others.
        if listed.is_some_and(|n| n != zip.len() as u64) {
            return Err(refuse("two of its entries have the same name".into()));
        }
        if zip.len() > limits.max_entries {
            return Err(refuse(format!(
                "{} entries, over the limit of {}",
                zip.len(),
                limits.max_entries
            )));
        }
        let mut files = HashMap::new();
        let mut declared: u64 = 0;
        for index in 0..zip.len() {
            let entry = zip.by_index_raw(index).map_err(|e| {
                refuse(format!(
                    "entry {} cannot be read ({e}): the archive is truncated or damaged",
                    index + 1
                ))
            })?;
            let name = entry.name().to_owned();
            if let Some(why) = unsafe_name(&name) {
                return Err(refuse(format!("entry {name:?} {why}")));
            }
            if entry.is_symlink() {
                return Err(refuse(format!("entry {name:?} is a symbolic link")));
            }
            if entry.encrypted() {
                return Err(refuse(format!("entry {name:?} is encrypted")));
            }
            if !matches!(
                entry.compression(),
                CompressionMethod::Stored | CompressionMethod::Deflated
            ) {
                return Err(refuse(format!(
                    "entry {name:?} is compressed with {:?}; only stored and deflate entries are read",
                    entry.compression()
                )));
            }
            let (size, compressed) = (entry.size(), entry.compressed_size());
            check_entry(&name, size, compressed, &limits).map_err(refuse)?;
            declared = declared.saturating_add(size);
            if declared > limits.max_total {
                return Err(refuse(format!(
                    "its entries declare more than {} bytes uncompressed, the limit",
                    limits.max_total
                )));
            }
            if !entry.is_dir() {
                files.insert(name, Entry { index, size });
            }
        }
        // Entries sharing their compressed data are how the smallest bombs are made.
        if zip
            .has_overlapping_files()
            .map_err(|e| refuse(e.to_string()))?
        {
            return Err(refuse("entries overlap one another".into()));
        }
        Ok(Archive {
            zip,
            label,
            limits,
            files,
            declared,
            read: 0,
        })
    }

    /// The names of the files (not folders), in no order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn has(&self, name: &str) -> bool {
        self.files.contains_key(name)
    }

    /// The uncompressed size the entries declare, all together.
    pub fn declared(&self) -> u64 {
        self.declared
    }

    /// The size `name` declares, if it is a file of the archive.
    pub fn size(&self, name: &str) -> Option<u64> {
        self.files.get(name).map(|e| e.size)
    }

    /// What the archive calls itself in messages.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Reads a whole file: never more than it declared, nor past the total.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>> {
        let label = &self.label;
        let refuse =
            |why: String| Error::invalid(format!("{label}: {name}: {why}; nothing was imported"));
        let entry = *self
            .files
            .get(name)
            .ok_or_else(|| refuse("no such file in the archive".into()))?;
        let mut file = self
            .zip
            .by_index(entry.index)
            .map_err(|e| refuse(format!("cannot be read ({e})")))?;
        let mut bytes = Vec::with_capacity(entry.size.min(64 << 20) as usize);
        (&mut file)
            .take(entry.size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                refuse(format!(
                    "cannot be read ({e}): the archive is truncated or damaged"
                ))
            })?;
        if bytes.len() as u64 > entry.size {
            return Err(refuse(format!(
                "holds more than the {} bytes it declares",
                entry.size
            )));
        }
        self.read += bytes.len() as u64;
        if self.read > self.limits.max_total {
            return Err(refuse(format!(
                "the archive holds more than {} bytes uncompressed, the limit",
                self.limits.max_total
            )));
        }
        Ok(bytes)
    }
}

/// How many entries the end of the central directory says there are (`None` when it does
/// not say it plainly: a zip64 archive).
fn listed_entries<R: Read + Seek>(reader: &mut R) -> std::io::Result<Option<u64>> {
    use std::io::SeekFrom;
    const END: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    let len = reader.seek(SeekFrom::End(0))?;
    // The record is 22 bytes and may be followed by a comment of up to 65,535.
    let tail = len.min(22 + 65_535);
    reader.seek(SeekFrom::Start(len - tail))?;
    let mut bytes = vec![0; tail as usize];
    reader.read_exact(&mut bytes)?;
    reader.seek(SeekFrom::Start(0))?;
    let Some(at) = bytes.windows(4).rposition(|w| w == END) else {
        return Ok(None);
    };
    Ok(bytes
        .get(at + 10..at + 12)
        .map(|n| u16::from_le_bytes([n[0], n[1]]))
        .filter(|n| *n != u16::MAX)
        .map(u64::from))
}

/// Why an entry's name is refused: one that could land outside a folder it were extracted
/// into, whatever reads it later.
fn unsafe_name(name: &str) -> Option<&'static str> {
    let bytes = name.as_bytes();
    if name.contains('\0') {
        Some("has a NUL character in its name")
    } else if name.starts_with(['/', '\\'])
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
    {
        Some("is an absolute path")
    } else if name.split(['/', '\\']).any(|part| part == "..") {
        Some("has a \"..\" in its path, leaving the archive's folder")
    } else {
        None
    }
}

/// One entry's sizes against the limits.
fn check_entry(
    name: &str,
    size: u64,
    compressed: u64,
    limits: &Limits,
) -> std::result::Result<(), String> {
    if size > limits.max_entry {
        return Err(format!(
            "entry {name:?} is {size} bytes uncompressed, over the limit of {}",
            limits.max_entry
        ));
    }
    if size >= limits.ratio_from && size > compressed.saturating_mul(limits.max_ratio) {
        return Err(format!(
            "entry {name:?} expands from {compressed} to {size} bytes, more than {} times: \
             refused as a zip bomb",
            limits.max_ratio
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
