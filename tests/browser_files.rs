//! Files in real Chromium: an image dropped onto the conversation uploads with a progress bar
//! and the other person sees its thumbnail live, at its final size; a pasted screenshot goes
//! the same way; the lightbox opens, steps with the arrow keys and closes with Esc; a PDF is a
//! download; the files page lists them; a link gets its card from a local site; axe is clean on a
//! desktop and a 360 px phone.
//!
//! Skipped with a loud message when Chromium, chromedriver or axe-core is missing, unless `CI`
//! is set: then a missing one fails the run.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, HEIGHT, WIDTH, screenshot_path};
use common::images::png;
use common::{PASSWORD, TestApp};
use serde_json::{Value, json};
use std::time::Duration;

const TEST_LIMIT: Duration = Duration::from_secs(240);
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
        for _ in chunk.len()..3 {
            out.push('=');
        }
    }
    out
}

async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("body[data-me]").await;
}

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

/// Drops files (name, base64 bytes, type) onto the conversation as a person dragging them does.
const DROP: &str = "const [files] = arguments;\
    const dt = new DataTransfer();\
    for (const [name, b64, type] of files) {\
      const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));\
      dt.items.add(new File([bytes], name, { type }));\
    }\
    const area = document.querySelector('section.conversation');\
    for (const kind of ['dragenter', 'dragover', 'drop']) {\
      area.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: dt }));\
    }";

/// Pastes an image into the composer as a screenshot from the clipboard arrives.
const PASTE: &str = "const [b64] = arguments;\
    const dt = new DataTransfer();\
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));\
    dt.items.add(new File([bytes], 'image.png', { type: 'image/png' }));\
    const field = document.querySelector('#composer textarea');\
    field.focus();\
    field.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));";

async fn wait_uploaded(browser: &Browser, n: usize) {
    browser
        .wait_until(&format!("{n} upload(s) to finish"), async || {
            browser.count("#uploads li.uploaded").await == n
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_dropped_and_a_screenshot_pasted_reach_the_other_person_live() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(ann_b) = Browser::start().await else {
        return;
    };
    let bob_b = Browser::start().await.expect("a second browser");
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        app.person("bob").await;
        let general = ann.general().await;
        let path = format!("/c/{general}");
        for (b, who) in [(&ann_b, "ann"), (&bob_b, "bob")] {
            sign_in(b, &app, who).await;
            b.goto(&app.url(&path)).await;
            b.wait_for("section.conversation").await;
            wait_live(b).await;
        }

        // Ann drops a photo onto the conversation, types a caption and sends.
        let photo = base64(&png(1200, 800, 40));
        ann_b
            .execute(DROP, vec![json!([["garden.png", photo, "image/png"]])])
            .await;
        wait_uploaded(&ann_b, 1).await;
        assert_eq!(ann_b.text("#uploads .upload-name").await, "garden.png");
        ann_b.fill("#composer textarea[name=body]", "The garden today").await;
        ann_b.send_keys("#composer textarea[name=body]", "\u{E007}").await;

        // Bob sees the thumbnail live, laid out at its size before it loads.
        let thumb = "#items article.msg .file-image img";
        bob_b.wait_for(thumb).await;
        let size = bob_b
            .execute(
                &format!("const i = document.querySelector('{thumb}'); return [i.getAttribute('width'), i.getAttribute('height')];"),
                vec![],
            )
            .await;
        assert_eq!(size, json!(["720", "480"]));
        bob_b
            .wait_until("the thumbnail to load", async || {
                bob_b
                    .execute(&format!("const i = document.querySelector('{thumb}'); return i.complete && i.naturalWidth;"), vec![])
                    .await
                    == json!(720)
            })
            .await;
        assert!(bob_b.text("#items").await.contains("The garden today"));
        assert!(ann_b.count("#uploads li").await == 0, "the composer's list is empty again");

        // Ann pastes a screenshot and sends it without a caption.
        let shot = base64(&png(300, 200, 200));
        ann_b.execute(PASTE, vec![json!(shot)]).await;
        wait_uploaded(&ann_b, 1).await;
        let name = ann_b.text("#uploads .upload-name").await;
        assert!(name.starts_with("screenshot-") && name.ends_with(".png"), "{name}");
        ann_b.click("#composer button.send").await;
        bob_b
            .wait_until("the screenshot to arrive", async || {
                bob_b.count("#items .file-image img").await == 2
            })
            .await;
        bob_b.screenshot(screenshot_path("files-conversation-desktop.png")).await;

        // The lightbox: opens on the first image, → goes to the next, Esc closes.
        bob_b.click("#items .file-image").await;
        bob_b.wait_for("#lightbox[open]").await;
        assert_eq!(bob_b.text("#lightbox .lightbox-name").await, "garden.png");
        assert_eq!(bob_b.text("#lightbox .lightbox-count").await, "1 of 2");
        bob_b.screenshot(screenshot_path("files-lightbox-desktop.png")).await;
        bob_b.send_keys("#lightbox", "\u{E014}").await; // →
        assert_eq!(bob_b.text("#lightbox .lightbox-name").await, name);
        bob_b.send_keys("#lightbox", "\u{E00C}").await; // Esc
        bob_b
            .wait_until("the lightbox to close", async || !bob_b.exists("#lightbox[open]").await)
            .await;

        // A PDF is a download, never shown in place.
        let pdf = ann
            .uploaded("minutes.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF".to_vec())
            .await;
        let res = ann
            .post(&format!("/api/v1/conversations/{general}/messages"),
                  json!({"body": "Minutes", "attachments": [pdf]}))
            .await;
        assert_eq!(res.status(), 201);
        bob_b.wait_for("#items a.file-card[download]").await;
        let answer = bob_b
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 const a = document.querySelector('#items a.file-card');\
                 fetch(a.href).then(r => done([r.status, r.headers.get('content-disposition'), a.getAttribute('download')]));",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(answer[0], 200);
        assert!(answer[1].as_str().unwrap().starts_with("attachment;"), "{answer}");
        assert_eq!(answer[2], "minutes.pdf");

        // The files page lists all three; the image filter leaves the PDF out.
        bob_b.goto(&app.url(&format!("/c/{general}/files"))).await;
        bob_b.wait_for(".file-list").await;
        assert_eq!(bob_b.count(".file-list .file-row").await, 3);
        bob_b.goto(&app.url(&format!("/c/{general}/files?images=1"))).await;
        assert_eq!(bob_b.count(".file-list .file-row").await, 2);

        for (b, who) in [(&ann_b, "ann"), (&bob_b, "bob")] {
            b.assert_no_console_errors(who).await;
            let csp = b.csp_violations().await;
            assert!(csp.is_empty(), "{who}: CSP violations: {csp:#?}");
        }
        app.stop().await.unwrap();
    })
    .await
    .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    ann_b.close().await;
    bob_b.close().await;
}

async fn pages_pass_axe(width: u32, height: u32, label: &str) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(axe) = Axe::load() else { return };
    let Some(browser) = Browser::start().await else {
        return;
    };
    tokio::time::timeout(TEST_LIMIT, async {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        let general = ann.general().await;
        let pic = ann.uploaded("photo.png", png(800, 600, 90)).await;
        let doc = ann.uploaded("notes.pdf", b"%PDF-1.4\n%%EOF".to_vec()).await;
        let res = ann
            .post(
                &format!("/api/v1/conversations/{general}/messages"),
                json!({"body": "Two files", "attachments": [pic, doc]}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let _: Value = res.json().await.unwrap();
        browser.set_window_size(width, height).await;
        sign_in(&browser, &app, "ann").await;
        let mut found = Vec::new();
        for (path, ready, name) in [
            (
                format!("/c/{general}"),
                "#items .file-image img",
                "conversation-files",
            ),
            (format!("/c/{general}/files"), ".file-list", "files"),
        ] {
            browser.goto(&app.url(&path)).await;
            browser.wait_for(ready).await;
            wait_live(&browser).await;
            browser
                .screenshot(screenshot_path(&format!("a11y-{name}-{label}.png")))
                .await;
            for v in browser.axe_violations(&axe).await {
                found.push(format!("{name} ({label}): {v}"));
            }
        }
        // The lightbox, open.
        browser.goto(&app.url(&format!("/c/{general}"))).await;
        browser.click("#items .file-image").await;
        browser.wait_for("#lightbox[open]").await;
        browser
            .screenshot(screenshot_path(&format!("a11y-lightbox-{label}.png")))
            .await;
        for v in browser.axe_violations(&axe).await {
            found.push(format!("lightbox ({label}): {v}"));
        }
        assert!(
            found.is_empty(),
            "{} accessibility problem(s):\n{}",
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_pages_pass_axe_on_a_desktop() {
    pages_pass_axe(WIDTH, HEIGHT, "desktop").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_file_pages_pass_axe_on_a_360px_phone() {
    pages_pass_axe(360, 740, "phone").await;
}

/// The test's DNS for the link card: one name, on a loopback address the server may fetch from.
struct OneName(String, std::net::IpAddr);

impl hearth::net::Resolver for OneName {
    fn lookup<'a>(&'a self, host: &'a str) -> hearth::net::Lookup<'a> {
        Box::pin(async move {
            if host == self.0 {
                Ok(vec![self.1])
            } else {
                Err(std::io::ErrorKind::NotFound.into())
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_gets_its_card_live_and_its_author_removes_it() {
    use axum::http::header;
    use axum::response::IntoResponse;
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(ann_b) = Browser::start().await else {
        return;
    };
    let bob_b = Browser::start().await.expect("a second browser");
    tokio::time::timeout(TEST_LIMIT, async {
        // A site on 127.0.0.2, which this test's server may fetch from.
        let page = "<!doctype html><html><head><title>Seed swap</title>\
            <meta property=\"og:description\" content=\"Bring seeds, take seeds.\">\
            <meta property=\"og:site_name\" content=\"Garden Club\">\
            <meta property=\"og:image\" content=\"/seeds.png\"></head></html>";
        let cover = png(600, 300, 30);
        let router = axum::Router::new()
            .route("/swap", axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "text/html")], page).into_response()
            }))
            .route("/seeds.png", axum::routing::get(move || async move {
                ([(header::CONTENT_TYPE, "image/png")], cover).into_response()
            }));
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        let policy = hearth::net::Policy {
            allow: hearth::net::parse_networks(&["127.0.0.2"]).unwrap(),
            ..hearth::net::Policy::default()
        };
        let names = OneName("club.test".into(), "127.0.0.2".parse().unwrap());
        let fetch = hearth::net::Client::with_resolver(policy, std::sync::Arc::new(names)).unwrap();
        let app = TestApp::spawn_with_fetch(|_| {}, fetch).await;
        let ann = app.person("ann").await;
        app.person("bob").await;
        let general = ann.general().await;
        let path = format!("/c/{general}");
        for (b, who) in [(&ann_b, "ann"), (&bob_b, "bob")] {
            sign_in(b, &app, who).await;
            b.goto(&app.url(&path)).await;
            b.wait_for("section.conversation").await;
            wait_live(b).await;
        }
        let link = format!("http://club.test:{port}/swap");
        ann_b.fill("#composer textarea[name=body]", &format!("Saturday: {link}")).await;
        ann_b.send_keys("#composer textarea[name=body]", "\u{E007}").await;

        bob_b.wait_for("#items .link-card").await;
        assert_eq!(bob_b.text("#items .link-card .link-card-title").await, "Seed swap");
        assert!(bob_b.text("#items .link-card").await.contains("Bring seeds, take seeds."));
        let src = bob_b
            .execute("return document.querySelector('#items .link-card img').getAttribute('src');", vec![])
            .await;
        assert!(src.as_str().unwrap().starts_with("/previews/"), "served by Hearth: {src}");
        bob_b.screenshot(screenshot_path("files-link-card-desktop.png")).await;
        // Only the author has the × (CSS hides it for others), and it takes the card away for all.
        let bob_sees = bob_b
            .execute("const b = document.querySelector('#items .link-card [data-action=remove-preview]'); return getComputedStyle(b).display;", vec![])
            .await;
        assert_eq!(bob_sees, "none");
        ann_b.wait_for("#items .link-card").await;
        ann_b.hover("#items .link-card").await;
        ann_b.click("#items .link-card [data-action=remove-preview]").await;
        bob_b
            .wait_until("the card to go", async || !bob_b.exists("#items .link-card").await)
            .await;
        for (b, who) in [(&ann_b, "ann"), (&bob_b, "bob")] {
            b.assert_no_console_errors(who).await;
            let csp = b.csp_violations().await;
            assert!(csp.is_empty(), "{who}: CSP violations: {csp:#?}");
        }
        app.stop().await.unwrap();
    })
    .await
    .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"));
    ann_b.close().await;
    bob_b.close().await;
}
