//! Live fan-out: the open sockets of each user, conversation member caches, typing and presence.
//!
//! Every frame is serialized once and shared: each delivery wraps it in one `Arc` that all
//! recipients' queues hold (a queue slot is one pointer, so an idle socket's queue is small).
//! Each socket has a bounded queue; a socket whose queue is full is closed with 4008 and
//! resumes by `since`, so a slow reader never blocks a sender.

use axum::extract::ws::Utf8Bytes;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc};

use crate::db::WriteCtx;
use crate::domain::UserId;
use crate::domain::chat::ConversationId;
use crate::error::{Error, Result};
use crate::store::memberships;

/// Frames a socket may have queued before it counts as fallen behind.
pub const QUEUE_FRAMES: usize = 512;
/// Close codes the server uses.
pub const CLOSE_LAGGING: u16 = 4008;
pub const CLOSE_SESSION_ENDED: u16 = 4001;
pub const CLOSE_SHUTDOWN: u16 = 1001;

/// One frame on its way to a socket; `seq` is 0 for ephemeral frames (typing, presence).
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub seq: i64,
    pub frame: Utf8Bytes,
}

/// The hub's side of one open socket.
pub struct Conn {
    pub id: u64,
    pub user: UserId,
    pub session: Vec<u8>,
    tx: mpsc::Sender<Arc<Outgoing>>,
    kick: Notify,
    close_code: AtomicU16,
    away: AtomicBool,
}

impl Conn {
    /// Waits until the hub wants this socket closed; returns the close code.
    pub async fn kicked(&self) -> u16 {
        loop {
            let notified = self.kick.notified();
            let code = self.close_code.load(Ordering::Acquire);
            if code != 0 {
                return code;
            }
            notified.await;
        }
    }

    /// The close code the hub asked for, if it has (checked before each write: a socket that
    /// lost a frame must not send later ones, or resuming by `since` would skip the lost one).
    pub fn closing(&self) -> Option<u16> {
        match self.close_code.load(Ordering::Acquire) {
            0 => None,
            code => Some(code),
        }
    }

    /// Asks the socket to close with `code`; true only for the first ask.
    fn kick(&self, code: u16) -> bool {
        let first = self
            .close_code
            .compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if first {
            self.kick.notify_waiters();
            self.kick.notify_one();
        }
        first
    }
}

/// Counters for `/metrics` and tests.
#[derive(Default, Debug)]
pub struct HubStats {
    pub sockets: AtomicI64,
    pub delivered: AtomicU64,
    /// Sockets closed for falling behind (each counted once, however many frames it missed).
    pub lagging_closed: AtomicU64,
}

#[derive(Default)]
struct Inner {
    conns: RwLock<HashMap<UserId, Vec<Arc<Conn>>>>,
    members: Mutex<HashMap<ConversationId, Arc<[UserId]>>>,
    typing: Mutex<HashMap<(UserId, ConversationId), Instant>>,
    /// When each person's last page in view left it (hidden or closed), for push timing.
    looked: Mutex<HashMap<UserId, Instant>>,
    /// When each person's last open socket closed, for email timing.
    left: Mutex<HashMap<UserId, Instant>>,
    next_id: AtomicU64,
    stats: HubStats,
    /// The newest event seq this hub has delivered or been told of; valid once `seq_known`.
    last_seq: AtomicI64,
    seq_known: AtomicBool,
    /// The newest event seq published (handed to the fan-out) or delivered.
    delivered: AtomicI64,
    /// `PRAGMA data_version` of the write connection when events written by other processes
    /// were last looked for; watched only once [`Hub::watch_log`] was called (by the server).
    log_version: AtomicI64,
    log_watched: AtomicBool,
    /// Where presence changes queue for the one task that announces them in batches.
    presence: OnceLock<mpsc::UnboundedSender<(UserId, Presence)>>,
    /// Where the writer hands committed events to the one task that delivers them, in order.
    fanout: OnceLock<mpsc::UnboundedSender<(Arc<[UserId]>, Outgoing)>>,
}

/// Handle to the hub; clones share it.
#[derive(Clone, Default)]
pub struct Hub {
    inner: Arc<Inner>,
}

/// Notes the time of `user` in `map`; past 10,000 people, those older than `keep` are
/// forgotten (longer ago than any idle time waits).
fn stamp(map: &Mutex<HashMap<UserId, Instant>>, user: UserId, keep: Duration) {
    let mut map = map.lock().expect("hub lock");
    let now = Instant::now();
    if map.len() > 10_000 {
        map.retain(|_, t| now.duration_since(*t) < keep);
    }
    map.insert(user, now);
}

/// Whether a person is around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

impl Hub {
    pub fn stats(&self) -> &HubStats {
        &self.inner.stats
    }

    /// Opens a socket's queue; refused when the user already has `max` sockets.
    pub fn register(
        &self,
        user: UserId,
        session: Vec<u8>,
        max: usize,
    ) -> Result<(Arc<Conn>, mpsc::Receiver<Arc<Outgoing>>)> {
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES);
        let conn = Arc::new(Conn {
            id: self.inner.next_id.fetch_add(1, Ordering::Relaxed),
            user,
            session,
            tx,
            kick: Notify::new(),
            close_code: AtomicU16::new(0),
            away: AtomicBool::new(false),
        });
        let mut conns = self.inner.conns.write().expect("hub lock");
        let list = conns.entry(user).or_default();
        if list.len() >= max {
            return Err(Error::RateLimited { retry_after: 5 });
        }
        list.push(conn.clone());
        self.inner.stats.sockets.fetch_add(1, Ordering::Relaxed);
        Ok((conn, rx))
    }

    /// Forgets a socket; returns true when it was the user's last.
    pub fn unregister(&self, conn: &Conn) -> bool {
        let mut conns = self.inner.conns.write().expect("hub lock");
        let Some(list) = conns.get_mut(&conn.user) else {
            return false;
        };
        let before = list.len();
        list.retain(|c| c.id != conn.id);
        if list.len() < before {
            self.inner.stats.sockets.fetch_sub(1, Ordering::Relaxed);
        }
        let last = list.is_empty();
        if last {
            conns.remove(&conn.user);
            stamp(&self.inner.left, conn.user, Duration::from_secs(24 * 3600));
        }
        if !conn.away.load(Ordering::Relaxed) {
            self.looked(conn.user);
        }
        last
    }

    fn looked(&self, user: UserId) {
        stamp(&self.inner.looked, user, Duration::from_secs(3600));
    }

    /// How long since a person's last open socket closed; `None` while one is open, or when
    /// none has closed since the server started (or so long ago that it was forgotten).
    pub fn gone_for(&self, user: UserId) -> Option<Duration> {
        if self
            .inner
            .conns
            .read()
            .expect("hub lock")
            .contains_key(&user)
        {
            return None;
        }
        let left = self.inner.left.lock().expect("hub lock");
        left.get(&user).map(Instant::elapsed)
    }

    /// Where a person is: connected, looking at a page now, and how long since they last did.
    pub fn attention(&self, user: UserId) -> crate::notify::Attention {
        let conns = self.inner.conns.read().expect("hub lock");
        let list = conns.get(&user);
        let looking = list.is_some_and(|l| l.iter().any(|c| !c.away.load(Ordering::Relaxed)));
        crate::notify::Attention {
            connected: list.is_some(),
            looking,
            away_for: match looking {
                true => Some(Duration::ZERO),
                false => self
                    .inner
                    .looked
                    .lock()
                    .expect("hub lock")
                    .get(&user)
                    .map(Instant::elapsed),
            },
        }
    }

    /// Hands a committed event over for delivery: to the fan-out task once it runs (the
    /// server), at once otherwise. Called in seq order; delivered in that order.
    pub fn publish(&self, recipients: Arc<[UserId]>, out: Outgoing) {
        // Handed over counts as delivered for finding other processes' events: those after it.
        self.inner.delivered.fetch_max(out.seq, Ordering::AcqRel);
        match self.inner.fanout.get() {
            Some(tx) => {
                if let Err(returned) = tx.send((recipients, out)) {
                    let (recipients, out) = returned.0;
                    self.deliver(&recipients, &out);
                }
            }
            None => self.deliver(&recipients, &out),
        }
    }

    /// Starts the task that delivers what the writer publishes (inside the runtime). Waking
    /// thousands of socket tasks from the writer thread put each one through the runtime's
    /// shared queue; from a task of the runtime they go to the worker's own queue.
    pub fn start_fanout(&self) {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Arc<[UserId]>, Outgoing)>();
        if self.inner.fanout.set(tx).is_ok() {
            let hub = self.clone();
            tokio::spawn(async move {
                while let Some((recipients, out)) = rx.recv().await {
                    hub.deliver(&recipients, &out);
                }
            });
        }
    }

    /// Sends one frame to every socket of every recipient.
    pub fn deliver(&self, recipients: &[UserId], out: &Outgoing) {
        if out.seq > 0 {
            // Before the sockets are looked at: a socket registered too late for this frame
            // reads a current seq that already covers it.
            self.inner.last_seq.fetch_max(out.seq, Ordering::AcqRel);
            self.inner.delivered.fetch_max(out.seq, Ordering::AcqRel);
        }
        let shared = Arc::new(out.clone());
        let conns = self.inner.conns.read().expect("hub lock");
        let mut delivered = 0;
        for user in recipients {
            for conn in conns.get(user).into_iter().flatten() {
                match conn.tx.try_send(shared.clone()) {
                    Ok(()) => delivered += 1,
                    // A stuck socket keeps missing frames until it is gone: count it once.
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        if conn.kick(CLOSE_LAGGING) {
                            self.inner
                                .stats
                                .lagging_closed
                                .fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
        }
        self.inner
            .stats
            .delivered
            .fetch_add(delivered, Ordering::Relaxed);
    }

    /// The newest event seq, once known (see [`Hub::note_seq`]): what `ready` reports.
    pub fn current_seq(&self) -> Option<i64> {
        self.inner
            .seq_known
            .load(Ordering::Acquire)
            .then(|| self.inner.last_seq.load(Ordering::Acquire))
    }

    /// Records the newest seq read from the event log, so later `ready`s need no read.
    pub fn note_seq(&self, seq: i64) {
        self.inner.last_seq.fetch_max(seq, Ordering::AcqRel);
        self.inner.seq_known.store(true, Ordering::Release);
    }

    /// Starts watching the log for events other processes write: `version` is the write
    /// connection's data version and `seq` the newest event, both as the server starts.
    pub fn watch_log(&self, version: i64, seq: i64) {
        self.inner.delivered.fetch_max(seq, Ordering::AcqRel);
        self.inner.log_version.store(version, Ordering::Release);
        self.inner.log_watched.store(true, Ordering::Release);
    }

    /// When the log is watched and another connection has committed since `version` was
    /// recorded: the newest seq delivered, after which to look for their events.
    pub fn log_changed(&self, version: i64) -> Option<i64> {
        let watched = self.inner.log_watched.load(Ordering::Acquire);
        (watched && self.inner.log_version.load(Ordering::Acquire) != version)
            .then(|| self.inner.delivered.load(Ordering::Acquire))
    }

    #[cfg(test)]
    fn log_changed_after(&self) -> i64 {
        self.inner.delivered.load(Ordering::Acquire)
    }

    /// Records that other processes' events up to `version` were delivered.
    pub fn log_seen(&self, version: i64) {
        self.inner.log_version.store(version, Ordering::Release);
    }

    /// The queue of presence changes; `start` makes it (and its consumer) on first use.
    pub fn presence_queue(
        &self,
        start: impl FnOnce() -> mpsc::UnboundedSender<(UserId, Presence)>,
    ) -> &mpsc::UnboundedSender<(UserId, Presence)> {
        self.inner.presence.get_or_init(start)
    }

    /// Sends a frame to every socket of one user except `skip`.
    pub fn deliver_to_user(&self, user: UserId, out: &Outgoing) {
        self.deliver(&[user], out);
    }

    /// The members of a conversation, as the job in `ctx` sees them: from the cache, or on a
    /// miss read inside the job. What is read there is not committed yet (the batch may still
    /// roll back): it enters the cache only once the batch commits.
    pub fn members(
        &self,
        conversation: ConversationId,
        ctx: &mut WriteCtx,
    ) -> Result<Arc<[UserId]>> {
        if let Some(ids) = self
            .inner
            .members
            .lock()
            .expect("hub lock")
            .get(&conversation)
        {
            return Ok(ids.clone());
        }
        let ids: Arc<[UserId]> = memberships::member_ids(ctx.conn, conversation)?.into();
        let (hub, cached) = (self.clone(), ids.clone());
        ctx.after_commit(move || {
            hub.inner
                .members
                .lock()
                .expect("hub lock")
                .insert(conversation, cached);
        });
        Ok(ids)
    }

    /// Drops the cached members of a conversation, in the job that changes them: at once (so
    /// the rest of the batch reads them afresh) and again after the commit (so a list read
    /// earlier in the batch and cached by its commit does not outlive the change).
    pub fn forget_members(&self, conversation: ConversationId, ctx: &mut WriteCtx) {
        self.drop_members(conversation);
        let hub = self.clone();
        ctx.after_commit(move || hub.drop_members(conversation));
    }

    fn drop_members(&self, conversation: ConversationId) {
        self.inner
            .members
            .lock()
            .expect("hub lock")
            .remove(&conversation);
    }

    /// Closes every socket of a user (deactivated, password changed).
    pub fn kick_user(&self, user: UserId, code: u16) {
        let conns = self.inner.conns.read().expect("hub lock");
        for conn in conns.get(&user).into_iter().flatten() {
            conn.kick(code);
        }
    }

    /// Closes the sockets opened with one session (signed out).
    pub fn kick_session(&self, session: &[u8], code: u16) {
        let conns = self.inner.conns.read().expect("hub lock");
        for conn in conns.values().flatten().filter(|c| c.session == session) {
            conn.kick(code);
        }
    }

    /// Closes every socket (the server is stopping).
    pub fn kick_all(&self, code: u16) {
        let conns = self.inner.conns.read().expect("hub lock");
        for conn in conns.values().flatten() {
            conn.kick(code);
        }
    }

    /// A user's presence: online with any active socket, away when all report idle.
    pub fn presence(&self, user: UserId) -> Presence {
        let conns = self.inner.conns.read().expect("hub lock");
        match conns.get(&user) {
            None => Presence::Offline,
            Some(list) if list.iter().all(|c| c.away.load(Ordering::Relaxed)) => Presence::Away,
            Some(_) => Presence::Online,
        }
    }

    /// Marks one socket idle or active; returns the user's presence if it changed.
    pub fn set_away(&self, conn: &Conn, away: bool) -> Option<Presence> {
        let before = self.presence(conn.user);
        let was_away = conn.away.swap(away, Ordering::Relaxed);
        if away && !was_away {
            self.looked(conn.user);
        }
        let after = self.presence(conn.user);
        (before != after).then_some(after)
    }

    /// Whether a typing notice from `user` in `conversation` should go out now (at most one per 2 s).
    pub fn typing_allowed(&self, user: UserId, conversation: ConversationId) -> bool {
        let mut typing = self.inner.typing.lock().expect("hub lock");
        let now = Instant::now();
        if typing.len() > 10_000 {
            typing.retain(|_, t| now.duration_since(*t) < Duration::from_secs(10));
        }
        match typing.get(&(user, conversation)) {
            Some(t) if now.duration_since(*t) < Duration::from_secs(2) => false,
            _ => {
                typing.insert((user, conversation), now);
                true
            }
        }
    }

    /// Users with at least one open socket.
    pub fn connected_users(&self) -> Vec<UserId> {
        self.inner
            .conns
            .read()
            .expect("hub lock")
            .keys()
            .copied()
            .collect()
    }
}

#[cfg(test)]
mod tests;
