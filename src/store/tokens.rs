//! API tokens: their hashes, scopes, expiry, last use and revocation.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::UserId;
use crate::domain::tokens::Scope;
use crate::error::Result;
use crate::store::sessions::Session;

/// A token as its owner sees it in their list (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = ApiToken)]
pub struct Token {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    pub scope: Scope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str =
    "t.id, t.user_id, t.name, t.scope, t.created_at, t.expires_at, t.last_used_at, t.revoked_at";

fn from_row(r: &Row) -> rusqlite::Result<Token> {
    let scope: String = r.get(3)?;
    Ok(Token {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        scope: Scope::parse(&scope).unwrap_or(Scope::Read),
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        last_used_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

pub struct NewToken<'a> {
    pub user_id: UserId,
    pub name: &'a str,
    pub token_hash: &'a [u8],
    pub scope: Scope,
    pub created_by: Option<UserId>,
    pub now: i64,
    pub expires_at: Option<i64>,
}

pub fn insert(conn: &Connection, t: &NewToken) -> Result<Token> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO api_tokens (user_id, name, token_hash, scope, created_by, created_at,
                                     expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?
        .query_row(
            params![
                t.user_id,
                t.name,
                t.token_hash,
                t.scope.as_str(),
                t.created_by,
                t.now,
                t.expires_at
            ],
            |r| r.get(0),
        )?;
    Ok(get(conn, id)?.expect("the token just written"))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Token>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM api_tokens t WHERE t.id = ?1"
        ))?
        .query_row([id], from_row)
        .optional()?)
}

/// The tokens of one user, newest first, revoked ones included.
pub fn of_user(conn: &Connection, user: UserId) -> Result<Vec<Token>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_tokens t WHERE t.user_id = ?1 ORDER BY t.id DESC LIMIT 500"
    ))?;
    let rows = stmt.query_map([user], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many tokens a user has that still work at `now`.
pub fn live_count(conn: &Connection, user: UserId, now: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM api_tokens
             WHERE user_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
        )?
        .query_row(params![user, now], |r| r.get(0))?)
}

/// Revokes a token of `user`: its hash (to close what it opened), or `None` when they have
/// no such token still standing.
pub fn revoke(conn: &Connection, user: UserId, id: i64, now: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "UPDATE api_tokens SET revoked_at = ?3
             WHERE id = ?1 AND user_id = ?2 AND revoked_at IS NULL RETURNING token_hash",
        )?
        .query_row(params![id, user, now], |r| r.get(0))
        .optional()?)
}

/// Notes a use (at most once a minute per token, like sessions).
pub fn touch(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// What a bearer token stands for: its row and its owner, as a session for the request.
pub struct Found {
    pub token: Token,
    pub session: Session,
}

/// The token with this hash and its owner (an active account), whatever its state: the
/// caller says why a revoked or expired one is refused.
pub fn find(conn: &Connection, token_hash: &[u8]) -> Result<Option<Found>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, u.id, u.username, u.display_name, u.role, u.deactivated,
                    u.created_at, u.avatar_sha256, u.bot
             FROM api_tokens t JOIN users u ON u.id = t.user_id
             WHERE t.token_hash = ?1 AND u.deactivated = 0"
        ))?
        .query_row([token_hash], |r| {
            let token = from_row(r)?;
            let role: String = r.get(11)?;
            let user = crate::domain::User {
                id: r.get(8)?,
                username: r.get(9)?,
                display_name: r.get(10)?,
                role: crate::domain::Role::parse(&role).unwrap_or(crate::domain::Role::Member),
                deactivated: r.get(12)?,
                created_at: r.get(13)?,
                avatar: r.get(14)?,
                bot: r.get(15)?,
            };
            Ok(Found {
                session: Session {
                    token_hash: token_hash.to_vec(),
                    user,
                    csrf_token: String::new(),
                    created_at: token.created_at,
                    last_seen_at: token.last_used_at.unwrap_or(token.created_at),
                    scope: Some(token.scope),
                },
                token,
            })
        })
        .optional()?)
}
