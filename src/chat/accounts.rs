//! Account actions: create users, the first admin, passwords, roles, deactivation.

use super::Chat;
use super::conversations::join_general;
use crate::domain::{self, Role, User, Username};
use crate::error::{Error, Result};
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::{audit, sessions, users};

/// What it takes to make an account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
    pub role: Role,
}

/// Validates before hashing: bad input costs no argon2 work and changes nothing.
pub(super) fn validate(new: &NewUser) -> Result<(Username, String)> {
    let username = Username::parse(&new.username)?;
    let display = domain::display_name(new.display_name.as_deref().unwrap_or(username.as_str()))?;
    domain::new_password(&new.password)?;
    Ok((username, display))
}

/// Creates an account. `actor` is who did it, for the audit log.
pub async fn create_user(chat: &Chat, actor: &str, new: NewUser) -> Result<User> {
    let (username, display) = validate(&new)?;
    let hash = chat.passwords.hash(new.password).await?;
    let (actor, live) = (actor.to_owned(), chat.clone());
    chat.db
        .write(move |ctx| {
            let user = users::insert(ctx.conn, &username, &display, &hash, new.role)?;
            audit::record(ctx.conn, &actor, "user.create", &user.username)?;
            join_general(ctx, &live, &user)?;
            if user.is_admin() {
                super::support::admin_added(ctx, &live, user.id)?;
            }
            Ok(user)
        })
        .await
}

/// Creates the first admin; refused once any active admin exists (checked inside the write).
pub async fn create_first_admin(chat: &Chat, new: NewUser) -> Result<User> {
    let (username, display) = validate(&new)?;
    let hash = chat.passwords.hash(new.password).await?;
    let live = chat.clone();
    chat.db
        .write(move |ctx| {
            if users::any_admin(ctx.conn)? {
                return Err(Error::Conflict(
                    "an admin already exists; add more users with `hearth user add`".into(),
                ));
            }
            let user = users::insert(ctx.conn, &username, &display, &hash, Role::Admin)?;
            audit::record(ctx.conn, "setup", "user.create", &user.username)?;
            join_general(ctx, &live, &user)?;
            super::support::admin_added(ctx, &live, user.id)?;
            Ok(user)
        })
        .await
}

pub async fn list_users(chat: &Chat) -> Result<Vec<User>> {
    chat.db.read(users::list).await
}

/// Sets a new password and ends every session of that user.
pub async fn set_password(
    chat: &Chat,
    actor: &str,
    username: &str,
    password: String,
) -> Result<User> {
    domain::new_password(&password)?;
    let user = find(chat, username).await?;
    let hash = chat.passwords.hash(password).await?;
    let actor = actor.to_owned();
    let user = chat
        .db
        .write(move |ctx| {
            users::set_password(ctx.conn, user.id, &hash)?;
            sessions::delete_for_user(ctx.conn, user.id)?;
            audit::record(ctx.conn, &actor, "user.password", &user.username)?;
            Ok(user)
        })
        .await?;
    chat.hub.kick_user(user.id, CLOSE_SESSION_ENDED);
    Ok(user)
}

pub async fn set_role(chat: &Chat, actor: &str, username: &str, role: Role) -> Result<User> {
    let user = find(chat, username).await?;
    if user.bot && role == Role::Admin {
        return Err(Error::invalid(format!(
            "{} is a bot: bots are never admins",
            user.username
        )));
    }
    let (actor, live) = (actor.to_owned(), chat.clone());
    chat.db
        .write(move |ctx| {
            if role != Role::Admin {
                keeps_an_admin(ctx.conn, &user)?;
            }
            users::set_role(ctx.conn, user.id, role)?;
            match role {
                Role::Admin => super::support::admin_added(ctx, &live, user.id)?,
                Role::Member => super::support::admin_removed(ctx, &live, user.id)?,
            }
            audit::record(
                ctx.conn,
                &actor,
                &format!("user.role.{}", role.as_str()),
                &user.username,
            )?;
            users::get(ctx.conn, user.id)
        })
        .await
}

/// Deactivates (ending every session at once) or reactivates an account.
pub async fn set_active(chat: &Chat, actor: &str, username: &str, active: bool) -> Result<User> {
    let user = find(chat, username).await?;
    let actor = actor.to_owned();
    let user = chat
        .db
        .write(move |ctx| {
            if !active {
                keeps_an_admin(ctx.conn, &user)?;
            }
            users::set_deactivated(ctx.conn, user.id, !active)?;
            if !active {
                sessions::delete_for_user(ctx.conn, user.id)?;
            }
            let action = if active {
                "user.enable"
            } else {
                "user.disable"
            };
            audit::record(ctx.conn, &actor, action, &user.username)?;
            users::get(ctx.conn, user.id)
        })
        .await?;
    if !active {
        chat.hub.kick_user(user.id, CLOSE_SESSION_ENDED);
    }
    Ok(user)
}

/// The user of that name (any letter case), or `NoSuchUser` naming it.
pub async fn find(chat: &Chat, username: &str) -> Result<User> {
    let name = username.to_owned();
    chat.db
        .read(move |conn| users::by_name(conn, &name))
        .await
        .map_err(|e| match e {
            Error::NotFound => Error::NoSuchUser(username.to_owned()),
            other => other,
        })
}

/// Refuses an admin action by someone who is no longer an active admin (demoted or
/// deactivated after their request was read): inside the write, as if they never were one.
pub fn still_admin(conn: &rusqlite::Connection, id: crate::domain::UserId) -> Result<User> {
    match users::get(conn, id) {
        Ok(user) if user.is_admin() && !user.deactivated => Ok(user),
        Ok(_) | Err(Error::NotFound) => Err(Error::NotFound),
        Err(other) => Err(other),
    }
}

/// Refuses to take away the last active admin (a demotion or a deactivation of `user`):
/// a community must keep someone who can run it.
pub fn keeps_an_admin(conn: &rusqlite::Connection, user: &User) -> Result<()> {
    let current = users::get(conn, user.id)?;
    if current.is_admin() && !current.deactivated && users::active_admins(conn)? <= 1 {
        return Err(Error::Conflict(format!(
            "{} is the only admin left; make someone else an admin first",
            current.username
        )));
    }
    Ok(())
}
