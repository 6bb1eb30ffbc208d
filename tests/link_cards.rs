//! Link cards through the real path: a message with a link is stored, the server reads the page
//! through the one outbound client (a local site and a resolver the test controls), stores the
//! card and its image, and members hear `message.updated`; the image is served by Hearth, never
//! hot-linked; the author takes a card away; a link into the private network is never fetched.

mod common;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use common::TestApp;
use common::images::png;
use hearth::net::{Client, Lookup, Policy, Resolver, parse_networks};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The test's DNS: fixed answers per name.
struct Names(HashMap<String, IpAddr>);

impl Resolver for Names {
    fn lookup<'a>(&'a self, host: &'a str) -> Lookup<'a> {
        Box::pin(async move {
            self.0
                .get(host)
                .map(|ip| vec![*ip])
                .ok_or_else(|| std::io::ErrorKind::NotFound.into())
        })
    }
}

/// A web site on `ip`, counting the requests it gets.
async fn site(ip: &str, hits: Arc<AtomicUsize>) -> SocketAddr {
    let page = "<!doctype html><html><head><title>Fallback</title>\
        <meta property=\"og:title\" content=\"Tomatoes &amp; more\">\
        <meta property=\"og:description\" content=\"How to grow them on a balcony.\">\
        <meta property=\"og:site_name\" content=\"Garden News\">\
        <meta property=\"og:image\" content=\"/cover.png\"></head><body>hi</body></html>";
    let (h1, h2) = (hits.clone(), hits);
    let router = Router::new()
        .route(
            "/article",
            get(move || {
                h1.fetch_add(1, Ordering::SeqCst);
                async move {
                    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page).into_response()
                }
            }),
        )
        .route(
            "/cover.png",
            get(move || {
                h2.fetch_add(1, Ordering::SeqCst);
                async move {
                    ([(header::CONTENT_TYPE, "image/png")], png(800, 400, 200)).into_response()
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A server that is allowed to fetch from 127.0.0.2 only (standing in for the internet).
async fn app_with_names(names: &[(&str, &str)]) -> TestApp {
    let names = Names(
        names
            .iter()
            .map(|(n, ip)| (n.to_string(), ip.parse().unwrap()))
            .collect(),
    );
    let policy = Policy {
        allow: parse_networks(&["127.0.0.2"]).unwrap(),
        timeout: Duration::from_secs(3),
        ..Policy::default()
    };
    let client = Client::with_resolver(policy, Arc::new(names)).unwrap();
    TestApp::spawn_with_fetch(|_| {}, client).await
}

async fn wait_outbox_empty(app: &TestApp) {
    for _ in 0..100 {
        let left: i64 = app
            .sql()
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
            .unwrap();
        if left == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox never emptied");
}

#[tokio::test]
async fn a_link_gets_a_card_members_see_live_and_its_author_can_remove() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = site("127.0.0.2", hits.clone()).await;
    let app = app_with_names(&[("news.test", "127.0.0.2")]).await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let general = ann.general().await;
    let mut bob_ws = bob.ws(None).await;

    let link = format!("http://news.test:{}/article", addr.port());
    let sent = ann.say(general, &format!("Worth a read: {link}")).await;
    let id = sent["id"].as_i64().unwrap();
    assert!(
        sent["preview"].is_null(),
        "the card comes after the message"
    );
    assert_eq!(bob_ws.event().await["event"], "message.created");

    let updated = bob_ws.event().await;
    assert_eq!(updated["event"], "message.updated");
    let card = &updated["data"]["message"]["preview"];
    assert_eq!(card["title"], "Tomatoes & more");
    assert_eq!(card["description"], "How to grow them on a balcony.");
    assert_eq!(card["site"], "Garden News");
    assert_eq!(card["url"], link);
    let image_url = card["image_url"].as_str().unwrap().to_owned();
    assert_eq!(image_url, format!("/previews/{id}/image"));
    assert_eq!(
        (card["image_width"].as_i64(), card["image_height"].as_i64()),
        (Some(320), Some(160))
    );
    let html = updated["data"]["html"].as_str().unwrap();
    assert!(
        html.contains("link-card") && html.contains(&format!("src=\"{image_url}\"")),
        "{html}"
    );
    assert!(
        !html.contains("cover.png"),
        "the site's image is never linked: {html}"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "the page and its image, once each"
    );

    // The image comes from Hearth; an outsider to the conversation gets nothing.
    let res = bob.get(&image_url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "image/jpeg",
        "an opaque image's thumbnail"
    );
    let group = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "ours"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let private = ann.say(group, &format!("again {link}")).await["id"]
        .as_i64()
        .unwrap();
    wait_outbox_empty(&app).await;
    assert_eq!(
        ann.get(&format!("/previews/{private}/image"))
            .await
            .status(),
        200
    );
    assert_eq!(
        bob.get(&format!("/previews/{private}/image"))
            .await
            .status(),
        404
    );

    // Only the author takes it away; everyone hears it go.
    let res = bob.delete(&format!("/api/v1/messages/{id}/preview")).await;
    assert_eq!(res.status(), 403);
    let res = ann.delete(&format!("/api/v1/messages/{id}/preview")).await;
    assert_eq!(res.status(), 200);
    let gone = bob_ws.event().await;
    assert_eq!(gone["event"], "message.updated");
    assert!(gone["data"]["message"]["preview"].is_null());
    assert_eq!(bob.get(&image_url).await.status(), 404);
    let page = bob
        .json(&format!("/api/v1/conversations/{general}/messages"))
        .await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert!(last["preview"].is_null(), "removed for good");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_link_into_the_private_network_is_never_fetched() {
    let inside = Arc::new(AtomicUsize::new(0));
    let private = site("127.0.0.1", inside.clone()).await;
    let outside = Arc::new(AtomicUsize::new(0));
    let public = site("127.0.0.2", outside.clone()).await;
    let app = app_with_names(&[
        ("intranet.test", "127.0.0.1"),
        ("metadata.test", "169.254.169.254"),
        ("mapped.test", "::ffff:127.0.0.1"),
        ("ten.test", "10.0.0.1"),
    ])
    .await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    let port = private.port();
    for link in [
        format!("http://intranet.test:{port}/article"),
        format!("http://127.0.0.1:{port}/article"),
        format!("http://metadata.test:{port}/latest/meta-data/"),
        format!("http://mapped.test:{port}/article"),
        format!("http://ten.test:{port}/article"),
        format!("http://[::ffff:127.0.0.1]:{port}/article"),
    ] {
        ann.say(general, &format!("look {link}")).await;
    }
    wait_outbox_empty(&app).await;
    assert_eq!(
        inside.load(Ordering::SeqCst),
        0,
        "no request left for the private network"
    );
    let cards: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM link_previews", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cards, 0);
    let _ = (public, outside);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn with_previews_off_no_link_is_queued() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    ann.say(general, "see https://example.org/").await;
    let queued: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM outbox", [], |r| r.get(0))
        .unwrap();
    assert_eq!(queued, 0);
    app.stop().await.unwrap();
}
