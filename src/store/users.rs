//! Users: accounts, roles, the deactivated flag, password hashes and avatars.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::chat::UserRef;
use crate::domain::{Role, User, UserId, Username, now_ms};
use crate::error::{Error, Result};

const COLUMNS: &str =
    "id, username, display_name, role, deactivated, created_at, avatar_sha256, bot";

fn from_row(row: &Row) -> rusqlite::Result<User> {
    let role: String = row.get(3)?;
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        role: if role == "admin" {
            Role::Admin
        } else {
            Role::Member
        },
        deactivated: row.get(4)?,
        created_at: row.get(5)?,
        avatar: row.get(6)?,
        bot: row.get(7)?,
    })
}

/// A person as shown beside what they did, from four columns starting at `at`: id, username,
/// display name and avatar (`u.id, u.username, u.display_name, u.avatar_sha256`). Whether
/// they are a bot is read where it is shown beside their name: see [`bot_ref`].
pub(crate) fn user_ref(row: &Row, at: usize) -> rusqlite::Result<UserRef> {
    Ok(UserRef {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
        avatar: row.get(at + 3)?,
        bot: false,
    })
}

/// [`user_ref`], with the bot flag read from column `bot_at` (`u.bot`).
pub(crate) fn bot_ref(row: &Row, at: usize, bot_at: usize) -> rusqlite::Result<UserRef> {
    Ok(UserRef {
        bot: row.get(bot_at)?,
        ..user_ref(row, at)?
    })
}

/// The same from an outer join: `None` when the id is NULL.
pub(crate) fn maybe_user_ref(row: &Row, at: usize) -> rusqlite::Result<Option<UserRef>> {
    match row.get::<_, Option<UserId>>(at)? {
        Some(_) => user_ref(row, at).map(Some),
        None => Ok(None),
    }
}

/// Inserts a user; a name taken in any letter case is a `Conflict` that names it.
pub fn insert(
    conn: &Connection,
    username: &Username,
    display_name: &str,
    password_hash: &str,
    role: Role,
) -> Result<User> {
    let taken = conn
        .prepare_cached("SELECT username FROM users WHERE username = ?1")?
        .query_row([username.as_str()], |r| r.get::<_, String>(0))
        .optional()?;
    if let Some(existing) = taken {
        return Err(Error::Conflict(format!(
            "username {existing:?} is already taken"
        )));
    }
    let id = conn
        .prepare_cached(
            "INSERT INTO users (username, display_name, password_hash, role, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(
            params![
                username.as_str(),
                display_name,
                password_hash,
                role.as_str(),
                now_ms()
            ],
            |r| r.get(0),
        )?;
    get(conn, id)
}

/// What a bot has instead of a password hash: no password matches it, and sign-in refuses
/// bots before looking.
pub const NO_PASSWORD: &str = "!bot";

/// Inserts a bot account: a member with no password.
pub fn insert_bot(conn: &Connection, username: &Username, display_name: &str) -> Result<User> {
    let user = insert(conn, username, display_name, NO_PASSWORD, Role::Member)?;
    conn.prepare_cached("UPDATE users SET bot = 1 WHERE id = ?1")?
        .execute([user.id])?;
    get(conn, user.id)
}

/// The bot accounts, by name.
pub fn bots(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE bot = 1 ORDER BY username"
    ))?;
    let bots = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(bots)
}

pub fn get(conn: &Connection, id: UserId) -> Result<User> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE id = ?1"))?
        .query_row([id], from_row)?)
}

/// Finds a user by name in any letter case.
pub fn by_name(conn: &Connection, username: &str) -> Result<User> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE username = ?1"))?
        .query_row([username.trim()], from_row)?)
}

/// The user and their password hash, for logging in.
pub fn credentials(conn: &Connection, username: &str) -> Result<Option<(User, String)>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS}, password_hash FROM users WHERE username = ?1"
        ))?
        .query_row([username.trim()], |r| Ok((from_row(r)?, r.get(8)?)))
        .optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))?;
    let users = stmt
        .query_map([], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(users)
}

pub fn any_admin(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND deactivated = 0)",
        )?
        .query_row([], |r| r.get(0))?)
}

/// How many active admins there are.
pub fn active_admins(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users WHERE role = 'admin' AND deactivated = 0")?
        .query_row([], |r| r.get(0))?)
}

pub fn set_password(conn: &Connection, id: UserId, hash: &str) -> Result<()> {
    affected(conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![id, hash],
    )?)
}

pub fn set_display_name(conn: &Connection, id: UserId, display_name: &str) -> Result<()> {
    affected(conn.execute(
        "UPDATE users SET display_name = ?2 WHERE id = ?1",
        params![id, display_name],
    )?)
}

/// The password hash of an account, for checking the current password.
pub fn password_hash(conn: &Connection, id: UserId) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT password_hash FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?)
}

pub fn set_role(conn: &Connection, id: UserId, role: Role) -> Result<()> {
    affected(conn.execute(
        "UPDATE users SET role = ?2 WHERE id = ?1",
        params![id, role.as_str()],
    )?)
}

/// Sets or clears a person's picture (the blob of the old one goes with the next collection).
pub fn set_avatar(conn: &Connection, id: UserId, sha256: Option<&str>) -> Result<()> {
    affected(conn.execute(
        "UPDATE users SET avatar_sha256 = ?2 WHERE id = ?1",
        params![id, sha256],
    )?)
}

/// Whether the account exists and is not deactivated (checked inside every member's write).
pub fn is_active(conn: &Connection, id: UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT deactivated = 0 FROM users WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

pub fn set_deactivated(conn: &Connection, id: UserId, deactivated: bool) -> Result<()> {
    affected(conn.execute(
        "UPDATE users SET deactivated = ?2 WHERE id = ?1",
        params![id, deactivated],
    )?)
}

/// Marks an account as a bot (it never signs in) or as a person.
pub fn set_bot(conn: &Connection, id: UserId, bot: bool) -> Result<()> {
    affected(conn.execute("UPDATE users SET bot = ?2 WHERE id = ?1", params![id, bot])?)
}

/// Who an admin is looking for: a part of the name, a role, active or deactivated.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub text: String,
    pub role: Option<Role>,
    pub deactivated: Option<bool>,
}

/// A person as the admin console lists them.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Person {
    #[serde(flatten)]
    pub user: User,
    /// 0 when never seen.
    pub last_seen_at: i64,
    pub sessions: i64,
}

/// People matching `filter` by username or display name, by name, at most `limit`.
pub fn search(conn: &Connection, filter: &Filter, limit: usize) -> Result<Vec<Person>> {
    let pattern = format!(
        "%{}%",
        filter
            .text
            .trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS}, last_seen_at,
                (SELECT count(*) FROM sessions s WHERE s.user_id = users.id)
         FROM users
         WHERE (username LIKE ?1 ESCAPE '\\' OR display_name LIKE ?1 ESCAPE '\\')
           AND (?2 IS NULL OR role = ?2) AND (?3 IS NULL OR deactivated = ?3)
         ORDER BY username LIMIT ?4"
    ))?;
    let people = stmt
        .query_map(
            params![
                pattern,
                filter.role.map(Role::as_str),
                filter.deactivated,
                limit as i64
            ],
            |r| {
                Ok(Person {
                    user: from_row(r)?,
                    last_seen_at: r.get(8)?,
                    sessions: r.get(9)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(people)
}

fn affected(n: usize) -> Result<()> {
    if n == 0 { Err(Error::NotFound) } else { Ok(()) }
}
