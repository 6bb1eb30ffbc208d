//! Per-user budgets for every write a member can repeat, and the one check actions call.
//!
//! Each budget is a token bucket (GCRA, by `governor`): `burst` writes at once, then one more
//! every `every`. People act in bursts (a few reactions in a row, opening several
//! conversations), so the bursts are generous and the sustained rates low. The sizes, and how
//! large they let the event log grow, are in docs/operations.md ("Limits and the event log").

use governor::clock::{Clock, MonotonicClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

use crate::domain::UserId;
use crate::error::{Error, Result};

/// What a write spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Writes that store a whole copy of a message in the event log: send, edit, delete and
    /// react. One budget, sized by `send_per_minute`, so together they grow the database no
    /// faster than sends alone may.
    Message,
    /// Moving a read marker.
    Read,
    /// Typing notices (not stored, but each costs a read and a fan-out).
    Typing,
    /// Presence changes from the `presence` op (not stored; a read and a fan-out).
    Presence,
    /// Opening a channel, group or direct conversation.
    Create,
    /// Joining, leaving, adding or removing someone.
    Membership,
    /// Renaming, setting the topic, archiving.
    Update,
    /// Uploading a file (each one streams to disk and may be thumbnailed).
    Upload,
}

/// A budget's size: `burst` at once, then one more every `every`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub every: Duration,
}

const fn rate(burst: u32, every_secs: u64) -> Rate {
    Rate {
        burst,
        every: Duration::from_secs(every_secs),
    }
}

/// Read markers: a busy conversation read at the bottom moves the marker with every arrival;
/// past the burst it moves every 2 s, always to the newest message, so it never lags far.
pub const READ: Rate = rate(60, 2);
/// The web UI sends at most one typing notice per 2 s while someone types.
pub const TYPING: Rate = rate(20, 2);
/// The web UI reports presence when a tab is shown or hidden.
pub const PRESENCE: Rate = rate(20, 3);
pub const CREATE: Rate = rate(20, 60);
pub const MEMBERSHIP: Rate = rate(30, 10);
pub const UPDATE: Rate = rate(10, 30);
/// Uploads: a burst of 40 (a few albums dropped at once), then one every 2 s.
pub const UPLOAD: Rate = rate(40, 2);

/// The message budget for `send_per_minute`: that many a minute sustained, with a burst of a
/// quarter of it (at least 10).
pub fn message_rate(send_per_minute: u32) -> Rate {
    let per_minute = send_per_minute.max(1);
    Rate {
        burst: (per_minute / 4).max(10),
        every: Duration::from_secs(60) / per_minute,
    }
}

/// Every budget of every user.
pub struct Limits {
    message: Limiter,
    read: Limiter,
    typing: Limiter,
    presence: Limiter,
    create: Limiter,
    membership: Limiter,
    update: Limiter,
    upload: Limiter,
}

/// A per-user bucket on the system's monotonic clock: the hint it gives is measured on the
/// clock a client waits by (the default clock reads the CPU's counter, which in a busy VM can
/// run a little apart from it, and a client that waited exactly the hint was refused again).
type Limiter = RateLimiter<
    UserId,
    DashMapStateStore<UserId>,
    MonotonicClock,
    NoOpMiddleware<<MonotonicClock as Clock>::Instant>,
>;

fn limiter(rate: Rate) -> Limiter {
    let burst = NonZeroU32::new(rate.burst.max(1)).expect("non-zero");
    let quota = Quota::with_period(rate.every.max(Duration::from_nanos(1)))
        .expect("a non-zero period")
        .allow_burst(burst);
    RateLimiter::dashmap_with_clock(quota, MonotonicClock)
}

impl Limits {
    pub fn new(send_per_minute: u32) -> Limits {
        Limits {
            message: limiter(message_rate(send_per_minute)),
            read: limiter(READ),
            typing: limiter(TYPING),
            presence: limiter(PRESENCE),
            create: limiter(CREATE),
            membership: limiter(MEMBERSHIP),
            update: limiter(UPDATE),
            upload: limiter(UPLOAD),
        }
    }

    /// Spends one write of `user`'s `budget`. Over it: `RateLimited` with the whole seconds
    /// (rounded up) until the budget allows one again, and nothing is spent.
    pub fn spend(&self, budget: Budget, user: UserId) -> Result<()> {
        let limiter = match budget {
            Budget::Message => &self.message,
            Budget::Read => &self.read,
            Budget::Typing => &self.typing,
            Budget::Presence => &self.presence,
            Budget::Create => &self.create,
            Budget::Membership => &self.membership,
            Budget::Update => &self.update,
            Budget::Upload => &self.upload,
        };
        limiter.check_key(&user).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            Error::RateLimited {
                retry_after: whole_seconds(wait),
            }
        })
    }
}

/// Seconds to wait, rounded up (a retry after that many seconds is allowed), at least 1.
fn whole_seconds(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retry_after(result: Result<()>) -> u64 {
        match result {
            Err(Error::RateLimited { retry_after }) => retry_after,
            other => panic!("expected rate_limited, got {other:?}"),
        }
    }

    #[test]
    fn a_budget_allows_its_burst_and_refuses_one_more() {
        let limits = Limits::new(120);
        for _ in 0..CREATE.burst {
            limits.spend(Budget::Create, 1).expect("within the burst");
        }
        // The next one is due a minute after the first.
        let wait = retry_after(limits.spend(Budget::Create, 1));
        assert!((59..=60).contains(&wait), "{wait}");
        // Budgets are per user and per kind.
        limits.spend(Budget::Create, 2).expect("another user");
        limits.spend(Budget::Update, 1).expect("another budget");
    }

    #[test]
    fn the_message_budget_follows_send_per_minute() {
        assert_eq!(
            message_rate(120),
            Rate {
                burst: 30,
                every: Duration::from_millis(500)
            }
        );
        assert_eq!(message_rate(12).burst, 10);
        let limits = Limits::new(1);
        for _ in 0..10 {
            limits.spend(Budget::Message, 7).expect("within the burst");
        }
        let wait = retry_after(limits.spend(Budget::Message, 7));
        assert!((59..=60).contains(&wait), "{wait}");
    }

    #[test]
    fn the_hint_is_enough_and_not_more() {
        // One a second: once refused, waiting the hint (1 s) is enough.
        let limits = Limits::new(60);
        for _ in 0..message_rate(60).burst {
            limits.spend(Budget::Message, 1).unwrap();
        }
        let wait = retry_after(limits.spend(Budget::Message, 1));
        assert_eq!(wait, 1);
        std::thread::sleep(Duration::from_secs(wait));
        limits
            .spend(Budget::Message, 1)
            .expect("allowed after the hint");
    }

    #[test]
    fn waits_round_up_to_whole_seconds() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1000)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1001)), 2);
        assert_eq!(whole_seconds(Duration::from_secs(59)), 59);
    }
}
