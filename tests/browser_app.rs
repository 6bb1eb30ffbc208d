//! The installable app in real Chromium: Chromium finds it installable, its service worker
//! runs at the root scope, a reload with the server down opens the copy this device kept
//! (the conversation list, the conversation, a banner saying so), a message written then
//! waits on the device and is delivered exactly once when the server is back, and the
//! worker shows one notification per message however many tabs ask, none for the
//! conversation someone is reading.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, screenshot_path};
use common::{Person, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);
const ENTER: &str = "\u{E007}";
const COMPOSER: &str = "#composer textarea[name=body]";

/// One test drives its browser at a time: the machine running them is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// Keeps a screenshot and checks it is a non-trivial PNG.
async fn shot(browser: &Browser, name: &str) {
    let path = screenshot_path(&format!("app-{name}.png"));
    browser.screenshot(&path).await;
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{} is not a PNG",
        path.display()
    );
}

/// Runs `script` (an async function body ending in `done(value)`) in the page; its value.
async fn run(browser: &Browser, script: &str, args: Vec<Value>) -> Value {
    let body = format!("const done = arguments[arguments.length - 1];\n{script}");
    browser
        .execute_async(&body, args)
        .await
        .unwrap_or_else(|e| panic!("running in the page failed: {e}\n{script}"))
}

/// Waits until the page is controlled by the active service worker; its registration's scope.
async fn wait_controlled(browser: &Browser) -> String {
    let deadline = std::time::Instant::now() + common::browser::WAIT;
    loop {
        let controlled = browser
            .try_execute(
                "return !!navigator.serviceWorker.controller \
                 && navigator.serviceWorker.controller.state === 'activated';",
                vec![],
            )
            .await;
        if controlled.is_ok_and(|v| v == true) {
            break;
        }
        if std::time::Instant::now() > deadline {
            let state = run(
                browser,
                "navigator.serviceWorker.getRegistration().then(r => done(r ? {\
                   installing: r.installing && r.installing.state,\
                   waiting: r.waiting && r.waiting.state,\
                   active: r.active && r.active.state,\
                   controller: !!navigator.serviceWorker.controller} : 'no registration'));",
                vec![],
            )
            .await;
            panic!("the service worker never controlled the page: {state}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scope = run(
        browser,
        "navigator.serviceWorker.ready.then(r => done(r.scope));",
        vec![],
    )
    .await;
    scope.as_str().unwrap_or_default().to_owned()
}

/// Waits until the worker keeps a copy of the page at `path`.
async fn wait_kept(browser: &Browser, path: &str) {
    let script = "const done = arguments[arguments.length - 1];\
        caches.match(arguments[0]).then(r => done(!!r), () => done(false));";
    browser
        .wait_until(&format!("a kept copy of {path}"), async || {
            browser
                .execute_async(script, vec![json!(path)])
                .await
                .is_ok_and(|v| v == true)
        })
        .await;
}

/// The notifications the worker shows now: `[{title, tag, url}]`.
async fn notifications(browser: &Browser) -> Vec<Value> {
    let list = run(
        browser,
        "navigator.serviceWorker.ready\
           .then(r => r.getNotifications())\
           .then(ns => done(ns.map(n => ({title: n.title, tag: n.tag, url: n.data && n.data.url}))),\
                 e => done({error: String(e)}));",
        vec![],
    )
    .await;
    list.as_array()
        .unwrap_or_else(|| panic!("getNotifications: {list}"))
        .clone()
}

/// Posts a `notify` message to the worker from the page on screen, with a port for its
/// answer; whether it showed a notification.
///
/// Waiting for the answer matters beyond the answer itself: Chromium reconciles the stored
/// notifications with those on display when `getNotifications` runs, and one asked while a
/// notification is being shown can find it not displayed yet and forget it.
async fn notify(browser: &Browser, message: Value) -> bool {
    let answer = run(
        browser,
        "const channel = new MessageChannel();\
         channel.port1.onmessage = (e) => done(e.data);\
         navigator.serviceWorker.ready.then(r => r.active.postMessage(arguments[0], [channel.port2]));",
        vec![message.clone()],
    )
    .await;
    assert_eq!(answer["id"], message["id"], "the worker's answer: {answer}");
    answer["shown"]
        .as_bool()
        .unwrap_or_else(|| panic!("the worker's answer: {answer}"))
}

/// The notifications once `want` holds of them, read a second apart (after a push, which
/// answers nobody, so as not to read while one is being shown).
async fn settled_notifications(browser: &Browser, want: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = std::time::Instant::now() + common::browser::WAIT;
    loop {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let shown = notifications(browser).await;
        if want(&shown) || std::time::Instant::now() > deadline {
            return shown;
        }
    }
}

/// Delivers a Web Push message with `payload` to the site's worker, as a push service would.
/// The CDP command wants the registration's id, which a fresh profile numbers from 0; the
/// ids that name no registration are refused, harmlessly.
async fn push(browser: &Browser, app: &TestApp, payload: Value) {
    let mut delivered = false;
    for id in 0..4 {
        let params = json!({
            "origin": app.url(""),
            "registrationId": id.to_string(),
            "data": payload.to_string(),
        });
        let res = browser
            .cmd(
                Method::POST,
                "/goog/cdp/execute",
                Some(json!({"cmd": "ServiceWorker.deliverPushMessage", "params": params})),
            )
            .await;
        delivered |= res.is_ok();
    }
    assert!(delivered, "no registration took the push");
}

/// Opens a new tab and switches to it; its handle.
async fn new_tab(browser: &Browser) -> String {
    let tab = browser
        .cmd(Method::POST, "/window/new", Some(json!({"type": "tab"})))
        .await
        .expect("a new tab");
    let handle = tab["handle"].as_str().expect("its handle").to_owned();
    switch_to(browser, &handle).await;
    handle
}

async fn switch_to(browser: &Browser, handle: &str) {
    browser
        .cmd(Method::POST, "/window", Some(json!({"handle": handle})))
        .await
        .expect("switching tabs");
}

async fn current_tab(browser: &Browser) -> String {
    let handle = browser
        .cmd(Method::GET, "/window", None)
        .await
        .expect("the current tab");
    handle.as_str().unwrap().to_owned()
}

/// The id of #general, and Ann (signed in over HTTP) with a message from Bob in it.
async fn scene(app: &TestApp) -> (Person, i64) {
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let general = ann.general().await;
    bob.say(general, "Said before the server went away").await;
    (ann, general)
}

/// Starts a browser (or skips), then runs `test` with it, one test at a time.
async fn with_browser<F>(test: impl FnOnce(Browser) -> F)
where
    F: Future<Output = Browser>,
{
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let browser = bounded(test(browser)).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_finds_the_app_installable_with_its_worker_at_the_root() {
    with_browser(|browser| async move {
        let app = TestApp::spawn().await;
        let (_ann, general) = scene(&app).await;
        browser.sign_in(&app, "ann").await;
        browser.wait_for_conversation().await;

        let scope = wait_controlled(&browser).await;
        assert_eq!(scope, app.url("/"), "the worker's scope is the whole site");

        let manifest = browser.cdp("Page.getAppManifest", json!({})).await;
        assert_eq!(
            manifest["url"],
            app.url("/manifest.webmanifest"),
            "{manifest}"
        );
        assert_eq!(manifest["errors"], json!([]), "{manifest}");
        let parsed: Value = serde_json::from_str(manifest["data"].as_str().unwrap()).unwrap();
        assert_eq!(parsed["name"], "Hearth");

        let installable = browser.cdp("Page.getInstallabilityErrors", json!({})).await;
        assert_eq!(
            installable["installabilityErrors"],
            json!([]),
            "Chromium's reasons not to install: {installable}"
        );

        // The worker kept this build's assets, and a copy of the page it opened on.
        wait_kept(&browser, &format!("/c/{general}")).await;
        let css = browser
            .execute(
                "return document.querySelector('link[rel=stylesheet]').getAttribute('href');",
                vec![],
            )
            .await;
        let kept = run(
            &browser,
            "caches.match(arguments[0]).then(r => done(!!r));",
            vec![css],
        )
        .await;
        assert_eq!(kept, true, "the stylesheet is kept");
        browser.assert_no_console_errors("installing").await;

        // Signing out leaves nothing of Ann's on the device: no copies, no worker.
        browser.click("form.logout button[type=submit]").await;
        browser.wait_for_path("/login").await;
        let left = run(
            &browser,
            "Promise.all([caches.keys(), navigator.serviceWorker.getRegistrations()])\
               .then(([c, r]) => done({caches: c, workers: r.length}));",
            vec![],
        )
        .await;
        assert_eq!(
            left,
            json!({"caches": [], "workers": 0}),
            "after signing out"
        );
        app.stop().await.unwrap();
        browser
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_the_app_opens_on_what_it_last_saw_and_sends_what_was_written_once() {
    with_browser(|browser| async move {
        let mut app = TestApp::spawn().await;
        let (ann, general) = scene(&app).await;
        browser.sign_in(&app, "ann").await;
        browser.wait_for_conversation().await;
        wait_controlled(&browser).await;
        let page = format!("/c/{general}");
        wait_kept(&browser, &page).await;

        app.pause().await;
        // Opened again with the server away: the copy, the list beside it, and the banner.
        browser.goto(&app.url("/")).await;
        browser.wait_for("#offline-banner:not([hidden])").await;
        assert_eq!(browser.path().await, page, "/ opens the conversation last seen");
        assert!(
            browser
                .text("#offline-banner")
                .await
                .contains("You are offline — showing what this device last saw")
        );
        assert!(browser.exists("#sidebar a.conv").await, "the conversation list");
        browser
            .wait_for_text("Said before the server went away")
            .await;
        assert!(
            !browser.exists("#banner:not([hidden])").await
                || !browser
                    .execute(
                        "return getComputedStyle(document.getElementById('banner')).display !== 'none';",
                        vec![],
                    )
                    .await
                    .as_bool()
                    .unwrap(),
            "one banner at a time"
        );
        let actions = browser
            .execute(
                "const a = document.querySelector('.msg-actions');\
                 return a ? getComputedStyle(a).display : 'none';",
                vec![],
            )
            .await;
        assert_eq!(actions, "none", "the conversation is read-only offline");
        let header = browser
            .execute(
                "return getComputedStyle(document.querySelector('.conv-head .button')).display;",
                vec![],
            )
            .await;
        assert_eq!(header, "none", "its header's buttons rest offline");

        // Written offline: it waits on the device.
        let text = "Written while the server was away";
        browser.fill(COMPOSER, text).await;
        browser.send_keys(COMPOSER, ENTER).await;
        browser.wait_for("article.msg.pending.waiting").await;
        assert_eq!(
            browser.text("article.msg.pending.waiting .msg-time").await,
            "waiting to send"
        );
        shot(&browser, "offline").await;
        if let Some(axe) = Axe::load() {
            browser.assert_accessible(&axe, "the offline copy").await;
        }
        browser.set_window_size(360, 740).await;
        // The list slides away as the window narrows.
        tokio::time::sleep(Duration::from_millis(600)).await;
        shot(&browser, "offline-phone").await;
        browser
            .set_window_size(common::browser::WIDTH, common::browser::HEIGHT)
            .await;

        // Still waiting after a reload, still offline.
        browser.goto(&app.url(&page)).await;
        browser.wait_for("#offline-banner:not([hidden])").await;
        browser.wait_for("article.msg.pending.waiting").await;
        assert_eq!(browser.count("article.msg.pending").await, 1);

        app.resume().await;
        let sent = "article.msg:not(.pending) .msg-body";
        browser
            .wait_until("the message to be delivered and shown", async || {
                let shown = browser
                    .try_execute(
                        "return [...document.querySelectorAll(arguments[0])]\
                           .filter(b => b.textContent.includes(arguments[1])).length;",
                        vec![json!(sent), json!(text)],
                    )
                    .await;
                shown.is_ok_and(|n| n == 1)
            })
            .await;
        browser.wait_for_gone("article.msg.pending").await;
        browser.wait_for("#offline-banner[hidden]").await;
        // Whatever retries there were, it is one message.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let stored = app.count(&format!(
            "SELECT count(*) FROM messages WHERE body = '{text}'"
        ));
        assert_eq!(stored, 1, "delivered exactly once");
        let history = ann
            .json(&format!("/api/v1/conversations/{general}/messages"))
            .await;
        let copies = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["body"] == text)
            .count();
        assert_eq!(copies, 1);
        let on_page = browser
            .execute(
                "return [...document.querySelectorAll('article.msg .msg-body')]\
                   .filter(b => b.textContent.includes(arguments[0])).length;",
                vec![json!(text)],
            )
            .await;
        assert_eq!(on_page, 1, "shown once");
        let waiting = browser
            .execute(
                "return Object.keys(localStorage).filter(k => k.startsWith('hearth:outbox:')).length;",
                vec![],
            )
            .await;
        assert_eq!(waiting, 0, "nothing is left waiting on the device");
        shot(&browser, "back-online").await;
        app.stop().await.unwrap();
        browser
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_notification_per_message_and_none_for_the_conversation_being_read() {
    with_browser(|browser| async move {
        let app = TestApp::spawn().await;
        let (ann, general) = scene(&app).await;
        let res = ann
            .post(
                "/api/v1/conversations",
                json!({"kind": "channel", "name": "random"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let random = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        browser.sign_in(&app, "ann").await;
        browser.goto(&app.url(&format!("/c/{general}"))).await;
        wait_controlled(&browser).await;
        browser
            .cdp(
                "Browser.grantPermissions",
                json!({"origin": app.url(""), "permissions": ["notifications"]}),
            )
            .await;
        let permission = browser
            .execute("return Notification.permission;", vec![])
            .await;
        assert_eq!(permission, "granted");

        let first = current_tab(&browser).await;
        new_tab(&browser).await;
        browser.goto(&app.url(&format!("/c/{general}"))).await;
        wait_controlled(&browser).await;

        // Both tabs pass on the same message of #random, which neither shows: one notification.
        let message = json!({
            "type": "notify", "id": 9001, "conversation": random,
            "title": "Bob in #random", "body": "Lunch?", "url": format!("/c/{random}"),
            "tag": format!("c-{random}"),
        });
        assert!(
            notify(&browser, message.clone()).await,
            "the first tab's is shown"
        );
        switch_to(&browser, &first).await;
        assert!(
            !notify(&browser, message).await,
            "the second tab's is the same message"
        );
        let shown = notifications(&browser).await;
        assert_eq!(shown.len(), 1, "one notification per message: {shown:?}");
        assert_eq!(shown[0]["title"], "Bob in #random");
        assert_eq!(shown[0]["url"], format!("/c/{random}"));

        // A message of #general, which the visible, focused tab shows: no notification.
        let state = browser
            .execute(
                "return [document.visibilityState, document.hasFocus()];",
                vec![],
            )
            .await;
        assert_eq!(state, json!(["visible", true]), "the tab is being read");
        let read = json!({
            "type": "notify", "id": 9002, "conversation": general,
            "title": "Bob in #general", "body": "Here", "tag": format!("c-{general}"),
        });
        assert!(
            !notify(&browser, read).await,
            "none for the conversation being read"
        );

        // Moved in place to #random: now #general's news is shown, #random's is not.
        browser
            .click(&format!("#sidebar a.conv[data-conversation-id='{random}']"))
            .await;
        browser
            .wait_until("#random on screen", async || {
                browser.path().await == format!("/c/{random}")
            })
            .await;
        let here =
            json!({"type": "notify", "id": 9003, "conversation": random, "title": "In #random"});
        assert!(
            !notify(&browser, here).await,
            "none for the conversation moved to"
        );
        let there =
            json!({"type": "notify", "id": 9004, "conversation": general, "title": "In #general"});
        assert!(
            notify(&browser, there).await,
            "the one left is no longer being read"
        );
        let titles = |shown: &[Value]| -> Vec<String> {
            shown
                .iter()
                .map(|n| n["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(
            titles(&notifications(&browser).await),
            ["Bob in #random", "In #general"]
        );

        // Web Push: the same rule, and the same message once, whoever asked first.
        browser.cdp("ServiceWorker.enable", json!({})).await;
        let pushed = |id: i64, conversation: i64, title: &str| {
            json!({"title": title, "body": "…", "message_id": id, "conversation": conversation,
                   "url": format!("/c/{conversation}"), "badge": 3})
        };
        push(&browser, &app, pushed(9004, general, "Pushed again")).await;
        push(&browser, &app, pushed(9005, general, "Pushed")).await;
        push(&browser, &app, pushed(9005, general, "Pushed")).await;
        push(&browser, &app, pushed(9006, random, "Pushed to #random")).await;
        let shown = settled_notifications(&browser, |shown| {
            shown.iter().any(|n| n["title"] == "Pushed")
        })
        .await;
        assert_eq!(
            titles(&shown),
            ["Bob in #random", "In #general", "Pushed"],
            "one notification per message, none for the conversation being read"
        );
        app.stop().await.unwrap();
        browser
    })
    .await;
}
