//! `hearth stats`: how big this Hearth is — people, conversations, messages, files on disk.

use serde::Serialize;
use std::path::Path;

use super::{ATTACHMENTS_DIR, DB_FILE, has_column, has_table, open_live};
use crate::error::Result;

#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub schema_version: u32,
    pub users: i64,
    pub active_users: i64,
    pub admins: i64,
    pub sessions: i64,
    pub conversations: i64,
    pub channels: i64,
    pub groups: i64,
    pub directs: i64,
    pub messages: i64,
    pub attachments: i64,
    pub attachment_bytes: i64,
    pub db_bytes: u64,
    pub wal_bytes: u64,
    pub attachments_dir_bytes: u64,
}

/// Reads the counts from the live database (read-only) and the sizes from the disk.
pub fn gather(data_dir: &Path) -> Result<Stats> {
    let conn = open_live(data_dir)?;
    let mut s = Stats {
        schema_version: super::schema_version(&conn)?,
        ..Stats::default()
    };
    // One read transaction: the counts agree with each other.
    let tx = conn.unchecked_transaction()?;
    let count = |table: &str, filter: &str| -> Result<i64> {
        if !has_table(&tx, table)? {
            return Ok(0);
        }
        let sql = format!("SELECT count(*) FROM {table} {filter}");
        Ok(tx.query_row(&sql, [], |r| r.get(0))?)
    };
    s.users = count("users", "")?;
    s.active_users = count("users", "WHERE deactivated = 0")?;
    s.admins = count("users", "WHERE role = 'admin' AND deactivated = 0")?;
    s.sessions = count("sessions", "")?;
    s.conversations = count("conversations", "")?;
    s.channels = count("conversations", "WHERE kind = 'channel'")?;
    s.groups = count("conversations", "WHERE kind = 'group'")?;
    s.directs = count("conversations", "WHERE kind = 'direct'")?;
    // Lines about conversations ("Bob added Ada") share the table but are no messages.
    s.messages = if has_column(&tx, "messages", "notice")? {
        count("messages", "WHERE deleted_at IS NULL AND notice IS NULL")?
    } else {
        count("messages", "WHERE deleted_at IS NULL")?
    };
    s.attachments = count("attachments", "")?;
    if has_table(&tx, "attachments")? {
        s.attachment_bytes =
            tx.query_row("SELECT coalesce(sum(size), 0) FROM attachments", [], |r| {
                r.get(0)
            })?;
    }
    drop(tx);
    s.db_bytes = file_size(&data_dir.join(DB_FILE));
    s.wal_bytes = file_size(&data_dir.join("hearth.db-wal"));
    s.attachments_dir_bytes = dir_size(&data_dir.join(ATTACHMENTS_DIR));
    Ok(s)
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

fn dir_size(root: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// `1.5 MiB`
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

impl Stats {
    /// The readable table.
    pub fn render(&self) -> String {
        let rows = [
            (
                "users",
                format!(
                    "{} ({} active, {} admins)",
                    self.users, self.active_users, self.admins
                ),
            ),
            ("sessions", self.sessions.to_string()),
            (
                "conversations",
                format!(
                    "{} ({} channels, {} groups, {} direct)",
                    self.conversations, self.channels, self.groups, self.directs
                ),
            ),
            ("messages", self.messages.to_string()),
            (
                "attachments",
                format!(
                    "{} ({})",
                    self.attachments,
                    human_bytes(self.attachment_bytes.max(0) as u64)
                ),
            ),
            ("database", human_bytes(self.db_bytes)),
            ("WAL", human_bytes(self.wal_bytes)),
            ("schema version", self.schema_version.to_string()),
        ];
        rows.iter().map(|(k, v)| format!("{k:<15} {v}\n")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_read_like_a_person_wrote_them() {
        assert_eq!(human_bytes(12), "12 bytes");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }
}
