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

/// A username for a hook's bot made from the hook's name: letters, digits and `-`, at most
/// 24 of them, then `-bot`; `taken` says which are in use (a number is added until free).
pub fn hook_username(name: &str, taken: impl Fn(&str) -> Result<bool>) -> Result<Username> {
    let mut slug: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .take(24)
        .collect();
    if slug.is_empty() {
        slug = "hook".into();
    }
    let slug = slug.trim_end_matches('-').to_owned();
    for n in 1..1000 {
        let candidate = if n == 1 {
            format!("{slug}-bot")
        } else {
            format!("{slug}-bot{n}")
        };
        if !taken(&candidate)? {
            return Username::parse(&candidate);
        }
    }
    Err(Error::Conflict(format!(
        "no free username for a bot named {name:?}"
    )))
}

/// Makes the bot a webhook speaks as, named after the hook, and adds it to `conversation` (by
/// `by`, whose name is on the line that says so). Inside the write that makes the hook.
pub(super) fn for_hook(
    ctx: &mut crate::db::WriteCtx,
    chat: &Chat,
    conversation: &crate::domain::chat::Conversation,
    name: &str,
    by: &User,
) -> Result<User> {
    let display = domain::display_name(name)?;
    let username = hook_username(name, |u| Ok(users::by_name(ctx.conn, u).is_ok()))?;
    let bot = users::insert_bot(ctx.conn, &username, &display)?;
    let added = super::members::Arrival::Added {
        by: &crate::domain::chat::UserRef::from(by),
    };
    super::members::add(
        ctx,
        chat,
        conversation,
        &crate::domain::chat::UserRef::from(&bot),
        crate::domain::chat::MemberRole::Member,
        added,
    )?;
    Ok(bot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_bot_is_named_after_its_hook_and_never_takes_a_used_name() {
        let free = |_: &str| Ok(false);
        assert_eq!(
            hook_username("CI builds!", free).unwrap().as_str(),
            "ci-builds-bot"
        );
        assert_eq!(hook_username("  ", free).unwrap().as_str(), "hook-bot");
        assert_eq!(
            hook_username("Zoë's form", free).unwrap().as_str(),
            "zoë-s-form-bot"
        );
        let long = "a".repeat(40);
        assert_eq!(hook_username(&long, free).unwrap().as_str().len(), 24 + 4);
        let taken = |u: &str| Ok(u == "ci-bot" || u == "ci-bot2");
        assert_eq!(hook_username("ci", taken).unwrap().as_str(), "ci-bot3");
    }
}
