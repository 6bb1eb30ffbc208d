//! The decision, case by case.

use super::*;

const NOW: i64 = 1_000_000;
const SENDER: UserId = 1;

fn member(level: Level, muted: bool, mentioned: bool) -> Member {
    Member {
        user: 2,
        setting: Setting { level, muted },
        quiet_until: None,
        mentioned,
    }
}

#[test]
fn levels_decide() {
    assert!(notifies(&member(Level::All, false, false), SENDER, NOW));
    assert!(notifies(&member(Level::All, false, true), SENDER, NOW));
    assert!(!notifies(
        &member(Level::Mentions, false, false),
        SENDER,
        NOW
    ));
    assert!(notifies(&member(Level::Mentions, false, true), SENDER, NOW));
    assert!(!notifies(&member(Level::None, false, false), SENDER, NOW));
    assert!(!notifies(&member(Level::None, false, true), SENDER, NOW));
}

#[test]
fn mute_leaves_only_mentions() {
    assert!(!notifies(&member(Level::All, true, false), SENDER, NOW));
    assert!(notifies(&member(Level::All, true, true), SENDER, NOW));
    assert!(notifies(&member(Level::Mentions, true, true), SENDER, NOW));
    assert!(!notifies(
        &member(Level::Mentions, true, false),
        SENDER,
        NOW
    ));
    assert!(!notifies(&member(Level::None, true, true), SENDER, NOW));
}

#[test]
fn never_ones_own_message() {
    let me = member(Level::All, false, true);
    assert!(!notifies(&me, me.user, NOW));
}

#[test]
fn do_not_disturb_holds_until_its_time_and_not_after() {
    let mut m = member(Level::All, false, true);
    m.quiet_until = Some(NOW + 1);
    assert!(!notifies(&m, SENDER, NOW));
    m.quiet_until = Some(NOW);
    assert!(
        notifies(&m, SENDER, NOW),
        "quiet until now: now is no longer quiet"
    );
    m.quiet_until = Some(NOW - 1);
    assert!(notifies(&m, SENDER, NOW));
}

const IDLE: Duration = Duration::from_secs(60);

#[test]
fn someone_looking_gets_their_pages_and_no_push() {
    let d = deliver(
        Attention {
            connected: true,
            looking: true,
            away_for: None,
        },
        IDLE,
    );
    assert_eq!(
        d,
        Delivery {
            page: true,
            push_after: None
        }
    );
}

#[test]
fn someone_never_seen_is_pushed_at_once() {
    let d = deliver(
        Attention {
            connected: false,
            looking: false,
            away_for: None,
        },
        IDLE,
    );
    assert_eq!(
        d,
        Delivery {
            page: false,
            push_after: Some(Duration::ZERO)
        }
    );
}

#[test]
fn someone_just_gone_is_pushed_once_idle() {
    let away = |secs| Attention {
        connected: true,
        looking: false,
        away_for: Some(Duration::from_secs(secs)),
    };
    assert_eq!(
        deliver(away(10), IDLE).push_after,
        Some(Duration::from_secs(50))
    );
    assert!(deliver(away(10), IDLE).page);
    assert_eq!(deliver(away(60), IDLE).push_after, Some(Duration::ZERO));
    assert_eq!(
        deliver(away(59), IDLE).push_after,
        Some(Duration::from_secs(1))
    );
    assert_eq!(deliver(away(3600), IDLE).push_after, Some(Duration::ZERO));
}

#[test]
fn subjects_are_mailto_or_https() {
    assert!(subject("mailto:admin@example.org").is_ok());
    assert!(subject("https://chat.example.org").is_ok());
    assert!(subject("https://chat.example.org/about").is_ok());
    for bad in [
        "",
        "mailto:",
        "mailto:admin",
        "mailto:@example.org",
        "mailto:a b@example.org",
        "mailto:admin@localhost",
        "http://chat.example.org",
        "chat.example.org",
        "https://",
        "ftp://x.org",
    ] {
        let err = subject(bad).unwrap_err();
        assert!(err.contains("mailto:"), "{bad}: {err}");
    }
}
