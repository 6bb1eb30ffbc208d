//! Incoming webhooks: a secret URL per hook that posts to one conversation as the hook's bot.
//! Made, rotated and revoked by the conversation's owners and admins; only the secret's hash
//! is kept, so a lost URL is replaced, never shown again.

use super::messages::{self, Draft};
use super::secrets::{new_token, token_hash};
use super::{Chat, managed, writable};
use crate::domain::chat::{ConversationId, Kind, MemberRole, Message};
use crate::domain::{self, User, now_ms};
use crate::error::{Error, Result};
use crate::store::webhooks::{self as store, Incoming};
use crate::store::{audit, users};

/// The most working incoming hooks one conversation may have.
pub const MAX_PER_CONVERSATION: usize = 20;

/// A hook and the secret of its URL, shown this once.
#[derive(Debug, Clone)]
pub struct Made {
    pub hook: Incoming,
    pub secret: String,
}

/// What a webhook posts: Slack's `text` and `username` (the name shown for this message).
#[derive(Debug, Clone, Default)]
pub struct Post {
    pub text: String,
    pub username: Option<String>,
}

/// Refuses anyone but an admin or an owner of a channel or group, inside a write or a read.
fn manage(
    conn: &rusqlite::Connection,
    user: &User,
    id: ConversationId,
) -> Result<crate::domain::chat::Conversation> {
    let (c, role) = managed(conn, user, id)?;
    if !matches!(c.kind, Kind::Channel | Kind::Group)
        || crate::store::support::get(conn, id)?.is_some()
    {
        return Err(Error::invalid("webhooks post to channels and groups only"));
    }
    if !(user.is_admin() || role == Some(MemberRole::Owner)) {
        return Err(if role.is_some() {
            Error::Forbidden("only owners and admins manage a conversation's webhooks".into())
        } else {
            Error::NotFound
        });
    }
    Ok(c)
}

/// Makes an incoming hook named `name` (its bot's name) for a conversation.
pub async fn create(chat: &Chat, user: &User, id: ConversationId, name: &str) -> Result<Made> {
    let name = domain::display_name(name)
        .map_err(|e| Error::invalid(e.to_string().replace("display name", "a hook's name")))?;
    let secret = new_token();
    let hash = token_hash(&secret);
    let (live, me) = (chat.clone(), user.clone());
    let hook = chat
        .db
        .write(move |ctx| {
            super::auth::still_active(ctx.conn, &live.hub, &me)?;
            let c = manage(ctx.conn, &me, id)?;
            writable(&c)?;
            if store::of_conversation(ctx.conn, id)?.len() >= MAX_PER_CONVERSATION {
                return Err(Error::Conflict(format!(
                    "a conversation has at most {MAX_PER_CONVERSATION} incoming webhooks"
                )));
            }
            let bot = super::bots::for_hook(ctx, &live, &c, &name, &me)?;
            let hook = store::insert(ctx.conn, id, bot.id, &name, &hash, me.id, now_ms())?;
            audit::record(
                ctx.conn,
                &me.username,
                "webhook.create",
                &format!("#{} in {id} as @{}", hook.id, bot.username),
            )?;
            Ok(hook)
        })
        .await?;
    Ok(Made { hook, secret })
}

/// A conversation's working hooks, each with its bot's username, for its managers.
pub async fn list(chat: &Chat, user: &User, id: ConversationId) -> Result<Vec<(Incoming, String)>> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            manage(conn, &me, id)?;
            store::of_conversation(conn, id)?
                .into_iter()
                .map(|h| Ok((users::get(conn, h.bot_id)?.username, h)))
                .map(|r: Result<_>| r.map(|(u, h)| (h, u)))
                .collect()
        })
        .await
}

/// The hook `hook` of conversation `id`, for one who manages it.
fn managed_hook(
    conn: &rusqlite::Connection,
    user: &User,
    id: ConversationId,
    hook: i64,
) -> Result<Incoming> {
    manage(conn, user, id)?;
    match store::get(conn, hook)? {
        Some(h) if h.conversation_id == id && h.revoked_at.is_none() => Ok(h),
        _ => Err(Error::NotFound),
    }
}

/// Gives a hook a new URL: the old one stops working at once.
pub async fn rotate(chat: &Chat, user: &User, id: ConversationId, hook: i64) -> Result<Made> {
    let secret = new_token();
    let hash = token_hash(&secret);
    let me = user.clone();
    let hook = chat
        .db
        .write(move |ctx| {
            let h = managed_hook(ctx.conn, &me, id, hook)?;
            store::rotate(ctx.conn, h.id, &hash)?;
            audit::record(
                ctx.conn,
                &me.username,
                "webhook.rotate",
                &format!("#{}", h.id),
            )?;
            Ok(h)
        })
        .await?;
    Ok(Made { hook, secret })
}

/// Revokes a hook: its URL stops working and its bot is deactivated (what it posted stays).
pub async fn revoke(chat: &Chat, user: &User, id: ConversationId, hook: i64) -> Result<()> {
    let me = user.clone();
    chat.db
        .write(move |ctx| {
            let h = managed_hook(ctx.conn, &me, id, hook)?;
            store::revoke(ctx.conn, h.id, now_ms())?;
            users::set_deactivated(ctx.conn, h.bot_id, true)?;
            audit::record(
                ctx.conn,
                &me.username,
                "webhook.revoke",
                &format!("#{}", h.id),
            )?;
            Ok(())
        })
        .await
}

/// The working hook with this secret and its bot; an unknown or revoked secret is
/// `NotFound`, whatever it is (looked up by its hash: no timing tells how close it was).
pub async fn find(chat: &Chat, secret: &str) -> Result<(Incoming, User)> {
    let hash = token_hash(secret);
    chat.db
        .read_short(move |conn| {
            let hook = store::by_secret(conn, &hash)?.ok_or(Error::NotFound)?;
            let bot = users::get(conn, hook.bot_id)?;
            Ok((hook, bot))
        })
        .await
}

/// Posts what a webhook sent, as its bot, under `username` when given.
pub async fn post(chat: &Chat, (hook, bot): (Incoming, User), post: Post) -> Result<Message> {
    let posted_as = post
        .username
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            domain::display_name(u)
                .map_err(|e| Error::invalid(e.to_string().replace("display name", "username")))
        })
        .transpose()?;
    let draft = Draft {
        body: post.text,
        client_id: None,
        reply_to: None,
        attachments: Vec::new(),
    };
    let message = messages::send_as(chat, &bot, hook.conversation_id, draft, posted_as).await?;
    let (id, now) = (hook.id, now_ms());
    chat.db
        .writer()
        .enqueue(move |ctx| store::touch(ctx.conn, id, now));
    Ok(message)
}
