//! API tokens: made by their owner (or by an admin for a bot), shown once, kept as a hash,
//! listed with their last use, revoked; and the check of a bearer token on each request.

use super::Chat;
use super::actor::Actor;
use super::secrets::token_hash;
use crate::domain::tokens::{Lifetime, Scope};
use crate::domain::{UserId, now_ms};
use crate::error::{Error, Result, TokenRefusal};
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::sessions::Session;
use crate::store::tokens::{self as store, NewToken, Token};
use crate::store::{audit, users};

/// Every token starts with this, so that secret scanners and people can tell one.
pub const PREFIX: &str = "hearth_";
/// The longest token name.
pub const MAX_NAME_CHARS: usize = 64;
/// The most tokens that may work at once for one account.
pub const MAX_LIVE: i64 = 50;
/// A token's last use is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

/// What a new token is to be.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub scope: Scope,
    pub lifetime: Lifetime,
}

/// A token just made: its value, shown this once, and its row.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[schema(as = MadeToken)]
pub struct Made {
    /// The token's value (`hearth_…`), for `Authorization: Bearer`.
    pub token: String,
    #[serde(flatten)]
    pub info: Token,
}

/// Whether `by` (an admin or not) manages the tokens of `owner`: their own, or a bot's for an
/// admin.
fn manages(by: Option<UserId>, admin: bool, owner: &crate::domain::User) -> bool {
    by == Some(owner.id) || (admin && owner.bot)
}

fn new_value() -> String {
    format!("{PREFIX}{}", super::secrets::new_token())
}

fn checked_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid("a token needs a name (what it is for)"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(format!(
            "a token's name is at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "a token's name must not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// Makes a token for `owner` (the person themself, or a bot by an admin). The scope may not
/// go beyond the owner's role; "never expires" is for admins only.
pub async fn create(chat: &Chat, actor: Actor<'_>, owner: UserId, spec: Spec) -> Result<Made> {
    let name = checked_name(&spec.name)?;
    if spec.lifetime == Lifetime::Never && !actor.is_admin() {
        return Err(Error::Forbidden(
            "only admins may make a token that never expires".into(),
        ));
    }
    let (by, by_name, admin) = (actor.user_id(), actor.name(), actor.is_admin());
    let value = new_value();
    let hash = token_hash(&value);
    let info = chat
        .db
        .write(move |ctx| {
            let user = users::get(ctx.conn, owner)?;
            if !manages(by, admin, &user) {
                return Err(Error::Forbidden(
                    "tokens are made by their owner, or by an admin for a bot".into(),
                ));
            }
            if user.deactivated {
                return Err(Error::invalid(format!("{} is deactivated", user.username)));
            }
            let widest = Scope::widest_for(user.role);
            if spec.scope > widest {
                return Err(Error::Forbidden(format!(
                    "{} may be given a token of scope {} at most",
                    user.username,
                    widest.as_str()
                )));
            }
            let now = now_ms();
            if store::live_count(ctx.conn, owner, now)? >= MAX_LIVE {
                return Err(Error::Conflict(format!(
                    "{} already has {MAX_LIVE} working tokens; revoke one first",
                    user.username
                )));
            }
            let token = store::insert(
                ctx.conn,
                &NewToken {
                    user_id: owner,
                    name: &name,
                    token_hash: &hash,
                    scope: spec.scope,
                    created_by: by,
                    now,
                    expires_at: spec.lifetime.expires_at(now),
                },
            )?;
            audit::record(
                ctx.conn,
                &by_name,
                "token.create",
                &format!(
                    "{} {:?} {}",
                    user.username,
                    token.name,
                    token.scope.as_str()
                ),
            )?;
            Ok(token)
        })
        .await?;
    Ok(Made { token: value, info })
}

/// The tokens of `owner`, newest first, for the person themself or an admin (for a bot).
pub async fn list(chat: &Chat, actor: Actor<'_>, owner: UserId) -> Result<Vec<Token>> {
    let (by, admin) = (actor.user_id(), actor.is_admin());
    chat.db
        .read(move |conn| {
            if !manages(by, admin, &users::get(conn, owner)?) {
                return Err(Error::NotFound);
            }
            store::of_user(conn, owner)
        })
        .await
}

/// Revokes one of `owner`'s tokens: it stops working at once, and the sockets it opened
/// are closed.
pub async fn revoke(chat: &Chat, actor: Actor<'_>, owner: UserId, id: i64) -> Result<()> {
    let (by, by_name, admin) = (actor.user_id(), actor.name(), actor.is_admin());
    let hub = chat.hub.clone();
    chat.db
        .write(move |ctx| {
            let user = users::get(ctx.conn, owner)?;
            if !manages(by, admin, &user) {
                return Err(Error::NotFound);
            }
            let Some(hash) = store::revoke(ctx.conn, owner, id, now_ms())? else {
                return Err(Error::NotFound);
            };
            ctx.after_commit(move || hub.kick_session(&hash, CLOSE_SESSION_ENDED));
            audit::record(
                ctx.conn,
                &by_name,
                "token.revoke",
                &format!("{} #{id}", user.username),
            )?;
            Ok(())
        })
        .await
}

/// The session a bearer token stands for, or why it is refused. The owner's role is read
/// fresh on every request, and a token without the admin scope acts as a member.
pub async fn authenticate(chat: &Chat, value: &str) -> Result<Session> {
    let hash = token_hash(value.trim());
    let found = chat
        .db
        .read_short(move |conn| store::find(conn, &hash))
        .await?;
    let Some(found) = found else {
        return Err(Error::Token(TokenRefusal::Invalid));
    };
    let now = now_ms();
    if found.token.revoked_at.is_some() {
        return Err(Error::Token(TokenRefusal::Revoked));
    }
    if found.token.expires_at.is_some_and(|at| at <= now) {
        return Err(Error::Token(TokenRefusal::Expired));
    }
    let id = found.token.id;
    if found
        .token
        .last_used_at
        .is_none_or(|at| now - at > TOUCH_EVERY_MS)
    {
        // Fire and forget: a lost touch only makes the "last used" a minute older.
        chat.db
            .writer()
            .enqueue(move |ctx| store::touch(ctx.conn, id, now));
    }
    let mut session = found.session;
    session.user.role = found.token.scope.acting_role(session.user.role);
    Ok(session)
}

/// Whether a request with this session may go on: a read token only reads.
pub fn allows(session: &Session, writes: bool) -> Result<()> {
    match session.scope {
        Some(Scope::Read) if writes => Err(Error::Token(TokenRefusal::Scope)),
        _ => Ok(()),
    }
}
