//! Messages: insert (idempotent per client id), lines about the conversation, pages of history,
//! edits, soft deletes, mentions.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Message, MessageId, Notice, ReplyPreview};
use crate::error::Result;
use crate::store::users::{bot_ref, maybe_user_ref};
use crate::store::{attachments, link_previews, reactions};

/// Message columns with sender and the replied-to message's preview.
pub(crate) const SELECT: &str =
    "SELECT m.id, m.conversation_id, m.body, m.html, m.created_at, m.edited_at,
        m.deleted_at IS NOT NULL, m.reply_to, m.client_id,
        u.id, u.username, u.display_name, u.avatar_sha256,
        r.body, r.deleted_at IS NOT NULL, ru.id, ru.username, ru.display_name, ru.avatar_sha256,
        m.notice, u.bot, m.posted_as
    FROM messages m
    JOIN users u ON u.id = m.sender_id
    LEFT JOIN messages r ON r.id = m.reply_to
    LEFT JOIN users ru ON ru.id = r.sender_id";

const EXCERPT_CHARS: usize = 140;

pub(crate) fn from_row(row: &Row) -> rusqlite::Result<Message> {
    let reply_to: Option<MessageId> = row.get(7)?;
    let reply = match (reply_to, maybe_user_ref(row, 15)?) {
        (Some(id), Some(sender)) => {
            let body: String = row.get(13)?;
            Some(ReplyPreview {
                id,
                sender,
                excerpt: crate::render::plain_text(&body)
                    .chars()
                    .take(EXCERPT_CHARS)
                    .collect(),
                deleted: row.get(14)?,
            })
        }
        _ => None,
    };
    let notice = match row.get::<_, Option<String>>(19)? {
        Some(json) => Some(serde_json::from_str::<Notice>(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(19, rusqlite::types::Type::Text, e.into())
        })?),
        None => None,
    };
    Ok(Message {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        body: row.get(2)?,
        html: row.get(3)?,
        created_at: row.get(4)?,
        edited_at: row.get(5)?,
        deleted: row.get(6)?,
        reply_to,
        client_id: row.get(8)?,
        sender: bot_ref(row, 9, 20)?,
        posted_as: row.get(21)?,
        reply,
        reactions: Vec::new(),
        notice,
        attachments: Vec::new(),
        preview: None,
    })
}

/// What it takes to store a message.
pub struct NewMessage<'a> {
    pub conversation_id: ConversationId,
    pub sender_id: UserId,
    pub body: &'a str,
    pub html: &'a str,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<&'a str>,
    /// The name a webhook posted it under.
    pub posted_as: Option<&'a str>,
    pub now: i64,
}

pub fn insert(conn: &Connection, m: &NewMessage) -> Result<MessageId> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO messages
                 (conversation_id, sender_id, body, html, reply_to, client_id, posted_as, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )?
        .query_row(
            params![
                m.conversation_id,
                m.sender_id,
                m.body,
                m.html,
                m.reply_to,
                m.client_id,
                m.posted_as,
                m.now
            ],
            |r| r.get(0),
        )?)
}

/// Writes a line about the conversation, done by `by`: an empty body (nothing to search or
/// edit), `html` saying it in words for clients that show only messages.
pub fn insert_notice(
    conn: &Connection,
    conversation: ConversationId,
    by: UserId,
    notice: &Notice,
    html: &str,
    now: i64,
) -> Result<MessageId> {
    let notice = serde_json::to_string(&notice.to_store()).expect("a notice serializes");
    Ok(conn
        .prepare_cached(
            "INSERT INTO messages (conversation_id, sender_id, body, html, notice, created_at)
             VALUES (?1, ?2, '', ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(params![conversation, by, html, notice, now], |r| r.get(0))?)
}

/// The message a sender already sent with this client id.
pub fn by_client_id(
    conn: &Connection,
    sender: UserId,
    client_id: &str,
) -> Result<Option<MessageId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM messages WHERE sender_id = ?1 AND client_id = ?2")?
        .query_row(params![sender, client_id], |r| r.get(0))
        .optional()?)
}

/// One message with its reactions.
pub fn get(conn: &Connection, id: MessageId) -> Result<Message> {
    let mut message = conn
        .prepare_cached(&format!("{SELECT} WHERE m.id = ?1"))?
        .query_row([id], from_row)?;
    let one = std::slice::from_mut(&mut message);
    reactions::attach(conn, one)?;
    attachments::attach(conn, one)?;
    link_previews::attach(conn, one)?;
    Ok(message)
}

/// A message just written in this transaction: it has no reactions and no link card yet, so
/// only its files are looked up, and only when it was sent with some (a post reads one row).
pub fn get_new(conn: &Connection, id: MessageId, with_files: bool) -> Result<Message> {
    let mut message = conn
        .prepare_cached(&format!("{SELECT} WHERE m.id = ?1"))?
        .query_row([id], from_row)?;
    if with_files {
        attachments::attach(conn, std::slice::from_mut(&mut message))?;
    }
    Ok(message)
}

/// Which way a page of history goes from its cursor.
#[derive(Debug, Clone, Copy)]
pub enum Cursor {
    Latest,
    Before(MessageId),
    After(MessageId),
}

/// The statement of a page in the cursor's direction: `?1` the conversation, `?2` the message
/// the page starts beyond (excluded), `?3` how many. A range of `messages_by_conversation` read
/// in its order, so no sort and no row outside the page.
pub(crate) fn page_sql(cursor: Cursor) -> String {
    let (beyond, order) = match cursor {
        Cursor::Latest | Cursor::Before(_) => ("<", "DESC"),
        Cursor::After(_) => (">", "ASC"),
    };
    format!(
        "{SELECT} WHERE m.conversation_id = ?1 AND m.id {beyond} ?2 ORDER BY m.id {order} LIMIT ?3"
    )
}

/// Up to `limit` messages, oldest first, and whether more lie beyond in the cursor's direction.
pub fn page(
    conn: &Connection,
    conversation: ConversationId,
    cursor: Cursor,
    limit: usize,
) -> Result<(Vec<Message>, bool)> {
    let fetch = (limit + 1) as i64;
    let bound = match cursor {
        Cursor::Latest => i64::MAX,
        Cursor::Before(id) | Cursor::After(id) => id,
    };
    let mut messages: Vec<Message> = conn
        .prepare_cached(&page_sql(cursor))?
        .query_map(params![conversation, bound, fetch], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let has_more = messages.len() > limit;
    messages.truncate(limit);
    if !matches!(cursor, Cursor::After(_)) {
        messages.reverse();
    }
    reactions::attach(conn, &mut messages)?;
    attachments::attach(conn, &mut messages)?;
    link_previews::attach(conn, &mut messages)?;
    Ok((messages, has_more))
}

/// Whether a message or line exists in a conversation (for cursors and read marks).
pub fn exists_in(conn: &Connection, conversation: ConversationId, id: MessageId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2)",
        )?
        .query_row(params![id, conversation], |r| r.get(0))?)
}

/// Whether a message someone wrote (not a line about the conversation) is in a conversation:
/// what a reply may answer.
pub fn is_message_in(
    conn: &Connection,
    conversation: ConversationId,
    id: MessageId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages
                            WHERE id = ?1 AND conversation_id = ?2 AND notice IS NULL)",
        )?
        .query_row(params![id, conversation], |r| r.get(0))?)
}

pub fn edit(conn: &Connection, id: MessageId, body: &str, html: &str, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE messages SET body = ?2, html = ?3, edited_at = ?4 WHERE id = ?1")?
        .execute(params![id, body, html, now])?;
    Ok(())
}

/// Sets when a message was last edited, leaving its words as they are (an import knows the
/// time of an edit made elsewhere).
pub fn set_edited_at(conn: &Connection, id: MessageId, at: i64) -> Result<()> {
    conn.prepare_cached("UPDATE messages SET edited_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

/// Soft delete: the row stays (replies and order keep working), the text is gone.
/// Up to `limit` of the messages `sender` wrote that are not deleted (lines aside), oldest first.
pub fn live_by_sender(conn: &Connection, sender: UserId, limit: usize) -> Result<Vec<MessageId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM messages WHERE sender_id = ?1 AND deleted_at IS NULL AND notice IS NULL
         ORDER BY id LIMIT ?2",
    )?;
    let ids = stmt
        .query_map(params![sender, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

pub fn soft_delete(conn: &Connection, id: MessageId, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE messages SET body = '', html = '', deleted_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    conn.prepare_cached("DELETE FROM reactions WHERE message_id = ?1")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Replaces the mentions of a message.
pub fn set_mentions(
    conn: &Connection,
    message: MessageId,
    conversation: ConversationId,
    users: &[UserId],
) -> Result<()> {
    conn.prepare_cached("DELETE FROM mentions WHERE message_id = ?1")?
        .execute([message])?;
    add_mentions(conn, message, conversation, users)
}

/// Records the mentions of a message that has none yet (a new one: nothing to delete first).
pub fn add_mentions(
    conn: &Connection,
    message: MessageId,
    conversation: ConversationId,
    users: &[UserId],
) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO mentions (user_id, conversation_id, message_id) VALUES (?1, ?2, ?3)",
    )?;
    for user in users {
        insert.execute(params![user, conversation, message])?;
    }
    Ok(())
}
