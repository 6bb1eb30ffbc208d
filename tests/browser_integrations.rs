//! Tokens, bots and webhooks in real Chromium: a person makes an API token and sees it once, an
//! admin makes a bot and its token, an owner gives a channel a webhook, and what the hook posts
//! appears marked as a bot's; every page passes axe on a desktop and a 360 px phone, without
//! console errors, CSP violations or sideways scrolling.
//!
//! Skipped with a loud message when Chromium, chromedriver or axe-core is missing, unless `CI`
//! is set: then a missing one fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::{PASSWORD, TestApp};
use hearth::domain::Role;
use std::time::Duration;

const TEST_LIMIT: Duration = Duration::from_secs(180);

async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("body[data-me]").await;
}

/// Axe, a screenshot and the width check of the page on screen; problems are added to `found`.
async fn check(b: &Browser, axe: &Axe, name: &str, found: &mut Vec<String>) {
    b.screenshot(screenshot_path(&format!("integrations-{name}.png")))
        .await;
    found.extend(
        b.axe_violations(axe)
            .await
            .iter()
            .map(|v| format!("{name}: {v}")),
    );
    // The deepest element that reaches past the window's right edge, if any.
    let wide = b
        .execute(
            "if (document.documentElement.scrollWidth <= window.innerWidth + 1) return null; \
             const out = [...document.body.querySelectorAll('*')] \
               .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1); \
             const e = out.pop(); \
             return e ? e.tagName + '.' + e.className + ' ' + (e.id || '') : 'the page';",
            vec![],
        )
        .await;
    if !wide.is_null() {
        found.push(format!("{name}: wider than the window: {wide}\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_bots_and_a_webhook_from_the_pages() {
    let Some(axe) = Axe::load() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let admin = app.create_user("root", Role::Admin).await;
        let root = app.sign_in("root", admin.id).await;
        let general = root.general().await;
        let b = &browser;
        sign_in(b, &app, "root").await;
        let mut found = Vec::new();
        for (width, height, label) in [(WIDTH, HEIGHT, "desktop"), (360, 740, "phone")] {
            b.set_window_size(width, height).await;

            // A token, shown once.
            b.goto(&app.url("/account/tokens")).await;
            b.fill("#token-name", &format!("CI {label}")).await;
            b.click("form[action='/account/tokens'] button[type=submit]").await;
            b.wait_for("#made-token").await;
            let token = b.value("#made-token").await;
            assert!(token.starts_with("hearth_"), "{token}");
            check(b, &axe, &format!("tokens-{label}"), &mut found).await;
            let res = app
                .client()
                .get(app.url("/api/v1/me"))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            b.goto(&app.url("/account/tokens")).await;
            b.wait_for("ul.token-list").await;
            assert!(!b.exists("#made-token").await, "shown once");

            // A bot and its token.
            let bot = format!("helper-{label}");
            b.goto(&app.url("/admin/bots")).await;
            b.fill("#bot-username", &bot).await;
            b.click("form[action='/admin/bots'] button[type=submit]").await;
            b.wait_for_path(&format!("/admin/bots/{bot}")).await;
            b.fill("#token-name", "answers").await;
            b.click(&format!("form[action='/admin/bots/{bot}/tokens'] button[type=submit]"))
                .await;
            b.wait_for("#made-token").await;
            check(b, &axe, &format!("bot-{label}"), &mut found).await;
            b.goto(&app.url("/admin/bots")).await;
            b.wait_for("ul.bot-list").await;
            check(b, &axe, &format!("bots-{label}"), &mut found).await;

            // A webhook for #general, and what it posts.
            b.goto(&app.url(&format!("/c/{general}/settings"))).await;
            b.click(&format!("a[href='/c/{general}/integrations']")).await;
            b.wait_for("#hook-name").await;
            b.fill("#hook-name", &format!("Deploys {label}")).await;
            b.click(&format!("form[action='/c/{general}/integrations/hooks'] button[type=submit]"))
                .await;
            b.wait_for("#hook-url").await;
            let url = b.value("#hook-url").await;
            check(b, &axe, &format!("integrations-{label}"), &mut found).await;
            let res = app
                .client()
                .post(&url)
                .json(&serde_json::json!({"text": format!("Release {label} is out"), "username": "Release bot"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            b.goto(&app.url(&format!("/c/{general}"))).await;
            b.wait_for_text(&format!("Release {label} is out")).await;
            let marked = b
                .execute(
                    "const a = [...document.querySelectorAll('article.msg')].pop(); \
                     return [a.querySelector('.msg-author').textContent.trim(), !!a.querySelector('.bot-badge')];",
                    vec![],
                )
                .await;
            assert_eq!(marked, serde_json::json!(["Release bot", true]));
            check(b, &axe, &format!("conversation-{label}"), &mut found).await;
        }
        assert!(found.is_empty(), "{}", found.join(""));
        b.assert_no_console_errors("tokens, bots and webhooks").await;
        let csp = b.csp_violations().await;
        assert!(csp.is_empty(), "CSP violations: {csp:#?}");
        app.stop().await.unwrap();
    })
    .await
    .expect("the browser test finished in time");
    browser.close().await;
}
