//! Web Push: the server's VAPID keys, the devices a person subscribed, and the job a new
//! message queues for the members it notifies who are not looking at a page. Sending happens
//! in outbox jobs ([`send`]), off the writer, a bounded number at once.

mod send;

pub(super) use send::run;

use std::net::IpAddr;
use std::sync::Arc;

use super::Chat;
use crate::db::WriteCtx;
use crate::domain::chat::Message;
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::notify::webpush::{Subscription, VapidKeys};
use crate::store::{outbox, push as store, settings};

/// The outbox kind of the job that pushes one message to those it notifies.
pub const JOB: &str = "push";
/// A push to one person held back until they have been away for the idle time.
pub const LATER: &str = "push.later";
/// A push to one device that its service asked to have again later (429, 5xx, no answer).
pub const RETRY: &str = "push.retry";
/// Tries of one push before it is given up: at once, then after 30 s, 2, 10 and 30 minutes.
pub const ATTEMPTS: i64 = 5;
/// Where the server's VAPID key pair is kept (in the database, so in every backup).
const KEY_SETTING: &str = "push.vapid_key";

/// Waits before the n-th retry of a push.
pub fn backoff_ms(attempt: i64) -> i64 {
    match attempt {
        1 => 30_000,
        2 => 120_000,
        3 => 600_000,
        _ => 1_800_000,
    }
}

/// Queues the pushes of a new message in its write, when some other member has a device: one
/// job, so that a message to a thousand people costs its write one row.
pub(super) fn queue(ctx: &mut WriteCtx, chat: &Chat, message: &Message) -> Result<()> {
    if chat.config.push_subject().is_none() {
        return Ok(());
    }
    let any: bool = ctx
        .conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM memberships m
                 JOIN push_subscriptions p ON p.user_id = m.user_id
                 WHERE m.conversation_id = ?1 AND m.user_id != ?2)",
        )?
        .query_row(
            rusqlite::params![message.conversation_id, message.sender.id],
            |r| r.get(0),
        )?;
    if !any {
        return Ok(());
    }
    let payload = serde_json::json!({ "message": message.id }).to_string();
    outbox::enqueue(
        ctx.conn,
        JOB,
        &format!("{JOB}:{}", message.id),
        &payload,
        now_ms(),
    )?;
    let wake = chat.files.wake.clone();
    ctx.after_commit(move || wake.notify_one());
    Ok(())
}

/// The server's VAPID keys: made on first use and kept in the database, never replaced (a
/// stored key that cannot be read is an error, not a reason to make another: every device
/// subscribed with the old one would stop hearing).
pub async fn keys(chat: &Chat) -> Result<Arc<VapidKeys>> {
    chat.vapid
        .get_or_try_init(|| async {
            let fresh = VapidKeys::generate().to_bytes();
            let kept = chat
                .db
                .write(move |ctx| settings::get_or_insert(ctx.conn, KEY_SETTING, &fresh))
                .await?;
            VapidKeys::from_bytes(&kept).map(Arc::new).map_err(|_| {
                Error::Internal(format!(
                    "the stored Web Push key ({KEY_SETTING}) is damaged; restore it from a backup"
                ))
            })
        })
        .await
        .cloned()
}

/// The public key browsers subscribe with; `None` when this server does not push.
pub async fn public_key(chat: &Chat) -> Result<Option<String>> {
    if chat.config.push_subject().is_none() {
        return Ok(None);
    }
    Ok(Some(keys(chat).await?.public_key()))
}

/// What a browser gives when it subscribes (`PushSubscription.toJSON()`), with a name.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDevice {
    pub endpoint: String,
    pub keys: DeviceKeys,
    #[serde(default)]
    pub label: String,
    /// Sent by some browsers; not used.
    #[serde(default, rename = "expirationTime")]
    #[schema(value_type = Value)]
    pub expiration_time: Option<serde_json::Value>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceKeys {
    pub p256dh: String,
    pub auth: String,
}

/// Whether http push services are allowed: only where the operator allows intranet networks.
pub(super) fn allow_http_services(chat: &Chat) -> bool {
    !chat.config.fetch_allow_networks.is_empty()
}

/// Adds a device of `user`, after checking it: a well-formed subscription whose push service
/// is on a public address (or one the operator allows).
pub async fn subscribe(chat: &Chat, user: &User, new: NewDevice) -> Result<store::Device> {
    if chat.config.push_subject().is_none() {
        return Err(Error::invalid(
            "this server does not send pushes (it needs push_subject or an https base_url)",
        ));
    }
    let sub = Subscription::parse(
        &new.endpoint,
        &new.keys.p256dh,
        &new.keys.auth,
        allow_http_services(chat),
    )
    .map_err(|e| Error::invalid(e.to_string()))?;
    reachable(chat, sub.endpoint()).await?;
    let label: String = new.label.trim().chars().take(100).collect();
    let (me, endpoint) = (user.id, sub.endpoint().to_string());
    let (p256dh, auth) = (sub.p256dh(), sub.auth().to_vec());
    chat.db
        .write(move |ctx| {
            let id = store::subscribe(ctx.conn, me, &endpoint, &p256dh, &auth, &label, now_ms())?;
            store::of_user(ctx.conn, me)?
                .into_iter()
                .find(|d| d.id == id)
                .ok_or(Error::NotFound)
        })
        .await
}

/// Refuses a push service on an address that is not public (unless allowed), as every fetch
/// the server makes; the client checks again when it sends.
async fn reachable(chat: &Chat, endpoint: &url::Url) -> Result<()> {
    let allow = crate::net::parse_networks(&chat.config.fetch_allow_networks).unwrap_or_default();
    let ok = |ip: IpAddr| crate::net::is_public(ip) || crate::net::allowed(ip, &allow);
    let refuse = || {
        Err(Error::invalid(format!(
            "endpoint: {} is not a public address; push services must be on the internet \
             (or on a network in fetch_allow_networks)",
            endpoint.host_str().unwrap_or("")
        )))
    };
    let port = endpoint.port_or_known_default().unwrap_or(443);
    match endpoint.host() {
        Some(url::Host::Ipv4(ip)) if !ok(IpAddr::V4(ip)) => refuse(),
        Some(url::Host::Ipv6(ip)) if !ok(IpAddr::V6(ip)) => refuse(),
        Some(url::Host::Domain(name)) => {
            let found: Vec<_> = match tokio::net::lookup_host((name, port)).await {
                Ok(addrs) => addrs.map(|a| a.ip()).collect(),
                Err(_) => {
                    return Err(Error::invalid(format!("endpoint: {name} cannot be found")));
                }
            };
            match found.iter().all(|ip| ok(*ip)) && !found.is_empty() {
                true => Ok(()),
                false => refuse(),
            }
        }
        _ => Ok(()),
    }
}

/// A person's push devices.
pub async fn devices(chat: &Chat, user: &User) -> Result<Vec<store::Device>> {
    let me = user.id;
    chat.db.read(move |conn| store::of_user(conn, me)).await
}

/// Removes one of a person's devices.
pub async fn remove(chat: &Chat, user: &User, id: i64) -> Result<()> {
    let me = user.id;
    match chat
        .db
        .write(move |ctx| store::remove(ctx.conn, me, id))
        .await?
    {
        true => Ok(()),
        false => Err(Error::NotFound),
    }
}
