//! Login throttling: more than a set number of failures per key within a window is refused.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Failures counted per key (a username or a client address) over a sliding window.
pub struct Throttle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    pub fn new(limit: usize, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The login limit: 10 failures per 5 minutes.
    pub fn for_logins() -> Self {
        Throttle::new(10, Duration::from_secs(300))
    }

    /// Refuses with `RateLimited` when any key is over its limit.
    pub fn check(&self, keys: &[&str]) -> Result<()> {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("throttle lock");
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                prune(times, now, self.window);
                if times.len() >= self.limit {
                    let oldest = times[times.len() - self.limit];
                    wait = wait.max(self.window.saturating_sub(now - oldest));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(Error::RateLimited {
                retry_after: wait.as_secs().max(1),
            })
        }
    }

    /// Counts one failure against every key.
    pub fn fail(&self, keys: &[&str]) {
        let now = Instant::now();
        let mut map = self.failures.lock().expect("throttle lock");
        // Keep memory bounded under a flood of distinct keys: drop keys whose window passed.
        if map.len() > 10_000 {
            map.retain(|_, times| {
                prune(times, now, self.window);
                !times.is_empty()
            });
        }
        for key in keys {
            let times = map.entry((*key).to_owned()).or_default();
            prune(times, now, self.window);
            times.push_back(now);
            while times.len() > self.limit {
                times.pop_front();
            }
        }
    }
}

fn prune(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_is_refused_per_key() {
        let t = Throttle::for_logins();
        for _ in 0..10 {
            t.check(&["user:ada", "ip:1"]).unwrap();
            t.fail(&["user:ada", "ip:1"]);
        }
        let err = t.check(&["user:ada", "ip:2"]).unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { retry_after } if retry_after > 0 && retry_after <= 300)
        );
        assert!(t.check(&["user:bob", "ip:1"]).is_err());
        assert!(t.check(&["user:bob", "ip:2"]).is_ok());
    }

    #[test]
    fn failures_age_out_of_the_window() {
        let t = Throttle::new(2, Duration::from_millis(30));
        t.fail(&["k"]);
        t.fail(&["k"]);
        assert!(t.check(&["k"]).is_err());
        std::thread::sleep(Duration::from_millis(40));
        assert!(t.check(&["k"]).is_ok());
    }
}
