//! Delivering one message to one outgoing webhook, as an outbox job: the message is read, sent
//! as signed JSON through the one outbound client (nothing is fetched inside a write), and the
//! attempt is logged in the write that records what came of it ([`super::answer`]) — with the
//! bot's reply, when the receiver said something, and the job's end when nothing more is to be
//! tried.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use std::time::{Duration, Instant};

use super::super::Chat;
use super::super::messages::{Outgoing, write_message};
use super::super::outbox::Failure;
use super::answer::{Verdict, judge};
use super::key;
use crate::db::WriteCtx;
use crate::domain::chat::{Kind, MessageId};
use crate::domain::now_ms;
use crate::error::Result;
use crate::net::{self, Answer, FetchError};
use crate::store::outgoing::{self as store, Hook, NewDelivery, Outcome, Trigger};
use crate::store::{conversations as convs, memberships, messages, outbox, users};

/// The outbox kind of a delivery.
pub const JOB: &str = "webhook";
/// Tries of one delivery: at once, then after 10 s, 1, 5 and 30 minutes.
pub const ATTEMPTS: i64 = 5;
/// How long a receiver has to answer, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer that is read.
pub const ANSWER_BYTES: usize = 64 * 1024;
/// Attempts kept in each hook's log.
const KEEP: usize = 200;

/// Waits before the n-th retry of a delivery.
pub fn backoff_ms(attempt: i64) -> i64 {
    match attempt {
        1 => 10_000,
        2 => 60_000,
        3 => 300_000,
        _ => 1_800_000,
    }
}

/// The `X-Hearth-Signature` of a body sent at `timestamp` (unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>" keyed with the secret>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any size");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[derive(serde::Deserialize)]
struct Job {
    hook: i64,
    message: MessageId,
    #[serde(default)]
    word: Option<String>,
}

/// What a receiver is sent (documented in docs/protocol.md, "Outgoing webhooks").
#[derive(Serialize)]
struct Payload<'a> {
    hook_id: i64,
    /// The same on every attempt: a receiver that saw it already may ignore it.
    delivery: &'a str,
    trigger: Trigger,
    word: Option<&'a str>,
    message: PayloadMessage<'a>,
    conversation: PayloadConversation<'a>,
    sender: PayloadSender<'a>,
}

#[derive(Serialize)]
struct PayloadMessage<'a> {
    id: MessageId,
    body: &'a str,
    html: &'a str,
    created_at: i64,
    reply_to: Option<MessageId>,
    url: String,
}

#[derive(Serialize)]
struct PayloadConversation<'a> {
    id: i64,
    kind: Kind,
    name: &'a str,
}

#[derive(Serialize)]
struct PayloadSender<'a> {
    id: i64,
    username: &'a str,
    display_name: &'a str,
    bot: bool,
}

/// A delivery ready to send: the hook and the request's body.
struct Ready {
    hook: Hook,
    message: MessageId,
    conversation: i64,
    delivery: String,
    body: Vec<u8>,
}

/// Delivers a message to a hook (its `attempt`-th try). A hook revoked, or a message deleted,
/// since it was queued is sent nothing.
pub(in crate::chat) async fn run(
    chat: &Chat,
    payload: &str,
    attempt: i64,
) -> std::result::Result<(), Failure> {
    let job: Job = serde_json::from_str(payload)
        .map_err(|e| Failure::Permanent(format!("unreadable job: {e}")))?;
    let (hook, message) = (job.hook, job.message);
    let base = chat.config.base_url.clone();
    let ready = match chat.db.read(move |conn| prepare(conn, &job, &base)).await? {
        Prepared::Send(ready) => ready,
        Prepared::Revoked => return Ok(()),
        Prepared::Deleted => {
            chat.db
                .write(move |ctx| {
                    let row = NewDelivery {
                        hook_id: hook,
                        message_id: message,
                        attempt,
                        at: now_ms(),
                        status: None,
                        outcome: Outcome::Failed,
                        error: "not sent: the message was deleted",
                        duration_ms: 0,
                    };
                    log(ctx, &row)
                })
                .await?;
            return Ok(());
        }
    };
    let started = Instant::now();
    let answer = send(chat, &ready, attempt).await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let verdict = judge(answer, chat.config.max_message_chars, attempt >= ATTEMPTS);
    let retry = (verdict.outcome == Outcome::Retrying).then(|| match verdict.wait {
        Some(wait) => Failure::LaterThan(verdict.error.clone(), wait),
        None => Failure::Later(verdict.error.clone()),
    });
    let live = chat.clone();
    chat.db
        .write(move |ctx| record(ctx, &live, &ready, attempt, verdict, duration_ms))
        .await?;
    retry.map_or(Ok(()), Err)
}

/// What a delivery comes to before anything is sent.
enum Prepared {
    Send(Box<Ready>),
    /// The hook was revoked since: nothing is sent.
    Revoked,
    /// The message was deleted since: nothing is sent, and the log says so.
    Deleted,
}

/// The hook and the JSON it is sent, unless there is nothing to send.
fn prepare(conn: &rusqlite::Connection, job: &Job, base: &str) -> Result<Prepared> {
    let hook = store::get(conn, job.hook)?;
    let message = messages::get(conn, job.message)?;
    if hook.revoked_at.is_some() {
        return Ok(Prepared::Revoked);
    }
    if message.deleted {
        return Ok(Prepared::Deleted);
    }
    let c = convs::get(conn, message.conversation_id)?;
    let delivery = format!("{}-{}", hook.id, message.id);
    let payload = Payload {
        hook_id: hook.id,
        delivery: &delivery,
        trigger: hook.trigger,
        word: job.word.as_deref(),
        message: PayloadMessage {
            id: message.id,
            body: &message.body,
            html: &message.html,
            created_at: message.created_at,
            reply_to: message.reply_to,
            url: format!("{base}/c/{}?at={}#m-{}", c.id, message.id, message.id),
        },
        conversation: PayloadConversation {
            id: c.id,
            kind: c.kind,
            name: &c.name,
        },
        sender: PayloadSender {
            id: message.sender.id,
            username: &message.sender.username,
            display_name: &message.sender.display_name,
            bot: message.sender.bot,
        },
    };
    let body = serde_json::to_vec(&payload).expect("a payload serializes");
    Ok(Prepared::Send(Box::new(Ready {
        conversation: c.id,
        message: message.id,
        hook,
        delivery,
        body,
    })))
}

/// The client for the hooks an admin let reach private addresses: every address allowed, the
/// same limits. Made on first use.
fn private_client(chat: &Chat) -> net::Client {
    chat.fetch_private
        .get_or_init(|| {
            let everywhere = net::parse_networks(&["0.0.0.0/0", "::/0"]).expect("networks");
            let policy = net::Policy {
                allow: everywhere,
                timeout: TIMEOUT,
                ..net::Policy::default()
            };
            net::Client::new(policy).expect("the outbound HTTP client builds with its own roots")
        })
        .clone()
}

/// POSTs the payload, signed, within [`TIMEOUT`].
async fn send(chat: &Chat, ready: &Ready, attempt: i64) -> std::result::Result<Answer, FetchError> {
    let hook = &ready.hook;
    let timestamp = now_ms() / 1000;
    let request = http::Request::post(&hook.url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(
            http::header::USER_AGENT,
            concat!("Hearth/", env!("CARGO_PKG_VERSION"), " (webhook)"),
        )
        .header("X-Hearth-Hook", hook.id)
        .header("X-Hearth-Delivery", &ready.delivery)
        .header("X-Hearth-Attempt", attempt)
        .header(
            "X-Hearth-Signature",
            signature(&hook.secret, timestamp, &ready.body),
        )
        .body(ready.body.clone())
        .map_err(|e| FetchError::BadUrl(format!("{}: {e}", hook.url)))?;
    let client = if hook.allow_private {
        private_client(chat)
    } else {
        chat.fetch.clone()
    };
    tokio::time::timeout(TIMEOUT, client.post(request, ANSWER_BYTES))
        .await
        .unwrap_or(Err(FetchError::TimedOut))
}

/// Logs the attempt, posts the reply, and ends the job when nothing more is to be tried — in
/// one write, so a crash never leaves a reply without its log line, nor sends twice what was
/// recorded as done.
fn record(
    ctx: &mut WriteCtx,
    chat: &Chat,
    ready: &Ready,
    attempt: i64,
    mut verdict: Verdict,
    duration_ms: i64,
) -> Result<()> {
    let hook = &ready.hook;
    if let Some(text) = verdict.reply.take() {
        match post_reply(ctx, chat, ready, &text)? {
            None => verdict.outcome = Outcome::Replied,
            Some(why) => verdict.error = join(&verdict.error, &why),
        }
    }
    let row = NewDelivery {
        hook_id: hook.id,
        message_id: ready.message,
        attempt,
        at: now_ms(),
        status: verdict.status,
        outcome: verdict.outcome,
        error: &verdict.error,
        duration_ms,
    };
    log(ctx, &row)
}

/// Logs an attempt and, unless another is planned, ends the delivery's job.
fn log(ctx: &mut WriteCtx, row: &NewDelivery) -> Result<()> {
    store::log(ctx.conn, row, KEEP)?;
    if row.outcome != Outcome::Retrying {
        outbox::forget(ctx.conn, &key(row.hook_id, row.message_id))?;
    }
    Ok(())
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a}; {b}")
    }
}

/// Posts the bot's reply to the message; `Some(why)` when it may not be posted. Once per
/// message and hook: a second answer to the same delivery finds the first reply.
fn post_reply(
    ctx: &mut WriteCtx,
    chat: &Chat,
    ready: &Ready,
    text: &str,
) -> Result<Option<String>> {
    let bot = users::get(ctx.conn, ready.hook.bot.id)?;
    let c = convs::get(ctx.conn, ready.conversation)?;
    if store::get(ctx.conn, ready.hook.id)?.revoked_at.is_some() {
        return Ok(Some(
            "the hook was revoked; the answer was not posted".into(),
        ));
    }
    if bot.deactivated || memberships::role(ctx.conn, c.id, bot.id)?.is_none() {
        return Ok(Some(
            "the bot is no longer in the conversation; the answer was not posted".into(),
        ));
    }
    if c.archived {
        return Ok(Some(
            "the conversation is archived; the answer was not posted".into(),
        ));
    }
    let client_id = format!("hook-{}", ready.delivery);
    if messages::by_client_id(ctx.conn, bot.id, &client_id)?.is_some() {
        return Ok(None);
    }
    let body = crate::domain::chat::message_body(text, chat.config.max_message_chars)?;
    let new = Outgoing {
        body: &body,
        html: None,
        client_id: Some(&client_id),
        reply_to: Some(ready.message),
        attachments: &[],
        posted_as: None,
    };
    write_message(ctx, chat, &bot, &c, new)?;
    Ok(None)
}
