//! The installable app over HTTP: the manifest says the community's name, colour and icons
//! (and its logo once there is one), every icon is the PNG it claims, the service worker is
//! served at the root as fresh JavaScript, pages link both, and signing out tells the browser
//! to forget what it kept.

mod common;

use common::TestApp;
use common::images::png;
use hearth::domain::Role;
use serde_json::{Value, json};

/// The width and height an `IHDR` says, if `bytes` is a PNG.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let int = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((int(16)?, int(20)?))
}

async fn manifest(app: &TestApp) -> Value {
    let res = reqwest::get(app.url("/manifest.webmanifest"))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/manifest+json",
        "the manifest's type"
    );
    assert_eq!(res.headers()["cache-control"], "no-cache");
    serde_json::from_str(&res.text().await.unwrap()).expect("the manifest is JSON")
}

#[tokio::test]
async fn the_manifest_names_the_community_and_its_icons_load() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let res = root
        .patch(
            "/api/v1/admin/settings",
            json!({"community_name": "Friends of the Park", "accent": "#224466"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    // Asked without a session, as browsers do.
    let m = manifest(&app).await;
    assert_eq!(m["name"], "Friends of the Park");
    assert_eq!(m["short_name"], "Friends");
    assert_eq!(m["start_url"], "/");
    assert_eq!(m["scope"], "/");
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["theme_color"], "#224466");
    assert!(m["background_color"].as_str().unwrap().starts_with('#'));
    let icons = m["icons"].as_array().unwrap();
    let mut seen = Vec::new();
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        let res = reqwest::get(app.url(src)).await.unwrap();
        assert_eq!(res.status(), 200, "{src}");
        assert_eq!(res.headers()["content-type"], "image/png", "{src}");
        let size = png_size(&res.bytes().await.unwrap()).expect("a PNG");
        assert_eq!(
            icon["sizes"],
            format!("{}x{}", size.0, size.1),
            "{src} is the size it claims"
        );
        seen.push((size.0, icon["purpose"].as_str().unwrap().to_owned()));
    }
    assert!(seen.contains(&(192, "any".into())), "{seen:?}");
    assert!(seen.contains(&(512, "any".into())), "{seen:?}");
    assert!(seen.contains(&(512, "maskable".into())), "{seen:?}");
}

#[tokio::test]
async fn a_logo_joins_the_icons() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let res = root
        .http
        .put(root.url("/api/v1/admin/logo"))
        .header("cookie", &root.cookie)
        .body(png(300, 300, 90))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "setting the logo");

    let m = manifest(&app).await;
    let logo = &m["icons"][0];
    let src = logo["src"].as_str().unwrap();
    assert!(src.starts_with("/logo?v="), "{m}");
    assert_eq!(logo["sizes"], "256x256", "the stored square's side");
    let res = reqwest::get(app.url(src)).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        logo["type"].as_str().unwrap()
    );
    let picture = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((picture.width(), picture.height()), (256, 256));
    assert_eq!(m["icons"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn the_service_worker_is_served_at_the_root_fresh() {
    let app = TestApp::spawn().await;
    let http = reqwest::Client::new();
    let res = http.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(h["cache-control"], "no-cache");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'"),
        "a same-origin worker is allowed by the CSP"
    );
    let etag = h["etag"].to_str().unwrap().to_owned();
    let js = res.text().await.unwrap();
    let first = js.lines().next().unwrap();
    assert!(first.starts_with("const HEARTH = {"), "{first}");
    assert!(js.contains("addEventListener(\"fetch\""));

    let again = http
        .get(app.url("/sw.js"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304, "an unchanged worker is not sent again");
}

#[tokio::test]
async fn pages_link_the_manifest_and_signing_out_clears_the_device() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let page = ann.get("/").await;
    let page = if page.status().is_redirection() {
        let to = page.headers()["location"].to_str().unwrap().to_owned();
        ann.get(&to).await
    } else {
        page
    };
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"<link rel="manifest" href="/manifest.webmanifest">"#),
        "{html}"
    );
    assert!(html.contains(r##"<meta name="theme-color" content="#c2410c">"##));
    assert!(html.contains(r#"id="offline-banner""#));

    let login = reqwest::get(app.url("/login")).await.unwrap();
    let html = login.text().await.unwrap();
    assert!(html.contains(r#"rel="manifest""#), "the sign-in page too");

    let csrf = ann.csrf("/account").await;
    let res = ann.form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["clear-site-data"], r#""cache", "storage""#);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}
