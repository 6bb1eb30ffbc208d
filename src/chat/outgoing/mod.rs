//! Outgoing webhooks: an admin points a conversation's new messages (all, those that mention
//! the hook's bot, or those that start with a trigger word) at a URL; each message that fires
//! a hook is queued in the outbox in the message's own write, and [`deliver`] POSTs it, signed,
//! off the writer. Here: which messages fire which hooks, and the hooks' management.

mod answer;
mod deliver;

pub(super) use deliver::run;
pub use deliver::{ANSWER_BYTES, ATTEMPTS, JOB, TIMEOUT, backoff_ms, signature};

use ipnet::IpNet;
use url::{Host, Url};

use super::auth::still_active;
use super::{Chat, bots, members, visible, writable};
use crate::db::WriteCtx;
use crate::domain::chat::{Conversation, ConversationId, Kind, MessageId, UserRef};
use crate::domain::{self, User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::store::outgoing::{self as store, Delivery, Hook, Listener, NewHook, Trigger};
use crate::store::{audit, memberships, outbox, support, users};

/// The longest URL a hook may have.
pub const MAX_URL_CHARS: usize = 2000;
/// The most trigger words a hook may have, and the longest one.
pub const MAX_WORDS: usize = 10;
pub const MAX_WORD_CHARS: usize = 32;
/// The most working hooks one conversation may have.
pub const MAX_PER_CONVERSATION: i64 = 10;
/// Attempts an admin reads in a hook's log.
pub const LOG_SHOWN: usize = 50;

/// What an admin asks for when making a hook.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOutgoing {
    /// The hook's name, which is also its bot's (1–64 characters).
    pub name: String,
    /// Where messages are POSTed: an http or https URL of at most 2000 characters.
    pub url: String,
    /// `all` (default), `mention` or `word`.
    #[serde(default)]
    pub trigger: Option<String>,
    /// For `word`: 1–10 words of at most 32 characters, separated by spaces or commas.
    #[serde(default)]
    pub words: Option<String>,
    /// Lets this hook reach private and local addresses (an intranet service).
    #[serde(default)]
    pub allow_private: bool,
}

/// A request checked: nothing of it is stored until all of it is.
struct Checked {
    name: String,
    url: String,
    trigger: Trigger,
    words: Vec<String>,
    allow_private: bool,
}

fn check(new: NewOutgoing, operator_allow: &[IpNet]) -> Result<Checked> {
    let name = domain::display_name(&new.name)
        .map_err(|_| Error::invalid("name: 1–64 characters, without control characters"))?;
    let trigger = match new.trigger.as_deref().map(str::trim) {
        None | Some("") => Trigger::All,
        Some(raw) => Trigger::parse(raw).ok_or_else(|| {
            Error::invalid(format!(
                "trigger: {raw:?} is not one of all, mention or word"
            ))
        })?,
    };
    let words = match trigger {
        Trigger::Word => trigger_words(new.words.as_deref().unwrap_or(""))?,
        // Words mean nothing to the other triggers: none are kept.
        Trigger::All | Trigger::Mention => Vec::new(),
    };
    let url = checked_url(&new.url, new.allow_private, operator_allow)?;
    Ok(Checked {
        name,
        url: url.into(),
        trigger,
        words,
        allow_private: new.allow_private,
    })
}

/// The trigger words of a form or request: separated by spaces or commas, each kept once,
/// lowercase.
pub fn trigger_words(raw: &str) -> Result<Vec<String>> {
    let mut words: Vec<String> = Vec::new();
    for word in raw.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        if word.chars().count() > MAX_WORD_CHARS || word.chars().any(char::is_control) {
            return Err(Error::invalid(format!(
                "words: {word:?} is not a word of at most {MAX_WORD_CHARS} characters"
            )));
        }
        let word = word.to_lowercase();
        if !words.contains(&word) {
            words.push(word);
        }
    }
    if words.is_empty() {
        return Err(Error::invalid(
            "words: the word trigger needs at least one word (like !deploy)",
        ));
    }
    if words.len() > MAX_WORDS {
        return Err(Error::invalid(format!(
            "words: at most {MAX_WORDS} trigger words"
        )));
    }
    Ok(words)
}

/// A hook's URL: http(s), a host, no credentials, not too long; an address literal that is
/// not public (nor in the operator's networks) only for a hook that allows private targets.
/// Names are checked when each delivery connects, where the address is known.
pub fn checked_url(raw: &str, allow_private: bool, operator_allow: &[IpNet]) -> Result<Url> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Error::invalid("url: a hook needs the URL to POST to"));
    }
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(Error::invalid(format!(
            "url: at most {MAX_URL_CHARS} characters"
        )));
    }
    let url = Url::parse(raw).map_err(|e| Error::invalid(format!("url: not a URL ({e})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid(format!(
            "url: {}: only http and https URLs may receive a hook",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::invalid(
            "url: must not carry a user name or password (the receiver checks the signature \
             instead)",
        ));
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => std::net::IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => std::net::IpAddr::V6(ip),
        Some(Host::Domain(_)) => return Ok(url),
        None => return Err(Error::invalid("url: the URL has no host")),
    };
    if !allow_private && !crate::net::allowed(ip, operator_allow) {
        return Err(Error::invalid(format!(
            "url: {ip} is not a public address; only a hook that allows private targets may \
             reach it"
        )));
    }
    Ok(url)
}

/// Why a new message went to a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired<'a> {
    /// The hook takes every message.
    Every,
    /// The message mentions the hook's bot.
    Mention,
    /// The message starts with this trigger word.
    Word(&'a str),
}

impl Fired<'_> {
    fn word(&self) -> Option<&str> {
        match self {
            Fired::Word(w) => Some(w),
            Fired::Every | Fired::Mention => None,
        }
    }
}

/// Whether a new message (its body, and the members it mentions) fires a hook. A trigger
/// word is the body's first word, in any letter case, with a trailing `, . : ; ! ?` ignored.
pub fn fires<'a>(hook: &'a Listener, body: &str, mentioned: &[UserId]) -> Option<Fired<'a>> {
    match hook.trigger {
        Trigger::All => Some(Fired::Every),
        Trigger::Mention => mentioned.contains(&hook.bot_id).then_some(Fired::Mention),
        Trigger::Word => {
            let first = body.split_whitespace().next()?.to_lowercase();
            let bare = first.trim_end_matches([',', '.', ':', ';', '!', '?']);
            hook.words
                .iter()
                .find(|w| **w == first || **w == bare)
                .map(|w| Fired::Word(w))
        }
    }
}

/// The outbox key of one message's delivery to one hook: a message is sent to a hook once.
fn key(hook: i64, message: MessageId) -> String {
    format!("{JOB}:{hook}:{message}")
}

/// Queues a new message for each hook of its conversation it fires, inside the message's
/// write. Bots' messages fire nothing (two hooks answering each other would never stop), and
/// lines about the conversation never come here.
pub(super) fn queue(
    ctx: &mut WriteCtx,
    chat: &Chat,
    sender: &User,
    conversation: ConversationId,
    message: MessageId,
    body: &str,
    mentioned: &[UserId],
) -> Result<()> {
    if sender.bot {
        return Ok(());
    }
    let hooks = store::listeners(ctx.conn, conversation)?;
    let now = now_ms();
    let mut queued = false;
    for hook in &hooks {
        let Some(fired) = fires(hook, body, mentioned) else {
            continue;
        };
        let payload =
            serde_json::json!({"hook": hook.id, "message": message, "word": fired.word()});
        queued |= outbox::enqueue(
            ctx.conn,
            JOB,
            &key(hook.id, message),
            &payload.to_string(),
            now,
        )?;
    }
    if queued {
        let wake = chat.files.wake.clone();
        ctx.after_commit(move || wake.notify_one());
    }
    Ok(())
}

/// The conversation whose hooks `user` manages: only admins do, of the channels and the groups
/// they may see (not directs, nor support conversations). Anyone else is told it is not there.
fn managed(conn: &rusqlite::Connection, user: &User, id: ConversationId) -> Result<Conversation> {
    if !user.is_admin() {
        return Err(Error::NotFound);
    }
    let (c, _) = visible(conn, user, id)?;
    if c.kind == Kind::Direct || support::get(conn, c.id)?.is_some() {
        return Err(Error::NotFound);
    }
    Ok(c)
}

/// A hook `user` manages, with its conversation.
fn managed_hook(conn: &rusqlite::Connection, user: &User, id: i64) -> Result<(Hook, Conversation)> {
    let conversation = store::conversation_of(conn, id)?.ok_or(Error::NotFound)?;
    let c = managed(conn, user, conversation)?;
    Ok((store::get(conn, id)?, c))
}

fn new_secret() -> String {
    format!("whsec_{}", super::secrets::new_token())
}

/// Makes a hook and its bot (named after it, added to the conversation by `user`). Audited.
pub async fn create(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    new: NewOutgoing,
) -> Result<Hook> {
    let operator_allow =
        crate::net::parse_networks(&chat.config.fetch_allow_networks).unwrap_or_default();
    let checked = check(new, &operator_allow)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let c = managed(ctx.conn, &me, conversation)?;
            writable(&c)?;
            if store::live_count(ctx.conn, c.id)? >= MAX_PER_CONVERSATION {
                return Err(Error::Conflict(format!(
                    "a conversation has at most {MAX_PER_CONVERSATION} outgoing webhooks; \
                     revoke one first"
                )));
            }
            let bot = bots::for_hook(ctx, &live, &c, &checked.name, &me)?;
            let hook = store::insert(
                ctx.conn,
                &NewHook {
                    conversation_id: c.id,
                    bot_id: bot.id,
                    url: &checked.url,
                    secret: &new_secret(),
                    trigger: checked.trigger,
                    words: &checked.words,
                    allow_private: checked.allow_private,
                    created_by: me.id,
                    now: now_ms(),
                },
            )?;
            let detail = serde_json::json!({
                "conversation": c.id, "url": hook.url, "trigger": hook.trigger,
                "allow_private": hook.allow_private,
            });
            audit::record_detail(
                ctx.conn,
                &me.username,
                "webhook_out.create",
                &hook.bot.username,
                &detail.to_string(),
            )?;
            Ok(hook)
        })
        .await
}

/// A conversation and its hooks (working ones first), for its admins.
pub async fn list(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
) -> Result<(Conversation, Vec<Hook>)> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            let c = managed(conn, &me, conversation)?;
            let hooks = store::of_conversation(conn, c.id)?;
            Ok((c, hooks))
        })
        .await
}

/// One hook, its conversation and the newest attempts to deliver to it (newest first), for
/// its admins.
pub async fn get(chat: &Chat, user: &User, id: i64) -> Result<(Conversation, Hook, Vec<Delivery>)> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            let (hook, c) = managed_hook(conn, &me, id)?;
            let log = store::deliveries(conn, id, LOG_SHOWN)?;
            Ok((c, hook, log))
        })
        .await
}

/// Gives a working hook a new secret; the old one stops signing at once. Audited.
pub async fn rotate(chat: &Chat, user: &User, id: i64) -> Result<Hook> {
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (hook, _) = managed_hook(ctx.conn, &me, id)?;
            if hook.revoked_at.is_some() {
                return Err(Error::invalid("this hook is revoked"));
            }
            store::set_secret(ctx.conn, id, &new_secret())?;
            audit::record(
                ctx.conn,
                &me.username,
                "webhook_out.rotate",
                &hook.bot.username,
            )?;
            store::get(ctx.conn, id)
        })
        .await
}

/// Stops a hook for good: nothing more is sent (deliveries queued are dropped), its bot is
/// removed from the conversation (a line says so) and deactivated; what it posted stays.
/// Audited.
pub async fn revoke(chat: &Chat, user: &User, id: i64) -> Result<()> {
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (hook, c) = managed_hook(ctx.conn, &me, id)?;
            if !store::revoke(ctx.conn, id, now_ms())? {
                return Ok(());
            }
            if memberships::role(ctx.conn, c.id, hook.bot.id)?.is_some() {
                members::remove(ctx, &live, &c, &hook.bot, &UserRef::from(&me))?;
            }
            users::set_deactivated(ctx.conn, hook.bot.id, true)?;
            audit::record(
                ctx.conn,
                &me.username,
                "webhook_out.revoke",
                &hook.bot.username,
            )?;
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests;
