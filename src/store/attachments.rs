//! Attachments: uploads waiting to be sent, binding them to a message, the files of a
//! conversation, and what the collector may remove.

use rusqlite::{Connection, OptionalExtension, Row, params};
use std::collections::HashMap;

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Message, MessageId};
use crate::domain::files::{Attachment, AttachmentId, Picture};
use crate::error::Result;

const COLUMNS: &str = "a.id, a.filename, a.size, a.mime, a.kind, a.width, a.height, a.sha256,
     a.thumb_sha256, a.thumb_mime, a.thumb_width, a.thumb_height";

fn from_row(row: &Row) -> rusqlite::Result<Attachment> {
    let thumb = match row.get::<_, Option<String>>(8)? {
        Some(sha256) => Some(Picture {
            sha256,
            mime: row.get(9)?,
            width: row.get(10)?,
            height: row.get(11)?,
        }),
        None => None,
    };
    Ok(Attachment {
        id: row.get(0)?,
        name: row.get(1)?,
        size: row.get(2)?,
        mime: row.get(3)?,
        kind: row.get(4)?,
        width: row.get(5)?,
        height: row.get(6)?,
        sha256: row.get(7)?,
        thumb,
    })
}

/// An upload about to be recorded (its blob already stored).
pub struct NewUpload<'a> {
    pub uploader: UserId,
    pub sha256: &'a str,
    pub size: i64,
    pub mime: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumb: Option<&'a Picture>,
    pub now: i64,
}

pub fn insert_upload(conn: &Connection, u: &NewUpload) -> Result<Attachment> {
    let id: AttachmentId = conn
        .prepare_cached(
            "INSERT INTO attachments (uploader_id, sha256, size, mime, kind, filename, width, height,
                 thumb_sha256, thumb_mime, thumb_width, thumb_height, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
        )?
        .query_row(
            params![
                u.uploader,
                u.sha256,
                u.size,
                u.mime,
                u.kind,
                u.name,
                u.width,
                u.height,
                u.thumb.map(|t| &t.sha256),
                u.thumb.map(|t| &t.mime),
                u.thumb.map(|t| t.width),
                u.thumb.map(|t| t.height),
                u.now
            ],
            |r| r.get(0),
        )?;
    get(conn, id)
}

pub fn get(conn: &Connection, id: AttachmentId) -> Result<Attachment> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM attachments a WHERE a.id = ?1"
        ))?
        .query_row([id], from_row)?)
}

/// Who may download an attachment: its conversation once sent, else only its uploader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub uploader: UserId,
    pub conversation: Option<ConversationId>,
    pub deleted: bool,
}

pub fn access(conn: &Connection, id: AttachmentId) -> Result<Option<(Attachment, Access)>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, a.uploader_id, a.conversation_id, a.deleted_at IS NOT NULL
             FROM attachments a WHERE a.id = ?1"
        ))?
        .query_row([id], |r| {
            Ok((
                from_row(r)?,
                Access {
                    uploader: r.get(12)?,
                    conversation: r.get(13)?,
                    deleted: r.get(14)?,
                },
            ))
        })
        .optional()?)
}

/// Why an upload id cannot go with a message, in words for the sender.
pub fn unusable(
    conn: &Connection,
    id: AttachmentId,
    sender: UserId,
    pending_since: i64,
) -> Result<Option<String>> {
    let row: Option<(UserId, Option<MessageId>, i64)> = conn
        .prepare_cached(
            "SELECT uploader_id, message_id, created_at FROM attachments WHERE id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match row {
        None => Some(format!("no upload {id}")),
        Some((uploader, _, _)) if uploader != sender => Some(format!("no upload {id}")),
        Some((_, Some(_), _)) => Some(format!("upload {id} was already sent")),
        Some((_, None, created)) if created < pending_since => {
            Some(format!("upload {id} has expired; upload the file again"))
        }
        Some(_) => None,
    })
}

/// Binds uploads to the message that carries them.
pub fn bind(
    conn: &Connection,
    ids: &[AttachmentId],
    message: MessageId,
    conversation: ConversationId,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "UPDATE attachments SET message_id = ?2, conversation_id = ?3
         WHERE id = ?1 AND message_id IS NULL",
    )?;
    for id in ids {
        stmt.execute(params![id, message, conversation])?;
    }
    Ok(())
}

/// Marks the files of a deleted message: no longer served, collected after the retention time.
pub fn mark_deleted(conn: &Connection, message: MessageId, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE attachments SET deleted_at = ?2 WHERE message_id = ?1 AND deleted_at IS NULL",
    )?
    .execute(params![message, now])?;
    Ok(())
}

/// Fills in each message's attachments, in the order they were uploaded.
pub fn attach(conn: &Connection, messages: &mut [Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(&messages.iter().map(|m| m.id).collect::<Vec<_>>())
        .expect("ids serialize");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, a.message_id FROM attachments a
         WHERE a.message_id IN (SELECT value FROM json_each(?1)) AND a.deleted_at IS NULL
         ORDER BY a.message_id, a.id"
    ))?;
    let mut by_message: HashMap<MessageId, Vec<Attachment>> = HashMap::new();
    let rows = stmt.query_map([ids], |r| Ok((r.get::<_, MessageId>(12)?, from_row(r)?)))?;
    for row in rows {
        let (message, attachment) = row?;
        by_message.entry(message).or_default().push(attachment);
    }
    if by_message.is_empty() {
        return Ok(());
    }
    for m in messages {
        if let Some(list) = by_message.remove(&m.id) {
            m.attachments = list;
        }
    }
    Ok(())
}

/// One page of a conversation's files, newest first, from beyond `before` (an attachment id).
pub fn of_conversation(
    conn: &Connection,
    conversation: ConversationId,
    images_only: bool,
    before: Option<AttachmentId>,
    limit: usize,
) -> Result<Vec<(Attachment, MessageId, i64, String)>> {
    let kind = if images_only {
        "AND a.kind = 'image'"
    } else {
        ""
    };
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, a.message_id, m.created_at, u.display_name
         FROM attachments a
         JOIN messages m ON m.id = a.message_id
         JOIN users u ON u.id = a.uploader_id
         WHERE a.conversation_id = ?1 AND a.id < ?2 AND a.deleted_at IS NULL {kind}
         ORDER BY a.id DESC LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(
            params![conversation, before.unwrap_or(i64::MAX), limit as i64],
            |r| Ok((from_row(r)?, r.get(12)?, r.get(13)?, r.get(14)?)),
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Bytes of the files a person has uploaded and not had collected.
pub fn bytes_of(conn: &Connection, uploader: UserId) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(sum(size), 0) FROM attachments WHERE uploader_id = ?1")?
        .query_row([uploader], |r| r.get(0))?)
}

/// Deletes the rows the collector may take: uploads never sent since `pending_since`, and
/// files of messages deleted before `deleted_before`. Answers how many went.
pub fn collect_rows(conn: &Connection, pending_since: i64, deleted_before: i64) -> Result<usize> {
    let pending = conn
        .prepare_cached("DELETE FROM attachments WHERE message_id IS NULL AND created_at < ?1")?
        .execute([pending_since])?;
    let deleted = conn
        .prepare_cached("DELETE FROM attachments WHERE deleted_at < ?1")?
        .execute([deleted_before])?;
    Ok(pending + deleted)
}

/// Whether any row still needs the blob `sha256` (a file, a thumbnail, a card image, a picture
/// or the community's logo).
pub fn blob_in_use(conn: &Connection, sha256: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM attachments WHERE sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM attachments WHERE thumb_sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM link_previews WHERE image_sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM users WHERE avatar_sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM conversations WHERE picture_sha256 = ?1)
                 OR EXISTS (SELECT 1 FROM settings
                               WHERE name = 'instance.logo' AND CAST(value AS TEXT) = ?1)",
        )?
        .query_row([sha256], |r| r.get(0))?)
}
