//! Real-browser tests: headless Chromium through chromedriver, against a real server.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;

use common::TestApp;
use common::browser::{Browser, screenshot_path};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);

const ADMIN: &str = "ada";
const ADMIN_NAME: &str = "Ada Lovelace";
const ADMIN_PASSWORD: &str = "analytical engine 1843";

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// Checks a screenshot is a non-trivial PNG.
fn assert_png(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{} is not a PNG",
        path.display()
    );
}

async fn sign_in(browser: &Browser, app: &TestApp, username: &str, password: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", password).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_setup_sign_out_and_sign_in_in_a_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let setup_url = app
            .app
            .setup_url(app.addr)
            .expect("a fresh server offers setup");

        // Setup: the form creates the first admin and signs them in.
        browser.goto(&setup_url).await;
        browser.wait_for_path("/setup").await;
        assert_eq!(browser.title().await, "Set up · Hearth");
        browser
            .wait_for_text("Create the first admin account")
            .await;
        let focused = browser
            .execute("return document.activeElement.id;", vec![])
            .await;
        assert_eq!(focused, "username", "app.js focuses the first field");
        let shot = screenshot_path("setup.png");
        browser.screenshot(&shot).await;
        assert_png(&shot);
        browser.assert_no_console_errors("the setup page").await;

        browser.fill("#username", ADMIN).await;
        browser.fill("#display_name", ADMIN_NAME).await;
        browser.fill("#password", ADMIN_PASSWORD).await;
        browser.fill("#confirm", ADMIN_PASSWORD).await;
        browser
            .click("form[action='/setup'] button[type=submit]")
            .await;
        // Signed in, `/` lands in #general, which every account joins.
        browser.wait_for_conversation().await;
        browser.wait_for_text(ADMIN_NAME).await;
        assert!(browser.body_text().await.contains("Signed in as"));
        assert!(
            browser.title().await.contains("general"),
            "{}",
            browser.title().await
        );
        let shot = screenshot_path("home.png");
        browser.screenshot(&shot).await;
        assert_png(&shot);
        browser
            .assert_no_console_errors("setup and the home page")
            .await;
        assert!(
            app.app.setup_url(app.addr).is_none(),
            "setup closes once used"
        );

        // Sign out with the top bar's button: back on the login page.
        browser.click_text("Sign out").await;
        browser.wait_for_path("/login").await;
        browser.wait_for("form[action='/login']").await;
        assert!(
            !browser.exists("p.hint[role=status]").await,
            "no setup hint once set up"
        );
        let shot = screenshot_path("login.png");
        browser.screenshot(&shot).await;
        assert_png(&shot);
        browser.goto(&app.url("/")).await;
        browser.wait_for_path("/login").await;
        browser.assert_no_console_errors("signing out").await;

        // Sign in again with the form.
        sign_in(&browser, &app, ADMIN, ADMIN_PASSWORD).await;
        browser.wait_for_conversation().await;
        browser.wait_for_text(ADMIN_NAME).await;
        browser.assert_no_console_errors("signing in").await;

        // A wrong password: the login page again, saying so, with the username kept.
        browser.click_text("Sign out").await;
        browser.wait_for_path("/login").await;
        sign_in(&browser, &app, ADMIN, "not the password").await;
        browser.wait_for("p.error[role=alert]").await;
        assert_eq!(browser.path().await, "/login");
        let error = browser.text("p.error[role=alert]").await;
        assert!(error.contains("wrong username or password"), "{error}");
        assert_eq!(browser.value("#username").await, ADMIN);
        assert_eq!(browser.value("#password").await, "");
        let shot = screenshot_path("login-error.png");
        browser.screenshot(&shot).await;
        assert_png(&shot);
        // The page is answered with 401, which Chromium logs as a failed load; that is
        // the only error allowed.
        let refused = format!(
            "{} - Failed to load resource: the server responded with a status of 401",
            app.url("/login")
        );
        browser
            .assert_no_console_errors_except("a wrong password", &[&refused])
            .await;

        // Nothing was refused by the Content-Security-Policy on any page.
        let csp = browser.csp_violations().await;
        assert!(csp.is_empty(), "CSP violations: {csp:#?}");
        app.stop().await.unwrap();
    })
    .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_fits_a_360px_wide_phone() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        browser.set_window_size(360, 740).await;
        // The login page before setup shows the setup hint too: its longest version.
        browser.goto(&app.url("/login")).await;
        browser.wait_for("form[action='/login']").await;
        browser.wait_for("p.hint[role=status]").await;
        let width = browser.execute("return window.innerWidth;", vec![]).await;
        assert_eq!(width, 360, "the viewport is 360 px wide");
        let scroll = browser
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await;
        let scroll = scroll.as_u64().expect("scrollWidth is a number");
        assert!(
            scroll <= 360,
            "the login page scrolls sideways: {scroll} px wide"
        );
        let shot = screenshot_path("login-360.png");
        browser.screenshot(&shot).await;
        assert_png(&shot);
        browser
            .assert_no_console_errors("the login page on a phone")
            .await;
        app.stop().await.unwrap();
    })
    .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_run_side_by_side() {
    let Some(first) = Browser::start().await else {
        return;
    };
    let Some(second) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        app.create_user("grace", hearth::domain::Role::Member).await;
        app.create_user("linus", hearth::domain::Role::Member).await;
        // Each browser has its own profile, so its own cookies: two people at once.
        tokio::join!(
            sign_in(&first, &app, "grace", common::PASSWORD),
            sign_in(&second, &app, "linus", common::PASSWORD),
        );
        first.wait_for_conversation().await;
        second.wait_for_conversation().await;
        first.wait_for_text("grace").await;
        second.wait_for_text("linus").await;
        first.goto(&app.url("/")).await;
        first.wait_for_conversation().await;
        first.wait_for_text("grace").await;
        first.assert_no_console_errors("grace signing in").await;
        second.assert_no_console_errors("linus signing in").await;
        app.stop().await.unwrap();
    })
    .await;
    tokio::join!(first.close(), second.close());
}

// --- Going Back after signing out or submitting a form. ----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_after_signing_out_does_not_show_the_signed_in_page() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        app.create_user("grace", hearth::domain::Role::Member).await;
        sign_in(&browser, &app, "grace", common::PASSWORD).await;
        browser.wait_for_conversation().await;
        browser.click_text("Sign out").await;
        browser.wait_for_path("/login").await;
        browser.back().await;
        // Fetched again, the page redirects to the login page; restored from the
        // back/forward cache, it shows who was signed in.
        browser.wait_for_path("/login").await;
        let text = browser.body_text().await;
        assert!(!text.contains("Signed in as"), "{text}");
        app.stop().await.unwrap();
    })
    .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_page_restored_by_back_can_be_submitted_again() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        app.create_user("grace", hearth::domain::Role::Member).await;
        sign_in(&browser, &app, "grace", common::PASSWORD).await;
        browser.wait_for_conversation().await;
        browser.back().await;
        let disabled = browser
            .execute(
                "return [...document.querySelectorAll('button[type=submit]')]\
                 .some(b => b.disabled);",
                vec![],
            )
            .await;
        assert_eq!(
            disabled,
            false,
            "a submit button is still disabled on {}",
            browser.current_url().await
        );
        app.stop().await.unwrap();
    })
    .await;
    browser.close().await;
}
