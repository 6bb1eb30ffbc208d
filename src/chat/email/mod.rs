//! Email: a person's address and the link that verifies it, whether notifications are emailed,
//! the unsubscribe link every notification carries ([`unsubscribe`]), the forgotten-password
//! email ([`forgot`]), and the batched notification emails sent by outbox jobs ([`batch`]).
//!
//! Emails that carry a link with a secret (verification, password reset) are sent at once
//! from memory, never queued: the outbox would keep the secret in the database.

mod batch;
pub mod forgot;
pub mod unsubscribe;

pub use batch::{ATTEMPTS, BATCH, SEND, backoff_ms};
pub(in crate::chat) use batch::{queue, run};

use serde::Serialize;
use std::time::Duration;

use super::Chat;
use super::auth::still_active;
use super::secrets::{new_token, token_hash};
use super::throttle::{Key, Rule, Throttle};
use crate::config::Config;
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::mail::{Mail, Mailer, compose};
use crate::store::{email as store, users};

/// How long a verification link works.
pub const VERIFY_MS: i64 = 24 * 3600 * 1000;
/// Verification emails one person may have sent: 5 an hour.
pub const VERIFY_MAILS: Rule = Rule {
    limit: 5,
    window: Duration::from_secs(3600),
    forgiven: false,
};

/// What email needs at hand: the SMTP client (none when email is off), the key that signs
/// unsubscribe links, and the counts that limit how many emails a request can cause.
pub struct Email {
    pub mailer: Option<Mailer>,
    key: tokio::sync::OnceCell<[u8; 32]>,
    pub throttle: Throttle,
}

impl Email {
    pub fn new(config: &Config) -> Email {
        let mailer = Mailer::new(config).unwrap_or_else(|err| {
            tracing::error!(error = %err, "email is off: the SMTP settings cannot be used");
            None
        });
        Email {
            mailer,
            key: tokio::sync::OnceCell::new(),
            throttle: Throttle::default(),
        }
    }
}

/// Whether this server sends email.
pub fn enabled(chat: &Chat) -> bool {
    chat.email.mailer.is_some()
}

fn mailer(chat: &Chat) -> Result<&Mailer> {
    chat.email.mailer.as_ref().ok_or_else(|| {
        Error::invalid("this server does not send email (its operator has not set smtp.host)")
    })
}

/// A person's address as they see it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = EmailState)]
pub struct State {
    /// `null` without an address.
    pub address: Option<String>,
    pub verified: bool,
    /// Whether unread mentions and direct messages are emailed (once verified).
    pub notify: bool,
    /// Until when the verification link sent last works, while the address is unverified.
    pub link_expires_at: Option<i64>,
}

impl From<Option<store::Address>> for State {
    fn from(found: Option<store::Address>) -> State {
        match found {
            None => State::default(),
            Some(a) => State {
                verified: a.verified_at.is_some(),
                notify: a.notify,
                link_expires_at: a.token_expires_at.filter(|_| a.verified_at.is_none()),
                address: Some(a.address),
            },
        }
    }
}

/// `user`'s address.
pub async fn state(chat: &Chat, user: &User) -> Result<State> {
    let me = user.id;
    Ok(chat
        .db
        .read_short(move |conn| store::get(conn, me))
        .await?
        .into())
}

/// The link in a verification email.
pub fn verify_link(chat: &Chat, token: &str) -> String {
    format!("{}/email/verify?token={token}", chat.config.base_url)
}

/// Gives `user` a new address, unverified, and emails it the link that verifies it. The
/// same address again changes nothing (unverified, it is sent a new link). One verified by
/// someone else is refused (409), not saying by whom.
pub async fn set_address(chat: &Chat, user: &User, raw: &str) -> Result<State> {
    mailer(chat)?;
    let address = crate::mail::valid_address(raw).map_err(Error::Invalid)?;
    let current = state(chat, user).await?;
    if current
        .address
        .as_deref()
        .is_some_and(|a| a.eq_ignore_ascii_case(&address))
    {
        return match current.verified {
            true => Ok(current),
            false => resend(chat, user).await,
        };
    }
    let attempt = chat
        .email
        .throttle
        .attempt(&[Key::new(format!("verify:{}", user.id), VERIFY_MAILS)])?;
    let token = new_token();
    let (live, me, key, kept) = (
        chat.clone(),
        user.clone(),
        token_hash(&token),
        address.clone(),
    );
    let state = chat
        .db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            if store::taken(ctx.conn, &kept, me.id)? {
                return Err(Error::Conflict(
                    "this address is already used by another account".into(),
                ));
            }
            let now = now_ms();
            store::set(ctx.conn, me.id, &kept, &key, now + VERIFY_MS, now)?;
            Ok(State::from(store::get(ctx.conn, me.id)?))
        })
        .await;
    let state = match state {
        Ok(state) => state,
        Err(err) => {
            attempt.refund();
            return Err(err);
        }
    };
    drop(attempt);
    send_verification(chat, user, &address, &token);
    Ok(state)
}

/// Emails the unverified address of `user` a new link (the one before stops working).
pub async fn resend(chat: &Chat, user: &User) -> Result<State> {
    mailer(chat)?;
    let current = state(chat, user).await?;
    let address = match (&current.address, current.verified) {
        (None, _) => return Err(Error::invalid("add an email address first")),
        (Some(_), true) => return Err(Error::invalid("this address is already verified")),
        (Some(a), false) => a.clone(),
    };
    let attempt = chat
        .email
        .throttle
        .attempt(&[Key::new(format!("verify:{}", user.id), VERIFY_MAILS)])?;
    let token = new_token();
    let (me, key) = (user.id, token_hash(&token));
    let renewed = chat
        .db
        .write(move |ctx| {
            let renewed = store::renew_token(ctx.conn, me, &key, now_ms() + VERIFY_MS)?;
            Ok(renewed
                .then(|| store::get(ctx.conn, me))
                .transpose()?
                .flatten())
        })
        .await?;
    let Some(found) = renewed else {
        attempt.refund();
        return Err(Error::invalid("this address is already verified"));
    };
    drop(attempt);
    send_verification(chat, user, &address, &token);
    Ok(Some(found).into())
}

fn send_verification(chat: &Chat, user: &User, address: &str, token: &str) {
    let community = chat.instance().community_name.clone();
    let mail = compose::verification(
        address,
        &community,
        &user.username,
        &verify_link(chat, token),
    );
    send_now(chat, mail, "a verification email");
}

/// Sends an email that carries a secret link, off the request: its result is logged, and the
/// person asks again if it does not arrive.
pub(super) fn send_now(chat: &Chat, mail: Mail, what: &'static str) {
    let Some(mailer) = chat.email.mailer.clone() else {
        return;
    };
    tokio::spawn(async move {
        if let Err(err) = mailer.send(&mail).await {
            tracing::warn!(error = %err, "{what} was not sent");
        }
    });
}

/// Forgets `user`'s address; nothing is emailed to them any more.
pub async fn remove(chat: &Chat, user: &User) -> Result<()> {
    let me = user.id;
    chat.db
        .write(move |ctx| store::remove(ctx.conn, me))
        .await?;
    Ok(())
}

/// Turns notification emails on or off; turned back on, nothing older than now is sent.
pub async fn set_notify(chat: &Chat, user: &User, on: bool) -> Result<State> {
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let newest = store::newest_message(ctx.conn)?;
            if !store::set_notify(ctx.conn, me.id, on, newest)? {
                return Err(Error::invalid("add an email address first"));
            }
            Ok(State::from(store::get(ctx.conn, me.id)?))
        })
        .await
}

/// The person and address a verification link is for, while it works: unknown tokens are
/// `NotFound`, expired ones `Gone`.
pub async fn check_link(chat: &Chat, token: &str) -> Result<(User, String)> {
    let key = token_hash(token);
    chat.db
        .read_short(move |conn| {
            let (user, expires) = store::by_token(conn, &key)?.ok_or(Error::NotFound)?;
            if expires <= now_ms() {
                return Err(Error::Gone("This link has expired".into()));
            }
            let address = store::get(conn, user)?.ok_or(Error::NotFound)?.address;
            Ok((users::get(conn, user)?, address))
        })
        .await
}

/// Verifies the address a link was sent to; from then on it may receive notifications and
/// password links. An address someone else verified first is refused (409).
pub async fn verify(chat: &Chat, token: &str) -> Result<(User, String)> {
    let (user, address) = check_link(chat, token).await?;
    let key = token_hash(token);
    let verified = chat
        .db
        .write(move |ctx| {
            let newest = store::newest_message(ctx.conn)?;
            store::verify(ctx.conn, &key, now_ms(), newest)
        })
        .await;
    match verified {
        Ok(true) => Ok((user, address)),
        Ok(false) => Err(Error::Gone("This link can no longer be used".into())),
        Err(Error::Conflict(_)) => Err(Error::Conflict(
            "this address is already used by another account".into(),
        )),
        Err(err) => Err(err),
    }
}
