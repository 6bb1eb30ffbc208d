//! `hearth check` for attachments in object storage: one listing of the bucket, then every
//! blob a row names looked up in it by name and size. The bytes are not read back (that
//! would download everything); a blob is content-addressed and written only after its hash
//! was taken, so a present object of the right size is the one that was stored.

use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};

use super::check::{Finding, LIST, derived_blobs};
use super::stored::wait;
use crate::blobs::Blobs;
use crate::error::Result;

pub(super) fn attachments(conn: &Connection, blobs: &Blobs) -> Result<Finding> {
    let stored: BTreeMap<String, u64> = wait(blobs.list())?
        .into_iter()
        .map(|b| (b.sha256, b.size))
        .collect();
    let mut stmt =
        conn.prepare("SELECT id, sha256, size, filename FROM attachments ORDER BY id")?;
    let rows: Vec<(i64, String, i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let where_ = blobs.describe();
    let mut found = Vec::new();
    let mut checked = BTreeSet::new();
    for (id, sha256, size, filename) in &rows {
        if !checked.insert(sha256.clone()) {
            continue;
        }
        match stored.get(sha256) {
            None => found.push(format!(
                "attachment {id} ({filename:?}): {sha256} is missing from {where_}"
            )),
            Some(actual) if *actual as i64 != *size => found.push(format!(
                "attachment {id} ({filename:?}): {sha256} in {where_} has {actual} bytes; \
                 expected {size}"
            )),
            Some(_) => {}
        }
    }
    for (what, sha256) in derived_blobs(conn)? {
        if checked.insert(sha256.clone()) && !stored.contains_key(&sha256) {
            found.push(format!("{what} {sha256} is missing from {where_}"));
        }
    }
    let bad = found.len();
    let mut problems: Vec<String> = found.into_iter().take(LIST).collect();
    if bad > LIST {
        problems.push(format!("… and {} more", bad - LIST));
    }
    let mut notes = vec![format!(
        "in object storage ({where_}): checked by name and size, not read back"
    )];
    let strays = stored.keys().filter(|k| !checked.contains(*k)).count();
    if strays > 0 {
        notes.push(format!(
            "{strays} objects in {where_} belong to no attachment (harmless; the server's \
             collector removes them)"
        ));
    }
    Ok(Finding {
        name: "attachments",
        summary: format!("{} files", checked.len()),
        problems,
        notes,
    })
}
