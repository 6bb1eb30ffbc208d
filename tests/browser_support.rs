//! The support inbox in real Chromium: a member writes to the admins; two admins see it arrive
//! in their inbox, one answers, the other sees the answer, and each one's unread count clears
//! on their own; an internal note reaches the admins live and never the member's page. A
//! channel link shows an outsider a preview from which they join. The new pages pass axe on a
//! desktop and on a 360 px phone.
//!
//! Skipped with a loud message when Chromium, chromedriver or axe-core is missing, unless `CI`
//! is set: then a missing one fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::{PASSWORD, TestApp};
use hearth::domain::Role;
use serde_json::{Value, json};
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(240);

/// One test drives its browsers at a time: the machine is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("body[data-me]").await;
}

/// Waits until the page's live connection said `ready` (it then re-reads the unread counts).
async fn wait_live(browser: &Browser) {
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

async fn open(browser: &Browser, app: &TestApp, path: &str, ready: &str) {
    browser.goto(&app.url(path)).await;
    browser.wait_for(ready).await;
    wait_live(browser).await;
}

/// The number on the sidebar's Inbox badge (0 when hidden).
async fn inbox_badge(browser: &Browser) -> i64 {
    let script = "const b = document.querySelector('#sidebar a.inbox-link .unread-badge');\
                  return b && !b.hidden ? Number(b.dataset.unread) : 0;";
    browser.execute(script, vec![]).await.as_i64().unwrap_or(0)
}

/// The inbox list's text, read in one go (the list is replaced whenever a thread changes).
async fn inbox_text(browser: &Browser) -> String {
    let script = "return document.getElementById('inbox-list')?.textContent ?? '';";
    let text = browser.execute(script, vec![]).await;
    text.as_str().unwrap_or_default().to_owned()
}

async fn wait_badge(browser: &Browser, who: &str, n: i64) {
    browser
        .wait_until(&format!("{who}'s inbox badge to say {n}"), async || {
            inbox_badge(browser).await == n
        })
        .await;
}

async fn assert_clean(browser: &Browser, who: &str) {
    browser.assert_no_console_errors(who).await;
    let csp = browser.csp_violations().await;
    assert!(csp.is_empty(), "{who}: CSP violations: {csp:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_writes_and_two_admins_answer_with_notes_kept_from_the_member() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(ada_b) = Browser::start().await else {
        return;
    };
    let ann_b = Browser::start().await.expect("a second browser");
    let max_b = Browser::start().await.expect("a third browser");
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let ann = app.person_with_role("ann", Role::Admin).await;
        app.person_with_role("max", Role::Admin).await;
        app.person("ada").await;

        // The admins wait in their inboxes.
        for (b, name) in [(&ann_b, "ann"), (&max_b, "max")] {
            sign_in(b, &app, name).await;
            open(b, &app, "/inbox", "#inbox-list").await;
            assert_eq!(inbox_badge(b).await, 0);
        }

        // The member writes to the admins from the sidebar's entry.
        sign_in(&ada_b, &app, "ada").await;
        ada_b.click("#sidebar a.support-link").await;
        ada_b.wait_for_path("/support").await;
        ada_b
            .fill("#support-body", "My avatar upload fails every time")
            .await;
        ada_b
            .click("form[action='/support'] button[type=submit]")
            .await;
        ada_b
            .wait_for("section.conversation #items article.msg")
            .await;
        wait_live(&ada_b).await;
        let id: i64 = ada_b
            .execute("return Number(document.body.dataset.conversation);", vec![])
            .await
            .as_i64()
            .unwrap();
        assert_eq!(ada_b.text("#conv-title .conv-name").await, "Admins");

        // Both inboxes show it live, unread for each.
        for (b, who) in [(&ann_b, "ann"), (&max_b, "max")] {
            b.wait_until(&format!("{who}'s inbox to list ada"), async || {
                inbox_text(b).await.contains("My avatar upload fails")
            })
            .await;
            wait_badge(b, who, 1).await;
            assert!(b.exists(".inbox-row.unread").await);
        }
        ann_b
            .screenshot(screenshot_path("support-inbox-desktop.png"))
            .await;

        // Ann opens it from her inbox and answers: her count clears, Max's does not.
        ann_b.click(&format!(".inbox-row a[href='/c/{id}']")).await;
        ann_b.wait_for("#support-panel").await;
        wait_live(&ann_b).await;
        assert_eq!(ann_b.text("#conv-title .conv-name").await, "ada");
        ann_b
            .fill("#composer textarea[name=body]", "Which browser do you use?")
            .await;
        ann_b
            .send_keys("#composer textarea[name=body]", "\u{E007}")
            .await;
        wait_badge(&ann_b, "ann", 0).await;
        ada_b.wait_for_text("Which browser do you use?").await;
        max_b
            .wait_until("max's inbox to show ann's answer", async || {
                inbox_text(&max_b).await.contains("Which browser")
            })
            .await;
        wait_badge(&max_b, "max", 2).await;
        assert_eq!(inbox_badge(&ann_b).await, 0, "ann's count is her own");

        // Max opens it, sees the answer, and reads: his count clears on its own.
        max_b.click(&format!(".inbox-row a[href='/c/{id}']")).await;
        max_b.wait_for("#support-panel").await;
        wait_live(&max_b).await;
        assert!(
            max_b
                .text("#items")
                .await
                .contains("Which browser do you use?")
        );
        // Reading the newest messages marks them read; the page tells the server so.
        wait_badge(&max_b, "max", 0).await;
        assert_eq!(inbox_badge(&ann_b).await, 0);

        // Max leaves an internal note: Ann sees it arrive; Ada's page never holds it.
        let secret = "Note: ada is on an old Safari, see the FAQ";
        max_b
            .click("#support-panel details.notes-box summary")
            .await;
        max_b.fill("#note-body", secret).await;
        max_b.click(".note-form button[type=submit]").await;
        max_b.wait_for_text(secret).await;
        ann_b
            .wait_until("the note to reach ann live", async || {
                ann_b.text("#notes").await.contains("old Safari")
            })
            .await;
        // Something after the note, so Ada's socket has certainly had its chance.
        let res = ann
            .post(
                &format!("/api/v1/conversations/{id}/messages"),
                json!({"body": "Could you try another browser?"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        ada_b.wait_for_text("Could you try another browser?").await;
        let source = ada_b.source().await;
        let dom = ada_b
            .execute("return document.documentElement.outerHTML;", vec![])
            .await;
        for (what, html) in [("source", source.as_str()), ("DOM", dom.as_str().unwrap())] {
            assert!(!html.contains("old Safari"), "the note in ada's {what}");
            assert!(!html.contains("Internal note"), "notes in ada's {what}");
            assert!(
                !html.contains("support-panel"),
                "the admins' panel in ada's {what}"
            );
        }
        ada_b
            .screenshot(screenshot_path("support-member-desktop.png"))
            .await;
        ann_b
            .screenshot(screenshot_path("support-admin-desktop.png"))
            .await;

        for (b, who) in [(&ada_b, "ada"), (&ann_b, "ann"), (&max_b, "max")] {
            assert_clean(b, who).await;
        }
        app.stop().await.unwrap();
    })
    .await
    .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    ada_b.close().await;
    ann_b.close().await;
    max_b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_opens_a_channel_link_sees_the_preview_and_joins() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        app.person("bob").await;
        let res = ann
            .post(
                "/api/v1/conversations",
                json!({"kind": "channel", "name": "gardening", "topic": "Tomatoes and more"}),
            )
            .await;
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        ann.say(id, "The first tomatoes are in").await;

        sign_in(&browser, &app, "bob").await;
        open(&browser, &app, &format!("/c/{id}"), "section.preview").await;
        assert!(browser.text("#preview-title").await.contains("gardening"));
        assert!(
            browser
                .text(".preview")
                .await
                .contains("The first tomatoes are in")
        );
        assert!(!browser.exists("#composer").await);
        browser
            .screenshot(screenshot_path("preview-desktop.png"))
            .await;
        browser.click_text("Join #gardening").await;
        browser.wait_for("#composer").await;
        assert_eq!(browser.path().await, format!("/c/{id}"));
        assert!(
            browser
                .text("#items")
                .await
                .contains("The first tomatoes are in")
        );
        assert_clean(&browser, "bob").await;
        app.stop().await.unwrap();
    })
    .await
    .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    browser.close().await;
}

/// `/inbox`, `/support`, an admin's support conversation and a channel preview, checked by axe.
async fn new_pages_pass_axe(width: u32, height: u32, label: &str) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(axe) = Axe::load() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        app.person_with_role("ann", Role::Admin).await;
        let ada = app.person("ada").await;
        app.person("bob").await;
        let res = ada.post("/api/v1/support", json!({})).await;
        let support = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        ada.say(support, "Hello, a question about *invites*").await;
        let res = ada
            .post(
                "/api/v1/conversations",
                json!({"kind": "channel", "name": "gardening", "topic": "Tomatoes and more"}),
            )
            .await;
        let channel = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        ada.say(channel, "The first tomatoes are in").await;
        browser.set_window_size(width, height).await;

        let mut found = Vec::new();
        let mut check = async |path: &str, ready: &str, name: &str| {
            open(&browser, &app, path, ready).await;
            browser
                .screenshot(screenshot_path(&format!("a11y-{name}-{label}.png")))
                .await;
            for v in browser.axe_violations(&axe).await {
                found.push(format!("{name} ({label}): {v}"));
            }
        };
        sign_in(&browser, &app, "ann").await;
        check("/inbox", "#inbox-list", "inbox").await;
        let path = format!("/c/{support}");
        check(&path, "#support-panel", "support-admin").await;
        sign_out_and_in(&browser, &app, "bob").await;
        check("/support", "form[action='/support']", "support-compose").await;
        check(&format!("/c/{channel}"), "section.preview", "preview").await;
        assert!(
            found.is_empty(),
            "{} accessibility problem(s) at {width}x{height}:\n{}",
            found.len(),
            found.join("")
        );
        browser.assert_no_console_errors(label).await;
        app.stop().await.unwrap();
    })
    .await
    .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    browser.close().await;
}

/// Leaves the page (so none of its script runs on), forgets the session and signs in as
/// `username`.
async fn sign_out_and_in(browser: &Browser, app: &TestApp, username: &str) {
    // A page of this site that runs no script, so the cookies of the site can be deleted.
    browser.goto(&app.url("/healthz")).await;
    browser
        .cmd(reqwest::Method::DELETE, "/cookie", None)
        .await
        .expect("deleting the cookies");
    sign_in(browser, app, username).await;
    // What the switch itself logged (a plain page's missing favicon) is not the pages' doing.
    browser.clear_console().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_pass_axe_on_a_desktop() {
    new_pages_pass_axe(WIDTH, HEIGHT, "desktop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_pass_axe_on_a_360px_phone() {
    new_pages_pass_axe(360, 740, "phone").await;
}
