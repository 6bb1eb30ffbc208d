//! Invites: links that let someone make their own account; only each token's hash is kept.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::{Role, UserId};
use crate::error::{Error, Result};

/// An invite as stored, with its creator's name (None: made from the command line).
#[derive(Debug, Clone)]
pub struct Invite {
    pub id: i64,
    pub created_by: Option<UserId>,
    pub creator: Option<String>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub uses: i64,
    pub role: Role,
    /// The ids of the conversations a newcomer joins.
    pub conversations: Vec<i64>,
    pub revoked_at: Option<i64>,
}

/// What an invite is fit for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = InviteState)]
pub enum State {
    Active,
    Expired,
    Revoked,
    UsedUp,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Expired => "expired",
            State::Revoked => "revoked",
            State::UsedUp => "used up",
        }
    }
}

impl Invite {
    /// Revoked first, then used up, then expired: the reason a person can do least about last.
    pub fn state(&self, now: i64) -> State {
        if self.revoked_at.is_some() {
            State::Revoked
        } else if self.max_uses.is_some_and(|m| self.uses >= m) {
            State::UsedUp
        } else if self.expires_at.is_some_and(|e| e <= now) {
            State::Expired
        } else {
            State::Active
        }
    }
}

const SELECT: &str = "SELECT i.id, i.created_by, u.username, i.created_at, i.expires_at,
        i.max_uses, i.uses, i.role, i.conversations, i.revoked_at
    FROM invites i LEFT JOIN users u ON u.id = i.created_by";

fn from_row(row: &Row) -> rusqlite::Result<Invite> {
    let role: String = row.get(7)?;
    let conversations: String = row.get(8)?;
    Ok(Invite {
        id: row.get(0)?,
        created_by: row.get(1)?,
        creator: row.get(2)?,
        created_at: row.get(3)?,
        expires_at: row.get(4)?,
        max_uses: row.get(5)?,
        uses: row.get(6)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        conversations: serde_json::from_str(&conversations).unwrap_or_default(),
        revoked_at: row.get(9)?,
    })
}

/// What a new invite holds besides its token.
pub struct NewInvite<'a> {
    pub token_hash: &'a [u8],
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub max_uses: Option<i64>,
    pub role: Role,
    pub conversations: &'a [i64],
}

pub fn insert(conn: &Connection, new: &NewInvite) -> Result<i64> {
    let conversations = serde_json::to_string(new.conversations)
        .map_err(|e| Error::Internal(format!("invite conversations: {e}")))?;
    Ok(conn
        .prepare_cached(
            "INSERT INTO invites (token_hash, created_by, created_at, expires_at, max_uses, role,
                                  conversations)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
        )?
        .query_row(
            params![
                new.token_hash,
                new.created_by,
                new.created_at,
                new.expires_at,
                new.max_uses,
                new.role.as_str(),
                conversations
            ],
            |r| r.get(0),
        )?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Invite> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE i.id = ?1"))?
        .query_row([id], from_row)?)
}

pub fn by_hash(conn: &Connection, token_hash: &[u8]) -> Result<Option<Invite>> {
    Ok(conn
        .prepare_cached(&format!("{SELECT} WHERE i.token_hash = ?1"))?
        .query_row([token_hash], from_row)
        .optional()?)
}

/// Every invite, newest first; `creator` limits them to the ones that person made.
pub fn list(conn: &Connection, creator: Option<UserId>) -> Result<Vec<Invite>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE ?1 IS NULL OR i.created_by = ?1 ORDER BY i.id DESC LIMIT 500"
    ))?;
    let rows = stmt
        .query_map([creator], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Revokes an invite not revoked yet; false when it already was.
pub fn revoke(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("UPDATE invites SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(params![id, now])?
        == 1)
}

/// Counts one use if the invite is still usable at `now`; false when it is not.
pub fn use_once(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE invites SET uses = uses + 1
             WHERE id = ?1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > ?2)
               AND (max_uses IS NULL OR uses < max_uses)",
        )?
        .execute(params![id, now])?
        == 1)
}
