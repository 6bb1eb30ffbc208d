//! Accessibility as a test: axe-core checks every kind of page in real Chromium, on a desktop
//! and on a 360 px wide phone, and any violation fails with its rule, impact, elements and
//! help text. Every page also carries a meta description.
//!
//! Skipped with a loud message when Chromium, chromedriver or axe-core is missing, unless
//! `CI` is set: then a missing one fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::{PASSWORD, Person, TestApp};
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(180);

/// One test drives its browser at a time: axe is CPU-hungry and the machine is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A code line wider than any screen, so its block scrolls sideways.
const WIDE_CODE: &str = "let every_setting_at_once = configure(alpha, beta, gamma, delta, \
                         epsilon, zeta, eta, theta, iota, kappa, lambda, mu, nu, xi, omicron);";

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// What the pages under test show: a conversation with a bit of everything, a direct, and
/// another channel with something unread (so the sidebar and the menu button show badges).
struct Scene {
    ann: Person,
    bob: Person,
    general: i64,
    direct: i64,
    random: i64,
}

async fn id_of(res: reqwest::Response, what: &str) -> i64 {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {body}");
    body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: no id in {body}"))
}

async fn scene(app: &TestApp) -> Scene {
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let general = ann.general().await;

    let first = ann.say(general, "Morning all. Notes from yesterday:").await;
    let first = first["id"].as_i64().unwrap();
    let code = format!("The call we settled on:\n\n```\n{WIDE_CODE}\n```");
    ann.say(general, &code).await;
    ann.say(
        general,
        "- one list\n- with *two* items and a [link](/people)",
    )
    .await;
    let question = bob.say(general, "Looks good. Who takes the release?").await;
    let question = question["id"].as_i64().unwrap();
    let res = ann
        .put(&format!(
            "/api/v1/messages/{question}/reactions/%F0%9F%91%8D"
        ))
        .await;
    assert!(res.status().is_success(), "react: {}", res.status());
    let res = ann
        .post(
            &format!("/api/v1/conversations/{general}/messages"),
            json!({"body": "I will, @bob", "reply_to": question}),
        )
        .await;
    let reply = id_of(res, "the reply").await;
    let res = ann
        .patch(
            &format!("/api/v1/messages/{reply}"),
            json!({"body": "I will, @bob. Friday at the latest."}),
        )
        .await;
    assert!(res.status().is_success(), "edit: {}", res.status());
    let res = bob
        .post(
            &format!("/api/v1/conversations/{general}/read"),
            json!({"message_id": reply}),
        )
        .await;
    assert!(res.status().is_success(), "read: {}", res.status());
    assert!(first < reply);

    let res = ann
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    let direct = id_of(res, "the direct conversation").await;
    ann.say(
        direct,
        "Bob, a word about the release when you have a minute?",
    )
    .await;

    let res = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "random", "topic": "Anything goes"}),
        )
        .await;
    let random = id_of(res, "#random").await;
    let res = bob
        .post(&format!("/api/v1/conversations/{random}/join"), json!({}))
        .await;
    assert!(res.status().is_success(), "join: {}", res.status());
    Scene {
        ann,
        bob,
        general,
        direct,
        random,
    }
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

/// What is wrong with the page on screen: each axe violation, and a missing meta description.
async fn problems(browser: &Browser, axe: &Axe, page: &str) -> Vec<String> {
    let mut found: Vec<String> = browser
        .axe_violations(axe)
        .await
        .iter()
        .map(|v| format!("{page}: {v}"))
        .collect();
    let description = browser
        .execute(
            "return document.querySelector('meta[name=description]')?.content ?? null;",
            vec![],
        )
        .await;
    if description.as_str().is_none_or(|d| d.len() < 20) {
        found.push(format!("{page}: no meta description ({description})\n"));
    }
    found
}

/// Opens `path`, waits for `ready` to match, keeps a screenshot; what is wrong with it.
/// `name` is the page's, `label` the window's and theme's.
async fn check(
    browser: &Browser,
    axe: &Axe,
    app: &TestApp,
    path: &str,
    ready: &str,
    name: &str,
    label: &str,
) -> Vec<String> {
    browser.goto(&app.url(path)).await;
    browser.wait_for(ready).await;
    if browser.exists("body[data-me]").await {
        wait_live(browser).await;
    }
    browser
        .screenshot(screenshot_path(&format!("a11y-{name}-{label}.png")))
        .await;
    problems(browser, axe, &format!("{name} ({label})")).await
}

/// Every kind of page at one window size, in the light or the dark theme.
async fn every_page(width: u32, height: u32, label: &str, dark: bool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(axe) = Axe::load() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let s = scene(&app).await;
        browser.set_window_size(width, height).await;
        if dark {
            let scheme = json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
            browser.cdp("Emulation.setEmulatedMedia", scheme).await;
        }
        let b = &browser;
        let mut found = check(
            b,
            &axe,
            &app,
            "/login",
            "form[action='/login']",
            "login",
            label,
        )
        .await;

        b.goto(&app.url("/login")).await;
        b.fill("#username", "bob").await;
        b.fill("#password", PASSWORD).await;
        b.click("form[action='/login'] button[type=submit]").await;
        b.wait_for("body[data-me]").await;

        // Something new since Bob last read #general (the page opens with the divider), and in
        // #random (a badge in the sidebar and on the menu button), while Bob looks elsewhere.
        b.goto(&app.url("/people")).await;
        b.wait_for("ul.people").await;
        s.ann.say(s.random, "Cake in the kitchen.").await;
        s.ann
            .say(s.general, "Fresh news since Bob last looked.")
            .await;
        s.ann.say(s.general, "And one more, in the same run.").await;
        let general = format!("/c/{}", s.general);
        found.extend(check(b, &axe, &app, &general, "#unread", "conversation", label).await);
        assert!(
            b.exists("#items > article.msg.cont").await,
            "a run of grouped messages"
        );
        assert!(b.exists(".msg-body pre").await, "a code block");

        // The @mention list open under the composer.
        b.fill("#composer textarea[name=body]", "Thanks @a").await;
        b.wait_for("#mention-list:not([hidden]) li[role=option]")
            .await;
        b.screenshot(screenshot_path(&format!("a11y-mentions-{label}.png")))
            .await;
        found.extend(problems(b, &axe, &format!("the mention list ({label})")).await);

        let first = s
            .bob
            .json(&format!("/api/v1/conversations/{}/messages", s.general))
            .await;
        // The first message, not a line about who joined.
        let first = first["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .find(|m| m["notice"].is_null())
            .and_then(|m| m["id"].as_i64())
            .expect("a message");
        let pages = [
            (format!("/c/{}", s.direct), "section.conversation", "direct"),
            ("/people".into(), "ul.people", "people"),
            ("/people/ann".into(), "#profile-title", "profile"),
            ("/channels".into(), "ul.channel-list", "channels"),
            (
                format!("/c/{}/settings", s.general),
                "#settings-title",
                "settings",
            ),
            (format!("/m/{first}"), "#message-title", "message"),
        ];
        for (path, ready, name) in &pages {
            found.extend(check(b, &axe, &app, path, ready, name, label).await);
        }
        assert!(
            found.is_empty(),
            "{} accessibility problem(s) at {width}x{height} ({label}):\n{}",
            found.len(),
            found.join("")
        );
        b.assert_no_console_errors(label).await;
        app.stop().await.unwrap();
    })
    .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_on_a_desktop() {
    every_page(WIDTH, HEIGHT, "desktop", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_on_a_360px_phone() {
    every_page(360, 740, "phone", false).await;
}

/// The theme follows the system: the dark one is checked too (its contrast is its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_passes_axe_in_the_dark_theme() {
    every_page(WIDTH, HEIGHT, "dark", true).await;
}
