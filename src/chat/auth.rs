//! Logging in and out, and turning a session cookie back into a user.

use std::net::IpAddr;

use crate::config::Config;
use crate::db::Db;
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::store::sessions::{self, Session};
use crate::store::users;

use super::secrets::{new_token, token_hash, verify_password};
use super::throttle::Throttle;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// `last_seen_at` is refreshed at most this often, so reads stay reads.
const TOUCH_EVERY_MS: i64 = 60 * 1000;

/// A session just made: the token goes into the cookie and is never stored.
pub struct NewSession {
    pub user: User,
    pub token: String,
    pub csrf_token: String,
}

/// Checks credentials under the login throttle and opens a session.
pub async fn login(
    db: &Db,
    throttle: &Throttle,
    username: &str,
    password: &str,
    client: IpAddr,
) -> Result<NewSession> {
    let user_key = format!("user:{}", username.trim().to_lowercase());
    let ip_key = format!("ip:{client}");
    let keys = [user_key.as_str(), ip_key.as_str()];
    throttle.check(&keys)?;
    let name = username.to_owned();
    let found = db.read(move |conn| users::credentials(conn, &name)).await?;
    let (user, hash) = match found {
        Some((user, hash)) if !user.deactivated => (Some(user), Some(hash)),
        _ => (None, None),
    };
    let ok = verify_password(password.to_owned(), hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        throttle.fail(&keys);
        return Err(Error::Unauthorized("wrong username or password".into()));
    };
    let token = new_token();
    let csrf_token = new_token();
    let (hash, csrf, id) = (token_hash(&token), csrf_token.clone(), user.id);
    db.write(move |ctx| sessions::insert(ctx.conn, &hash, id, &csrf, now_ms()))
        .await?;
    Ok(NewSession {
        user,
        token,
        csrf_token,
    })
}

/// The live session for a cookie token; expired or unknown tokens are `Unauthorized`.
pub async fn authenticate(db: &Db, config: &Config, token: &str) -> Result<Session> {
    let hash = token_hash(token);
    let lookup = hash.clone();
    let session = db
        .read_short(move |conn| sessions::find(conn, &lookup))
        .await?
        .ok_or_else(|| Error::Unauthorized("not signed in".into()))?;
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
