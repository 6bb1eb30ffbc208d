//! The admin console in real Chromium: an organiser renames the community, picks an accent,
//! deactivates a spammer with their messages, and every console page passes axe on a desktop,
//! on a 360 px phone and in the dark theme, without console errors or CSP violations.
//!
//! Skipped with a loud message when Chromium, chromedriver or axe-core is missing, unless `CI`
//! is set: then a missing one fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::{PASSWORD, TestApp};
use hearth::domain::Role;
use serde_json::json;
use std::time::Duration;

const TEST_LIMIT: Duration = Duration::from_secs(180);

/// One browser at a time: axe is CPU-hungry and the machine is small.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_organiser_renames_the_community_and_removes_a_spammer() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        app.create_user("root", Role::Admin).await;
        let spam = app.person("spam").await;
        let general = spam.general().await;
        spam.say(general, "Buy cheap watches").await;
        let b = &browser;
        sign_in(b, &app, "root").await;

        // Settings: a new name and accent, seen at once in the top bar and the title.
        b.goto(&app.url("/admin/settings")).await;
        b.fill("#community_name", "Kettle Club").await;
        b.execute(
            "document.getElementById('accent').value = '#1d4ed8';",
            vec![],
        )
        .await;
        b.click("form.settings button[type=submit]").await;
        b.wait_for(".brand").await;
        assert_eq!(b.text(".brand").await, "Kettle Club");
        assert!(b.title().await.ends_with("· Kettle Club"));
        let accent = b
            .execute(
                "return getComputedStyle(document.documentElement).getPropertyValue('--accent').trim();",
                vec![],
            )
            .await;
        assert_eq!(accent, "#1d4ed8");

        // People: deactivate the spammer with everything they wrote, the name typed to confirm.
        b.goto(&app.url("/admin/people?q=spam")).await;
        b.click("details.danger-zone summary").await;
        b.fill("input[name=confirm]", "spam").await;
        b.click("input[name=delete_messages]").await;
        b.click("form[action='/admin/people/spam/deactivate'] button[type=submit]")
            .await;
        b.wait_for(".tag.off").await;
        let history = app
            .person("reader")
            .await
            .json(&format!("/api/v1/conversations/{general}/messages"))
            .await;
        let spam_left = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["sender"]["username"] == "spam" && m["notice"].is_null())
            .all(|m| m["deleted"] == true);
        assert!(spam_left, "{history}");
        b.assert_no_console_errors("the admin console").await;
        app.stop().await.unwrap();
    })
    .await
    .expect("the browser test finished in time");
    browser.close().await;
}

/// Every console page at one window size, in the light or the dark theme.
async fn every_console_page(width: u32, height: u32, label: &str, dark: bool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(axe) = Axe::load() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        app.create_user("root", Role::Admin).await;
        let ada = app.person("ada").await;
        ada.post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "planning", "members": []}),
        )
        .await;
        let b = &browser;
        b.set_window_size(width, height).await;
        if dark {
            let scheme = json!({"features": [{"name": "prefers-color-scheme", "value": "dark"}]});
            b.cdp("Emulation.setEmulatedMedia", scheme).await;
        }
        sign_in(b, &app, "root").await;
        let mut found = Vec::new();
        for (path, ready, name) in [
            ("/admin", "dl.status", "status"),
            ("/admin/people", "ul.admin-list", "people"),
            ("/admin/conversations", "ul.admin-list", "conversations"),
            ("/admin/audit", "table.audit", "audit"),
            ("/admin/settings", "form.settings", "settings"),
        ] {
            b.goto(&app.url(path)).await;
            b.wait_for(ready).await;
            // The folded forms open, so that axe sees them too.
            b.execute(
                "document.querySelectorAll('details').forEach(d => d.open = true);",
                vec![],
            )
            .await;
            b.screenshot(screenshot_path(&format!("admin-{name}-{label}.png")))
                .await;
            found.extend(
                b.axe_violations(&axe)
                    .await
                    .iter()
                    .map(|v| format!("{name} ({label}): {v}")),
            );
            let wide = b
                .execute(
                    "return document.documentElement.scrollWidth > window.innerWidth + 1;",
                    vec![],
                )
                .await;
            if wide == true {
                found.push(format!("{name} ({label}): wider than the window\n"));
            }
        }
        assert!(found.is_empty(), "{}", found.join(""));
        b.assert_no_console_errors(label).await;
        app.stop().await.unwrap();
    })
    .await
    .expect("the browser test finished in time");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_passes_axe_on_a_desktop() {
    every_console_page(WIDTH, HEIGHT, "desktop", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_passes_axe_on_a_360px_phone() {
    every_console_page(360, 740, "phone", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_passes_axe_in_the_dark_theme() {
    every_console_page(WIDTH, HEIGHT, "dark", true).await;
}
