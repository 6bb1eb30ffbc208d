//! The newest messages of recently opened conversations, kept in memory.
//!
//! Opening a conversation (its latest page) is the most common read there is, and that page
//! changes only when a message event in the conversation commits. Each such commit forgets the
//! conversation's entry before its event is delivered, so a client that refetches on the
//! event reads the new state. A page read from the database is stored only if no change to
//! its conversation committed since the read began (a per-conversation generation), so an
//! older snapshot can never replace a newer one. Bounded by entry count and by bytes.

use std::collections::HashMap;
use std::ops::{Deref, Range};
use std::sync::{Arc, Mutex};

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Message, Notice, Reaction, UserRef};

/// Messages kept per conversation: the largest page the API serves.
pub const KEEP: usize = 100;
/// At most this many conversations…
const MAX_ENTRIES: usize = 1024;
/// …and at most this many bytes of memory in all (as [`Latest::bytes`] counts them); one
/// conversation may take a quarter of it.
const MAX_BYTES: usize = 24 << 20;
/// Generations are kept per stripe of conversations (a bounded table).
const STRIPES: usize = 256;

/// The newest messages of one conversation, oldest first, and whether older ones exist.
pub struct Latest {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

impl Latest {
    /// The newest `limit` of them, and whether more lie before.
    pub fn newest(self: &Arc<Self>, limit: usize) -> (Messages, bool) {
        let len = self.messages.len();
        let from = len.saturating_sub(limit);
        let page = Messages::Shared(self.clone(), from..len);
        (page, self.has_more || from > 0)
    }

    /// What keeping this costs in memory: the entry, the message structs (as many as the
    /// vector holds room for) and every allocation that grows with their content — text,
    /// reactions and the ids of who reacted, the reply preview, the line's names.
    fn bytes(&self) -> usize {
        ENTRY_BYTES
            + self.messages.capacity() * size_of::<Message>()
            + self.messages.iter().map(heap_bytes).sum::<usize>()
    }
}

/// An entry's fixed cost: its slot in the map and the shared allocation of its [`Latest`].
const ENTRY_BYTES: usize =
    size_of::<(ConversationId, Entry)>() + size_of::<Latest>() + 2 * size_of::<usize>();

/// The heap a message owns beyond its struct. A reaction-heavy message is mostly user ids.
fn heap_bytes(m: &Message) -> usize {
    let text = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
    let person = |u: &UserRef| u.username.capacity() + u.display_name.capacity() + text(&u.avatar);
    let reactions = m.reactions.capacity() * size_of::<Reaction>()
        + m.reactions
            .iter()
            .map(|r| r.emoji.capacity() + r.user_ids.capacity() * size_of::<UserId>())
            .sum::<usize>();
    let reply = m
        .reply
        .as_ref()
        .map_or(0, |r| r.excerpt.capacity() + person(&r.sender));
    let notice = match &m.notice {
        None => 0,
        Some(
            Notice::Joined { user }
            | Notice::Added { user }
            | Notice::Left { user }
            | Notice::Removed { user }
            | Notice::AdminJoined { user },
        ) => person(user),
        Some(Notice::Updated {
            name,
            old_name,
            topic,
            ..
        }) => text(name) + text(old_name) + text(topic),
    };
    m.body.capacity()
        + m.html.capacity()
        + person(&m.sender)
        + text(&m.client_id)
        + reactions
        + reply
        + notice
}

/// A page of messages: read now, or part of a kept [`Latest`].
pub enum Messages {
    Owned(Vec<Message>),
    Shared(Arc<Latest>, Range<usize>),
}

impl Deref for Messages {
    type Target = [Message];

    fn deref(&self) -> &[Message] {
        match self {
            Messages::Owned(list) => list,
            Messages::Shared(latest, range) => &latest.messages[range.clone()],
        }
    }
}

struct Entry {
    latest: Arc<Latest>,
    bytes: usize,
    used: u64,
}

struct State {
    entries: HashMap<ConversationId, Entry>,
    generations: Vec<u64>,
    bytes: usize,
    clock: u64,
}

/// The cache; one per server, shared by every request.
pub struct Recent {
    state: Mutex<State>,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            state: Mutex::new(State {
                entries: HashMap::new(),
                generations: vec![0; STRIPES],
                bytes: 0,
                clock: 0,
            }),
        }
    }
}

fn stripe(conversation: ConversationId) -> usize {
    conversation.rem_euclid(STRIPES as i64) as usize
}

impl Recent {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The kept newest messages of a conversation, if any.
    pub fn get(&self, conversation: ConversationId) -> Option<Arc<Latest>> {
        let mut state = self.state();
        state.clock += 1;
        let now = state.clock;
        let entry = state.entries.get_mut(&conversation)?;
        entry.used = now;
        Some(entry.latest.clone())
    }

    /// Taken before reading a conversation's newest messages; hand it back to [`Recent::put`].
    pub fn stamp(&self, conversation: ConversationId) -> u64 {
        self.state().generations[stripe(conversation)]
    }

    /// Keeps what was read, unless the conversation changed since `stamp` was taken.
    pub fn put(&self, conversation: ConversationId, stamp: u64, latest: Arc<Latest>) {
        let bytes = latest.bytes();
        let mut state = self.state();
        if state.generations[stripe(conversation)] != stamp || bytes > MAX_BYTES / 4 {
            return;
        }
        if let Some(old) = state.entries.remove(&conversation) {
            state.bytes -= old.bytes;
        }
        while !state.entries.is_empty()
            && (state.entries.len() >= MAX_ENTRIES || state.bytes + bytes > MAX_BYTES)
        {
            let oldest = state
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(id, _)| *id)
                .expect("not empty");
            let gone = state.entries.remove(&oldest).expect("present");
            state.bytes -= gone.bytes;
        }
        state.clock += 1;
        let used = state.clock;
        state.bytes += bytes;
        state.entries.insert(
            conversation,
            Entry {
                latest,
                bytes,
                used,
            },
        );
    }

    /// Forgets a conversation's messages (call once a change to them has committed).
    pub fn forget(&self, conversation: ConversationId) {
        let mut state = self.state();
        state.generations[stripe(conversation)] += 1;
        if let Some(old) = state.entries.remove(&conversation) {
            state.bytes -= old.bytes;
        }
    }

    /// How many conversations and bytes are kept (for tests and metrics).
    pub fn size(&self) -> (usize, usize) {
        let state = self.state();
        (state.entries.len(), state.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(id: i64, conversation: ConversationId) -> Message {
        let sender = UserRef {
            id: 1,
            username: "a".into(),
            display_name: "A".into(),
            avatar: None,
            bot: false,
        };
        Message::sample(id, conversation, sender)
    }

    fn latest(conversation: ConversationId, n: i64, has_more: bool) -> Arc<Latest> {
        Arc::new(Latest {
            messages: (1..=n).map(|id| message(id, conversation)).collect(),
            has_more,
        })
    }

    #[test]
    fn the_newest_messages_are_served_with_has_more() {
        let kept = latest(1, 10, false);
        let (page, more) = kept.newest(4);
        assert_eq!(page.iter().map(|m| m.id).collect::<Vec<_>>(), [7, 8, 9, 10]);
        assert!(more, "six older ones lie before");
        let (page, more) = kept.newest(50);
        assert_eq!(page.len(), 10);
        assert!(!more);
        let (_, more) = latest(1, 10, true).newest(50);
        assert!(more, "older ones in the database");
    }

    #[test]
    fn a_change_forgets_and_a_read_from_before_it_is_not_kept() {
        let recent = Recent::default();
        let stamp = recent.stamp(1);
        recent.put(1, stamp, latest(1, 3, false));
        assert_eq!(recent.get(1).unwrap().messages.len(), 3);

        let before = recent.stamp(1);
        recent.forget(1);
        assert!(recent.get(1).is_none());
        recent.put(1, before, latest(1, 3, false));
        assert!(
            recent.get(1).is_none(),
            "a read older than the change is dropped"
        );

        // Another conversation's change does not spoil this one's read.
        let fresh = recent.stamp(1);
        recent.forget(2);
        recent.put(1, fresh, latest(1, 4, false));
        assert_eq!(recent.get(1).unwrap().messages.len(), 4);
    }

    /// A kept page of one message costing exactly `bytes` (its body padded to fit).
    fn costing(conversation: ConversationId, bytes: usize) -> Arc<Latest> {
        let mut latest = bare(conversation);
        latest.messages[0].body = "x".repeat(bytes - latest.bytes());
        assert_eq!(latest.bytes(), bytes);
        Arc::new(latest)
    }

    /// A kept page of one message with an empty body: the least one costs.
    fn bare(conversation: ConversationId) -> Latest {
        let mut m = message(1, conversation);
        m.body = String::new();
        Latest {
            messages: vec![m],
            has_more: false,
        }
    }

    /// A message that `people` reacted to with each of `emoji` different emoji.
    fn reacted(id: i64, emoji: usize, people: i64) -> Message {
        let mut m = message(id, 1);
        m.reactions = (0..emoji)
            .map(|e| Reaction {
                emoji: format!("e{e}"),
                count: people as usize,
                user_ids: (1..=people).collect(),
            })
            .collect();
        m
    }

    #[test]
    fn reactions_and_the_messages_themselves_are_charged() {
        let page = |messages: Vec<Message>| Latest {
            messages,
            has_more: false,
        };
        let plain = page(vec![message(1, 1)]);
        let m = &plain.messages[0];
        assert!(
            plain.bytes() >= size_of::<Message>() + m.body.len() + m.html.len(),
            "the struct and its text"
        );
        let heavy = page(vec![reacted(1, 20, 500)]);
        let who = 20 * 500 * size_of::<UserId>();
        assert!(
            heavy.bytes() >= plain.bytes() + who + 20 * size_of::<Reaction>(),
            "{} bytes for a message with 10,000 reactions",
            heavy.bytes()
        );
        // Such a page of the newest messages would be a third of the whole budget: not kept.
        let recent = Recent::default();
        let busy = Arc::new(page(
            (1..=KEEP as i64).map(|id| reacted(id, 20, 500)).collect(),
        ));
        assert!(busy.bytes() > MAX_BYTES / 4);
        recent.put(1, recent.stamp(1), busy);
        assert!(recent.get(1).is_none());
        assert_eq!(recent.size(), (0, 0));
    }

    #[test]
    fn one_conversation_may_take_a_quarter_of_the_budget_and_not_a_byte_more() {
        let recent = Recent::default();
        recent.put(1, recent.stamp(1), costing(1, MAX_BYTES / 4));
        assert!(recent.get(1).is_some(), "exactly a quarter is kept");
        recent.put(2, recent.stamp(2), costing(2, MAX_BYTES / 4 + 1));
        assert!(recent.get(2).is_none(), "a byte more is not");
        assert_eq!(recent.size(), (1, MAX_BYTES / 4));
    }

    #[test]
    fn the_bytes_kept_reach_the_budget_exactly_and_never_pass_it() {
        let small = bare(4).bytes();
        // Three quarters, a small page, and the rest of the budget plus `over` bytes.
        let fill = |over: usize| {
            let recent = Recent::default();
            for c in 1..=3 {
                recent.put(c, recent.stamp(c), costing(c, MAX_BYTES / 4));
            }
            recent.put(4, recent.stamp(4), costing(4, small));
            recent.put(5, recent.stamp(5), costing(5, MAX_BYTES / 4 - small + over));
            recent
        };
        let full = fill(0);
        assert_eq!(full.size(), (5, MAX_BYTES), "exactly the budget: all kept");
        let over = fill(1);
        assert_eq!(over.size(), (4, MAX_BYTES / 4 * 3 + 1));
        assert!(over.get(1).is_none(), "the least recently used made room");
        assert!((2..=5).all(|c| over.get(c).is_some()));
    }

    #[test]
    fn it_stays_within_its_bounds_dropping_the_least_recently_used() {
        let recent = Recent::default();
        for c in 0..MAX_ENTRIES as i64 + 10 {
            let stamp = recent.stamp(c);
            recent.put(c, stamp, latest(c, 2, false));
            if c == 5 {
                continue;
            }
            recent.get(5);
        }
        let (entries, bytes) = recent.size();
        assert_eq!(entries, MAX_ENTRIES);
        assert!(bytes <= MAX_BYTES);
        assert!(recent.get(5).is_some(), "used often, kept");
        assert!(recent.get(0).is_none(), "least recently used, dropped");
    }
}
