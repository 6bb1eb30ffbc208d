//! Notification emails: noted as messages arrive, gathered per person, sent by outbox jobs.
//!
//! - In the write of a new message, each member it notifies (the one decision,
//!   [`crate::notify::notifies`]) who has a verified address with emails on gets the message
//!   noted for them, and an `email.batch` job queued after the idle time (one at most per
//!   person: a job already queued takes this message too).
//! - `email.batch`: once the person has had no socket open for the idle time (and is not in a
//!   quiet time), gathers their noted messages still unread and, in one write, moves their
//!   emailed mark past them and queues the email (keyed by person and mark, so it is queued
//!   once). While a person is around, it waits again.
//! - `email.send`: hands the email to the SMTP server; failures are retried with backoff. It
//!   is marked as being sent just before; found still marked, the server stopped mid-send and
//!   it is dropped rather than risk sending it twice. Sent, its job is removed in the write
//!   that records it.

use serde::{Deserialize, Serialize};

use super::super::Chat;
use super::super::notify::{cut, notice};
use super::super::outbox::Failure;
use super::{store, unsubscribe};
use crate::db::WriteCtx;
use crate::domain::chat::{Kind, Message, MessageId};
use crate::domain::{UserId, now_ms};
use crate::error::Result;
use crate::mail::{MailError, compose};
use crate::store::{conversations as convs, messages, notify as levels, outbox, users};

/// The job that gathers one person's noted messages into an email.
pub const BATCH: &str = "email.batch";
/// The job that sends one email.
pub const SEND: &str = "email.send";
/// Tries of one job before it is given up: at once, then after 1, 5, 15, 60 minutes and 3 hours.
pub const ATTEMPTS: i64 = 6;
/// Messages listed in one email; more are counted.
const LISTED: usize = 20;
/// Noted messages gathered into one email at most; more go in the next.
const SCAN: usize = 500;
/// Characters of each message an email shows.
const TEXT_CHARS: usize = 500;

/// Waits before the n-th retry of an email job.
pub fn backoff_ms(attempt: i64) -> i64 {
    match attempt {
        1 => 60_000,
        2 => 300_000,
        3 => 900_000,
        4 => 3_600_000,
        _ => 10_800_000,
    }
}

#[derive(Serialize, Deserialize)]
struct Job {
    user: UserId,
    /// The emailed mark an email moved to: with `user`, its key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    through: Option<MessageId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    messages: Vec<MessageId>,
    #[serde(default)]
    more: usize,
}

fn payload(job: &Job) -> String {
    serde_json::to_string(job).expect("a job serializes")
}

fn batch_key(user: UserId) -> String {
    format!("{BATCH}:{user}")
}

fn send_key(user: UserId, through: MessageId) -> String {
    format!("{SEND}:{user}:{through}")
}

/// In the write of a new message: notes it for each member it notifies who gets notification
/// emails, and queues their gathering after the idle time. The writer takes messages in
/// order, so what is noted for a person only grows.
pub(in crate::chat) fn queue(ctx: &mut WriteCtx, chat: &Chat, message: &Message) -> Result<()> {
    if chat.email.mailer.is_none() {
        return Ok(());
    }
    let now = now_ms();
    let at = now + idle_ms(chat);
    let mut queued = false;
    for member in store::listeners_of(ctx.conn, message.id)? {
        if crate::notify::notifies(&member, message.sender.id, now)
            && store::note_pending(ctx.conn, member.user, message.id)?
        {
            let job = person(member.user);
            outbox::enqueue(ctx.conn, BATCH, &batch_key(member.user), &payload(&job), at)?;
            queued = true;
        }
    }
    if queued {
        let wake = chat.files.wake.clone();
        ctx.after_commit(move || wake.notify_one());
    }
    Ok(())
}

/// Runs one email job of `kind`.
pub(in crate::chat) async fn run(
    chat: &Chat,
    kind: &str,
    raw: &str,
) -> std::result::Result<(), Failure> {
    let job: Job = serde_json::from_str(raw)
        .map_err(|e| Failure::Permanent(format!("unreadable job: {e}")))?;
    if chat.email.mailer.is_none() {
        return Ok(());
    }
    match (kind, job.through) {
        (SEND, Some(through)) => send(chat, job.user, through, job.messages, job.more).await,
        (SEND, None) => Err(Failure::Permanent("no mark".into())),
        _ => gather(chat, job.user).await,
    }
}

fn person(user: UserId) -> Job {
    Job {
        user,
        through: None,
        messages: Vec::new(),
        more: 0,
    }
}

fn idle_ms(chat: &Chat) -> i64 {
    chat.config.email_idle.as_millis() as i64
}

/// Puts a person's gathering off until `at`.
async fn again_at(chat: &Chat, user: UserId, at: i64) -> std::result::Result<(), Failure> {
    chat.db
        .write(move |ctx| outbox::put_back(ctx.conn, &batch_key(user), at))
        .await?;
    Ok(())
}

/// Gathers a person's noted messages, still unread, into one email, once they have had no
/// socket open for the idle time.
async fn gather(chat: &Chat, user: UserId) -> std::result::Result<(), Failure> {
    let found = chat
        .db
        .read(move |conn| {
            let Some((_, through)) = store::listener(conn, user)? else {
                return Ok(None);
            };
            let quiet = levels::quiet_until(conn, user)?;
            let unread = store::pending(conn, user, through, SCAN)?;
            let noted = store::last_pending(conn, user)?;
            Ok(Some((through, quiet, unread, noted)))
        })
        .await?;
    let Some((through, quiet, unread, noted)) = found else {
        return Ok(());
    };
    let (now, idle) = (now_ms(), idle_ms(chat));
    if !unread.is_empty() {
        if chat.hub.attention(user).connected {
            return again_at(chat, user, now + idle).await;
        }
        if let Some(gone) = chat.hub.gone_for(user) {
            let gone = gone.as_millis() as i64;
            if gone < idle {
                return again_at(chat, user, now + idle - gone).await;
            }
        }
        if let Some(until) = quiet.filter(|t| *t > now) {
            return again_at(chat, user, until).await;
        }
    }
    let full = unread.len() == SCAN;
    let listed: Vec<MessageId> = unread[unread.len().saturating_sub(LISTED)..].to_vec();
    let more = unread.len() - listed.len();
    let queued = chat
        .db
        .write(move |ctx| {
            let key = batch_key(user);
            if outbox::any_with_prefix(ctx.conn, &format!("{SEND}:{user}:"))? {
                // An email is still on its way; once sent, it gathers again.
                outbox::forget(ctx.conn, &key)?;
                return Ok(false);
            }
            // Past everything gathered, and past what was noted but read since; what is noted
            // after the read above comes later (messages are noted in the order they are
            // written) and stays for the next email.
            let to = match (full, unread.last()) {
                (true, Some(last)) => *last,
                _ => noted.unwrap_or(through),
            }
            .max(through);
            if !store::advance(ctx.conn, user, through, to)? {
                return Ok(false);
            }
            store::drop_pending(ctx.conn, user, to)?;
            let queued = !listed.is_empty();
            if queued {
                let job = Job {
                    user,
                    through: Some(to),
                    messages: listed,
                    more,
                };
                outbox::enqueue(
                    ctx.conn,
                    SEND,
                    &send_key(user, to),
                    &payload(&job),
                    now_ms(),
                )?;
            }
            if !queued && store::last_pending(ctx.conn, user)?.is_some() {
                // Noted since the read above: gathered in turn.
                outbox::put_back(ctx.conn, &key, now_ms() + idle)?;
            } else {
                // Gone now, so that a message noted from here on queues a gathering of its
                // own; an email queued gathers again once sent. (After the row above: a new
                // row must not take this one's id, which the worker removes when this run
                // ends.)
                outbox::forget(ctx.conn, &key)?;
            }
            Ok(queued)
        })
        .await?;
    if queued {
        chat.files.wake.notify_one();
    }
    Ok(())
}

/// What an email needs from the database, read just before it is sent.
struct Found {
    address: String,
    name: String,
    items: Vec<compose::Item>,
    sending: Option<String>,
}

async fn read_batch(chat: &Chat, user: UserId, listed: Vec<MessageId>) -> Result<Option<Found>> {
    let base = chat.config.base_url.clone();
    chat.db
        .read(move |conn| {
            let Some((address, _)) = store::listener(conn, user)? else {
                return Ok(None);
            };
            let mut items = Vec::new();
            for id in listed {
                if !levels::unread_by(conn, id, user)? {
                    continue;
                }
                let m = messages::get(conn, id)?;
                let c = convs::get(conn, m.conversation_id)?;
                items.push(item(&base, &m, c.kind, &c.name));
            }
            Ok(Some(Found {
                address,
                name: users::get(conn, user)?.display_name,
                items,
                sending: store::sending(conn, user)?,
            }))
        })
        .await
}

fn item(base: &str, m: &Message, kind: Kind, name: &str) -> compose::Item {
    let text = crate::render::plain_text(&m.body);
    let text = match text.trim() {
        "" if !m.attachments.is_empty() => "(sent a file)".to_string(),
        t => cut(t, TEXT_CHARS),
    };
    compose::Item {
        sender: m.sender.display_name.clone(),
        conversation: match kind {
            Kind::Direct => "a direct message".to_string(),
            Kind::Channel => format!("#{name}"),
            Kind::Group => name.to_string(),
        },
        text,
        link: format!("{base}{}", notice(m, kind, name, false, 0).url),
    }
}

/// Records, in one write, that the email of `key` went (or will not): the mark cleared, its
/// job removed (so that a run after a crash cannot find it to send again), and what was noted
/// meanwhile gathered after the idle time.
async fn done(
    chat: &Chat,
    user: UserId,
    key: String,
    sent: bool,
) -> std::result::Result<(), Failure> {
    let at = now_ms() + idle_ms(chat);
    chat.db
        .write(move |ctx| {
            match sent {
                true => store::sent(ctx.conn, user, now_ms())?,
                false => store::set_sending(ctx.conn, user, None)?,
            }
            if store::last_pending(ctx.conn, user)?.is_some() {
                let next = payload(&person(user));
                outbox::enqueue(ctx.conn, BATCH, &batch_key(user), &next, at)?;
            }
            // After the row above, which must not take this one's id (the worker removes the
            // id it ran once the run ends).
            outbox::forget(ctx.conn, &key)
        })
        .await?;
    Ok(())
}

/// Sends one email of gathered messages (those still unread).
async fn send(
    chat: &Chat,
    user: UserId,
    through: MessageId,
    listed: Vec<MessageId>,
    more: usize,
) -> std::result::Result<(), Failure> {
    let key = send_key(user, through);
    let Some(found) = read_batch(chat, user, listed).await? else {
        return Ok(());
    };
    if found.sending.as_deref() == Some(key.as_str()) {
        tracing::warn!(
            user,
            job = %key,
            "the server stopped while an email was being sent; it is not sent again"
        );
        return done(chat, user, key, false).await;
    }
    if found.items.is_empty() {
        return done(chat, user, key, false).await;
    }
    let Some(mailer) = chat.email.mailer.as_ref() else {
        return Ok(());
    };
    let (settings, unsubscribe) = (
        format!("{}/account/email", chat.config.base_url),
        unsubscribe::link(chat, user).await?,
    );
    let community = chat.instance().community_name.clone();
    let mut mail = compose::digest(&compose::Digest {
        to: &found.address,
        community: &community,
        name: &found.name,
        items: &found.items,
        more,
        settings: &settings,
        unsubscribe: &unsubscribe,
    });
    mail.message_id = Some(format!(
        "<{}@{}>",
        key.replace(':', "."),
        mailer.from_domain()
    ));
    let marked = key.clone();
    chat.db
        .write(move |ctx| store::set_sending(ctx.conn, user, Some(&marked)))
        .await?;
    match mailer.send(&mail).await {
        Ok(()) => done(chat, user, key, true).await,
        Err(err) => {
            chat.db
                .write(move |ctx| store::set_sending(ctx.conn, user, None))
                .await?;
            match err {
                MailError::Address(_) | MailError::Build(_) => {
                    Err(Failure::Permanent(err.to_string()))
                }
                _ => Err(Failure::Later(err.to_string())),
            }
        }
    }
}
