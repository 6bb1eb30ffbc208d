//! A page that loads while others write, in real Chromium: what is posted after the page was
//! rendered and before its socket said hello appears without a reload.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;

use common::browser::{Browser, screenshot_path};
use common::{PASSWORD, TestApp};
use serde_json::json;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Holds every WebSocket frame the page sends until `__hearthRelease()`: the page renders, its
/// socket opens, and its `hello` waits, so the test can post in between.
const HOLD_HELLO: &str = "
  const send = WebSocket.prototype.send;
  window.__hearthHeld = [];
  window.__hearthHolding = true;
  WebSocket.prototype.send = function (data) {
    if (window.__hearthHolding) { window.__hearthHeld.push([this, data]); return; }
    return send.call(this, data);
  };
  window.__hearthRelease = () => {
    window.__hearthHolding = false;
    for (const [ws, data] of window.__hearthHeld.splice(0)) send.call(ws, data);
  };";

#[tokio::test]
async fn a_message_posted_while_the_page_loads_appears_without_a_reload() {
    tokio::time::timeout(TEST_LIMIT, async {
        let Some(browser) = Browser::start().await else {
            return;
        };
        let app = TestApp::spawn().await;
        let bob = app.person("bob").await;
        app.create_user("ada", hearth::domain::Role::Member).await;
        let room = bob.general().await;
        bob.say(room, "before the page").await;

        browser.goto(&app.url("/login")).await;
        browser.fill("#username", "ada").await;
        browser.fill("#password", PASSWORD).await;
        browser
            .click("form[action='/login'] button[type=submit]")
            .await;
        browser.wait_for("body[data-me]").await;

        browser
            .cdp(
                "Page.addScriptToEvaluateOnNewDocument",
                json!({"source": HOLD_HELLO}),
            )
            .await;
        browser.goto(&app.url(&format!("/c/{room}"))).await;
        browser.wait_for("section.conversation #items").await;
        browser
            .wait_until("the page's hello to be held", async || {
                browser
                    .try_execute("return window.__hearthHeld.length;", vec![])
                    .await
                    .is_ok_and(|n| n.as_i64() >= Some(1))
            })
            .await;
        browser
            .execute("window.__hearthTestMark = 'still here';", vec![])
            .await;
        assert!(browser.body_text().await.contains("before the page"));

        bob.say(room, "while the page loads").await;
        browser.execute("window.__hearthRelease();", vec![]).await;
        browser.wait_for_text("while the page loads").await;
        let mark = browser
            .execute("return window.__hearthTestMark || null;", vec![])
            .await;
        assert_eq!(mark, "still here", "the page was reloaded");
        let shown = browser
            .execute(
                "return [...document.querySelectorAll('#items article.msg .msg-body')]\
                 .map(b => b.textContent.trim());",
                vec![],
            )
            .await;
        assert_eq!(
            shown,
            json!(["before the page", "while the page loads"]),
            "each message once, in order"
        );
        // On screen in a focused tab, so read: the sidebar settles with nothing unread.
        browser
            .wait_until("the sidebar to show nothing unread", async || {
                browser
                    .try_execute(
                        "return document.querySelector('#sidebar .unread-badge').hidden;",
                        vec![],
                    )
                    .await
                    .is_ok_and(|hidden| hidden == true)
            })
            .await;
        browser
            .screenshot(screenshot_path("page-load-replayed.png"))
            .await;
        browser
            .assert_no_console_errors("loading a page while bob posts")
            .await;
        browser.close().await;
    })
    .await
    .expect("browser test did not finish in time");
}
