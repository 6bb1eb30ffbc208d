//! The throttle at its edges: exact limits and waits, what a refusal counts, settling, the
//! bound on keys, and how addresses are grouped.

use super::*;

const MIN: Duration = Duration::from_secs(60);

fn rule(limit: usize) -> Rule {
    Rule {
        limit,
        window: MIN,
        forgiven: false,
    }
}

fn key(name: &str, limit: usize) -> Key {
    Key::new(name, rule(limit))
}

fn forgiven(name: &str, limit: usize) -> Key {
    Key::new(
        name,
        Rule {
            forgiven: true,
            ..rule(limit)
        },
    )
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

fn retry(result: Result<Attempt<'_>>) -> u64 {
    match result {
        Err(Error::RateLimited { retry_after }) => retry_after,
        Err(other) => panic!("expected RateLimited, got {other:?}"),
        Ok(_) => panic!("expected a refusal, the attempt was allowed"),
    }
}

/// How many keys the throttle keeps now.
fn kept(t: &Throttle) -> usize {
    t.entries.lock().unwrap().len()
}

/// How many attempts `key` holds now.
fn count(t: &Throttle, name: &str) -> usize {
    t.entries
        .lock()
        .unwrap()
        .get(name)
        .map_or(0, |e| e.times.len())
}

#[test]
fn the_limit_allows_exactly_limit_attempts_per_window() {
    let t = Throttle::default();
    let k = [key("k", 3)];
    let t0 = Instant::now();
    for _ in 0..3 {
        drop(t.attempt_at(&k, t0).unwrap());
    }
    assert_eq!(retry(t.attempt_at(&k, t0)), 60);
    // One millisecond before the window passes is still a second away, rounded up.
    assert_eq!(retry(t.attempt_at(&k, t0 + MIN - secs(0.001))), 1);
    // At exactly the window's end the oldest attempts no longer count.
    drop(t.attempt_at(&k, t0 + MIN).unwrap());
    assert_eq!(count(&t, "k"), 1);
}

#[test]
fn retry_after_is_exact_and_rounded_up() {
    let t = Throttle::default();
    let k = [key("k", 3)];
    let t0 = Instant::now();
    for at in [0.0, 10.0, 20.0] {
        drop(t.attempt_at(&k, t0 + secs(at)).unwrap());
    }
    assert_eq!(retry(t.attempt_at(&k, t0 + secs(25.0))), 35);
    assert_eq!(retry(t.attempt_at(&k, t0 + secs(25.5))), 35);
    assert_eq!(retry(t.attempt_at(&k, t0 + secs(26.0))), 34);
    // The attempt at 0 expires at 60: one more is allowed, then the wait is for the one at 10.
    drop(t.attempt_at(&k, t0 + secs(60.0)).unwrap());
    assert_eq!(retry(t.attempt_at(&k, t0 + secs(60.0))), 10);
    assert_eq!(retry(t.attempt_at(&k, t0 + secs(69.0))), 1);
    drop(t.attempt_at(&k, t0 + secs(70.0)).unwrap());
}

#[test]
fn the_longest_wait_of_all_keys_is_the_answer() {
    let t = Throttle::default();
    let t0 = Instant::now();
    drop(t.attempt_at(&[key("a", 1)], t0).unwrap());
    drop(t.attempt_at(&[key("b", 1)], t0 + secs(30.0)).unwrap());
    let both = [key("a", 1), key("b", 1)];
    assert_eq!(retry(t.attempt_at(&both, t0 + secs(40.0))), 50);
    let reversed = [key("b", 1), key("a", 1)];
    assert_eq!(retry(t.attempt_at(&reversed, t0 + secs(40.0))), 50);
}

#[test]
fn a_refused_attempt_counts_against_no_key() {
    let t = Throttle::default();
    let t0 = Instant::now();
    let (a, b) = (key("a", 1), key("b", 2));
    drop(t.attempt_at(&[a.clone(), b.clone()], t0).unwrap());
    for _ in 0..5 {
        retry(t.attempt_at(&[a.clone(), b.clone()], t0));
    }
    assert_eq!(count(&t, "b"), 1, "b was not charged for the refusals");
    drop(t.attempt_at(std::slice::from_ref(&b), t0).unwrap());
    retry(t.attempt_at(std::slice::from_ref(&b), t0));
    // A refusal because of a new key's neighbour does not create that key either.
    retry(t.attempt_at(&[a, key("c", 5)], t0));
    assert_eq!(count(&t, "c"), 0);
    assert_eq!(kept(&t), 2);
}

#[test]
fn a_dropped_attempt_stays_counted() {
    let t = Throttle::default();
    let t0 = Instant::now();
    let k = [key("k", 2)];
    let first = t.attempt_at(&k, t0).unwrap();
    drop(first);
    assert_eq!(count(&t, "k"), 1);
}

#[test]
fn a_success_forgives_forgiven_keys_and_uncounts_itself_elsewhere() {
    let t = Throttle::default();
    let t0 = Instant::now();
    let keys = [forgiven("mine", 5), key("shared", 5)];
    for i in 0..3 {
        drop(t.attempt_at(&keys, t0 + secs(f64::from(i))).unwrap());
    }
    t.attempt_at(&keys, t0 + secs(3.0)).unwrap().succeeded();
    assert_eq!(count(&t, "mine"), 0, "the owner's own typos are forgiven");
    assert_eq!(count(&t, "shared"), 3, "others' failures still count");
    assert_eq!(kept(&t), 1, "an empty key is not kept");
}

#[test]
fn a_refund_uncounts_only_itself() {
    let t = Throttle::default();
    let t0 = Instant::now();
    let keys = [forgiven("mine", 5), key("shared", 2)];
    drop(t.attempt_at(&keys, t0).unwrap());
    t.attempt_at(&keys, t0 + secs(1.0)).unwrap().refund();
    assert_eq!(count(&t, "mine"), 1, "a refund forgives nothing else");
    assert_eq!(count(&t, "shared"), 1);
    // The attempt that stays is the first one: the key frees up at 60 s, not at 61 s.
    let shared = [key("shared", 2)];
    drop(t.attempt_at(&shared, t0 + secs(30.0)).unwrap());
    assert_eq!(retry(t.attempt_at(&shared, t0 + secs(59.5))), 1);
    drop(t.attempt_at(&shared, t0 + MIN).unwrap());
    // Refunding the only attempt leaves nothing behind.
    let solo = Throttle::default();
    solo.attempt_at(&[key("x", 1)], t0).unwrap().refund();
    assert_eq!(kept(&solo), 0);
}

#[test]
fn a_settled_attempt_of_a_key_since_dropped_is_harmless() {
    let t = Throttle::with_max_keys(1);
    let t0 = Instant::now();
    let held = t.attempt_at(&[key("a", 5)], t0).unwrap();
    // "a" is not locked out, so it makes room for "b".
    drop(t.attempt_at(&[key("b", 5)], t0 + secs(1.0)).unwrap());
    held.refund();
    assert_eq!(count(&t, "b"), 1);
}

#[test]
fn concurrent_attempts_cannot_pass_the_limit() {
    let t = std::sync::Arc::new(Throttle::default());
    let keys = [forgiven("user:ada|ip:10.0.0.1", 10), key("ip:10.0.0.1", 50)];
    let allowed = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..80 {
            scope.spawn(|| {
                if let Ok(attempt) = t.attempt(&keys) {
                    allowed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    // Held across a slow check, as a password check is.
                    std::thread::sleep(Duration::from_millis(20));
                    drop(attempt);
                }
            });
        }
    });
    assert_eq!(allowed.into_inner(), 10);
}

#[test]
fn more_keys_than_the_bound_drop_the_oldest_open_keys_first() {
    let t = Throttle::with_max_keys(4);
    let t0 = Instant::now();
    for (i, name) in ["a", "b", "c", "d"].iter().enumerate() {
        drop(t.attempt_at(&[key(name, 2)], t0 + secs(i as f64)).unwrap());
    }
    assert_eq!(kept(&t), 4);
    drop(t.attempt_at(&[key("e", 2)], t0 + secs(10.0)).unwrap());
    assert_eq!(kept(&t), 4);
    assert_eq!(count(&t, "a"), 0, "the oldest open key made room");
    assert_eq!(count(&t, "b"), 1);
    assert_eq!(count(&t, "e"), 1);
    // Two new keys at once push out the two oldest.
    drop(
        t.attempt_at(&[key("f", 2), key("g", 2)], t0 + secs(11.0))
            .unwrap(),
    );
    assert_eq!((count(&t, "b"), count(&t, "c")), (0, 0));
    assert_eq!(
        (
            count(&t, "d"),
            count(&t, "e"),
            count(&t, "f"),
            count(&t, "g")
        ),
        (1, 1, 1, 1)
    );
}

#[test]
fn expired_keys_go_before_any_open_one() {
    let t = Throttle::with_max_keys(3);
    let t0 = Instant::now();
    drop(t.attempt_at(&[key("new1", 2)], t0 + secs(50.0)).unwrap());
    drop(t.attempt_at(&[key("old", 2)], t0).unwrap());
    drop(t.attempt_at(&[key("new2", 2)], t0 + secs(55.0)).unwrap());
    drop(t.attempt_at(&[key("x", 2)], t0 + secs(61.0)).unwrap());
    assert_eq!(count(&t, "old"), 0);
    assert_eq!((count(&t, "new1"), count(&t, "new2")), (1, 1));
}

#[test]
fn pruning_never_frees_a_key_still_locked_out() {
    let t = Throttle::with_max_keys(10);
    let t0 = Instant::now();
    // Ten keys, all locked out, the first at 0 s, the last at 9 s.
    for i in 0..10 {
        let k = [key(&format!("locked{i}"), 1)];
        drop(t.attempt_at(&k, t0 + secs(f64::from(i))).unwrap());
    }
    // A new key must not push any of them out: refused until the first unlocks at 60 s.
    assert_eq!(retry(t.attempt_at(&[key("new", 1)], t0 + secs(20.0))), 40);
    assert_eq!(kept(&t), 10);
    for i in 0..10 {
        assert_eq!(count(&t, &format!("locked{i}")), 1, "locked{i} kept");
    }
    // Once the first has served its time it may go.
    drop(t.attempt_at(&[key("new", 1)], t0 + MIN).unwrap());
    assert_eq!(count(&t, "locked0"), 0);
    assert_eq!(count(&t, "locked1"), 1);
}

#[test]
fn open_keys_make_room_while_locked_ones_stay() {
    let t = Throttle::with_max_keys(20);
    let t0 = Instant::now();
    for i in 0..20 {
        // Even keys are locked out (limit 1), odd ones are not (limit 3).
        let k = [key(&format!("k{i}"), if i % 2 == 0 { 1 } else { 3 })];
        drop(t.attempt_at(&k, t0 + secs(f64::from(i))).unwrap());
    }
    drop(t.attempt_at(&[key("new", 3)], t0 + secs(30.0)).unwrap());
    // Room for a tenth more is made at once: the three oldest open keys, no locked one.
    assert_eq!(kept(&t), 18);
    assert_eq!(
        (count(&t, "k1"), count(&t, "k3"), count(&t, "k5")),
        (0, 0, 0)
    );
    assert_eq!(count(&t, "k7"), 1);
    for i in (0..20).step_by(2) {
        assert_eq!(
            count(&t, &format!("k{i}")),
            1,
            "k{i} is locked out and kept"
        );
    }
}

#[test]
fn waits_round_up_to_whole_seconds_and_never_say_zero() {
    let retry_of = |d: Duration| match refusal(d) {
        Error::RateLimited { retry_after } => retry_after,
        other => panic!("{other:?}"),
    };
    assert_eq!(retry_of(Duration::ZERO), 1);
    assert_eq!(retry_of(Duration::from_millis(1)), 1);
    assert_eq!(retry_of(Duration::from_millis(1000)), 1);
    assert_eq!(retry_of(Duration::from_millis(1001)), 2);
    assert_eq!(retry_of(Duration::from_secs(900)), 900);
}

#[test]
fn ipv6_clients_are_grouped_by_their_64_bit_network() {
    let v6 = |s: &str| client_key(s.parse().unwrap());
    assert_eq!(
        v6("2001:db8:1:2::1"),
        v6("2001:db8:1:2:ffff:ffff:ffff:ffff")
    );
    assert_eq!(v6("2001:db8:1:2::1"), "2001:db8:1:2::/64");
    assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:1:3::1"));
    assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db9:1:2::1"));
    assert_ne!(v6("2001:db8:1:2::1"), v6("2001:db8:2:2::1"));
    assert_ne!(v6("2001:db8:1:2::1"), v6("2002:db8:1:2::1"));
    assert_eq!(v6("192.0.2.7"), "192.0.2.7");
    assert_ne!(v6("192.0.2.7"), v6("192.0.2.8"));
    assert_eq!(v6("::ffff:192.0.2.7"), "192.0.2.7", "IPv4-mapped is IPv4");
}

#[test]
fn keys_pruned_down_to_exactly_the_bound_make_room_without_dropping_more() {
    let t = Throttle::with_max_keys(10);
    let t0 = Instant::now();
    drop(t.attempt_at(&[key("expired", 5)], t0).unwrap());
    for i in 1..10 {
        let k = [key(&format!("open{i}"), 5)];
        drop(t.attempt_at(&k, t0 + secs(f64::from(i) * 5.0)).unwrap());
    }
    assert_eq!(kept(&t), 10);
    // At 61 s the first key has expired: nine left and one new make exactly ten, no more go.
    drop(t.attempt_at(&[key("new", 5)], t0 + secs(61.0)).unwrap());
    assert_eq!(kept(&t), 10);
    assert_eq!(count(&t, "expired"), 0);
    assert_eq!(count(&t, "open1"), 1, "the oldest open key stays");
}
