//! Invites: links that let a person make their own account, and open sign-up.
//!
//! A use is counted in the same write that creates the account, after checking the invite
//! there: the single writer runs one job at a time, so two people racing for an invite's last
//! use cannot both get it.

use super::accounts::{self, NewUser};
use super::actor::Actor;
use super::conversations::join_general;
use super::members::{self, Arrival};
use super::secrets::{new_token, token_hash};
use super::throttle::{Attempt, Key, Rule, Throttle, client_key};
use super::{Chat, visible};
use crate::domain::chat::{ConversationId, Kind, MemberRole, UserRef};
use crate::domain::{Role, User, now_ms};
use crate::error::{Error, Result};
use crate::store::invites::{self as store, Invite, NewInvite, State};
use crate::store::{audit, conversations as convs, users};
use std::net::IpAddr;
use std::time::Duration;

const DAY_MS: i64 = 86_400_000;
/// The most uses an invite may be given (beyond that, make it unlimited).
pub const MAX_USES: i64 = 10_000;
/// The most conversations one invite may join a newcomer to.
pub const MAX_CONVERSATIONS: usize = 50;

/// Whether `user` may make invites: admins always; members when the instance allows it.
pub fn may_invite(chat: &Chat, user: &User) -> bool {
    chat.instance().may_invite(user)
}

/// How long an invite stays usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiry {
    Day,
    #[default]
    Week,
    Month,
    Never,
}

impl Expiry {
    /// `1d`, `7d`, `30d` or `never`.
    pub fn parse(raw: &str) -> Result<Expiry> {
        match raw.trim() {
            "1d" => Ok(Expiry::Day),
            "7d" | "" => Ok(Expiry::Week),
            "30d" => Ok(Expiry::Month),
            "never" => Ok(Expiry::Never),
            other => Err(Error::invalid(format!(
                "expiry {other:?} is not one of 1d, 7d, 30d, never"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Expiry::Day => "1d",
            Expiry::Week => "7d",
            Expiry::Month => "30d",
            Expiry::Never => "never",
        }
    }

    fn at(self, now: i64) -> Option<i64> {
        match self {
            Expiry::Day => Some(now + DAY_MS),
            Expiry::Week => Some(now + 7 * DAY_MS),
            Expiry::Month => Some(now + 30 * DAY_MS),
            Expiry::Never => None,
        }
    }
}

/// What a new invite allows.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `None`: any number of uses.
    pub max_uses: Option<i64>,
    pub expires: Expiry,
    pub role: Role,
    /// Channels and groups the newcomer joins; the creator must be able to see each.
    pub conversations: Vec<ConversationId>,
}

/// An invite just made: its token is in the link and is never stored.
pub struct Created {
    pub invite: Invite,
    pub token: String,
}

/// The link that carries an invite token.
pub fn link(base: &str, token: &str) -> String {
    format!("{base}/join/{token}")
}

/// Refuses people who may not manage invites; they are told nothing exists.
fn allowed(chat: &Chat, actor: Actor) -> Result<()> {
    match actor {
        Actor::User(u) if !may_invite(chat, u) => Err(Error::NotFound),
        _ => Ok(()),
    }
}

/// Makes an invite. Only an admin may make one that creates admins.
pub async fn create(chat: &Chat, actor: Actor<'_>, spec: Spec) -> Result<Created> {
    allowed(chat, actor)?;
    if spec.role == Role::Admin && !actor.is_admin() {
        return Err(Error::Forbidden("only an admin may invite an admin".into()));
    }
    if let Some(n) = spec.max_uses
        && !(1..=MAX_USES).contains(&n)
    {
        return Err(Error::invalid(format!(
            "uses must be between 1 and {MAX_USES}, or unlimited"
        )));
    }
    let mut conversations = spec.conversations.clone();
    conversations.sort_unstable();
    conversations.dedup();
    if conversations.len() > MAX_CONVERSATIONS {
        return Err(Error::invalid(format!(
            "an invite joins at most {MAX_CONVERSATIONS} conversations"
        )));
    }
    let token = new_token();
    let hash = token_hash(&token);
    let (name, creator, doer) = (actor.name(), actor.user_id(), owned(actor));
    let invite = chat
        .db
        .write(move |ctx| {
            for &id in &conversations {
                let c = match &doer {
                    Some(user) => visible(ctx.conn, user, id).map(|(c, _)| c),
                    None => convs::get(ctx.conn, id),
                }
                .map_err(|_| Error::invalid(format!("no conversation {id} to invite into")))?;
                if c.kind == Kind::Direct {
                    return Err(Error::invalid(
                        "an invite cannot join a direct conversation",
                    ));
                }
                super::support::not_into(ctx.conn, id)?;
            }
            let now = now_ms();
            let id = store::insert(
                ctx.conn,
                &NewInvite {
                    token_hash: &hash,
                    created_by: creator,
                    created_at: now,
                    expires_at: spec.expires.at(now),
                    max_uses: spec.max_uses,
                    role: spec.role,
                    conversations: &conversations,
                },
            )?;
            audit::record(ctx.conn, &name, "invite.create", &format!("invite {id}"))?;
            store::get(ctx.conn, id)
        })
        .await?;
    Ok(Created { invite, token })
}

fn owned(actor: Actor) -> Option<User> {
    match actor {
        Actor::User(u) => Some(u.clone()),
        Actor::Cli => None,
    }
}

/// The ids of the channels named (for the command line); an unknown name is refused.
pub async fn channel_ids(chat: &Chat, names: Vec<String>) -> Result<Vec<ConversationId>> {
    chat.db
        .read(move |conn| {
            names
                .iter()
                .map(|name| {
                    let bare = name.trim().trim_start_matches('#');
                    convs::channel_by_name(conn, bare)?
                        .ok_or_else(|| Error::invalid(format!("no channel named {bare:?}")))
                })
                .collect()
        })
        .await
}

/// The invites `actor` may see: admins (and the command line) all, others their own.
pub async fn list(chat: &Chat, actor: Actor<'_>) -> Result<Vec<Invite>> {
    allowed(chat, actor)?;
    let only = if actor.is_admin() {
        None
    } else {
        actor.user_id()
    };
    chat.db.read(move |conn| store::list(conn, only)).await
}

/// Revokes an invite: admins any, others their own. Revoking twice changes nothing.
pub async fn revoke(chat: &Chat, actor: Actor<'_>, id: i64) -> Result<Invite> {
    allowed(chat, actor)?;
    let (name, admin, me) = (actor.name(), actor.is_admin(), actor.user_id());
    chat.db
        .write(move |ctx| {
            let invite = store::get(ctx.conn, id)?;
            if !admin && invite.created_by != me {
                return Err(Error::NotFound);
            }
            if store::revoke(ctx.conn, id, now_ms())? {
                audit::record(ctx.conn, &name, "invite.revoke", &format!("invite {id}"))?;
            }
            store::get(ctx.conn, id)
        })
        .await
}

/// Why an invite that exists cannot be used, in the words the join page shows.
pub fn unusable(state: State) -> Option<Error> {
    let why = match state {
        State::Active => return None,
        State::Expired => "This invite link has expired",
        State::Revoked => "This invite link was revoked",
        State::UsedUp => "This invite link has been used up",
    };
    Some(Error::Gone(why.into()))
}

/// The invite a token opens, if it can still be used: unknown tokens are `NotFound`, expired,
/// revoked or used-up ones `Gone` saying which.
pub async fn check(chat: &Chat, token: &str) -> Result<Invite> {
    let hash = token_hash(token);
    let invite = chat
        .db
        .read_short(move |conn| store::by_hash(conn, &hash))
        .await?
        .ok_or(Error::NotFound)?;
    match unusable(invite.state(now_ms())) {
        Some(err) => Err(err),
        None => Ok(invite),
    }
}

/// What a newcomer fills in.
#[derive(Debug, Clone, Default)]
pub struct Newcomer {
    pub username: String,
    pub display_name: Option<String>,
    pub password: String,
}

impl Newcomer {
    fn account(self, role: Role) -> NewUser {
        NewUser {
            username: self.username,
            display_name: self.display_name,
            password: self.password,
            role,
        }
    }
}

/// Creates an account through an invite: the invite is checked and its use counted in the
/// same write as the account, which joins #general and the invite's conversations.
pub async fn join(
    chat: &Chat,
    throttle: &Throttle,
    from: IpAddr,
    token: &str,
    newcomer: Newcomer,
) -> Result<User> {
    // Checked before hashing, so a dead link costs no password work.
    check(chat, token).await?;
    let new = newcomer.account(Role::Member);
    let (username, display) = accounts::validate(&new)?;
    let attempt = new_account(throttle, from)?;
    let hash = hash_counted(chat, attempt, new.password).await?;
    let (live, key) = (chat.clone(), token_hash(token));
    chat.db
        .write(move |ctx| {
            let invite = store::by_hash(ctx.conn, &key)?.ok_or(Error::NotFound)?;
            let now = now_ms();
            if let Some(err) = unusable(invite.state(now)) {
                return Err(err);
            }
            if !store::use_once(ctx.conn, invite.id, now)? {
                return Err(Error::Gone("This invite link can no longer be used".into()));
            }
            let user = users::insert(ctx.conn, &username, &display, &hash, invite.role)?;
            audit::record(
                ctx.conn,
                &user.username,
                "invite.use",
                &format!("invite {}", invite.id),
            )?;
            join_general(ctx, &live, &user)?;
            super::support::joined_as(ctx, &live, &user)?;
            let me = UserRef::from(&user);
            for id in invite.conversations {
                // A conversation archived or gone since the invite was made is skipped.
                match convs::get(ctx.conn, id) {
                    Ok(c) if !c.archived && c.kind != Kind::Direct => {
                        members::add(ctx, &live, &c, &me, MemberRole::Member, Arrival::Joined)?;
                    }
                    Ok(_) | Err(Error::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(user)
        })
        .await
}

/// Creates a member account through open sign-up; `NotFound` unless `open_signup` is on.
pub async fn sign_up(
    chat: &Chat,
    throttle: &Throttle,
    from: IpAddr,
    newcomer: Newcomer,
) -> Result<User> {
    if !chat.config.open_signup {
        return Err(Error::NotFound);
    }
    let new = newcomer.account(Role::Member);
    accounts::validate(&new)?;
    let attempt = new_account(throttle, from)?;
    match accounts::create_user(chat, "signup", new).await {
        Err(err @ Error::Busy { .. }) => {
            attempt.refund();
            Err(err)
        }
        other => other,
    }
}

/// New accounts from one address in an hour: a household or an office joining at once, not a
/// script filling the member list. Every try that reaches the password hashing counts.
pub const NEW_ACCOUNTS_PER_ADDRESS: Rule = Rule {
    limit: 10,
    window: Duration::from_secs(3600),
    forgiven: false,
};

fn new_account(throttle: &Throttle, from: IpAddr) -> Result<Attempt<'_>> {
    let key = Key::new(
        format!("new-account:{}", client_key(from)),
        NEW_ACCOUNTS_PER_ADDRESS,
    );
    throttle.attempt(&[key])
}

/// Hashes a newcomer's password; a try the server was too busy to hash does not count.
async fn hash_counted(chat: &Chat, attempt: Attempt<'_>, password: String) -> Result<String> {
    match chat.passwords.hash(password).await {
        Err(err @ Error::Busy { .. }) => {
            attempt.refund();
            Err(err)
        }
        other => other,
    }
}
