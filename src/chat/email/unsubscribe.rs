//! Unsubscribe links: `{person id}.{HMAC of it}`, signed with a key the server makes once and
//! keeps in its settings. A link works without signing in, for as long as the key stays, and
//! using it twice is the same as once.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::super::Chat;
use super::store;
use crate::domain::UserId;
use crate::error::{Error, Result};
use crate::store::{settings, users};

/// Where the key is kept (in the database, so in every backup).
const KEY_SETTING: &str = "email.unsubscribe_key";

async fn key(chat: &Chat) -> Result<[u8; 32]> {
    chat.email
        .key
        .get_or_try_init(|| async {
            let mut fresh = [0u8; 32];
            getrandom::fill(&mut fresh).expect("the OS random source");
            let kept = chat
                .db
                .write(move |ctx| settings::get_or_insert(ctx.conn, KEY_SETTING, &fresh))
                .await?;
            <[u8; 32]>::try_from(kept.as_slice()).map_err(|_| {
                Error::Internal(format!(
                    "the stored unsubscribe key ({KEY_SETTING}) is damaged; restore it from a backup"
                ))
            })
        })
        .await
        .copied()
}

fn mac(key: &[u8; 32], user: UserId) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"hearth email unsubscribe\0");
    mac.update(user.to_string().as_bytes());
    mac
}

/// The token of `user`'s unsubscribe link.
pub async fn token(chat: &Chat, user: UserId) -> Result<String> {
    let key = key(chat).await?;
    Ok(sign(&key, user))
}

fn sign(key: &[u8; 32], user: UserId) -> String {
    format!(
        "{user}.{}",
        hex::encode(mac(key, user).finalize().into_bytes())
    )
}

/// The person a token was signed for; anything else (forged, garbled) is `None`. The MAC is
/// compared in constant time.
fn signed(key: &[u8; 32], token: &str) -> Option<UserId> {
    let (user, tag) = token.split_once('.')?;
    let user: UserId = user.parse().ok().filter(|u| *u > 0)?;
    let tag = hex::decode(tag).ok()?;
    mac(key, user).verify_slice(&tag).ok()?;
    Some(user)
}

/// The link in every notification email.
pub async fn link(chat: &Chat, user: UserId) -> Result<String> {
    Ok(format!(
        "{}/email/unsubscribe?token={}",
        chat.config.base_url,
        token(chat, user).await?
    ))
}

/// The address a token unsubscribes, while its person has one; `NotFound` otherwise.
pub async fn check(chat: &Chat, token: &str) -> Result<String> {
    let user = signed(&key(chat).await?, token).ok_or(Error::NotFound)?;
    chat.db
        .read_short(move |conn| {
            users::get(conn, user)?;
            Ok(store::get(conn, user)?.ok_or(Error::NotFound)?.address)
        })
        .await
}

/// Turns off the notification emails of the token's person (again is the same as once).
pub async fn unsubscribe(chat: &Chat, token: &str) -> Result<String> {
    let user = signed(&key(chat).await?, token).ok_or(Error::NotFound)?;
    chat.db
        .write(move |ctx| {
            let address = store::get(ctx.conn, user)?.ok_or(Error::NotFound)?.address;
            store::set_notify(ctx.conn, user, false, 0)?;
            Ok(address)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tokens_this_key_signed_name_a_person() {
        let key = [7u8; 32];
        let token = sign(&key, 42);
        assert!(token.starts_with("42.") && token.len() == 3 + 64);
        assert_eq!(signed(&key, &token), Some(42));
        assert_eq!(signed(&[8u8; 32], &token), None, "another key");
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(signed(&key, &format!("43.{tag}")), None, "another person");
        let mut flipped = tag.to_owned();
        flipped.replace_range(0..1, if tag.starts_with('0') { "1" } else { "0" });
        assert_eq!(signed(&key, &format!("42.{flipped}")), None);
        for garbled in [
            "",
            ".",
            "42",
            "42.",
            "x.ab",
            "0.00",
            "-1.00",
            &format!("42.{tag}0"),
        ] {
            assert_eq!(signed(&key, garbled), None, "{garbled:?}");
        }
    }
}
