//! Message times in real Chromium: written by the browser in the reader's locale and time zone
//! from the machine-readable time the server sends (the fragment's bytes are the same for
//! everyone), with no leading zero on a 12-hour clock, and never over the message's text.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;

use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::{PASSWORD, TestApp};
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);
const HOUR_MS: i64 = 3_600_000;
/// The local hour the reader's time zone is chosen to show: one digit on either clock.
const LOCAL_HOUR: i64 = 4;

/// One test drives its browser at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// A fixed-offset zone in which `ms` falls in the hour `LOCAL_HOUR`, and its offset in hours.
/// (`Etc/GMT-5` is five hours *ahead* of UTC: the names keep POSIX's inverted sign.)
fn zone_showing_local_hour(ms: i64) -> (String, i64) {
    let utc_hour = ms.div_euclid(HOUR_MS).rem_euclid(24);
    let mut offset = (LOCAL_HOUR - utc_hour).rem_euclid(24);
    if offset > 14 {
        offset -= 24;
    }
    let name = match offset {
        0 => "Etc/UTC".to_owned(),
        o if o > 0 => format!("Etc/GMT-{o}"),
        o => format!("Etc/GMT+{}", -o),
    };
    (name, offset)
}

/// The minute of the hour of `ms` (the same in every whole-hour zone).
fn minute(ms: i64) -> i64 {
    ms.div_euclid(60_000).rem_euclid(60)
}

/// What the time of one message looks like to the test: its text (spaces made plain), its
/// attributes, its link's size, and whether the time as drawn (its glyphs, which may spill
/// out of its box) and the message's text overlap.
const TIME_OF: &str = "const a = document.getElementById(`m-${arguments[0]}`);\
    const link = a.querySelector('a.msg-time'); const t = link.querySelector('time');\
    const target = link.getBoundingClientRect(); const body = a.querySelector('.msg-body').getBoundingClientRect();\
    const text = document.createRange(); text.selectNodeContents(t); const time = text.getBoundingClientRect();\
    const box = a.getBoundingClientRect();\
    const apart = time.right <= body.left || body.right <= time.left\
      || time.bottom <= body.top || body.bottom <= time.top;\
    return {text: t.textContent.replace(/[\\u00a0\\u202f]/g, ' '), datetime: t.getAttribute('datetime'),\
      title: t.title, continued: a.classList.contains('cont'), apart,\
      inside: time.left >= box.left, gap: body.left - time.right,\
      width: target.width, height: target.height, opacity: getComputedStyle(link).opacity};";

async fn time_of(browser: &Browser, id: i64) -> Value {
    browser.execute(TIME_OF, vec![json!(id)]).await
}

/// Ann posts a run of two messages; Bob reads them in `locale`, in a time zone where they were
/// sent at 4-something in the morning, on a desktop and on a phone.
async fn times_in(locale: &str, expected: impl Fn(i64) -> String, weekday: &[&str; 7]) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start_in_locale(locale).await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        app.create_user("bob", hearth::domain::Role::Member).await;
        let room = ann.general().await;
        let first = ann.say(room, "Link: the notes are on the wiki").await;
        let second = ann.say(room, "Link: and the slides too").await;
        let ids = [&first, &second].map(|m| m["id"].as_i64().unwrap());
        let sent = [&first, &second].map(|m| m["created_at"].as_i64().unwrap());
        let (zone, offset) = zone_showing_local_hour(sent[0]);
        browser
            .cdp("Emulation.setTimezoneOverride", json!({"timezoneId": zone}))
            .await;

        let b = &browser;
        b.goto(&app.url("/login")).await;
        b.fill("#username", "bob").await;
        b.fill("#password", PASSWORD).await;
        b.click("form[action='/login'] button[type=submit]").await;
        b.wait_for(&format!("article#m-{}", ids[1])).await;
        let languages = b.execute("return navigator.languages;", vec![]).await;
        assert_eq!(languages[0], locale, "the reader's languages: {languages}");

        for (width, height) in [(WIDTH, HEIGHT), (360, 740)] {
            b.set_window_size(width, height).await;
            // Opened afresh at this size, as a phone would (no sidebar sliding away).
            b.goto(&app.url(&format!("/c/{room}"))).await;
            b.wait_for(&format!("article#m-{}", ids[1])).await;
            for (i, id) in ids.iter().enumerate() {
                let t = time_of(b, *id).await;
                let local = sent[i] + offset * HOUR_MS;
                let want = expected(local);
                assert_eq!(t["text"], want.as_str(), "message {id} at {width} px: {t}");
                assert!(
                    t["datetime"].as_str().is_some_and(|d| d.ends_with('Z') && d.len() >= 20),
                    "a machine-readable UTC time: {t}"
                );
                let day = weekday[(local.div_euclid(86_400_000) + 4).rem_euclid(7) as usize];
                assert!(
                    t["title"].as_str().is_some_and(|title| title.contains(day)),
                    "the full date on hover, in the reader's words ({day}): {t}"
                );
                assert!(
                    t["width"].as_f64().unwrap() >= 24.0 && t["height"].as_f64().unwrap() >= 24.0,
                    "the time link is a 24 px target at least: {t}"
                );
            }
            // The second one continues the run: its time shows on hover, left of the text.
            b.hover(&format!("article#m-{}", ids[1])).await;
            let t = time_of(b, ids[1]).await;
            assert_eq!(t["continued"], true, "the second message is grouped: {t}");
            assert_eq!(t["opacity"], "1", "the time shows on hover: {t}");
            assert_eq!(t["apart"], true, "the time overlaps the text at {width} px: {t}");
            assert!(t["gap"].as_f64().unwrap() >= 4.0, "space between time and text: {t}");
            assert_eq!(t["inside"], true, "the time is not cut off on the left: {t}");
            let scrolls = b
                .execute(
                    "const p = document.getElementById('main'); return p.scrollHeight > p.clientHeight;",
                    vec![],
                )
                .await;
            assert_eq!(scrolls, false, "the conversation page itself scrolls at {width} px");
            b.screenshot(screenshot_path(&format!("times-{locale}-{width}.png")))
                .await;
        }
        b.assert_no_console_errors(locale).await;
        app.stop().await.unwrap();
    })
    .await;
    browser.close().await;
}

/// `h:mm AM`, the hour without a leading zero.
fn american(local_ms: i64) -> String {
    let hour = local_ms.div_euclid(HOUR_MS).rem_euclid(24);
    let (h12, half) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    format!("{h12}:{:02} {half}", minute(local_ms))
}

/// `H:mm`, a 24-hour clock.
fn german(local_ms: i64) -> String {
    let hour = local_ms.div_euclid(HOUR_MS).rem_euclid(24);
    format!("{hour}:{:02}", minute(local_ms))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_american_reader_sees_a_12_hour_clock_without_a_leading_zero() {
    let days = [
        "Sunday",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
    ];
    times_in("en-US", american, &days).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_german_reader_sees_a_24_hour_clock_and_german_dates() {
    let days = [
        "Sonntag",
        "Montag",
        "Dienstag",
        "Mittwoch",
        "Donnerstag",
        "Freitag",
        "Samstag",
    ];
    times_in("de-DE", german, &days).await;
}

#[test]
fn the_chosen_zone_shows_the_wanted_hour() {
    // 23:30 UTC: 4:30 is five hours ahead.
    let ms = 23 * HOUR_MS + 30 * 60_000;
    assert_eq!(zone_showing_local_hour(ms), ("Etc/GMT-5".to_owned(), 5));
    // 15:00 UTC: 4:00 the next day, thirteen hours ahead (at most 14 ahead exist).
    assert_eq!(
        zone_showing_local_hour(15 * HOUR_MS),
        ("Etc/GMT-13".to_owned(), 13)
    );
    // 12:00 UTC: sixteen ahead does not exist, so eight behind.
    assert_eq!(
        zone_showing_local_hour(12 * HOUR_MS),
        ("Etc/GMT+8".to_owned(), -8)
    );
    assert_eq!(
        zone_showing_local_hour(LOCAL_HOUR * HOUR_MS),
        ("Etc/UTC".to_owned(), 0)
    );
    // 20:00 UTC: +8 → 4:00 next day.
    assert_eq!(
        zone_showing_local_hour(20 * HOUR_MS),
        ("Etc/GMT-8".to_owned(), 8)
    );
    assert_eq!(american(0), "12:00 AM");
    assert_eq!(american(13 * HOUR_MS + 5 * 60_000), "1:05 PM");
    assert_eq!(german(4 * HOUR_MS + 14 * 60_000), "4:14");
}
