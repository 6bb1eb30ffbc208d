//! One's own account: display name, password, and the sessions one has open.

use serde::Serialize;

use super::Chat;
use crate::domain::{self, User, UserId};
use crate::error::{Error, Result};
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::{memberships, sessions, users};

/// A session as its owner sees it. `id` is public: the first 8 bytes of the token's hash in
/// hex, enough to name it, never enough to use it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SessionInfo {
    pub id: String,
    pub device: String,
    pub address: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The session this request came with.
    pub current: bool,
}

/// The public id of a session.
pub fn public_id(token_hash: &[u8]) -> String {
    hex::encode(&token_hash[..token_hash.len().min(8)])
}

/// The sessions of `user`, the current one (`current`: its token hash) marked.
pub async fn sessions(chat: &Chat, user: &User, current: &[u8]) -> Result<Vec<SessionInfo>> {
    let (id, current) = (user.id, current.to_vec());
    let rows = chat
        .db
        .read(move |conn| sessions::list_for_user(conn, id))
        .await?;
    Ok(rows
        .into_iter()
        .map(|s| SessionInfo {
            id: public_id(&s.token_hash),
            current: s.token_hash == current,
            device: s.device,
            address: s.address,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
        })
        .collect())
}

/// Ends one of `user`'s sessions by its public id (another person's is `NotFound`).
pub async fn end_session(chat: &Chat, user: &User, id: &str) -> Result<()> {
    let (me, id) = (user.id, id.to_ascii_lowercase());
    let ended = chat
        .db
        .write(move |ctx| {
            let found = sessions::list_for_user(ctx.conn, me)?
                .into_iter()
                .find(|s| public_id(&s.token_hash) == id)
                .ok_or(Error::NotFound)?;
            sessions::delete(ctx.conn, &found.token_hash)?;
            Ok(found.token_hash)
        })
        .await?;
    chat.hub.kick_session(&ended, CLOSE_SESSION_ENDED);
    Ok(())
}

/// Ends every session of `user` but the current one; returns how many ended.
pub async fn end_other_sessions(chat: &Chat, user: &User, current: &[u8]) -> Result<usize> {
    let (me, keep) = (user.id, current.to_vec());
    let ended = chat
        .db
        .write(move |ctx| sessions::delete_others(ctx.conn, me, &keep))
        .await?;
    kick(chat, &ended);
    Ok(ended.len())
}

/// Ends every session of `user`, this one too.
pub async fn sign_out_everywhere(chat: &Chat, user: &User) -> Result<()> {
    let me = user.id;
    chat.db
        .write(move |ctx| sessions::delete_for_user(ctx.conn, me))
        .await?;
    chat.hub.kick_user(me, CLOSE_SESSION_ENDED);
    Ok(())
}

fn kick(chat: &Chat, ended: &[Vec<u8>]) {
    for hash in ended {
        chat.hub.kick_session(hash, CLOSE_SESSION_ENDED);
    }
}

/// Changes `user`'s display name. Messages sent from now on carry it; the kept latest pages
/// of their conversations are dropped so that pages read afresh show it too.
pub async fn rename(chat: &Chat, user: &User, display_name: &str) -> Result<User> {
    let display = domain::display_name(display_name)?;
    let me: UserId = user.id;
    let (user, conversations) = chat
        .db
        .write(move |ctx| {
            users::set_display_name(ctx.conn, me, &display)?;
            Ok((
                users::get(ctx.conn, me)?,
                memberships::conversations_of(ctx.conn, me)?,
            ))
        })
        .await?;
    for c in conversations {
        chat.recent.forget(c);
    }
    Ok(user)
}

/// Changes `user`'s password when `current` is right; every other session ends, this one
/// (`keep`) stays.
pub async fn change_password(
    chat: &Chat,
    user: &User,
    keep: &[u8],
    current: &str,
    new: String,
) -> Result<()> {
    domain::new_password(&new)?;
    let me = user.id;
    let stored = chat
        .db
        .read_short(move |conn| users::password_hash(conn, me))
        .await?;
    if !chat
        .passwords
        .verify(current.to_owned(), Some(stored))
        .await?
    {
        return Err(Error::invalid("the current password is not right"));
    }
    let hash = chat.passwords.hash(new).await?;
    let keep = keep.to_vec();
    let ended = chat
        .db
        .write(move |ctx| {
            users::set_password(ctx.conn, me, &hash)?;
            sessions::delete_others(ctx.conn, me, &keep)
        })
        .await?;
    kick(chat, &ended);
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn public_ids_are_short_hex() {
        let hash = super::super::secrets::token_hash("abc");
        let id = super::public_id(&hash);
        assert_eq!(id.len(), 16);
        assert_eq!(id, hex::encode(&hash[..8]));
    }
}
