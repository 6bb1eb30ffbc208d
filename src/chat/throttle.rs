//! Sign-in throttling: each attempt is counted against its keys *before* its password is
//! checked, over a sliding window per key; an attempt over any key's limit is refused at once,
//! without hashing. Which keys an attempt carries is decided in `chat::auth`.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// At most `limit` attempts per `window`; `forgiven` keys drop their count on a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub limit: usize,
    pub window: Duration,
    pub forgiven: bool,
}

/// One thing attempts are counted against: an address, an account, a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub name: String,
    pub rule: Rule,
}

impl Key {
    pub fn new(name: impl Into<String>, rule: Rule) -> Key {
        Key {
            name: name.into(),
            rule,
        }
    }
}

/// How many keys are kept at most; see [`Throttle::make_room`].
pub const MAX_KEYS: usize = 100_000;

struct Entry {
    rule: Rule,
    /// The newest attempts inside the window, oldest first; never more than `rule.limit`.
    times: VecDeque<Instant>,
}

impl Entry {
    fn prune(&mut self, now: Instant) {
        while self
            .times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.rule.window)
        {
            self.times.pop_front();
        }
    }

    /// How long until one more attempt is allowed; zero when it is now.
    fn wait(&self, now: Instant) -> Duration {
        if self.times.len() < self.rule.limit {
            return Duration::ZERO;
        }
        let oldest = self.times[self.times.len() - self.rule.limit];
        (oldest + self.rule.window).saturating_duration_since(now)
    }
}

/// Attempts counted per key; at most `max_keys` keys.
pub struct Throttle {
    entries: Mutex<HashMap<String, Entry>>,
    max_keys: usize,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::with_max_keys(MAX_KEYS)
    }
}

/// An attempt already counted. Dropped as it is, it stays counted: a failure.
#[must_use = "an attempt stays counted unless refunded or marked a success"]
pub struct Attempt<'a> {
    throttle: &'a Throttle,
    keys: Vec<Key>,
    at: Instant,
}

impl Attempt<'_> {
    /// The password was right: this attempt no longer counts, and forgiven keys start over.
    pub fn succeeded(self) {
        self.throttle.settle(&self.keys, self.at, true);
    }

    /// The password was never checked (the server was busy): this attempt does not count.
    pub fn refund(self) {
        self.throttle.settle(&self.keys, self.at, false);
    }
}

impl Throttle {
    pub fn with_max_keys(max_keys: usize) -> Throttle {
        Throttle {
            entries: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    /// Counts an attempt against every key, or refuses it with `RateLimited` (the exact
    /// seconds until it would be allowed) and counts nothing.
    pub fn attempt(&self, keys: &[Key]) -> Result<Attempt<'_>> {
        self.attempt_at(keys, Instant::now())
    }

    fn attempt_at(&self, keys: &[Key], now: Instant) -> Result<Attempt<'_>> {
        let mut entries = self.entries.lock().expect("throttle lock");
        let mut wait = Duration::ZERO;
        let mut new_keys = 0;
        for key in keys {
            match entries.get_mut(&key.name) {
                Some(entry) => {
                    entry.prune(now);
                    wait = wait.max(entry.wait(now));
                }
                None => new_keys += 1,
            }
        }
        if !wait.is_zero() {
            return Err(refusal(wait));
        }
        make_room(&mut entries, self.max_keys, new_keys, now)?;
        for key in keys {
            let entry = entries.entry(key.name.clone()).or_insert_with(|| Entry {
                rule: key.rule,
                times: VecDeque::with_capacity(key.rule.limit.min(16)),
            });
            entry.times.push_back(now);
        }
        Ok(Attempt {
            throttle: self,
            keys: keys.to_vec(),
            at: now,
        })
    }

    fn settle(&self, keys: &[Key], at: Instant, success: bool) {
        let mut entries = self.entries.lock().expect("throttle lock");
        for key in keys {
            let Some(entry) = entries.get_mut(&key.name) else {
                continue;
            };
            if success && key.rule.forgiven {
                entry.times.clear();
            } else if let Some(i) = entry.times.iter().rposition(|t| *t == at) {
                entry.times.remove(i);
            }
            if entry.times.is_empty() {
                entries.remove(&key.name);
            }
        }
    }
}

/// Makes room for `needed` new keys. Keys whose window has passed go first; then, oldest
/// activity first, keys not locked out (forgetting them costs an attacker's count of a few
/// attempts). A key that is locked out is never dropped: when only such keys are left, the
/// attempt is refused until the first of them is free again.
fn make_room(
    entries: &mut HashMap<String, Entry>,
    max_keys: usize,
    needed: usize,
    now: Instant,
) -> Result<()> {
    if entries.len() + needed <= max_keys {
        return Ok(());
    }
    entries.retain(|_, entry| {
        entry.prune(now);
        !entry.times.is_empty()
    });
    // Make room for a tenth more at once, so a flood of new keys does not scan every time.
    let target = max_keys - max_keys / 10;
    if entries.len() + needed > max_keys {
        let mut open: Vec<(Instant, String)> = entries
            .iter()
            .filter(|(_, e)| e.wait(now).is_zero())
            .map(|(k, e)| {
                (
                    *e.times.back().expect("pruned entries are not empty"),
                    k.clone(),
                )
            })
            .collect();
        open.sort_unstable();
        let excess = (entries.len() + needed).saturating_sub(target);
        for (_, key) in open.into_iter().take(excess) {
            entries.remove(&key);
        }
    }
    if entries.len() + needed > max_keys {
        let wait = entries
            .values()
            .map(|e| e.wait(now))
            .min()
            .unwrap_or(Duration::ZERO);
        tracing::warn!(
            keys = entries.len(),
            "sign-in throttle is full of locked-out keys; refusing new ones"
        );
        return Err(refusal(wait));
    }
    Ok(())
}

/// `RateLimited` with the wait rounded up to whole seconds (a client that waits that long
/// is let in), at least one.
fn refusal(wait: Duration) -> Error {
    let millis = wait.as_millis();
    Error::RateLimited {
        retry_after: u64::try_from(millis.div_ceil(1000))
            .unwrap_or(u64::MAX)
            .max(1),
    }
}

/// The part of an address that names one client: an IPv4 address, or the /64 network of an
/// IPv6 address (one subscriber usually holds a whole /64). IPv4-mapped IPv6 is IPv4.
pub fn client_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests;
