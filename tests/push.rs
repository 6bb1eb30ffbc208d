//! Web Push end to end: a device subscribes, a message it should hear of is pushed to a local
//! push service that checks the VAPID signature and decrypts the payload with the device's
//! key; levels, looking at a page, gone and failing services, and subscriptions refused.

mod common;

use common::push::{BrowserKeys, PushService, Reply};
use common::{Person, TestApp, Ws};
use serde_json::{Value, json};
use std::time::Duration;

const SUBJECT: &str = "mailto:ops@example.org";

async fn app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.push_subject = SUBJECT.into();
        c.fetch_allow_networks = vec!["127.0.0.0/8".into()];
        c.push_idle_secs = 1;
    })
    .await
}

/// Subscribes `who` with a fresh browser key at `name` on the service; the keys decrypt.
async fn subscribe(who: &Person, service: &PushService, name: &str) -> (BrowserKeys, i64) {
    let keys = BrowserKeys::new();
    let res = who
        .post(
            "/api/v1/me/devices",
            json!({"endpoint": service.endpoint(name), "expirationTime": null,
                   "keys": {"p256dh": keys.p256dh(), "auth": keys.auth()}, "label": "Test browser"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let device: Value = res.json().await.unwrap();
    (keys, device["id"].as_i64().unwrap())
}

async fn direct(from: &Person, to: &Person) -> i64 {
    let res = from
        .post("/api/v1/directs", json!({"user_id": to.id}))
        .await;
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Waits (up to 5 s) until `name` has received `n` pushes.
async fn pushes(service: &PushService, name: &str, n: usize) -> Vec<common::push::Received> {
    for _ in 0..100 {
        let got = service.received(name);
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{name}: {} pushes, not {n}", service.received(name).len());
}

/// Whether anything arrives for `name` within `ms`.
async fn nothing_for(service: &PushService, name: &str, ms: u64) -> bool {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    service.received(name).is_empty()
}

#[tokio::test]
async fn a_direct_is_pushed_signed_and_readable_only_by_the_device() {
    let app = app().await;
    let service = PushService::start().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let key = bob.json("/api/v1/push/key").await["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    service.restrict("bob", &key);
    let (keys, _) = subscribe(&bob, &service, "bob").await;
    let list = bob.json("/api/v1/me/devices").await;
    assert_eq!(list["devices"][0]["label"], "Test browser");
    assert!(list["devices"][0].get("endpoint").is_none(), "{list}");

    let dm = direct(&ada, &bob).await;
    let sent = ada.say(dm, "are you **there**?").await;
    let got = pushes(&service, "bob", 1).await;
    let push = &got[0];
    assert_eq!(push.status, Some(201), "{:?}", push.refused);
    assert_eq!(push.claims.as_ref().unwrap()["sub"], SUBJECT);
    assert_eq!(push.header("ttl"), Some("86400"));
    assert_eq!(push.header("urgency"), Some("high"));
    assert!(push.header("topic").is_some_and(|t| t.len() == 32));
    let payload: Value = serde_json::from_slice(&keys.decrypt(&push.body).unwrap()).unwrap();
    let id = sent["id"].as_i64().unwrap();
    assert_eq!(
        payload,
        json!({"title": "ada", "body": "are you there?", "url": format!("/c/{dm}?at={id}#m-{id}"),
               "tag": format!("c{dm}"), "badge": 1, "conversation": dm, "message_id": id})
    );
    // Another browser's key cannot read it.
    assert!(BrowserKeys::new().decrypt(&push.body).is_err());
    // The device shows when it was last pushed to.
    let list = bob.json("/api/v1/me/devices").await;
    assert!(list["devices"][0]["last_sent_at"].is_i64(), "{list}");
    // The sender's own devices hear nothing of their own message.
    assert_eq!(service.received("bob").len(), 1);
}

#[tokio::test]
async fn levels_and_quiet_decide_what_is_pushed() {
    let app = app().await;
    let service = PushService::start().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    subscribe(&bob, &service, "bob").await;
    let general = ada.general().await;
    // A channel: no push without a mention.
    ada.say(general, "lunch?").await;
    assert!(nothing_for(&service, "bob", 600).await);
    ada.say(general, "@bob lunch?").await;
    let got = pushes(&service, "bob", 1).await;
    assert_eq!(got.len(), 1);
    // A direct set to nothing: nothing.
    let dm = direct(&ada, &bob).await;
    let path = format!("/api/v1/conversations/{dm}/notify");
    assert_eq!(
        bob.patch(&path, json!({"level": "none"})).await.status(),
        200
    );
    ada.say(dm, "hello?").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(service.received("bob").len(), 1);
    // Quiet: nothing either, even a mention.
    assert_eq!(
        bob.patch(&path, json!({"level": "all"})).await.status(),
        200
    );
    let until = json!({"until": now_ms() + 60_000});
    assert_eq!(bob.put_json("/api/v1/me/quiet", until).await.status(), 200);
    ada.say(general, "@bob are you there").await;
    ada.say(dm, "hello??").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(service.received("bob").len(), 1);
}

#[tokio::test]
async fn someone_looking_at_a_page_is_not_pushed_until_they_have_been_away_a_while() {
    let app = app().await;
    let service = PushService::start().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    subscribe(&bob, &service, "bob").await;
    let dm = direct(&ada, &bob).await;
    let mut page: Ws = bob.ws(None).await;
    ada.say(dm, "while you look").await;
    assert!(
        nothing_for(&service, "bob", 1500).await,
        "no push while a page is in view"
    );

    // The page goes out of view: after the idle time (1 s here), the next message is pushed.
    page.send(json!({"op": "presence", "req": 1, "status": "away"}))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    ada.say(dm, "now you are away").await;
    let got = pushes(&service, "bob", 1).await;
    assert_eq!(got.len(), 1);
    // A message read before its held-back push is due is not pushed.
    page.send(json!({"op": "presence", "req": 2, "status": "online"}))
        .await;
    page.send(json!({"op": "presence", "req": 3, "status": "away"}))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let m = ada.say(dm, "read me at once").await;
    let res = bob
        .post(
            &format!("/api/v1/conversations/{dm}/read"),
            json!({"message_id": m["id"]}),
        )
        .await;
    assert_eq!(res.status(), 204);
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert_eq!(
        service.received("bob").len(),
        1,
        "a read message is not pushed"
    );
}

#[tokio::test]
async fn gone_devices_are_forgotten_and_failing_services_are_retried_later() {
    let app = app().await;
    let service = PushService::start().await;
    let (ada, bob, cat) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("cat").await,
    );
    let (_, gone) = subscribe(&bob, &service, "gone").await;
    let (_, busy) = subscribe(&cat, &service, "busy").await;
    service.reply("gone", Reply::Status(410));
    service.reply("busy", Reply::TooMany { retry_after: 120 });
    let dm_bob = direct(&ada, &bob).await;
    let dm_cat = direct(&ada, &cat).await;
    ada.say(dm_bob, "hello bob").await;
    ada.say(dm_cat, "hello cat").await;
    pushes(&service, "gone", 1).await;
    pushes(&service, "busy", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // 410: the device is removed; nothing else is.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM push_subscriptions WHERE id = {gone}"
        )),
        0
    );
    assert_eq!(bob.json("/api/v1/me/devices").await["devices"], json!([]));
    // 429 with Retry-After 120: kept, its error noted, tried again no sooner than asked.
    let devices = cat.json("/api/v1/me/devices").await;
    assert_eq!(devices["devices"][0]["id"], busy);
    assert!(
        devices["devices"][0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("429")),
        "{devices}"
    );
    let wait = app.count(&format!(
        "SELECT CAST(min(run_at) - unixepoch('subsec') * 1000 AS INTEGER) FROM outbox
         WHERE kind = 'push.retry' AND key LIKE 'push.retry:%:{busy}'"
    ));
    assert!((110_000..=121_000).contains(&wait), "retry in {wait} ms");

    // Once the service is back, the retry delivers (made due now; the next post wakes the worker).
    service.reply("busy", Reply::Created);
    app.sql()
        .execute("UPDATE outbox SET run_at = 0 WHERE kind = 'push.retry'", [])
        .unwrap();
    ada.say(dm_cat, "and again").await;
    let got = pushes(&service, "busy", 3).await;
    assert_eq!(got.iter().filter(|r| r.status == Some(201)).count(), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind LIKE 'push%'"),
        0
    );
}

#[tokio::test]
async fn a_push_service_that_hangs_never_holds_up_a_post() {
    let app = app().await;
    let service = PushService::start().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    subscribe(&bob, &service, "slow").await;
    service.reply("slow", Reply::Hang);
    let dm = direct(&ada, &bob).await;
    ada.say(dm, "first").await;
    pushes(&service, "slow", 1).await;
    // The push is still waiting for an answer, and posting goes on.
    for i in 0..5 {
        ada.say(dm, &format!("more {i}")).await;
    }
    assert_eq!(service.received("slow")[0].status, None, "still hanging");
    // After the client's time limit the device notes it, and a retry is queued.
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM outbox WHERE kind = 'push.retry'") > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(app.count("SELECT count(*) FROM outbox WHERE kind = 'push.retry'") > 0);
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_store_nothing() {
    let app = app().await;
    let bob = app.person("bob").await;
    let keys = BrowserKeys::new();
    let (p256dh, auth) = (keys.p256dh(), keys.auth());
    let b64 = |bytes: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let good = "http://127.0.0.1:9/push/x".to_string();
    let long_ok = format!("http://127.0.0.1:9/{}", "a".repeat(2000 - 19));
    let long_bad = format!("http://127.0.0.1:9/{}", "a".repeat(2001 - 19));
    assert_eq!(long_ok.len(), 2000);
    let cases = [
        (
            json!({"endpoint": "not a url", "keys": {"p256dh": p256dh, "auth": auth}}),
            "endpoint",
        ),
        (
            json!({"endpoint": "ftp://127.0.0.1/x", "keys": {"p256dh": p256dh, "auth": auth}}),
            "endpoint",
        ),
        (
            json!({"endpoint": long_bad, "keys": {"p256dh": p256dh, "auth": auth}}),
            "endpoint",
        ),
        (
            json!({"endpoint": "https://10.1.2.3/push", "keys": {"p256dh": p256dh, "auth": auth}}),
            "not a public address",
        ),
        (
            json!({"endpoint": "https://[::1]/push", "keys": {"p256dh": p256dh, "auth": auth}}),
            "not a public address",
        ),
        (
            json!({"endpoint": good, "keys": {"p256dh": b64(&[4; 64]), "auth": auth}}),
            "p256dh",
        ),
        (
            json!({"endpoint": good, "keys": {"p256dh": b64(&[4; 65]), "auth": auth}}),
            "p256dh",
        ),
        (
            json!({"endpoint": good, "keys": {"p256dh": "!!", "auth": auth}}),
            "p256dh",
        ),
        (
            json!({"endpoint": good, "keys": {"p256dh": p256dh, "auth": b64(&[1; 15])}}),
            "auth",
        ),
        (
            json!({"endpoint": good, "keys": {"p256dh": p256dh, "auth": b64(&[1; 17])}}),
            "auth",
        ),
        (json!({"endpoint": good, "keys": {"p256dh": p256dh}}), ""),
        (
            json!({"endpoint": good, "keys": {"p256dh": p256dh, "auth": auth}, "extra": 1}),
            "",
        ),
    ];
    for (body, says) in cases {
        let res = bob.post("/api/v1/me/devices", body.clone()).await;
        assert_eq!(res.status(), 400, "{body}");
        let err: Value = res.json().await.unwrap();
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(says), "{body}: {message}");
    }
    assert_eq!(app.count("SELECT count(*) FROM push_subscriptions"), 0);
    // Exactly the limits: taken.
    let ok = json!({"endpoint": long_ok, "keys": {"p256dh": p256dh, "auth": b64(&[1; 16])}});
    assert_eq!(bob.post("/api/v1/me/devices", ok).await.status(), 201);
    assert_eq!(app.count("SELECT count(*) FROM push_subscriptions"), 1);
}

#[tokio::test]
async fn a_browser_belongs_to_whoever_subscribed_last_and_only_its_owner_removes_it() {
    let app = app().await;
    let service = PushService::start().await;
    let (bob, cat) = (app.person("bob").await, app.person("cat").await);
    let (_, first) = subscribe(&bob, &service, "shared").await;
    let (_, second) = subscribe(&cat, &service, "shared").await;
    assert_eq!(first, second, "the same endpoint is the same device");
    assert_eq!(bob.json("/api/v1/me/devices").await["devices"], json!([]));
    assert_eq!(
        bob.delete(&format!("/api/v1/me/devices/{second}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        cat.delete(&format!("/api/v1/me/devices/{second}"))
            .await
            .status(),
        204
    );
    assert_eq!(app.count("SELECT count(*) FROM push_subscriptions"), 0);
}

#[tokio::test]
async fn the_key_pair_is_kept_in_the_database_and_a_damaged_one_is_never_replaced() {
    let app = app().await;
    let bob = app.person("bob").await;
    let first = bob.json("/api/v1/push/key").await["public_key"].clone();
    assert_eq!(bob.json("/api/v1/push/key").await["public_key"], first);
    let stored: Vec<u8> = app
        .sql()
        .query_row(
            "SELECT value FROM settings WHERE name = 'push.vapid_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored.len(), 32);
    // A second server on the same database (a restart) uses the same key.
    let config = (*app.app.config).clone();
    let db = hearth::db::Db::open(&config.data_dir, config.synchronous).unwrap();
    let second = hearth::web::App::new(db, config).await.unwrap();
    let key = hearth::chat::push::public_key(&second.chat).await.unwrap();
    assert_eq!(key.as_deref(), first.as_str());
    // Damaged: an error, and the stored value stays for the operator to restore.
    let fresh = TestApp::spawn_with(|c| c.push_subject = SUBJECT.into()).await;
    let cat = fresh.person("cat").await;
    fresh
        .sql()
        .execute(
            "INSERT INTO settings (name, value) VALUES ('push.vapid_key', x'0102')",
            [],
        )
        .unwrap();
    assert_eq!(cat.get("/api/v1/push/key").await.status(), 500);
    let kept: Vec<u8> = fresh
        .sql()
        .query_row(
            "SELECT value FROM settings WHERE name = 'push.vapid_key'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, vec![1, 2]);
}

#[tokio::test]
async fn a_server_without_a_push_subject_does_not_push() {
    let app = TestApp::spawn().await;
    let bob = app.person("bob").await;
    assert_eq!(bob.get("/api/v1/push/key").await.status(), 404);
    let keys = BrowserKeys::new();
    let res = bob
        .post(
            "/api/v1/me/devices",
            json!({"endpoint": "https://push.example.org/x",
                   "keys": {"p256dh": keys.p256dh(), "auth": keys.auth()}}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let page = bob
        .get("/account/notifications")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("does not send pushes"), "{page}");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
