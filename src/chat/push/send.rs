//! Sending pushes: who a message reaches now or once they have been away a while, the
//! payload each device decrypts, and how each push service answered.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt as _;
use std::sync::Arc;
use std::time::Duration;

use super::super::Chat;
use super::super::notify::{Notice, notice};
use super::super::outbox::Failure;
use super::{JOB, LATER, RETRY, allow_http_services, backoff_ms, keys};
use crate::domain::chat::{Kind, Message, MessageId};
use crate::domain::{UserId, now_ms};
use crate::error::Result;
use crate::notify::webpush::{self, Push, Subscription, Urgency, VapidKeys};
use crate::store::{notify as levels, outbox, push as store};

/// Devices pushed to at once by one job.
const CONCURRENCY: usize = 64;
/// Pushes encrypted in one go on a blocking thread.
const ENCRYPT_BATCH: usize = 32;
/// How long a push service keeps a push for a device that is off: a day.
const TTL_SECS: u32 = 24 * 3600;
/// Characters of a message's text a push carries (the payload is cut further to stay under
/// the 4 KB a push may hold).
const BODY_CHARS: usize = 3000;

#[derive(serde::Deserialize, serde::Serialize)]
struct Job {
    message: MessageId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<i64>,
}

/// Runs one push job of `kind`.
pub(in crate::chat) async fn run(
    chat: &Chat,
    kind: &str,
    payload: &str,
) -> std::result::Result<(), Failure> {
    let job: Job = serde_json::from_str(payload)
        .map_err(|e| Failure::Permanent(format!("unreadable job: {e}")))?;
    match kind {
        JOB => fan_out(chat, job.message).await,
        LATER => {
            let user = job
                .user
                .ok_or_else(|| Failure::Permanent("no user".into()))?;
            to_person(chat, job.message, user).await
        }
        _ => {
            let device = job
                .device
                .ok_or_else(|| Failure::Permanent("no device".into()))?;
            to_device_again(chat, job.message, device).await
        }
    }
}

/// The message, its conversation's kind and name, and who it notifies with their devices.
type Audience = (Message, Kind, String, Vec<(crate::notify::Member, i64)>);

/// Decides for every member the message notifies: pushed now, later, or not at all.
async fn fan_out(chat: &Chat, message: MessageId) -> std::result::Result<(), Failure> {
    let (m, kind, name, members): Audience = super::super::notify::audience(chat, message).await?;
    let idle = super::super::notify::idle(chat);
    let mut now_list = Vec::new();
    let mut later = Vec::new();
    for (member, devices) in members {
        if devices == 0 {
            continue;
        }
        match crate::notify::deliver(chat.hub.attention(member.user), idle).push_after {
            None => {}
            Some(d) if d.is_zero() => now_list.push(member),
            Some(d) => later.push((member.user, d)),
        }
    }
    if !later.is_empty() {
        chat.db
            .write(move |ctx| {
                for (user, wait) in &later {
                    let payload = serde_json::to_string(&Job {
                        message,
                        user: Some(*user),
                        device: None,
                    })
                    .expect("a job serializes");
                    let run_at = now_ms() + wait.as_millis() as i64;
                    outbox::enqueue(
                        ctx.conn,
                        LATER,
                        &format!("{LATER}:{message}:{user}"),
                        &payload,
                        run_at,
                    )?;
                }
                Ok(())
            })
            .await?;
    }
    let targets: Vec<(UserId, Notice)> = now_list
        .into_iter()
        .map(|member| {
            let n = notice(&m, kind, &name, member.mentioned, BODY_CHARS);
            (member.user, n)
        })
        .collect();
    send_all(chat, targets, kind).await
}

/// A push held back until its person had been away for the idle time: sent if they still have
/// not read the message and are not looking at a page.
async fn to_person(
    chat: &Chat,
    message: MessageId,
    user: UserId,
) -> std::result::Result<(), Failure> {
    if chat.hub.attention(user).looking {
        return Ok(());
    }
    let unread = chat
        .db
        .read(move |conn| levels::unread_by(conn, message, user))
        .await?;
    if !unread {
        return Ok(());
    }
    let (m, kind, name, members): Audience = super::super::notify::audience(chat, message).await?;
    let Some((member, _)) = members.into_iter().find(|(mb, _)| mb.user == user) else {
        return Ok(());
    };
    let n = notice(&m, kind, &name, member.mentioned, BODY_CHARS);
    send_all(chat, vec![(user, n)], kind).await
}

/// One device again, after its push service asked for a retry.
async fn to_device_again(
    chat: &Chat,
    message: MessageId,
    device: i64,
) -> std::result::Result<(), Failure> {
    let found = chat
        .db
        .read(move |conn| {
            let d: Option<store::Device> = conn
                .prepare_cached("SELECT user_id FROM push_subscriptions WHERE id = ?1")?
                .query_row([device], |r| r.get::<_, UserId>(0))
                .ok()
                .map(|user| store::of_user(conn, user))
                .transpose()?
                .and_then(|list| list.into_iter().find(|d| d.id == device));
            Ok(d)
        })
        .await?;
    let Some(device) = found else {
        return Ok(());
    };
    let user = device.user_id;
    let (m, kind, name, members): Audience = super::super::notify::audience(chat, message).await?;
    let Some((member, _)) = members.into_iter().find(|(mb, _)| mb.user == user) else {
        return Ok(());
    };
    let n = notice(&m, kind, &name, member.mentioned, BODY_CHARS);
    let badge = badge_of(chat, user).await?;
    let keys = keys(chat).await?;
    let subject = chat.config.push_subject().unwrap_or_default().to_owned();
    let http_ok = allow_http_services(chat);
    let body = payload(&n, badge);
    let built = {
        let (device, n) = (device.clone(), n.clone());
        tokio::task::spawn_blocking(move || {
            build(&keys, &subject, http_ok, &device, &body, &n, kind)
        })
        .await
        .map_err(|e| Failure::Later(format!("encrypting failed: {e}")))?
    };
    let sent = match built {
        Ok(request) => send(chat, request).await,
        Err(sent) => sent,
    };
    let retry = match &sent {
        Sent::Again(why, wait) => Some(match wait {
            Some(w) => Failure::LaterThan(why.clone(), *w),
            None => Failure::Later(why.clone()),
        }),
        _ => None,
    };
    // This job itself is the retry: its outcome is recorded, and it is put off by the worker.
    let sent = match sent {
        Sent::Again(why, _) => Sent::Refused(why),
        other => other,
    };
    record(chat, vec![(device, message, sent)]).await?;
    retry.map_or(Ok(()), Err)
}

async fn badge_of(chat: &Chat, user: UserId) -> Result<i64> {
    chat.db.read(move |conn| levels::badge(conn, user)).await
}

/// The JSON a service worker receives.
fn payload(n: &Notice, badge: i64) -> Vec<u8> {
    let json = |n: &Notice| {
        serde_json::to_vec(&serde_json::json!({
            "title": n.title, "body": n.body, "url": n.url, "tag": n.tag, "badge": badge,
            "conversation": n.conversation, "message_id": n.message_id,
        }))
        .expect("a push serializes")
    };
    let mut n = n.clone();
    n.title = super::super::notify::cut(&n.title, 100);
    let mut bytes = json(&n);
    // Escapes (quotes, non-ASCII as-is) can make the JSON longer than the text: cut further.
    while bytes.len() > webpush::MAX_PAYLOAD && !n.body.is_empty() {
        let keep = n.body.chars().count() * 3 / 4;
        n.body = super::super::notify::cut(&n.body, keep);
        bytes = json(&n);
    }
    bytes
}

/// How one send went.
enum Sent {
    Done,
    /// The device is gone (404, 410): forgotten.
    Gone,
    /// Refused for good (400, 401, 403, 413): noted on the device, not retried.
    Refused(String),
    /// Worth another try (429, 5xx, no answer), after the time the service asked for.
    Again(String, Option<Duration>),
}

/// Pushes each person's notice to all their devices, `CONCURRENCY` at once; devices whose
/// service asks for a retry get a job of their own.
async fn send_all(
    chat: &Chat,
    targets: Vec<(UserId, Notice)>,
    kind: Kind,
) -> std::result::Result<(), Failure> {
    if targets.is_empty() {
        return Ok(());
    }
    let keys = keys(chat).await?;
    let users: Vec<UserId> = targets.iter().map(|(u, _)| *u).collect();
    let found = chat
        .db
        .read(move |conn| {
            let mut out = Vec::new();
            for user in users {
                let badge = levels::badge(conn, user)?;
                out.push((store::of_user(conn, user)?, badge));
            }
            Ok(out)
        })
        .await?;
    let mut sends = Vec::new();
    for ((_, n), (devices, badge)) in targets.iter().zip(found) {
        let body = Arc::new(payload(n, badge));
        for device in devices {
            sends.push((device, body.clone(), n.clone()));
        }
    }
    // Encrypting is the CPU-bound part: one batch at a time on a blocking thread (so a fan-out
    // takes at most one core and posts keep the other), while the batch before it is sent,
    // `CONCURRENCY` requests at once.
    let subject = chat.config.push_subject().unwrap_or_default().to_owned();
    let http_ok = allow_http_services(chat);
    let batches: Vec<Vec<Send>> = sends.chunks(ENCRYPT_BATCH).map(|c| c.to_vec()).collect();
    let outcomes: Vec<Outcome> = futures_util::stream::iter(batches)
        .then(|batch| {
            let (keys, subject) = (keys.clone(), subject.clone());
            async move {
                let built = tokio::task::spawn_blocking(move || {
                    batch
                        .into_iter()
                        .map(|(device, body, n)| {
                            let request = build(&keys, &subject, http_ok, &device, &body, &n, kind);
                            (device, n.message_id, request)
                        })
                        .collect::<Vec<_>>()
                })
                .await;
                futures_util::stream::iter(built.unwrap_or_default())
            }
        })
        .flatten()
        .map(|(device, message, request)| async move {
            let sent = match request {
                Ok(request) => send(chat, request).await,
                Err(sent) => sent,
            };
            (device, message, sent)
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    record(chat, outcomes).await?;
    Ok(())
}

/// One device's push waiting to be encrypted: the device, the payload, the notice.
type Send = (store::Device, Arc<Vec<u8>>, Notice);

/// A device, the message pushed to it, and how it went.
type Outcome = (store::Device, MessageId, Sent);

/// Writes down, in one write, how a batch of sends went: the time of each device's last push
/// or its last error, devices gone forgotten, and a retry job for each that asked for one.
async fn record(chat: &Chat, outcomes: Vec<Outcome>) -> Result<()> {
    if outcomes.is_empty() {
        return Ok(());
    }
    for (device, _, sent) in &outcomes {
        if let Sent::Refused(why) = sent {
            tracing::info!(device = device.id, reason = %why, "a push service refused a push");
        }
    }
    chat.db
        .write(move |ctx| {
            let now = now_ms();
            for (device, message, sent) in &outcomes {
                match sent {
                    Sent::Done => store::note_sent(ctx.conn, device.id, now, "")?,
                    Sent::Gone => {
                        store::forget(ctx.conn, device.id, &device.endpoint)?;
                    }
                    Sent::Refused(why) => store::note_sent(ctx.conn, device.id, now, why)?,
                    Sent::Again(why, wait) => {
                        store::note_sent(ctx.conn, device.id, now, why)?;
                        let payload = serde_json::to_string(&Job {
                            message: *message,
                            user: None,
                            device: Some(device.id),
                        })
                        .expect("a job serializes");
                        let wait = wait.map_or(0, |w| w.as_millis() as i64).max(backoff_ms(1));
                        let key = format!("{RETRY}:{message}:{}", device.id);
                        outbox::enqueue(ctx.conn, RETRY, &key, &payload, now + wait)?;
                    }
                }
            }
            Ok(())
        })
        .await
}

/// The encrypted, signed request of one push, or why there is none.
fn build(
    keys: &VapidKeys,
    subject: &str,
    http_ok: bool,
    device: &store::Device,
    body: &[u8],
    n: &Notice,
    kind: Kind,
) -> std::result::Result<http::Request<Vec<u8>>, Sent> {
    if subject.is_empty() {
        return Err(Sent::Refused("push is off".into()));
    }
    let sub = Subscription::parse(
        &device.endpoint,
        &URL_SAFE_NO_PAD.encode(&device.p256dh),
        &URL_SAFE_NO_PAD.encode(&device.auth),
        http_ok,
    )
    .map_err(|e| Sent::Refused(e.to_string()))?;
    let urgency = match (kind, n.mention) {
        (Kind::Direct, _) | (_, true) => Urgency::High,
        _ => Urgency::Normal,
    };
    let push = Push {
        payload: body,
        ttl_secs: TTL_SECS,
        tag: Some(&n.tag),
        urgency,
    };
    webpush::request(keys, subject, &sub, &push).map_err(|e| Sent::Refused(e.to_string()))
}

/// Sends one built push and reads what its service answered.
async fn send(chat: &Chat, request: http::Request<Vec<u8>>) -> Sent {
    match chat.fetch.post(request, 1024).await {
        Ok(answer) => match answer.status {
            200..=299 => Sent::Done,
            404 | 410 => Sent::Gone,
            429 | 500..=599 => Sent::Again(
                format!("the push service answered {}", answer.status),
                answer.retry_after,
            ),
            status => Sent::Refused(format!("the push service answered {status}")),
        },
        Err(e @ (crate::net::FetchError::TimedOut | crate::net::FetchError::Transport(_))) => {
            Sent::Again(e.to_string(), None)
        }
        Err(e) => Sent::Refused(e.to_string()),
    }
}
