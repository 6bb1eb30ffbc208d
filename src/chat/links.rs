//! Adding and resetting people without passing passwords around: one-time "set your
//! password" links. An added person gets a welcome link (7 days); a reset ends every session
//! at once, tells each why at its next visit, and gives a reset link (24 hours).

use super::Chat;
use super::accounts::{self, NewUser};
use super::actor::Actor;
use super::conversations::join_general;
use super::secrets::{new_token, token_hash};
use crate::domain::{self, Role, User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::password_links::{self as store, Purpose};
use crate::store::{audit, sessions, users};

const HOUR_MS: i64 = 3_600_000;
pub const WELCOME_MS: i64 = 7 * 24 * HOUR_MS;
pub const RESET_MS: i64 = 24 * HOUR_MS;
/// What the person whose sessions a reset ended is told at their next visit.
pub const RESET_REASON: &str = "Your password was reset by an admin";

/// The link that carries a password token.
pub fn link(base: &str, token: &str) -> String {
    format!("{base}/password/{token}")
}

/// Writes a welcome link (7 days) for `user`, made by `created_by`; returns its token, which
/// is kept nowhere but in what the caller prints.
pub fn welcome(conn: &rusqlite::Connection, user: UserId, created_by: &str) -> Result<String> {
    let token = new_token();
    let now = now_ms();
    store::insert(
        conn,
        &token_hash(&token),
        user,
        Purpose::Welcome,
        created_by,
        now,
        now + WELCOME_MS,
    )?;
    Ok(token)
}

/// Only admins (and the command line) hand out links; others are told nothing exists.
fn admin_only(actor: Actor) -> Result<()> {
    if actor.is_admin() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Creates an account whose password nobody knows, and the welcome link that lets its owner
/// choose one. Returns the account and the token of the link.
pub async fn add_person(
    chat: &Chat,
    actor: Actor<'_>,
    username: &str,
    display_name: Option<String>,
    role: Role,
) -> Result<(User, String)> {
    admin_only(actor)?;
    let unusable = new_token();
    let new = NewUser {
        username: username.to_owned(),
        display_name,
        password: unusable.clone(),
        role,
    };
    let (username, display) = accounts::validate(&new)?;
    let hash = chat.passwords.hash(unusable).await?;
    let (name, live) = (actor.name(), chat.clone());
    chat.db
        .write(move |ctx| {
            let user = users::insert(ctx.conn, &username, &display, &hash, role)?;
            let token = welcome(ctx.conn, user.id, &name)?;
            audit::record(ctx.conn, &name, "user.add", &user.username)?;
            join_general(ctx, &live, &user)?;
            super::support::joined_as(ctx, &live, &user)?;
            Ok((user, token))
        })
        .await
}

/// Makes a reset link for `username`: their password stops working, every session of
/// theirs ends at once (each told why at its next visit), their sockets close, and older
/// unused links stop working. Returns the token of the link.
pub async fn reset_link(chat: &Chat, actor: Actor<'_>, username: &str) -> Result<String> {
    admin_only(actor)?;
    let user = accounts::find(chat, username).await?;
    if user.bot {
        return Err(Error::invalid(format!(
            "{} is a bot: it has no password; make it a token instead",
            user.username
        )));
    }
    // Whoever knew the old password (the reason for a reset, often) can no longer sign in.
    let unusable = chat.passwords.hash(new_token()).await?;
    let token = new_token();
    let (key, name, id) = (token_hash(&token), actor.name(), user.id);
    chat.db
        .write(move |ctx| {
            let now = now_ms();
            users::set_password(ctx.conn, id, &unusable)?;
            sessions::end_all_because(ctx.conn, id, RESET_REASON, now)?;
            store::void_unused(ctx.conn, id)?;
            store::insert(
                ctx.conn,
                &key,
                id,
                Purpose::Reset,
                &name,
                now,
                now + RESET_MS,
            )?;
            audit::record(ctx.conn, &name, "user.reset_link", &user.username)
        })
        .await?;
    chat.hub.kick_user(id, CLOSE_SESSION_ENDED);
    Ok(token)
}

/// The person a password link is for, if it can still be used: unknown tokens are
/// `NotFound`, used or expired ones `Gone` saying which.
pub async fn check(chat: &Chat, token: &str) -> Result<(User, Purpose)> {
    let key = token_hash(token);
    chat.db
        .read_short(move |conn| {
            let link = store::find(conn, &key)?.ok_or(Error::NotFound)?;
            usable(&link, now_ms())?;
            Ok((users::get(conn, link.user_id)?, link.purpose))
        })
        .await
}

fn usable(link: &store::Link, now: i64) -> Result<()> {
    if link.used_at.is_some() {
        Err(Error::Gone("This link has already been used".into()))
    } else if link.expires_at <= now {
        Err(Error::Gone("This link has expired".into()))
    } else {
        Ok(())
    }
}

/// Sets the password through a link, in one write: the link is marked used, the password
/// set and every session of the person ended. The caller then opens a session.
pub async fn set_password(chat: &Chat, token: &str, password: String) -> Result<User> {
    check(chat, token).await?;
    domain::new_password(&password)?;
    let hash = chat.passwords.hash(password).await?;
    let key = token_hash(token);
    let user = chat
        .db
        .write(move |ctx| {
            let link = store::find(ctx.conn, &key)?.ok_or(Error::NotFound)?;
            let now = now_ms();
            usable(&link, now)?;
            let user = users::get(ctx.conn, link.user_id)?;
            if user.deactivated {
                return Err(Error::Gone("This account is deactivated".into()));
            }
            if !store::use_once(ctx.conn, &key, now)? {
                return Err(Error::Gone("This link can no longer be used".into()));
            }
            users::set_password(ctx.conn, user.id, &hash)?;
            sessions::delete_for_user(ctx.conn, user.id)?;
            audit::record(
                ctx.conn,
                &user.username,
                "user.password_link",
                &user.username,
            )?;
            Ok(user)
        })
        .await?;
    chat.hub.kick_user(user.id, CLOSE_SESSION_ENDED);
    Ok(user)
}
