//! Incoming webhooks: per conversation, a secret URL (only its hash kept) that posts as the
//! hook's bot.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::UserId;
use crate::domain::chat::ConversationId;
use crate::error::Result;

/// An incoming webhook as its managers see it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = IncomingWebhook)]
pub struct Incoming {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub bot_id: UserId,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, conversation_id, bot_id, name, created_at, last_used_at, revoked_at";

fn from_row(r: &Row) -> rusqlite::Result<Incoming> {
    Ok(Incoming {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        bot_id: r.get(2)?,
        name: r.get(3)?,
        created_at: r.get(4)?,
        last_used_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

pub fn insert(
    conn: &Connection,
    conversation: ConversationId,
    bot: UserId,
    name: &str,
    secret_hash: &[u8],
    by: UserId,
    now: i64,
) -> Result<Incoming> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO webhooks_in (conversation_id, bot_id, name, secret_hash, created_by,
                                      created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
        )?
        .query_row(
            params![conversation, bot, name, secret_hash, by, now],
            |r| r.get(0),
        )?;
    get(conn, id)?.ok_or(crate::error::Error::NotFound)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Incoming>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks_in WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?)
}

/// The hooks of a conversation that still work, oldest first.
pub fn of_conversation(conn: &Connection, conversation: ConversationId) -> Result<Vec<Incoming>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM webhooks_in
         WHERE conversation_id = ?1 AND revoked_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([conversation], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The working hook whose secret has this hash.
pub fn by_secret(conn: &Connection, secret_hash: &[u8]) -> Result<Option<Incoming>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM webhooks_in WHERE secret_hash = ?1 AND revoked_at IS NULL"
        ))?
        .query_row([secret_hash], from_row)
        .optional()?)
}

/// Gives a working hook a new secret; false when there is no such hook.
pub fn rotate(conn: &Connection, id: i64, secret_hash: &[u8]) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE webhooks_in SET secret_hash = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![id, secret_hash])?
        == 1)
}

/// Revokes a working hook; false when there is no such hook.
pub fn revoke(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE webhooks_in SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![id, now])?
        == 1)
}

/// Notes a use.
pub fn touch(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE webhooks_in SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}
