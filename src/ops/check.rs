//! `hearth check`: is the data dir sound? Database integrity, foreign keys, the search index
//! against the messages, and every attachment blob present with its recorded hash.
//!
//! The database checks run on a page-for-page copy taken with SQLite's online backup API (one
//! read transaction on the live file), so a check never holds up a running server: the search
//! index check is an FTS5 command that needs a write transaction, which it takes on the copy.

use rusqlite::Connection;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::backup::integrity_ok;
use super::{
    ATTACHMENTS_DIR, DB_FILE, Progress, archive, attachment_path, has_column, has_table, io_error,
    open_live,
};
use crate::blobs::Blobs;
use crate::db::LATEST_VERSION;
use crate::error::{Error, Result};

/// How many lines of one kind of problem are listed before "and N more".
pub(super) const LIST: usize = 20;

/// One aspect checked, and what was found.
#[derive(Debug)]
pub struct Finding {
    pub name: &'static str,
    /// What was looked at, e.g. "1234 messages".
    pub summary: String,
    pub problems: Vec<String>,
    /// Worth knowing, not wrong.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub struct Report {
    pub db: PathBuf,
    pub schema_version: u32,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn problem_count(&self) -> usize {
        self.findings.iter().map(|f| f.problems.len()).sum()
    }

    /// The readable report.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Checked {} (schema version {})\n",
            self.db.display(),
            self.schema_version
        );
        for f in &self.findings {
            let status = if f.problems.is_empty() {
                "ok"
            } else {
                "PROBLEM"
            };
            let _ = writeln!(out, "  {status:<8} {}: {}", f.name, f.summary);
            for line in f.problems.iter().chain(&f.notes) {
                let _ = writeln!(out, "           {line}");
            }
        }
        match self.problem_count() {
            0 => out.push_str("No problems found.\n"),
            1 => out.push_str("1 problem found.\n"),
            n => {
                let _ = writeln!(out, "{n} problems found.");
            }
        }
        out
    }
}

/// Checks a data dir whose blobs are on its own disk.
pub fn run(data_dir: &Path, progress: Progress) -> Result<Report> {
    run_with(data_dir, &Blobs::new(data_dir), progress)
}

/// Checks a data dir whose blobs are in `blobs` (its disk, or object storage). Call it from a
/// blocking thread.
pub fn run_with(data_dir: &Path, blobs: &Blobs, progress: Progress) -> Result<Report> {
    let live = open_live(data_dir)?;
    let spinner = progress.spinner("copying the database");
    let work = tempfile::Builder::new()
        .prefix(".hearth-check-")
        .tempdir_in(data_dir)
        .map_err(|e| io_error(format_args!("cannot write in {}", data_dir.display()), e))?;
    let copy_path = work.path().join(DB_FILE);
    let mut copy = Connection::open(&copy_path)?;
    {
        let backup = rusqlite::backup::Backup::new(&live, &mut copy)?;
        // One step: a single read transaction, so the copy is consistent and never restarts.
        backup
            .step(-1)
            .map_err(|e| Error::Database(format!("cannot read the database to check it: {e}")))?;
    }
    drop(live);
    let schema_version = super::schema_version(&copy)?;
    let mut findings = Vec::new();
    spinner.set_message("integrity check");
    findings.push(integrity(&copy, schema_version));
    spinner.set_message("foreign keys");
    findings.push(foreign_keys(&copy)?);
    if has_table(&copy, "messages_fts")? {
        spinner.set_message("search index");
        findings.push(search_index(&copy)?);
    }
    spinner.finish_and_clear();
    if has_table(&copy, "attachments")? {
        findings.push(if blobs.is_remote() {
            super::check_remote::attachments(&copy, blobs)?
        } else {
            attachments(&copy, data_dir, progress)?
        });
    }
    Ok(Report {
        db: data_dir.join(DB_FILE),
        schema_version,
        findings,
    })
}

fn integrity(conn: &Connection, version: u32) -> Finding {
    let mut f = Finding {
        name: "database integrity",
        summary: "PRAGMA integrity_check".into(),
        problems: Vec::new(),
        notes: Vec::new(),
    };
    if let Err(problem) = integrity_ok(conn) {
        f.problems.push(problem);
    }
    if version < *LATEST_VERSION {
        f.notes.push(format!(
            "schema version {version} is older than this Hearth's {}; `hearth serve` will migrate it",
            *LATEST_VERSION
        ));
    }
    f
}

fn foreign_keys(conn: &Connection) -> Result<Finding> {
    let mut stmt = conn.prepare("PRAGMA foreign_key_check")?;
    let rows: Vec<(String, Option<i64>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut problems: Vec<String> = rows
        .iter()
        .take(LIST)
        .map(|(table, rowid, parent)| {
            let row = rowid.map_or_else(|| "a row".to_owned(), |id| format!("row {id}"));
            format!("{table} {row} refers to a missing {parent} row")
        })
        .collect();
    if rows.len() > LIST {
        problems.push(format!("… and {} more", rows.len() - LIST));
    }
    Ok(Finding {
        name: "foreign keys",
        summary: "PRAGMA foreign_key_check".into(),
        problems,
        notes: Vec::new(),
    })
}

/// The FTS5 index against its content table: every message indexed, nothing else, tokens equal.
/// Lines about conversations are rows of the table too, indexed with their empty body.
fn search_index(conn: &Connection) -> Result<Finding> {
    let rows: i64 = conn.query_row("SELECT count(*) FROM messages", [], |r| r.get(0))?;
    let lines: i64 = if has_column(conn, "messages", "notice")? {
        conn.query_row(
            "SELECT count(*) FROM messages WHERE notice IS NOT NULL",
            [],
            |r| r.get(0),
        )?
    } else {
        0
    };
    let mut problems = Vec::new();
    let deep = conn.execute_batch(
        "BEGIN IMMEDIATE;
         INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1);",
    );
    let _ = conn.execute_batch("ROLLBACK");
    if let Err(e) = deep {
        problems.push(format!(
            "the search index does not match the messages ({e})"
        ));
        if has_table(conn, "messages_fts_docsize")? {
            let missing: i64 = conn.query_row(
                "SELECT count(*) FROM messages WHERE id NOT IN (SELECT id FROM messages_fts_docsize)",
                [],
                |r| r.get(0),
            )?;
            let extra: i64 = conn.query_row(
                "SELECT count(*) FROM messages_fts_docsize WHERE id NOT IN (SELECT id FROM messages)",
                [],
                |r| r.get(0),
            )?;
            if missing + extra > 0 {
                problems.push(format!(
                    "{missing} messages are not indexed; {extra} index entries have no message"
                ));
            }
        }
        problems.push(
            "stop the server and rebuild it: sqlite3 hearth.db \"INSERT INTO messages_fts(messages_fts) VALUES('rebuild')\""
                .into(),
        );
    }
    // The indexes for substrings and file names (schema 8), against their content the same way.
    for (index, of) in [
        ("messages_trigram", "messages"),
        ("attachments_names", "file names"),
    ] {
        if !has_table(conn, index)? {
            continue;
        }
        let deep = conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1);"
        ));
        let _ = conn.execute_batch("ROLLBACK");
        if let Err(e) = deep {
            problems.push(format!(
                "the {index} index does not match the {of} ({e}); stop the server and rebuild it: \
                 sqlite3 hearth.db \"INSERT INTO {index}({index}) VALUES('rebuild')\""
            ));
        }
    }
    let summary = match lines {
        0 => format!("{rows} messages"),
        1 => format!("{} messages and 1 line about a conversation", rows - 1),
        n => format!("{} messages and {n} lines about conversations", rows - n),
    };
    Ok(Finding {
        name: "search index",
        summary,
        problems,
        notes: Vec::new(),
    })
}

/// Every attachment row has its blob, of the recorded size and SHA-256.
fn attachments(conn: &Connection, data_dir: &Path, progress: Progress) -> Result<Finding> {
    let mut stmt =
        conn.prepare("SELECT id, sha256, size, filename FROM attachments ORDER BY id")?;
    let rows: Vec<(i64, String, i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let total: u64 = rows.iter().map(|r| r.2.max(0) as u64).sum();
    let bar = progress.bytes(total, "attachments");
    let mut problems = Vec::new();
    let mut bad = 0usize;
    let mut checked = BTreeSet::new();
    for (id, sha256, size, filename) in &rows {
        let path = attachment_path(data_dir, sha256);
        let shown = path
            .strip_prefix(data_dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        let problem = if !checked.insert(sha256.clone()) {
            None // the same blob, already checked for an earlier row
        } else if !path.is_file() {
            Some(format!(
                "attachment {id} ({filename:?}): {shown} is missing"
            ))
        } else {
            match archive::hash_file(&path) {
                Ok((actual_size, actual)) if actual == *sha256 && actual_size as i64 == *size => {
                    None
                }
                Ok((actual_size, actual)) => Some(format!(
                    "attachment {id} ({filename:?}): {shown} was altered \
                     ({actual_size} bytes, sha256 {actual}; expected {size} bytes, sha256 {sha256})"
                )),
                Err(e) => Some(format!("attachment {id} ({filename:?}): {e}")),
            }
        };
        bar.inc(size.max(&0).unsigned_abs());
        if let Some(p) = problem {
            bad += 1;
            if problems.len() < LIST {
                problems.push(p);
            }
        }
    }
    bar.finish_and_clear();
    for (what, sha256) in derived_blobs(conn)? {
        if !checked.insert(sha256.clone()) {
            continue;
        }
        let path = attachment_path(data_dir, &sha256);
        let problem = if !path.is_file() {
            Some(format!("{what} {sha256} is missing"))
        } else {
            match archive::hash_file(&path) {
                Ok((_, actual)) if actual == sha256 => None,
                Ok((_, actual)) => Some(format!("{what} {sha256} was altered (sha256 {actual})")),
                Err(e) => Some(format!("{what} {sha256}: {e}")),
            }
        };
        if let Some(p) = problem {
            bad += 1;
            if problems.len() < LIST {
                problems.push(p);
            }
        }
    }
    if bad > LIST {
        problems.push(format!("… and {} more", bad - LIST));
    }
    let mut notes = Vec::new();
    let strays = stray_files(data_dir, &checked)?;
    if strays > 0 {
        notes.push(format!(
            "{strays} files under {ATTACHMENTS_DIR}/ belong to no attachment (harmless; they can be removed)"
        ));
    }
    Ok(Finding {
        name: "attachments",
        summary: format!("{} files", checked.len()),
        problems,
        notes,
    })
}

/// The blobs Hearth made itself and rows name: thumbnails, link cards' images, avatars,
/// conversation pictures and the community's logo (each named by its own hash).
pub(super) fn derived_blobs(conn: &Connection) -> Result<Vec<(&'static str, String)>> {
    let sources: [(&str, &str, &str, &str); 5] = [
        (
            "attachments",
            "thumb_sha256",
            "thumbnail",
            "SELECT thumb_sha256 FROM attachments WHERE thumb_sha256 IS NOT NULL",
        ),
        (
            "link_previews",
            "image_sha256",
            "link card image",
            "SELECT image_sha256 FROM link_previews WHERE image_sha256 IS NOT NULL",
        ),
        (
            "users",
            "avatar_sha256",
            "avatar",
            "SELECT avatar_sha256 FROM users WHERE avatar_sha256 IS NOT NULL",
        ),
        (
            "conversations",
            "picture_sha256",
            "conversation picture",
            "SELECT picture_sha256 FROM conversations WHERE picture_sha256 IS NOT NULL",
        ),
        (
            "settings",
            "value",
            "logo",
            "SELECT CAST(value AS TEXT) FROM settings WHERE name = 'instance.logo'",
        ),
    ];
    let mut found = Vec::new();
    for (table, column, what, sql) in sources {
        if !has_table(conn, table)? || !has_column(conn, table, column)? {
            continue;
        }
        let mut stmt = conn.prepare(sql)?;
        for sha in stmt.query_map([], |r| r.get::<_, String>(0))? {
            found.push((what, sha?));
        }
    }
    Ok(found)
}

/// Files under attachments/ whose name is no known attachment's hash.
fn stray_files(data_dir: &Path, known: &BTreeSet<String>) -> Result<usize> {
    let root = data_dir.join(ATTACHMENTS_DIR);
    if !root.is_dir() {
        return Ok(0);
    }
    let mut strays = 0;
    let mut pending = vec![root];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)
            .map_err(|e| io_error(format_args!("cannot list {}", dir.display()), e))?
        {
            let entry =
                entry.map_err(|e| io_error(format_args!("cannot list {}", dir.display()), e))?;
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(entry.path());
            } else if !known.contains(entry.file_name().to_string_lossy().as_ref()) {
                strays += 1;
            }
        }
    }
    Ok(strays)
}
