//! Sessions: only the SHA-256 of each token is stored, with its CSRF token and times.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::{User, UserId};
use crate::error::Result;

/// A live session as the web layer needs it.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: Vec<u8>,
    pub user: User,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// Set when the request came with an API token (`token_hash` is then the token's):
    /// what it may do. `None`: a browser session, which may do all its user may.
    pub scope: Option<crate::domain::tokens::Scope>,
}

/// One of a person's sessions, for their list of devices.
#[derive(Debug, Clone)]
pub struct Opened {
    pub token_hash: Vec<u8>,
    pub device: String,
    pub address: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

/// Where a session is opened: a short label of the browser and the client's address.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub device: String,
    pub address: String,
}

pub fn insert(
    conn: &Connection,
    token_hash: &[u8],
    user_id: UserId,
    csrf_token: &str,
    now: i64,
    place: &Place,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at,
                               device, address)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6)",
    )?
    .execute(params![
        token_hash,
        user_id,
        csrf_token,
        now,
        place.device,
        place.address
    ])?;
    Ok(())
}

/// A person's sessions, most recently used first.
pub fn list_for_user(conn: &Connection, user_id: UserId) -> Result<Vec<Opened>> {
    let mut stmt = conn.prepare_cached(
        "SELECT token_hash, device, address, created_at, last_seen_at FROM sessions
         WHERE user_id = ?1 ORDER BY last_seen_at DESC, created_at DESC",
    )?;
    let rows = stmt
        .query_map([user_id], |r| {
            Ok(Opened {
                token_hash: r.get(0)?,
                device: r.get(1)?,
                address: r.get(2)?,
                created_at: r.get(3)?,
                last_seen_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Ends every session of a user except `keep`; returns the token hashes that ended.
pub fn delete_others(conn: &Connection, user_id: UserId, keep: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2 RETURNING token_hash",
    )?;
    let rows = stmt
        .query_map(params![user_id, keep], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Ends every session of a user, keeping `reason` for each so its owner is told at their
/// next visit; returns how many ended.
pub fn end_all_because(
    conn: &Connection,
    user_id: UserId,
    reason: &str,
    now: i64,
) -> Result<usize> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO ended_sessions (token_hash, reason, ended_at)
         SELECT token_hash, ?2, ?3 FROM sessions WHERE user_id = ?1",
    )?
    .execute(params![user_id, reason, now])?;
    delete_for_user(conn, user_id)
}

/// Why the session with this token hash was ended by someone else, if it was.
pub fn ended_reason(conn: &Connection, token_hash: &[u8]) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT reason FROM ended_sessions WHERE token_hash = ?1")?
        .query_row([token_hash], |r| r.get(0))
        .optional()?)
}

/// Forgets why sessions ended before `before`; returns how many.
pub fn prune_ended(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM ended_sessions WHERE ended_at < ?1")?
        .execute([before])?)
}

/// The session with this token hash, if it exists and its user is active.
/// Expiry is judged by the caller, who knows the configured limits.
pub fn find(conn: &Connection, token_hash: &[u8]) -> Result<Option<Session>> {
    Ok(conn
        .prepare_cached(
            "SELECT s.csrf_token, s.created_at, s.last_seen_at,
                    u.id, u.username, u.display_name, u.role, u.deactivated, u.created_at,
                    u.avatar_sha256, u.bot
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND u.deactivated = 0",
        )?
        .query_row([token_hash], |r| {
            let role: String = r.get(6)?;
            Ok(Session {
                token_hash: token_hash.to_vec(),
                csrf_token: r.get(0)?,
                created_at: r.get(1)?,
                last_seen_at: r.get(2)?,
                user: User {
                    id: r.get(3)?,
                    username: r.get(4)?,
                    display_name: r.get(5)?,
                    role: crate::domain::Role::parse(&role).unwrap_or(crate::domain::Role::Member),
                    deactivated: r.get(7)?,
                    created_at: r.get(8)?,
                    avatar: r.get(9)?,
                    bot: r.get(10)?,
                },
                scope: None,
            })
        })
        .optional()?)
}

/// Marks a session, and its person, as seen at `now`.
pub fn touch(conn: &Connection, token_hash: &[u8], now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE users SET last_seen_at = ?2
         WHERE id = (SELECT user_id FROM sessions WHERE token_hash = ?1)",
    )?
    .execute(params![token_hash, now])?;
    conn.prepare_cached("UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, now])?;
    Ok(())
}

pub fn delete(conn: &Connection, token_hash: &[u8]) -> Result<()> {
    conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
        .execute([token_hash])?;
    Ok(())
}

/// Ends every session of a user; returns how many there were.
pub fn delete_for_user(conn: &Connection, user_id: UserId) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
        .execute([user_id])?)
}

/// Removes sessions idle since `idle_before` or created before `created_before`.
pub fn delete_expired(conn: &Connection, idle_before: i64, created_before: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2",
        params![idle_before, created_before],
    )?)
}
