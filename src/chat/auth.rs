//! Signing in and out, and turning a session cookie back into a user.
//!
//! A sign-in is counted by the throttle before its password is checked. Keys and limits
//! (docs/decisions.md): from a known device, 10 per 15 minutes for that device alone;
//! otherwise 10 per 15 minutes per account and address, 50 per 15 minutes per address, and
//! 50 per hour per account from all unknown devices together.

use rusqlite::Connection;
use std::net::IpAddr;
use std::time::Duration;

use super::Chat;
use super::devices::{Device, DeviceKey};
use super::throttle::{Key, Rule, Throttle, client_key};
use crate::config::Config;
use crate::db::Db;
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::hub::{CLOSE_SESSION_ENDED, Hub};
use crate::store::sessions::{self, Place, Session};
use crate::store::users;

use super::secrets::{new_token, token_hash};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// `last_seen_at` is refreshed at most this often, so reads stay reads.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

const QUARTER_HOUR: Duration = Duration::from_secs(15 * 60);
/// One account from one address: the owner mistyping, or a guesser at one place.
pub const PER_ACCOUNT_AND_ADDRESS: Rule = Rule {
    limit: 10,
    window: QUARTER_HOUR,
    forgiven: true,
};
/// One address, whatever the accounts: guessing many accounts from one place.
pub const PER_ADDRESS: Rule = Rule {
    limit: 50,
    window: QUARTER_HOUR,
    forgiven: false,
};
/// One account from every unknown device together: guessing from many places.
pub const PER_ACCOUNT: Rule = Rule {
    limit: 50,
    window: Duration::from_secs(60 * 60),
    forgiven: false,
};
/// One device that has signed in to the account before.
pub const PER_DEVICE: Rule = Rule {
    limit: 10,
    window: QUARTER_HOUR,
    forgiven: true,
};

/// What guards sign-ins: the attempt counts and the key that signs device cookies.
pub struct SignIns {
    pub throttle: Throttle,
    pub devices: DeviceKey,
}

impl SignIns {
    pub async fn load(db: &Db) -> Result<SignIns> {
        Ok(SignIns {
            throttle: Throttle::default(),
            devices: DeviceKey::load(db).await?,
        })
    }
}

/// Who is signing in, as far as the request tells.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub ip: IpAddr,
    /// The device cookie the request carried, if any.
    pub device: Option<&'a str>,
    /// The request's User-Agent (empty when none), for the list of one's sessions.
    pub agent: &'a str,
}

impl Client<'_> {
    /// Where a session opened by this client is said to be.
    pub fn place(&self) -> Place {
        Place {
            device: device_label(self.agent),
            address: self.ip.to_string(),
        }
    }
}

/// A short label for a User-Agent, such as "Chrome on Linux"; enough to tell one's devices
/// apart, not a fingerprint.
pub fn device_label(agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| agent.contains(needle))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("A browser on {s}"),
        (None, None) if agent.trim().is_empty() => "Unknown device".to_owned(),
        (None, None) => agent.chars().take(40).collect(),
    }
}

/// A session just made: the token goes into the cookie and is never stored.
pub struct NewSession {
    pub user: User,
    pub token: String,
    pub csrf_token: String,
    /// The device cookie to set, renewed on every sign-in.
    pub device: String,
}

/// The keys a sign-in attempt for `username` from `client` counts against.
fn keys(username: &str, client: Client, known: Option<&Device>) -> Vec<Key> {
    if let Some(device) = known {
        return vec![Key::new(format!("device:{}", device.id), PER_DEVICE)];
    }
    let (name, addr) = (username.trim().to_lowercase(), client_key(client.ip));
    vec![
        Key::new(format!("account:{name}|{addr}"), PER_ACCOUNT_AND_ADDRESS),
        Key::new(format!("address:{addr}"), PER_ADDRESS),
        Key::new(format!("account:{name}"), PER_ACCOUNT),
    ]
}

/// Checks credentials under the sign-in throttle and opens a session.
pub async fn login(
    chat: &Chat,
    guard: &SignIns,
    username: &str,
    password: &str,
    client: Client<'_>,
) -> Result<NewSession> {
    let name = username.to_owned();
    let found = chat
        .db
        .read_short(move |conn| users::credentials(conn, &name))
        .await?;
    // A bot has no password and never signs in: it is answered like an unknown name.
    let (user, hash) = match found {
        Some((user, hash)) if !user.deactivated && !user.bot => (Some(user), Some(hash)),
        _ => (None, None),
    };
    let now = now_ms();
    let known = user
        .as_ref()
        .zip(client.device)
        .and_then(|(user, cookie)| guard.devices.verify(cookie, user.id, now));
    let attempt = guard
        .throttle
        .attempt(&keys(username, client, known.as_ref()))?;
    let checked = chat.passwords.verify(password.to_owned(), hash).await;
    let ok = match checked {
        Ok(ok) => ok,
        Err(err @ Error::Busy { .. }) => {
            attempt.refund();
            return Err(err);
        }
        Err(err) => return Err(err),
    };
    let Some(user) = user.filter(|_| ok) else {
        drop(attempt);
        record_sign_in(chat, username, "session.sign_in_failed", client.ip);
        return Err(Error::Unauthorized("wrong username or password".into()));
    };
    attempt.succeeded();
    record_sign_in(chat, &user.username, "session.sign_in", client.ip);
    let device = guard.devices.issue(user.id, now, known.as_ref());
    open_session(chat, user, device, client.place()).await
}

/// Notes a sign-in or a failed one in the audit log, by the name given and the address. Not
/// waited for: a sign-in never waits on the log, and throttled attempts (refused before any
/// check) are not written at all, so a flood cannot fill it faster than the throttle lets in.
fn record_sign_in(chat: &Chat, name: &str, action: &'static str, ip: IpAddr) {
    let name: String = name.trim().chars().take(64).collect();
    let address = ip.to_string();
    chat.db
        .writer()
        .enqueue(move |ctx| crate::store::audit::record(ctx.conn, &name, action, &address));
}

/// Opens a session for `user` (whose password was just checked or set), opened at `place`.
pub async fn open_session(
    chat: &Chat,
    user: User,
    device: String,
    place: Place,
) -> Result<NewSession> {
    let token = new_token();
    let csrf_token = new_token();
    let (hash, csrf, id) = (token_hash(&token), csrf_token.clone(), user.id);
    chat.db
        .write(move |ctx| sessions::insert(ctx.conn, &hash, id, &csrf, now_ms(), &place))
        .await?;
    Ok(NewSession {
        user,
        token,
        csrf_token,
        device,
    })
}

/// The live session for a cookie token; expired or unknown tokens are `Unauthorized`.
pub async fn authenticate(db: &Db, config: &Config, token: &str) -> Result<Session> {
    let hash = token_hash(token);
    let lookup = hash.clone();
    let found = db
        .read_short(move |conn| sessions::find(conn, &lookup))
        .await?;
    let Some(session) = found else {
        return Err(Error::Unauthorized(ended_reason(db, token).await?));
    };
    let now = now_ms();
    let idle = now - session.last_seen_at > i64::from(config.session_idle_days) * DAY_MS;
    let old = now - session.created_at > i64::from(config.session_max_days) * DAY_MS;
    if idle || old {
        db.writer()
            .enqueue(move |ctx| sessions::delete(ctx.conn, &hash));
        return Err(Error::Unauthorized("session expired; sign in again".into()));
    }
    if now - session.last_seen_at > TOUCH_EVERY_MS {
        // Fire and forget: a lost touch only shortens the idle window by a minute.
        db.writer()
            .enqueue(move |ctx| sessions::touch(ctx.conn, &hash, now));
    }
    Ok(session)
}

/// Why the session of this cookie token is gone: the reason kept when someone else ended it
/// (an admin's reset), or plainly "not signed in".
pub async fn ended_reason(db: &Db, token: &str) -> Result<String> {
    let hash = token_hash(token);
    let reason = db
        .read_short(move |conn| sessions::ended_reason(conn, &hash))
        .await?;
    Ok(reason.unwrap_or_else(|| "not signed in".into()))
}

/// Whether the session (or API token) with this hash still stands: not ended, revoked or
/// expired, its account active.
pub async fn session_stands(db: &Db, token_hash: Vec<u8>) -> Result<bool> {
    db.read_short(move |conn| {
        if sessions::find(conn, &token_hash)?.is_some() {
            return Ok(true);
        }
        let token = crate::store::tokens::find(conn, &token_hash)?.map(|f| f.token);
        Ok(token
            .is_some_and(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|at| at > now_ms())))
    })
    .await
}

/// Refuses a write by an account deactivated after `user` was read: a socket keeps the `User`
/// it was opened with, and the watcher that closes it when another process (the CLI)
/// deactivates the account may be late or not running. Called inside each member's write job,
/// where the users table is current; the account's sockets are closed on the way.
pub fn still_active(conn: &Connection, hub: &Hub, user: &User) -> Result<()> {
    if users::is_active(conn, user.id)? {
        return Ok(());
    }
    hub.kick_user(user.id, CLOSE_SESSION_ENDED);
    Err(Error::Unauthorized("this account is deactivated".into()))
}

/// Ends one session.
pub async fn logout(chat: &super::Chat, token: &str) -> Result<()> {
    let hash = token_hash(token);
    let key = hash.clone();
    chat.db
        .write(move |ctx| sessions::delete(ctx.conn, &key))
        .await?;
    chat.hub
        .kick_session(&hash, crate::hub::CLOSE_SESSION_ENDED);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(ip: &str) -> Client<'static> {
        Client {
            ip: ip.parse().unwrap(),
            device: None,
            agent: "",
        }
    }

    #[test]
    fn unknown_devices_count_per_account_address_and_both() {
        let keys = keys(" Ada ", client("2001:db8::7"), None);
        let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "account:ada|2001:db8:0:0::/64",
                "address:2001:db8:0:0::/64",
                "account:ada"
            ]
        );
        assert_eq!(keys[0].rule, PER_ACCOUNT_AND_ADDRESS);
        assert_eq!(keys[1].rule, PER_ADDRESS);
        assert_eq!(keys[2].rule, PER_ACCOUNT);
    }

    #[test]
    fn devices_get_short_labels() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.0.0 Safari/537.36";
        assert_eq!(device_label(chrome), "Chrome on Linux");
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_label(iphone), "Safari on iPhone");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0";
        assert_eq!(device_label(firefox), "Firefox on Windows");
        assert_eq!(device_label(""), "Unknown device");
        assert_eq!(device_label("reqwest"), "reqwest");
    }

    #[test]
    fn a_known_device_counts_for_itself_alone() {
        let device = Device { id: "abc".into() };
        let keys = keys("ada", client("192.0.2.1"), Some(&device));
        assert_eq!(keys, [Key::new("device:abc", PER_DEVICE)]);
    }
}
