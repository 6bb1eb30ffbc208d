//! One-time "set your password" links (welcome and reset); only each token's hash is kept.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::UserId;
use crate::error::Result;

/// Why a link was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Welcome,
    Reset,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Welcome => "welcome",
            Purpose::Reset => "reset",
        }
    }
}

/// A link as stored.
#[derive(Debug, Clone)]
pub struct Link {
    pub user_id: UserId,
    pub purpose: Purpose,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub fn insert(
    conn: &Connection,
    token_hash: &[u8],
    user_id: UserId,
    purpose: Purpose,
    created_by: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO password_links (token_hash, user_id, purpose, created_by, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![token_hash, user_id, purpose.as_str(), created_by, now, expires_at])?;
    Ok(())
}

pub fn find(conn: &Connection, token_hash: &[u8]) -> Result<Option<Link>> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, purpose, expires_at, used_at FROM password_links WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            let purpose: String = r.get(1)?;
            Ok(Link {
                user_id: r.get(0)?,
                purpose: if purpose == "reset" {
                    Purpose::Reset
                } else {
                    Purpose::Welcome
                },
                expires_at: r.get(2)?,
                used_at: r.get(3)?,
            })
        })
        .optional()?)
}

/// Marks a link used if it is unused and unexpired at `now`; false otherwise.
pub fn use_once(conn: &Connection, token_hash: &[u8], now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE password_links SET used_at = ?2
             WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
        )?
        .execute(params![token_hash, now])?
        == 1)
}

/// Voids a person's unused links (a newer one replaces them); returns how many.
pub fn void_unused(conn: &Connection, user_id: UserId) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM password_links WHERE user_id = ?1 AND used_at IS NULL")?
        .execute([user_id])?)
}
