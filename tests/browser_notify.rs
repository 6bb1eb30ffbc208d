//! Notifications in real Chromium, end to end: a direct message sent by someone else reaches
//! each of the person's open tabs as a notice from the server, which the page passes to the
//! service worker (that shows one notification per message), leading to the message; nothing
//! for a conversation set to "nothing". The settings page works, is axe clean and fits 360 px.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;

use common::TestApp;
use common::browser::axe::Axe;
use common::browser::{Browser, screenshot_path};
use reqwest::Method;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// One test drives its browser at a time: the machine running them is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn with_browser<F>(test: impl FnOnce(Browser) -> F)
where
    F: Future<Output = Browser>,
{
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let browser = tokio::time::timeout(TEST_LIMIT, test(browser))
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    browser.close().await;
}

async fn shot(browser: &Browser, name: &str) {
    let path = screenshot_path(&format!("notify-{name}.png"));
    browser.screenshot(&path).await;
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000);
}

/// Runs `script` (an async body ending in `done(value)`) in the page; its value.
async fn run(browser: &Browser, script: &str) -> Value {
    let body = format!("const done = arguments[arguments.length - 1];\n{script}");
    browser
        .execute_async(&body, vec![])
        .await
        .unwrap_or_else(|e| panic!("running in the page failed: {e}\n{script}"))
}

/// Waits until the page is controlled by the active service worker.
async fn wait_controlled(browser: &Browser) {
    browser
        .wait_until("the service worker controls the page", async || {
            browser
                .try_execute(
                    "return !!navigator.serviceWorker.controller \
                     && navigator.serviceWorker.controller.state === 'activated';",
                    vec![],
                )
                .await
                .is_ok_and(|v| v == true)
        })
        .await;
}

/// The notifications the worker shows now: `[{title, body, tag, url}]`.
async fn notifications(browser: &Browser) -> Vec<Value> {
    let list = run(
        browser,
        "navigator.serviceWorker.ready.then(r => r.getNotifications())\
           .then(ns => done(ns.map(n => ({title: n.title, body: n.body, tag: n.tag,\
                                          url: n.data && n.data.url}))),\
                 e => done({error: String(e)}));",
    )
    .await;
    list.as_array()
        .unwrap_or_else(|| panic!("getNotifications: {list}"))
        .clone()
}

async fn new_tab(browser: &Browser) -> String {
    let tab = browser
        .cmd(Method::POST, "/window/new", Some(json!({"type": "tab"})))
        .await
        .expect("a new tab");
    let handle = tab["handle"].as_str().expect("its handle").to_owned();
    browser
        .cmd(Method::POST, "/window", Some(json!({"handle": handle})))
        .await
        .expect("switching tabs");
    handle
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direct_message_is_one_notification_across_two_tabs_leading_to_the_message() {
    with_browser(|browser| async move {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        let bob = app.person("bob").await;
        let general = ann.general().await;
        let res = bob
            .post("/api/v1/directs", json!({"user_id": ann.id}))
            .await;
        let dm = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let res = ann
            .post(
                "/api/v1/conversations",
                json!({"kind": "group", "name": "quiet-group", "members": [bob.id]}),
            )
            .await;
        let quiet = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

        // Granted before any page (or worker) of the site runs, as a person who allowed
        // notifications earlier would have it.
        browser
            .cdp(
                "Browser.grantPermissions",
                json!({"origin": app.url(""), "permissions": ["notifications"]}),
            )
            .await;
        browser.sign_in(&app, "ann").await;
        // Ann sets the group to nothing, from its bell.
        browser.goto(&app.url(&format!("/c/{quiet}"))).await;
        browser.click("details.notify-menu > summary").await;
        shot(&browser, "bell").await;
        browser.click("details.notify-menu input[value=none]").await;
        browser
            .click("details.notify-menu button[type=submit]")
            .await;
        browser
            .wait_until("the bell says off", async || {
                browser
                    .try_find("details.notify-menu > summary[aria-label='Notifications: Off']")
                    .await
                    .is_ok_and(|e| e.is_some())
            })
            .await;

        // Two tabs on #general, each watched for what it passes to the service worker.
        let spy = "window.__toWorker = []; const pass = ServiceWorker.prototype.postMessage;\
             ServiceWorker.prototype.postMessage = function (m, t) {\
               if (m && m.type === 'notify') window.__toWorker.push(m);\
               return pass.call(this, m, t); };\
             return true;";
        browser.goto(&app.url(&format!("/c/{general}"))).await;
        wait_controlled(&browser).await;
        browser.execute(spy, vec![]).await;
        let first = browser
            .cmd(Method::GET, "/window", None)
            .await
            .expect("the first tab");
        let first = first.as_str().unwrap().to_owned();
        let second = new_tab(&browser).await;
        browser.goto(&app.url(&format!("/c/{general}"))).await;
        wait_controlled(&browser).await;
        browser.execute(spy, vec![]).await;
        tokio::time::sleep(Duration::from_millis(500)).await;

        bob.say(quiet, "nobody is told of this").await;
        let sent = bob.say(dm, "Lunch at noon?").await;
        let id = sent["id"].as_i64().unwrap();
        // Each tab passes the notice on once; the group set to nothing sends none.
        for tab in [&second, &first] {
            browser
                .cmd(Method::POST, "/window", Some(json!({"handle": tab})))
                .await
                .expect("switching tabs");
            browser
                .wait_until("the notice passed to the worker", async || {
                    browser
                        .execute("return window.__toWorker.length;", vec![])
                        .await
                        == 1
                })
                .await;
            let passed = browser.execute("return window.__toWorker;", vec![]).await;
            assert_eq!(
                passed,
                json!([{"type": "notify", "id": id, "conversation": dm, "title": "bob",
                        "body": "Lunch at noon?", "url": format!("/c/{dm}?at={id}#m-{id}"),
                        "tag": format!("c{dm}")}])
            );
        }
        // The worker shows it once, however many tabs passed it on. (Headless Chromium may
        // take a shown notification away again, so its absence is not held against the page;
        // tests/browser_app.rs checks the worker's rule itself.)
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let shown = notifications(&browser).await;
        assert!(shown.len() <= 1, "one notification for two tabs: {shown:?}");
        if let Some(n) = shown.first() {
            assert_eq!(n["title"], "bob");
            assert_eq!(n["url"], format!("/c/{dm}?at={id}#m-{id}"));
        }
        // The tab's title carries the unread count.
        let title = browser.title().await;
        // Two unread: the direct, and the group set to nothing (a level is not a mute).
        assert!(title.starts_with("(2) "), "{title}");
        browser.assert_no_console_errors("two tabs").await;
        browser
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_settings_page_turns_notifications_on_and_pauses_them() {
    with_browser(|browser| async move {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        ann.general().await;
        browser.sign_in(&app, "ann").await;
        browser.goto(&app.url("/account/notifications")).await;
        // Nothing is asked on load: the button asks.
        browser
            .wait_until("the enable button", async || {
                browser
                    .try_execute(
                        "return !document.getElementById('notify-enable').hidden;",
                        vec![],
                    )
                    .await
                    .is_ok_and(|v| v == true)
            })
            .await;
        let state = browser.text("#device-state").await;
        assert!(state.contains("off for this device"), "{state}");
        shot(&browser, "settings").await;
        if let Some(axe) = Axe::load() {
            let violations = browser.axe_violations(&axe).await;
            assert!(violations.is_empty(), "axe: {violations:?}");
        }
        browser
            .cdp(
                "Browser.grantPermissions",
                json!({"origin": app.url(""), "permissions": ["notifications"]}),
            )
            .await;
        browser.goto(&app.url("/account/notifications")).await;
        browser
            .wait_until("notifications on", async || {
                browser
                    .text("#device-state")
                    .await
                    .contains("on for this device")
            })
            .await;
        // Pause for an hour: the page says until when.
        browser.click("form.inline button[type=submit]").await;
        browser
            .wait_until("quiet", async || {
                browser
                    .body_text()
                    .await
                    .contains("Nothing notifies you until")
            })
            .await;
        assert!(
            app.count("SELECT count(*) FROM users WHERE quiet_until IS NOT NULL") == 1,
            "do not disturb is stored"
        );
        browser.set_window_size(360, 800).await;
        browser.goto(&app.url("/account/notifications")).await;
        let wide = browser
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await;
        assert_eq!(wide, true, "fits 360 px");
        shot(&browser, "settings-360").await;
        browser.assert_no_console_errors("settings").await;
        browser
    })
    .await;
}
