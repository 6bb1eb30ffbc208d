//! People arriving and coming back, in real Chromium: an admin makes an invite link, a
//! newcomer joins through it and says hello; an admin's reset tells the old session why it
//! ended and the reset link signs the person back in; the new pages pass axe on a desktop
//! and a 360 px phone, without console errors or CSP violations.
//!
//! Skipped with a loud message when Chromium, chromedriver or axe-core is missing, unless `CI`
//! is set: then a missing one fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::{PASSWORD, TestApp};
use hearth::chat::actor::Actor;
use hearth::chat::links;
use hearth::domain::Role;
use std::time::Duration;

const TEST_LIMIT: Duration = Duration::from_secs(180);
const ENTER: &str = "\u{E007}";

/// One browser at a time: axe is CPU-hungry and the machine is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn sign_in(browser: &Browser, app: &TestApp, username: &str, password: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("body[data-me]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_person_joins_and_says_hello() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        app.create_user("root", Role::Admin).await;
        let b = &browser;
        sign_in(b, &app, "root", PASSWORD).await;

        b.goto(&app.url("/invites")).await;
        b.wait_for("form[action='/invites']").await;
        b.execute("document.getElementById('uses').value = '5';", vec![])
            .await;
        b.click("form[action='/invites'] button[type=submit]").await;
        b.wait_for("#invite-link").await;
        let link = b.value("#invite-link").await;
        assert!(link.starts_with(&app.url("/join/")), "{link}");
        // The copy button appears with the script, and says what it did.
        b.wait_for("button[data-copy='invite-link']:not([hidden])")
            .await;
        b.click("button[data-copy='invite-link']").await;
        b.wait_until("the copy to be confirmed", async || {
            !b.text("[data-copied-for='invite-link']").await.is_empty()
        })
        .await;
        assert!(b.text("table.invites").await.contains("0 of 5"));
        b.assert_no_console_errors("the invites page").await;
        b.click("form.logout button[type=submit]").await;
        b.wait_for("form[action='/login']").await;

        b.goto(&link).await;
        b.wait_for("#username").await;
        b.fill("#username", "newt").await;
        b.fill("#display_name", "Newt Scamander").await;
        b.fill("#password", PASSWORD).await;
        b.fill("#confirm", PASSWORD).await;
        b.click("form button[type=submit]").await;
        b.wait_for_conversation().await;
        b.wait_for("#composer textarea[name=body]").await;
        assert!(b.body_text().await.contains("Newt Scamander"));
        b.fill("#composer textarea[name=body]", "Hello, I am new here")
            .await;
        b.send_keys("#composer textarea[name=body]", ENTER).await;
        b.wait_for_text("Hello, I am new here").await;
        let root = app.sign_in("root", 1).await;
        let general = root.general().await;
        let page = root
            .json(&format!("/api/v1/conversations/{general}/messages"))
            .await;
        let said = page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["body"] == "Hello, I am new here" && m["sender"]["username"] == "newt");
        assert!(said, "{page}");
        b.assert_no_console_errors("joining").await;
        app.stop().await.unwrap();
    })
    .await
    .expect("the test finishes in time");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_tells_the_old_session_why_and_the_link_signs_back_in() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let admin = app.create_user("root", Role::Admin).await;
        app.create_user("ada", Role::Member).await;
        let b = &browser;
        sign_in(b, &app, "ada", PASSWORD).await;
        b.wait_for_conversation().await;

        let token = links::reset_link(&app.app.chat, Actor::User(&admin), "ada")
            .await
            .unwrap();
        // The open page loses its connection; the next page load lands on the login page,
        // which says why.
        b.goto(&app.url("/channels")).await;
        b.wait_for_path("/login").await;
        b.wait_for_text("Your password was reset by an admin").await;
        b.screenshot(screenshot_path("people-login-reset.png"))
            .await;

        b.goto(&app.url(&format!("/password/{token}"))).await;
        b.wait_for("#password").await;
        b.fill("#password", "a fresh new secret").await;
        b.fill("#confirm", "a fresh new secret").await;
        b.click("form button[type=submit]").await;
        b.wait_for_conversation().await;
        b.wait_for("body[data-me]").await;
        assert!(b.body_text().await.contains("ada"));
        // Used: the link now says so.
        b.goto(&app.url(&format!("/password/{token}"))).await;
        b.wait_for_text("This link has already been used").await;
        b.assert_no_console_errors_except("the reset", &["status of 410"])
            .await;
        app.stop().await.unwrap();
    })
    .await
    .expect("the test finishes in time");
    browser.close().await;
}

/// Each axe violation of the page on screen, and anything wider than the window.
async fn problems(b: &Browser, axe: &Axe, page: &str) -> Vec<String> {
    let mut found: Vec<String> = b
        .axe_violations(axe)
        .await
        .iter()
        .map(|v| format!("{page}: {v}"))
        .collect();
    let wide = b
        .execute(
            "const w = document.documentElement.clientWidth;\
             return [...document.querySelectorAll('body *')]\
               .filter(e => e.getBoundingClientRect().right > w + 0.5)\
               .filter(e => !e.closest('.table-scroll'))\
               .map(e => `${e.tagName}.${e.className}`);",
            vec![],
        )
        .await;
    if wide.as_array().is_some_and(|w| !w.is_empty()) {
        found.push(format!("{page}: wider than the window: {wide}\n"));
    }
    found
}

/// The new pages at one window size: axe, a screenshot each, no console errors.
async fn new_pages(width: u32, height: u32, label: &str, dark: bool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(axe) = Axe::load() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let admin = app.create_user("root", Role::Admin).await;
        app.create_user("ada", Role::Member).await;
        let b = &browser;
        b.set_window_size(width, height).await;
        if dark {
            let scheme =
                serde_json::json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
            b.cdp("Emulation.setEmulatedMedia", scheme).await;
        }
        let (_, welcome) = links::add_person(
            &app.app.chat,
            Actor::User(&admin),
            "newt",
            None,
            Role::Member,
        )
        .await
        .unwrap();

        let mut found = Vec::new();
        let check = async |path: &str, ready: &str, name: &str| {
            b.goto(&app.url(path)).await;
            b.wait_for(ready).await;
            b.screenshot(screenshot_path(&format!("people-{name}-{label}.png")))
                .await;
            problems(b, &axe, &format!("{name} ({label})")).await
        };
        let made = hearth::chat::invites::create(
            &app.app.chat,
            Actor::User(&admin),
            hearth::chat::invites::Spec {
                max_uses: Some(1),
                expires: hearth::chat::invites::Expiry::Week,
                role: Role::Member,
                conversations: vec![],
            },
        )
        .await
        .unwrap();
        check(&format!("/join/{}", made.token), "#username", "join").await;
        check(&format!("/password/{welcome}"), "#password", "password").await;
        check(
            &format!("/join/{}", "ab".repeat(32)),
            "section.card h1",
            "join-invalid",
        )
        .await;
        sign_in(b, &app, "root", PASSWORD).await;
        b.goto(&app.url("/invites")).await;
        b.wait_for("form[action='/invites']").await;
        b.click("form[action='/invites'] button[type=submit]").await;
        b.wait_for("#invite-link").await;
        b.screenshot(screenshot_path(&format!("people-invites-{label}.png")))
            .await;
        found.extend(problems(b, &axe, &format!("invites ({label})")).await);
        b.execute(
            "document.querySelector('table.invites').scrollIntoView();",
            vec![],
        )
        .await;
        b.screenshot(screenshot_path(&format!("people-invites-list-{label}.png")))
            .await;
        found.extend(check("/account", "table.sessions", "account").await);
        b.execute(
            "document.querySelector('table.sessions').scrollIntoView();",
            vec![],
        )
        .await;
        b.screenshot(screenshot_path(&format!("people-sessions-{label}.png")))
            .await;

        assert!(
            found.is_empty(),
            "{} accessibility problem(s) at {width}x{height}:\n{}",
            found.len(),
            found.join("")
        );
        b.assert_no_console_errors_except(label, &["status of 404"])
            .await;
        app.stop().await.unwrap();
    })
    .await
    .expect("the test finishes in time");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_pass_axe_on_a_desktop() {
    new_pages(WIDTH, HEIGHT, "desktop", false).await;
}

/// The theme follows the system: the dark one is checked too (its contrast is its own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_pass_axe_in_the_dark_theme() {
    new_pages(WIDTH, HEIGHT, "dark", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_new_pages_pass_axe_on_a_360px_phone() {
    new_pages(360, 740, "phone", false).await;
}
