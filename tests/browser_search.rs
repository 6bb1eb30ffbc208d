//! Search in real Chromium: `/` focuses the box in the top bar, the results page shows the
//! match highlighted, and a result opens its conversation around the message, highlighted,
//! with history loading both ways; the page is accessible and usable on a phone.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;

use common::TestApp;
use common::browser::axe::Axe;
use common::browser::{Browser, screenshot_path};
use serde_json::json;
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(150);
const ENTER: &str = "\u{E007}";

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

async fn shot(browser: &Browser, name: &str) {
    let path = screenshot_path(&format!("search-{name}.png"));
    browser.screenshot(&path).await;
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000);
}

/// Whether the message whose text is `text` is in the list on screen.
async fn shown(browser: &Browser, text: &str) -> bool {
    browser
        .try_execute(
            "const [text] = arguments;\
             return [...document.querySelectorAll('#items > article.msg .msg-body')]\
               .some(b => b.textContent.trim() === text);",
            vec![json!(text)],
        )
        .await
        .is_ok_and(|v| v == true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_opens_its_conversation_around_the_message() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let axe = Axe::load();
    let browser = bounded(async {
        let app = TestApp::spawn_with(|c| c.send_per_minute = 100_000).await;
        let ann = app.person("ann").await;
        let bob = app.person("bob").await;
        let general = ann.general().await;
        let res = bob.post(&format!("/api/v1/conversations/{general}/join"), json!({})).await;
        assert!(res.status().is_success());
        // Far more than a page on each side of the message looked for.
        let mut needle = 0;
        for i in 1..=160 {
            let body = if i == 80 {
                "the zebra crossing plan is ready".to_string()
            } else {
                format!("General message number {i}")
            };
            let m = bob.say(general, &body).await;
            if i == 80 {
                needle = m["id"].as_i64().unwrap();
            }
        }
        browser.sign_in(&app, "ann").await;
        browser.goto(&app.url(&format!("/c/{general}"))).await;
        browser.wait_for("section.conversation #items").await;

        // `/` goes to the search box from anywhere outside a field.
        browser.execute("document.activeElement?.blur();", vec![]).await;
        browser.press(&["/"]).await;
        let focused = browser.execute("return document.activeElement?.id ?? null;", vec![]).await;
        assert_eq!(focused, "top-search");
        for c in "zebra".chars() {
            browser.press(&[&c.to_string()]).await;
        }
        browser.press(&[ENTER]).await;
        browser.wait_for(".search-results").await;
        assert_eq!(browser.path().await, "/search");
        assert_eq!(browser.text(".search-count").await, "1 message");
        assert_eq!(browser.text(".search-result mark").await, "zebra");
        assert!(browser.text(".result-where").await.contains("#general"));
        // The time is the reader's local date and time, set by the page script.
        assert!(!browser.text(".result-when").await.contains("UTC"));
        shot(&browser, "results").await;
        if let Some(axe) = &axe {
            browser.assert_accessible(axe, "the search results").await;
        }

        // The result opens the conversation around the message, highlighted.
        browser.click(".search-result a.result-link").await;
        browser.wait_for(&format!("article#m-{needle}.highlight")).await;
        assert_eq!(browser.path().await, format!("/c/{general}"));
        assert!(shown(&browser, "General message number 79").await);
        assert!(shown(&browser, "General message number 81").await);
        assert!(!shown(&browser, "General message number 160").await, "the page is around the message, not the latest");
        assert!(!shown(&browser, "General message number 1").await);
        let focused = browser.execute("return document.activeElement?.id ?? null;", vec![]).await;
        assert_eq!(focused, format!("m-{needle}"));
        shot(&browser, "in-context").await;

        // The list stacks from the bottom (`column-reverse`): scrollTop 0 is the bottom and
        // a large negative value the top.
        // Scrolling down loads the newer messages up to the latest, then live ones arrive.
        browser
            .wait_until("the newest message after scrolling down", async || {
                let _ = browser
                    .try_execute("document.getElementById('messages').scrollTop = 0;", vec![])
                    .await;
                shown(&browser, "General message number 160").await
            })
            .await;
        assert!(!browser.exists("a.to-latest").await, "the latest is on screen");
        bob.say(general, "live after catching up").await;
        browser
            .wait_until("the live message", async || shown(&browser, "live after catching up").await)
            .await;
        // Scrolling up loads the older ones down to the first.
        browser
            .wait_until("the first message after scrolling up", async || {
                let _ = browser
                    .try_execute("const s = document.getElementById('messages'); s.scrollTop = -s.scrollHeight;", vec![])
                    .await;
                shown(&browser, "General message number 1").await
            })
            .await;
        let ids: Vec<i64> = serde_json::from_value(
            browser
                .execute(
                    "return [...document.querySelectorAll('#items > article.msg[data-id]')].map(a => Number(a.dataset.id));",
                    vec![],
                )
                .await,
        )
        .unwrap();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "every message once, in order");
        assert_eq!(ids.len(), 161);

        // On a phone the results page is usable: the box, the options, the result.
        browser.set_window_size(360, 740).await;
        browser.goto(&app.url("/search?q=zebra")).await;
        browser.wait_for(".search-results").await;
        let overflow = browser
            .execute("return document.documentElement.scrollWidth > window.innerWidth;", vec![])
            .await;
        assert_eq!(overflow, false, "nothing wider than the phone");
        shot(&browser, "results-360").await;
        if let Some(axe) = &axe {
            browser.assert_accessible(axe, "the search results at 360 px").await;
        }
        // A bad filter is said under the box.
        browser.goto(&app.url("/search?q=has%3Avideo")).await;
        assert!(browser.text(".form-error").await.contains("has:video is not a filter"));

        browser.assert_no_console_errors_except("search", &["400"]).await;
        let csp = browser.csp_violations().await;
        assert!(csp.is_empty(), "CSP violations: {csp:#?}");
        app.stop().await.unwrap();
        browser
    })
    .await;
    browser.close().await;
}
