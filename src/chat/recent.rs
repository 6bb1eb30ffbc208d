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

use crate::domain::chat::{ConversationId, Message};

/// Messages kept per conversation: the largest page the API serves.
pub const KEEP: usize = 100;
/// At most this many conversations…
const MAX_ENTRIES: usize = 1024;
/// …and about this many bytes of message text in all.
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

    fn bytes(&self) -> usize {
        self.messages
            .iter()
            .map(|m| m.body.len() + m.html.len() + 256)
            .sum()
    }
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
    use crate::domain::chat::UserRef;

    fn message(id: i64, conversation: ConversationId) -> Message {
        let sender = UserRef {
            id: 1,
            username: "a".into(),
            display_name: "A".into(),
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
