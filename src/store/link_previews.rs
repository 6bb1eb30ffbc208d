//! Link previews: the card of a message's first link, its removal by the author.

use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

use crate::domain::chat::{Message, MessageId};
use crate::domain::files::{LinkCard, Picture};
use crate::error::Result;

const COLUMNS: &str = "message_id, url, title, description, site,
     image_sha256, image_mime, image_width, image_height";

fn from_row(row: &rusqlite::Row) -> rusqlite::Result<(MessageId, LinkCard)> {
    let image = match row.get::<_, Option<String>>(5)? {
        Some(sha256) => Some(Picture {
            sha256,
            mime: row.get(6)?,
            width: row.get(7)?,
            height: row.get(8)?,
        }),
        None => None,
    };
    Ok((
        row.get(0)?,
        LinkCard {
            url: row.get(1)?,
            title: row.get(2)?,
            description: row.get(3)?,
            site: row.get(4)?,
            image,
        },
    ))
}

/// Stores a message's card; false when it already has one or its author removed it.
pub fn insert(conn: &Connection, message: MessageId, card: &LinkCard, now: i64) -> Result<bool> {
    let image = card.image.as_ref();
    Ok(conn
        .prepare_cached(
            "INSERT INTO link_previews (message_id, url, title, description, site,
                 image_sha256, image_mime, image_width, image_height, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            message,
            card.url,
            card.title,
            card.description,
            card.site,
            image.map(|p| &p.sha256),
            image.map(|p| &p.mime),
            image.map(|p| p.width),
            image.map(|p| p.height),
            now
        ])?
        == 1)
}

/// Takes a message's card away for good (its link is not read again); false when it had none.
pub fn remove(conn: &Connection, message: MessageId, now: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO link_previews (message_id, url, title, removed, created_at)
             VALUES (?1, '', '', 1, ?2)
             ON CONFLICT (message_id) DO UPDATE SET removed = 1, image_sha256 = NULL
             WHERE removed = 0",
        )?
        .execute(params![message, now])?;
    Ok(changed == 1)
}

/// Whether a message's link was already read or its card removed.
pub fn decided(conn: &Connection, message: MessageId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM link_previews WHERE message_id = ?1")?
        .query_row([message], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The image of a message's card, when shown.
pub fn image(conn: &Connection, message: MessageId) -> Result<Option<Picture>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM link_previews WHERE message_id = ?1 AND removed = 0"
        ))?
        .query_row([message], from_row)
        .optional()?
        .and_then(|(_, card)| card.image))
}

/// Fills in each message's card.
pub fn attach(conn: &Connection, messages: &mut [Message]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(&messages.iter().map(|m| m.id).collect::<Vec<_>>())
        .expect("ids serialize");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM link_previews
         WHERE message_id IN (SELECT value FROM json_each(?1)) AND removed = 0"
    ))?;
    let mut cards: HashMap<MessageId, LinkCard> = stmt
        .query_map([ids], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    if cards.is_empty() {
        return Ok(());
    }
    for m in messages {
        if !m.deleted {
            m.preview = cards.remove(&m.id);
        }
    }
    Ok(())
}
