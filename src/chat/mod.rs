//! What can happen: each action authorizes, writes through the writer, then publishes.
//! The one way in for pages, the JSON API, WebSocket ops and the CLI.

pub mod account;
pub mod accounts;
pub mod actor;
pub mod admin;
pub mod auth;
pub mod bots;
pub mod cards;
pub mod conversations;
pub mod devices;
pub mod email;
pub mod files;
pub mod imports;
pub mod instance;
pub mod invites;
pub mod json;
pub mod limits;
pub mod links;
mod members;
pub mod messages;
pub mod notes;
pub mod notices;
pub mod notify;
pub mod outbox;
pub mod outgoing;
pub mod passwords;
pub mod pictures;
pub mod previews;
pub mod push;
pub mod reads;
pub mod recent;
pub mod reports;
pub mod search;
pub mod secrets;
pub mod support;
pub mod throttle;
pub mod tokens;
pub mod upkeep;
pub mod webhooks;

use axum::extract::ws::Utf8Bytes;
use rusqlite::Connection;
use serde::Serialize;
use std::sync::Arc;

use crate::config::Config;
use crate::db::{Db, WriteCtx};
use crate::domain::chat::{Conversation, ConversationId, Kind, MemberRole};
use crate::domain::{User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::hub::{Hub, Outgoing};
use crate::store::events::{self, Audience};
use crate::store::{conversations as convs, memberships};

/// The handles every action needs.
#[derive(Clone)]
pub struct Chat {
    pub db: Db,
    pub hub: Hub,
    pub config: Arc<Config>,
    /// Per-user budgets of the writes a member can repeat.
    pub limits: Arc<limits::Limits>,
    /// The newest messages of recently opened conversations.
    pub recent: Arc<recent::Recent>,
    /// Where every password is hashed and checked.
    pub passwords: passwords::Passwords,
    /// The least seq this process gives an event (see [`events::seq_floor`]).
    pub seq_floor: i64,
    /// The settings an admin changes at runtime, as last committed.
    pub instance: Arc<instance::Kept>,
    /// Where files are stored and how many images are decoded at once.
    pub files: files::Files,
    /// The one outbound HTTP client (link cards, pushes, outgoing webhooks).
    pub fetch: crate::net::Client,
    /// The same with every address allowed, for the outgoing webhooks an admin let reach
    /// private targets; made on first use.
    pub fetch_private: Arc<std::sync::OnceLock<crate::net::Client>>,
    /// New messages on their way to page notices.
    pub alerts: Arc<notify::Alerts>,
    /// The Web Push key pair, read (or made) on first use.
    pub vapid: Arc<tokio::sync::OnceCell<Arc<crate::notify::webpush::VapidKeys>>>,
    /// The SMTP client (none when email is off) and what limits the emails requests cause.
    pub email: Arc<email::Email>,
}

impl Chat {
    pub fn new(db: Db, config: Arc<Config>) -> Chat {
        let limits = Arc::new(limits::Limits::new(config.send_per_minute));
        let instance = instance::Kept::load(&db).unwrap_or_else(|err| {
            tracing::error!(error = %err, "the instance settings could not be read; using defaults");
            instance::Kept::default()
        });
        Chat {
            instance: Arc::new(instance),
            files: files::Files::new(&config.data_dir),
            email: Arc::new(email::Email::new(&config)),
            fetch: outbound(&config),
            fetch_private: Arc::default(),
            db,
            hub: Hub::default(),
            limits,
            recent: Arc::default(),
            passwords: passwords::Passwords::new(
                config.password_hash_threads,
                config.password_hash_queue,
            ),
            config,
            seq_floor: events::seq_floor(),
            alerts: Arc::default(),
            vapid: Arc::default(),
        }
    }

    /// The same, with blobs where the config puts them (see `Blobs::connect`).
    pub fn with_blobs(mut self, blobs: crate::blobs::Blobs) -> Chat {
        self.files = self.files.with_blobs(blobs);
        self
    }

    /// The same, fetching through `fetch` (tests give one with a resolver of their own).
    pub fn with_fetch(mut self, fetch: crate::net::Client) -> Chat {
        self.fetch = fetch;
        self
    }

    /// The instance settings as they are now.
    pub fn instance(&self) -> Arc<instance::Settings> {
        self.instance.get()
    }
}

/// The outbound client the config asks for: public addresses, and the networks it allows.
fn outbound(config: &Config) -> crate::net::Client {
    let allow = crate::net::parse_networks(&config.fetch_allow_networks).unwrap_or_default();
    let policy = crate::net::Policy {
        allow,
        ..crate::net::Policy::default()
    };
    crate::net::Client::new(policy).expect("the outbound HTTP client builds with its own roots")
}

/// The frame of a logged event, as every recipient receives it.
#[derive(Serialize)]
struct EventFrame<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: i64,
    event: &'static str,
    conversation: Option<ConversationId>,
    data: &'a T,
}

/// Appends an event and, once the batch commits, delivers its frame to its audience.
/// The frame is serialized here, once, and shared by every recipient.
pub fn emit(
    ctx: &mut WriteCtx,
    chat: &Chat,
    audience: Audience,
    kind: &'static str,
    conversation: Option<ConversationId>,
    data: impl Serialize,
) -> Result<i64> {
    deliver_foreign(ctx, chat)?;
    let hub = &chat.hub;
    let recipients: Arc<[UserId]> = match audience {
        Audience::Conversation(c) => hub.members(c, ctx)?,
        Audience::User(u) => Arc::from([u]),
    };
    let (seq, frame) = events::append(
        ctx.conn,
        chat.seq_floor,
        audience,
        kind,
        conversation,
        |seq| {
            let frame = EventFrame {
                kind: "event",
                seq,
                event: kind,
                conversation,
                data: &data,
            };
            serde_json::to_string(&frame).expect("an event serializes")
        },
        now_ms(),
    )?;
    let hub = hub.clone();
    ctx.after_commit(move || {
        hub.publish(
            recipients,
            Outgoing {
                seq,
                frame: Utf8Bytes::from(frame),
            },
        );
    });
    Ok(seq)
}

/// Delivers the events another process (the CLI) has written since this one last looked, in
/// seq order and before anything this job appends, so a socket still sees seqs only increase.
/// The kept latest pages of their conversations are dropped first (such a change may have
/// written a line among the messages, e.g. a new account joining #general).
/// Runs on the writer: at every emit, and when the audit log shows another process at work.
pub fn deliver_foreign(ctx: &mut WriteCtx, chat: &Chat) -> Result<()> {
    let hub = &chat.hub;
    let version: i64 = ctx
        .conn
        .prepare_cached("PRAGMA data_version")?
        .query_row([], |r| r.get(0))?;
    let Some(delivered) = hub.log_changed(version) else {
        return Ok(());
    };
    let mut found = Vec::new();
    let mut changed = Vec::new();
    for (seq, conversation, user, frame) in events::between(ctx.conn, delivered, i64::MAX)? {
        changed.extend(conversation);
        let recipients: Arc<[UserId]> = match (user, conversation) {
            (Some(u), _) => Arc::from([u]),
            (None, Some(c)) => {
                // Its change may be to the members themselves (a new account joined #general).
                hub.forget_members(c, ctx);
                hub.members(c, ctx)?
            }
            (None, None) => continue,
        };
        found.push((
            recipients,
            Outgoing {
                seq,
                frame: Utf8Bytes::from(frame),
            },
        ));
    }
    let (hub, recent) = (hub.clone(), chat.recent.clone());
    ctx.after_commit(move || {
        for conversation in changed {
            recent.forget(conversation);
        }
        for (recipients, out) in found {
            hub.publish(recipients, out);
        }
        hub.log_seen(version);
    });
    Ok(())
}

/// A conversation `user` may see, with their role in it. Anything else is `NotFound`:
/// a conversation one may not see does not exist for them.
pub fn visible(
    conn: &Connection,
    user: &User,
    id: ConversationId,
) -> Result<(Conversation, Option<MemberRole>)> {
    let conversation = convs::get(conn, id)?;
    let role = memberships::role(conn, id, user.id)?;
    match (conversation.kind, role) {
        (_, Some(_)) => Ok((conversation, role)),
        // Channels are open to every member of the instance. A private group is not open to
        // admins either: they join it through an audited action its members see.
        (Kind::Channel, None) => Ok((conversation, None)),
        _ => Err(Error::NotFound),
    }
}

/// A conversation `user` may manage (rename, archive, remove people from), with their role in
/// it: what they may see, and for admins every channel and group. Directs stay private.
pub fn managed(
    conn: &Connection,
    user: &User,
    id: ConversationId,
) -> Result<(Conversation, Option<MemberRole>)> {
    let conversation = convs::get(conn, id)?;
    let role = memberships::role(conn, id, user.id)?;
    match (conversation.kind, role) {
        (_, Some(_)) | (Kind::Channel, None) => Ok((conversation, role)),
        (Kind::Group, None) if user.is_admin() => Ok((conversation, None)),
        _ => Err(Error::NotFound),
    }
}

/// A conversation `user` is a member of.
pub fn membership(
    conn: &Connection,
    user: &User,
    id: ConversationId,
) -> Result<(Conversation, MemberRole)> {
    let conversation = convs::get(conn, id)?;
    match memberships::role(conn, id, user.id)? {
        Some(role) => Ok((conversation, role)),
        None => Err(Error::NotFound),
    }
}

/// Refuses changes to an archived conversation.
pub fn writable(conversation: &Conversation) -> Result<()> {
    if conversation.archived {
        return Err(Error::Forbidden(
            "this conversation is archived and read-only".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
