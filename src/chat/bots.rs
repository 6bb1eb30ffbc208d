//! Bot accounts: made by admins, with no password; they act through their tokens and hooks
//! and are added to conversations like people.

use super::Chat;
use super::actor::Actor;
use crate::domain::{self, User, Username};
use crate::error::{Error, Result};
use crate::store::{audit, users};

/// Makes a bot account named `username` (shown as `display_name`, or its username).
pub async fn create(
    chat: &Chat,
    actor: Actor<'_>,
    username: &str,
    display_name: Option<&str>,
) -> Result<User> {
    if !actor.is_admin() {
        return Err(Error::Forbidden("only admins make bots".into()));
    }
    let username = Username::parse(username)?;
    let display = domain::display_name(display_name.unwrap_or(username.as_str()))?;
    let by = actor.name();
    chat.db
        .write(move |ctx| {
            let bot = users::insert_bot(ctx.conn, &username, &display)?;
            audit::record(ctx.conn, &by, "bot.create", &bot.username)?;
            Ok(bot)
        })
        .await
}

/// The bot accounts, for admins.
pub async fn list(chat: &Chat, actor: Actor<'_>) -> Result<Vec<User>> {
    if !actor.is_admin() {
        return Err(Error::Forbidden("only admins manage bots".into()));
    }
    chat.db.read(users::bots).await
}

/// The bot with this username, for admins; `NotFound` for a person.
pub async fn get(chat: &Chat, actor: Actor<'_>, username: &str) -> Result<User> {
    if !actor.is_admin() {
        return Err(Error::Forbidden("only admins manage bots".into()));
    }
    let name = username.to_owned();
    let user = chat
        .db
        .read(move |conn| users::by_name(conn, &name))
        .await?;
    if !user.bot {
        return Err(Error::NotFound);
    }
    Ok(user)
}
