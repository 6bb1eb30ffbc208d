//! Lines about the conversation in real Chromium: they appear live among the messages as
//! people are added, change the topic and leave; "seen by" names only those who read; and the
//! timeline built live is the one a fresh page load shows.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is set:
//! then a missing browser fails the run.

mod common;

use common::browser::{Browser, screenshot_path};
use common::{PASSWORD, Person, TestApp};
use serde_json::{Value, json};
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// Every row of the timeline as "id class text", in page order.
const ROWS: &str = "return [...document.querySelectorAll('#items > article.msg, #items > .notice')]\
    .map(r => `${r.dataset.id} ${r.className} ${r.textContent.replace(/\\s+/g, ' ').trim()}`);";

async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("body[data-me]").await;
}

/// Opens a conversation and waits until its live connection is up (the page script then
/// re-reads the unread counts, which the Resource Timing API records).
async fn open(browser: &Browser, app: &TestApp, id: i64) {
    browser.goto(&app.url(&format!("/c/{id}"))).await;
    browser.wait_for("section.conversation #items").await;
    let script = "return performance.getEntriesByType('resource')\
                  .some(e => new URL(e.name).pathname === '/api/v1/unread');";
    browser
        .wait_until("the live connection to be ready", async || {
            browser
                .try_execute(script, vec![])
                .await
                .is_ok_and(|v| v == true)
        })
        .await;
}

async fn rows(browser: &Browser) -> Vec<String> {
    serde_json::from_value(browser.execute(ROWS, vec![]).await).expect("a list of rows")
}

async fn wait_for_seen(browser: &Browser, text: &str) {
    browser
        .wait_until(&format!("seen-by to say {text:?}"), async || {
            browser.text("#seen").await == text
        })
        .await;
}

async fn api(p: &Person, method: &str, path: &str, body: Value) -> u16 {
    let res = match method {
        "POST" => p.post(path, body).await,
        "PATCH" => p.patch(path, body).await,
        other => panic!("{other}"),
    };
    res.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lines_appear_live_and_seen_by_names_only_readers() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let (bob, cat, ada) = (
            app.person("bob").await,
            app.person("cat").await,
            app.person("ada").await,
        );
        let status = api(
            &bob,
            "POST",
            "/api/v1/conversations",
            json!({"kind": "group", "name": "planning", "members": [cat.id]}),
        )
        .await;
        assert_eq!(status, 201);
        let group = bob.json("/api/v1/conversations").await["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "planning")
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let welcome = bob.say(group, "welcome to planning").await["id"]
            .as_i64()
            .unwrap();
        let read = format!("/api/v1/conversations/{group}/read");
        assert_eq!(api(&cat, "POST", &read, json!({})).await, 204);

        sign_in(&browser, &app, "bob").await;
        open(&browser, &app, group).await;
        browser
            .execute("window.__hearthTestMark = 'still here';", vec![])
            .await;
        assert_eq!(browser.text("#seen").await, "Seen by cat");

        // Ada is added: the line appears below the message, and nobody claims she saw it.
        let members = format!("/api/v1/conversations/{group}/members");
        assert_eq!(
            api(&bob, "POST", &members, json!({"user_id": ada.id})).await,
            204
        );
        let added = browser.wait_for(".notice[data-notice='added']").await;
        let _ = added;
        assert_eq!(
            browser
                .text(".notice[data-notice='added'] .notice-text")
                .await,
            format!(
                "bob added ada {}",
                browser.text(".notice[data-notice='added'] time").await
            )
        );
        let order = rows(&browser).await;
        assert!(
            order[0].starts_with(&format!("{welcome} ")) && order[1].contains("added ada"),
            "{order:?}"
        );
        assert_eq!(browser.text("#seen").await, "Seen by cat");

        // Only once she has read it does bob see her among the readers.
        assert_eq!(api(&ada, "POST", &read, json!({})).await, 204);
        wait_for_seen(&browser, "Seen by ada, cat").await;

        // Cat sets the topic, then leaves: two more lines, the header follows.
        let conversation = format!("/api/v1/conversations/{group}");
        assert_eq!(
            api(&cat, "PATCH", &conversation, json!({"topic": "Q4 goals"})).await,
            200
        );
        browser.wait_for(".notice[data-notice='updated']").await;
        let topic_line = browser
            .text(".notice[data-notice='updated'] .notice-text")
            .await;
        assert!(
            topic_line.starts_with("cat set the topic to Q4 goals"),
            "{topic_line}"
        );
        assert_eq!(
            browser.text(".notice[data-notice='updated'] q").await,
            "Q4 goals",
            "the topic is quoted"
        );
        assert_eq!(browser.text(".conv-head .topic").await, "Q4 goals");
        assert_eq!(
            api(&cat, "POST", &format!("{conversation}/leave"), json!({})).await,
            204
        );
        browser.wait_for(".notice[data-notice='left']").await;

        // Bob writes after the lines: his message starts a new run, below them.
        browser
            .fill("#composer textarea[name=body]", "back to work")
            .await;
        browser
            .send_keys("#composer textarea[name=body]", "\u{E007}")
            .await;
        browser
            .wait_until("bob's message on screen", async || {
                rows(&browser)
                    .await
                    .last()
                    .is_some_and(|r| r.contains("back to work") && !r.contains("pending"))
            })
            .await;
        let live = rows(&browser).await;
        assert_eq!(live.len(), 5, "{live:?}");
        let ids: Vec<i64> = live
            .iter()
            .map(|r| r.split(' ').next().unwrap().parse().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{live:?}");
        assert!(
            live[4].starts_with(&format!("{} msg mine ", ids[4])),
            "after a line a message is not a continuation: {live:?}"
        );
        let mark = browser
            .execute("return window.__hearthTestMark || null;", vec![])
            .await;
        assert_eq!(mark, "still here", "all of it arrived without a reload");
        let day_separators = browser.count("#items > .day-sep").await;
        assert_eq!(day_separators, 1, "one day, one separator");

        let path = screenshot_path("joins-lines.png");
        browser.screenshot(&path).await;
        assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));

        // A fresh load of the page shows the very timeline built live.
        browser.goto(&app.url(&format!("/c/{group}"))).await;
        browser.wait_for("section.conversation #items").await;
        browser
            .wait_until("the page to be rebuilt", async || {
                rows(&browser).await.len() == 5
            })
            .await;
        assert_eq!(rows(&browser).await, live);
        assert_eq!(browser.text("#seen").await, "");

        browser.assert_no_console_errors("bob").await;
        let csp = browser.csp_violations().await;
        assert!(csp.is_empty(), "CSP violations: {csp:#?}");
        app.stop().await.unwrap();
    })
    .await
    .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    browser.close().await;
}
