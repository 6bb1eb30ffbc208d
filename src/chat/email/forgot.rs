//! "Forgot your password?": a person who verified an address gets a one-time reset link
//! there. The answer is the same whoever is asked for, and comes before anything is looked
//! up: neither its words nor its time tell whether such a person exists.
//!
//! Limits: 10 requests an hour from one address (told: 429), and 3 emails an hour to one
//! person (not told: further requests send nothing).

use std::net::IpAddr;
use std::time::Duration;

use super::super::Chat;
use super::super::links::{self, RESET_MS};
use super::super::secrets::{new_token, token_hash};
use super::super::throttle::{Key, Rule, client_key};
use super::{mailer, send_now, store};
use crate::domain::{UserId, now_ms};
use crate::error::{Error, Result};
use crate::mail::compose;
use crate::store::password_links::{self, Purpose};
use crate::store::{audit, users};

/// Requests from one address.
pub const PER_ADDRESS: Rule = Rule {
    limit: 10,
    window: Duration::from_secs(3600),
    forgiven: false,
};
/// Reset emails to one person.
pub const PER_PERSON: Rule = Rule {
    limit: 3,
    window: Duration::from_secs(3600),
    forgiven: false,
};

/// Asks for a reset link for the person named `who` (a username or a verified address),
/// from `ip`. Answers once the request is counted; the rest happens after.
pub async fn request(chat: &Chat, ip: IpAddr, who: &str) -> Result<()> {
    mailer(chat)?;
    let who = who.trim();
    if who.is_empty() || who.chars().count() > crate::mail::MAX_ADDRESS_CHARS {
        return Err(Error::invalid("enter your username or your email address"));
    }
    let attempt = chat
        .email
        .throttle
        .attempt(&[Key::new(format!("forgot:{}", client_key(ip)), PER_ADDRESS)])?;
    drop(attempt);
    let (chat, who) = (chat.clone(), who.to_owned());
    tokio::spawn(async move {
        if let Err(err) = send_link(&chat, &who).await {
            tracing::warn!(error = %err, "a password reset email was not made");
        }
    });
    Ok(())
}

/// The person `who` names and their verified address, if both exist.
async fn find(chat: &Chat, who: String) -> Result<Option<(UserId, String, String)>> {
    chat.db
        .read_short(move |conn| {
            let user = match who.contains('@') {
                true => store::verified_owner(conn, &who)?,
                false => users::credentials(conn, &who)?.map(|(u, _)| u.id),
            };
            let Some(user) = user else {
                return Ok(None);
            };
            let person = users::get(conn, user)?;
            let address = store::get(conn, user)?.filter(|a| a.verified_at.is_some());
            Ok(match (person.deactivated, address) {
                (false, Some(a)) => Some((user, person.username, a.address)),
                _ => None,
            })
        })
        .await
}

async fn send_link(chat: &Chat, who: &str) -> Result<()> {
    let Some((user, username, address)) = find(chat, who.to_owned()).await? else {
        return Ok(());
    };
    let Ok(attempt) = chat
        .email
        .throttle
        .attempt(&[Key::new(format!("forgot.person:{user}"), PER_PERSON)])
    else {
        tracing::info!(
            user,
            "a password reset email was held back: too many this hour"
        );
        return Ok(());
    };
    drop(attempt);
    let token = new_token();
    let (key, name) = (token_hash(&token), username.clone());
    chat.db
        .write(move |ctx| {
            let now = now_ms();
            password_links::void_unused(ctx.conn, user)?;
            password_links::insert(
                ctx.conn,
                &key,
                user,
                Purpose::Reset,
                "email",
                now,
                now + RESET_MS,
            )?;
            audit::record(ctx.conn, &name, "user.password_forgot", &name)
        })
        .await?;
    let community = chat.instance().community_name.clone();
    let link = links::link(&chat.config.base_url, &token);
    send_now(
        chat,
        compose::reset(&address, &community, &username, &link),
        "a password reset email",
    );
    Ok(())
}
