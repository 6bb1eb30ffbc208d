//! Outgoing webhooks: an admin points a conversation at a receiver; new messages that fire the
//! hook arrive there signed, and its answers come back as replies from the hook's bot. Server
//! trouble is retried, refusals and private targets are not, and admins read every attempt.

mod common;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use common::{Person, TestApp};
use hearth::domain::Role;
use hearth::net::{Client, Lookup, Policy, Resolver, parse_networks};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a receiver answers one request.
#[derive(Debug, Clone)]
enum Reply {
    Status(u16),
    Json(&'static str),
    Text(&'static str),
    Redirect(String),
    Hang,
}

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Book {
    /// Answers to give, in order; then 204.
    replies: VecDeque<Reply>,
    got: Vec<Got>,
}

/// A webhook receiver on `ip`: records each request and answers as told.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    book: Arc<Mutex<Book>>,
}

impl Receiver {
    async fn start(ip: &str, replies: Vec<Reply>) -> Receiver {
        let book = Arc::new(Mutex::new(Book {
            replies: replies.into(),
            got: Vec::new(),
        }));
        let app = Router::new().fallback(take).with_state(book.clone());
        let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, book }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn got(&self) -> Vec<Got> {
        self.book.lock().unwrap().got.clone()
    }

    /// Waits until `n` requests came (at most `secs` seconds), and answers them all.
    async fn wait_for(&self, n: usize, secs: u64) -> Vec<Got> {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < until,
                "{} requests came, not {n}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

async fn take(
    State(book): State<Arc<Mutex<Book>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut book = book.lock().unwrap();
        book.got.push(Got {
            path: uri.path().to_owned(),
            headers,
            body: body.to_vec(),
        });
        book.replies.pop_front().unwrap_or(Reply::Status(204))
    };
    match reply {
        Reply::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Reply::Json(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Reply::Text(body) => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
        }
        Reply::Redirect(to) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Reply::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

/// Names for the server's own client, which may reach 127.0.0.2 only (standing in for the
/// internet): 127.0.0.1 stands for this server's private network.
struct Names(HashMap<&'static str, IpAddr>);

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

/// A server whose outbound client reaches 127.0.0.2 as the internet, with `hooks.test` on it
/// and `inside.test` on 127.0.0.1 (a private address).
async fn app_with_names() -> TestApp {
    let names = Names(HashMap::from([
        ("hooks.test", "127.0.0.2".parse().unwrap()),
        ("inside.test", "127.0.0.1".parse().unwrap()),
    ]));
    let policy = Policy {
        allow: parse_networks(&["127.0.0.2"]).unwrap(),
        ..Policy::default()
    };
    let fetch = Client::with_resolver(policy, Arc::new(names)).unwrap();
    TestApp::spawn_with_fetch(|_| {}, fetch).await
}

/// An admin, a member, and #general's id.
async fn people(app: &TestApp) -> (Person, Person, i64) {
    let ann = app.person_with_role("ann", Role::Admin).await;
    let bob = app.person("bob").await;
    let general = ann.general().await;
    (ann, bob, general)
}

/// Makes a hook through the API (it must be made).
async fn add_hook(admin: &Person, conversation: i64, body: Value) -> Value {
    let res = admin
        .post(
            &format!("/api/v1/conversations/{conversation}/outgoing-webhooks"),
            body,
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// A hook on a local receiver, which only a hook allowing private targets may reach.
async fn local_hook(admin: &Person, conversation: i64, name: &str, url: &str) -> Value {
    add_hook(
        admin,
        conversation,
        json!({"name": name, "url": url, "allow_private": true}),
    )
    .await
}

/// The hook's log once it has `n` attempts (at most `secs` seconds), newest first.
async fn log_of(admin: &Person, hook: &Value, n: usize, secs: u64) -> Vec<Value> {
    let path = format!("/api/v1/outgoing-webhooks/{}/deliveries", hook["id"]);
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let log = admin.json(&path).await["deliveries"]
            .as_array()
            .unwrap()
            .clone();
        if log.len() >= n {
            return log;
        }
        assert!(
            Instant::now() < until,
            "{} attempts logged, not {n}",
            log.len()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The messages of a conversation, oldest first.
async fn messages(p: &Person, conversation: i64) -> Vec<Value> {
    let page = p
        .json(&format!("/api/v1/conversations/{conversation}/messages"))
        .await;
    page["messages"].as_array().unwrap().clone()
}

/// The reply to `message`, once there is one.
async fn reply_to(p: &Person, conversation: i64, message: &Value) -> Value {
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let found = messages(p, conversation)
            .await
            .into_iter()
            .find(|m| m["reply_to"] == message["id"]);
        if let Some(reply) = found {
            return reply;
        }
        assert!(Instant::now() < until, "no reply to {}", message["id"]);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Checks `X-Hearth-Signature` as a receiver would, with its own HMAC.
fn signed_with(got: &Got, secret: &str) -> bool {
    let sig = got.header("x-hearth-signature");
    let (t, v1) = sig
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
        .unwrap_or_else(|| panic!("signature {sig}"));
    let t: i64 = t.parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - t).abs() < 60, "signed at {t}, now {now}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&got.body);
    mac.verify_slice(&hex::decode(v1).unwrap()).is_ok()
}

/// How long until the planned retry of the one waiting delivery, in ms, once the worker has
/// planned it (the attempt is logged a moment before its retry is planned).
async fn planned_retry(app: &TestApp) -> i64 {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let planned: Option<i64> = app
            .sql()
            .query_row(
                "SELECT run_at - CAST(unixepoch('subsec') * 1000 AS INTEGER) FROM outbox
                 WHERE kind = 'webhook' AND last_error != ''",
                [],
                |r| r.get(0),
            )
            .ok();
        if let Some(wait) = planned {
            return wait;
        }
        assert!(Instant::now() < until, "no retry planned");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Makes the planned retry due now and wakes the worker (instead of waiting its backoff).
async fn retry_now(app: &TestApp) {
    planned_retry(app).await;
    app.sql()
        .execute("UPDATE outbox SET run_at = 0 WHERE kind = 'webhook'", [])
        .unwrap();
    app.app.chat.files.wake.notify_one();
}

fn waiting_deliveries(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM outbox WHERE kind = 'webhook'")
}

#[tokio::test]
async fn a_message_arrives_signed_and_the_json_answer_is_the_bots_reply() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![Reply::Json(r#"{"text": "pong"}"#)]).await;
    let hook = local_hook(&ann, general, "Ping Pong", &receiver.url("/in")).await;
    let secret = hook["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 6 + 64,
        "{secret}"
    );
    assert_eq!(hook["trigger"], "all");
    assert_eq!(hook["bot"]["username"], "ping-pong-bot");
    assert_eq!(hook["bot"]["bot"], true);

    let ping = bob.say(general, "ping").await;
    let got = receiver.wait_for(1, 10).await;
    let got = &got[0];
    assert_eq!(got.path, "/in");
    assert_eq!(got.header("content-type"), "application/json");
    assert_eq!(got.header("x-hearth-hook"), hook["id"].to_string());
    let delivery = format!("{}-{}", hook["id"], ping["id"]);
    assert_eq!(got.header("x-hearth-delivery"), delivery);
    assert_eq!(got.header("x-hearth-attempt"), "1");
    assert!(got.header("user-agent").contains("webhook"));
    assert!(signed_with(got, secret), "the signature checks out");
    assert!(
        !signed_with(got, "whsec_another"),
        "and only with the secret"
    );

    let body = got.json();
    assert_eq!(body["hook_id"], hook["id"]);
    assert_eq!(body["delivery"], delivery.as_str());
    assert_eq!(body["trigger"], "all");
    assert_eq!(body["word"], Value::Null);
    assert_eq!(body["message"]["id"], ping["id"]);
    assert_eq!(body["message"]["body"], "ping");
    assert_eq!(body["message"]["html"], ping["html"]);
    assert_eq!(body["message"]["created_at"], ping["created_at"]);
    assert_eq!(body["message"]["reply_to"], Value::Null);
    let url = format!("/c/{general}?at={0}#m-{0}", ping["id"]);
    assert_eq!(body["message"]["url"], url.as_str());
    assert_eq!(
        body["conversation"],
        json!({"id": general, "kind": "channel", "name": "general"})
    );
    assert_eq!(
        body["sender"],
        json!({"id": bob.id, "username": "bob", "display_name": "bob", "bot": false})
    );

    let reply = reply_to(&bob, general, &ping).await;
    assert_eq!(reply["body"], "pong");
    assert_eq!(reply["sender"]["bot"], true);
    assert_eq!(reply["sender"]["username"], "ping-pong-bot");
    assert_eq!(reply["sender"]["display_name"], "Ping Pong");

    let log = log_of(&ann, &hook, 1, 5).await;
    assert_eq!(log[0]["outcome"], "replied");
    assert_eq!(log[0]["status"], 200);
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["message_id"], ping["id"]);
    assert_eq!(log[0]["error"], "");
    // The bot's reply is a bot's message: it goes to no hook, so the two never loop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 1);
    assert_eq!(waiting_deliveries(&app), 0);
}

#[tokio::test]
async fn a_text_answer_is_posted_and_an_empty_one_only_delivered() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let replies = vec![Reply::Text("hello, bob"), Reply::Status(200)];
    let receiver = Receiver::start("127.0.0.1", replies).await;
    let hook = local_hook(&ann, general, "Greeter", &receiver.url("/")).await;

    let first = bob.say(general, "hi").await;
    let reply = reply_to(&bob, general, &first).await;
    assert_eq!(reply["body"], "hello, bob");
    assert_eq!(reply["sender"]["bot"], true);

    let count = messages(&bob, general).await.len();
    bob.say(general, "bye").await;
    let log = log_of(&ann, &hook, 2, 10).await;
    assert_eq!(log[0]["outcome"], "delivered");
    assert_eq!(log[1]["outcome"], "replied");
    assert_eq!(messages(&bob, general).await.len(), count + 1, "no reply");
}

#[tokio::test]
async fn mention_and_word_hooks_fire_only_when_they_should() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    // The word hook answers with its own word: the bot's reply must not fire it again.
    let receiver = Receiver::start("127.0.0.1", vec![Reply::Text("!deploy done")]).await;
    let words = add_hook(
        &ann,
        general,
        json!({"name": "Deployer", "url": receiver.url("/word"), "trigger": "word",
               "words": "!deploy, !Status", "allow_private": true}),
    )
    .await;
    assert_eq!(words["words"], json!(["!deploy", "!status"]));
    let mention = add_hook(
        &ann,
        general,
        json!({"name": "Helper", "url": receiver.url("/mention"), "trigger": "mention",
               "allow_private": true}),
    )
    .await;
    assert_eq!(mention["words"], json!([]));

    for body in [
        "hello",
        "please !deploy",
        "!deployed",
        "helper-bot, hi",
        "@ann hi",
    ] {
        bob.say(general, body).await;
    }
    let deploy = bob.say(general, "!DEPLOY prod").await;
    receiver.wait_for(1, 10).await;
    let asked = bob.say(general, "@helper-bot what now?").await;
    receiver.wait_for(2, 10).await;
    reply_to(&bob, general, &deploy).await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let got: Vec<(String, Value)> = receiver
        .got()
        .iter()
        .map(|g| (g.path.clone(), g.json()))
        .collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].0, "/word");
    assert_eq!(got[0].1["message"]["id"], deploy["id"]);
    assert_eq!(got[0].1["trigger"], "word");
    assert_eq!(got[0].1["word"], "!deploy");
    assert_eq!(got[1].0, "/mention");
    assert_eq!(got[1].1["message"]["id"], asked["id"]);
    assert_eq!(got[1].1["trigger"], "mention");
    assert_eq!(got[1].1["word"], Value::Null);
    assert_eq!(
        app.count("SELECT count(*) FROM webhook_deliveries"),
        2,
        "nothing else was sent"
    );
}

#[tokio::test]
async fn a_server_error_is_retried_with_backoff_and_then_delivered() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![Reply::Status(500)]).await;
    let hook = local_hook(&ann, general, "Flaky", &receiver.url("/")).await;
    let message = bob.say(general, "are you there?").await;

    let log = log_of(&ann, &hook, 1, 10).await;
    assert_eq!(log[0]["outcome"], "retrying");
    assert_eq!(log[0]["status"], 500);
    assert_eq!(log[0]["error"], "the receiver answered 500");
    // The next try waits its backoff (10 s) before it is due.
    let wait = planned_retry(&app).await;
    assert!((5_000..=10_500).contains(&wait), "next try in {wait} ms");
    assert_eq!(receiver.got().len(), 1);

    retry_now(&app).await;
    let got = receiver.wait_for(2, 10).await;
    assert_eq!(got[1].header("x-hearth-attempt"), "2");
    assert_eq!(
        got[1].header("x-hearth-delivery"),
        got[0].header("x-hearth-delivery"),
        "the same delivery, again"
    );
    assert_eq!(got[0].body, got[1].body);
    let log = log_of(&ann, &hook, 2, 10).await;
    let seen: Vec<(i64, &str, Value)> = log
        .iter()
        .map(|d| {
            let outcome = d["outcome"].as_str().unwrap();
            (d["attempt"].as_i64().unwrap(), outcome, d["status"].clone())
        })
        .collect();
    assert_eq!(
        seen,
        [(2, "delivered", json!(204)), (1, "retrying", json!(500))]
    );
    assert!(log.iter().all(|d| d["message_id"] == message["id"]));
    assert_eq!(waiting_deliveries(&app), 0, "done");
}

#[tokio::test]
async fn a_receiver_that_hangs_times_out_after_five_seconds_and_is_tried_again() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![Reply::Hang]).await;
    let hook = local_hook(&ann, general, "Sleepy", &receiver.url("/")).await;
    let started = Instant::now();
    bob.say(general, "wake up").await;

    let log = log_of(&ann, &hook, 1, 12).await;
    let took = started.elapsed();
    assert_eq!(log[0]["outcome"], "retrying");
    assert_eq!(log[0]["status"], Value::Null);
    assert_eq!(log[0]["error"], "no answer within 5 s");
    let duration = log[0]["duration_ms"].as_i64().unwrap();
    assert!((4_900..6_000).contains(&duration), "{duration} ms");
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert_eq!(waiting_deliveries(&app), 1, "another try is planned");
    retry_now(&app).await;
    receiver.wait_for(2, 5).await;
    let log = log_of(&ann, &hook, 2, 5).await;
    assert_eq!(log[0]["attempt"], 2);
    assert_eq!(log[0]["outcome"], "delivered");
}

#[tokio::test]
async fn a_refusal_fails_at_once_and_is_not_tried_again() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![Reply::Status(404)]).await;
    let hook = local_hook(&ann, general, "Gone", &receiver.url("/old")).await;
    bob.say(general, "hello?").await;

    let log = log_of(&ann, &hook, 1, 10).await;
    assert_eq!(log[0]["outcome"], "failed");
    assert_eq!(log[0]["status"], 404);
    assert_eq!(log[0]["error"], "the receiver answered 404");
    assert_eq!(waiting_deliveries(&app), 0, "no retry is planned");
    app.app.chat.files.wake.notify_one();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got().len(), 1);
}

#[tokio::test]
async fn a_private_receiver_is_refused_unless_the_hook_allows_it() {
    let app = app_with_names().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![]).await;
    let port = receiver.addr.port();
    // A name that turns out to be a private address, checked as the delivery connects.
    let hook = add_hook(
        &ann,
        general,
        json!({"name": "Inside", "url": format!("http://inside.test:{port}/")}),
    )
    .await;
    assert_eq!(hook["allow_private"], false);
    bob.say(general, "hello inside").await;

    let log = log_of(&ann, &hook, 1, 10).await;
    assert_eq!(log[0]["outcome"], "failed");
    assert_eq!(log[0]["status"], Value::Null);
    let error = log[0]["error"].as_str().unwrap();
    assert!(
        error.contains("127.0.0.1 is not a public address")
            && error.contains("does not allow private targets"),
        "{error}"
    );
    assert_eq!(receiver.got().len(), 0, "nothing reached it");
    assert_eq!(waiting_deliveries(&app), 0);

    // The same receiver, for a hook that allows private targets.
    let allowed = local_hook(&ann, general, "Inside too", &receiver.url("/")).await;
    bob.say(general, "hello again").await;
    receiver.wait_for(1, 10).await;
    let log = log_of(&ann, &allowed, 1, 5).await;
    assert_eq!(log[0]["outcome"], "delivered");
}

#[tokio::test]
async fn a_redirect_to_a_private_address_is_refused_and_logged() {
    let app = app_with_names().await;
    let (ann, bob, general) = people(&app).await;
    // The private service the redirect points at: it must never be reached.
    let inside = Receiver::start("127.0.0.1", vec![]).await;
    let outside = Receiver::start("127.0.0.2", vec![Reply::Redirect(inside.url("/admin"))]).await;
    let port = outside.addr.port();
    let hook = add_hook(
        &ann,
        general,
        json!({"name": "Bouncer", "url": format!("http://hooks.test:{port}/in")}),
    )
    .await;
    bob.say(general, "go somewhere").await;

    let log = log_of(&ann, &hook, 1, 10).await;
    assert_eq!(log[0]["outcome"], "failed");
    assert_eq!(log[0]["status"], 302);
    let error = log[0]["error"].as_str().unwrap();
    assert!(
        error.contains(&inside.url("/admin")) && error.contains("do not follow redirects"),
        "{error}"
    );
    assert_eq!(outside.got().len(), 1);
    assert_eq!(
        inside.got().len(),
        0,
        "the private address was never reached"
    );
    assert_eq!(waiting_deliveries(&app), 0, "and it is not tried again");
}

#[tokio::test]
async fn only_admins_manage_hooks_and_anyone_else_finds_nothing() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![]).await;
    let hook = local_hook(&ann, general, "Private", &receiver.url("/")).await;
    let id = hook["id"].as_i64().unwrap();

    let list = format!("/api/v1/conversations/{general}/outgoing-webhooks");
    assert_eq!(bob.get(&list).await.status(), 404);
    let res = bob
        .post(
            &list,
            json!({"name": "Mine", "url": "https://example.org/"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    for path in [
        format!("/api/v1/outgoing-webhooks/{id}"),
        format!("/api/v1/outgoing-webhooks/{id}/deliveries"),
    ] {
        assert_eq!(bob.get(&path).await.status(), 404, "{path}");
    }
    let rotate = format!("/api/v1/outgoing-webhooks/{id}/rotate");
    assert_eq!(bob.post(&rotate, json!({})).await.status(), 404);
    let one = format!("/api/v1/outgoing-webhooks/{id}");
    assert_eq!(bob.delete(&one).await.status(), 404);
    assert_eq!(
        bob.get(&format!("/c/{general}/outgoing")).await.status(),
        404
    );
    assert_eq!(
        bob.get(&format!("/c/{general}/outgoing/{id}"))
            .await
            .status(),
        404
    );
    let csrf = bob.csrf(&format!("/c/{general}/settings")).await;
    let res = bob
        .form(
            &format!("/c/{general}/outgoing/{id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), 404);
    let settings = bob
        .get(&format!("/c/{general}/settings"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!settings.contains("/outgoing"), "no link for a member");

    // Nothing changed: the hook works, with its secret.
    let same = ann.json(&one).await;
    assert_eq!(same["secret"], hook["secret"]);
    assert_eq!(same["revoked_at"], Value::Null);
    let settings = ann
        .get(&format!("/c/{general}/settings"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        settings.contains(&format!("/c/{general}/outgoing")),
        "a link for admins"
    );
}

#[tokio::test]
async fn bad_input_is_refused_clearly_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let (ann, _bob, general) = people(&app).await;
    let path = format!("/api/v1/conversations/{general}/outgoing-webhooks");
    let long = format!("https://example.org/{}", "a".repeat(2000));
    let cases = [
        (
            json!({"name": "A", "url": "ftp://example.org/"}),
            "only http and https",
        ),
        (
            json!({"name": "A", "url": "https://me:pw@example.org/"}),
            "user name or password",
        ),
        (json!({"name": "A", "url": long}), "at most 2000 characters"),
        (json!({"name": "A", "url": ""}), "needs the URL"),
        (json!({"name": "A", "url": "example.org/hook"}), "not a URL"),
        (
            json!({"name": "A", "url": "http://127.0.0.1:9/"}),
            "not a public address",
        ),
        (
            json!({"name": "A", "url": "http://169.254.169.254/"}),
            "not a public address",
        ),
        (
            json!({"name": "A", "url": "https://example.org/", "trigger": "sometimes"}),
            "not one of all, mention or word",
        ),
        (
            json!({"name": "A", "url": "https://example.org/", "trigger": "word"}),
            "at least one word",
        ),
        (
            json!({"name": "A", "url": "https://example.org/", "trigger": "word", "words": " , "}),
            "at least one word",
        ),
        (json!({"name": " ", "url": "https://example.org/"}), "name"),
        (json!({"url": "https://example.org/"}), "name"),
        (
            json!({"name": "A", "url": "https://example.org/", "secret": "mine"}),
            "unknown field",
        ),
    ];
    for (body, says) in cases {
        let res = ann.post(&path, body.clone()).await;
        assert_eq!(res.status(), 400, "{body}");
        let error: Value = res.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{body}: {message}");
    }
    // A page form is refused the same way, and shows why.
    let page = format!("/c/{general}/outgoing");
    let csrf = ann.csrf(&page).await;
    let res = ann
        .form(
            &page,
            &[
                ("csrf", csrf.as_str()),
                ("name", "A"),
                ("url", "gopher://x"),
                ("trigger", "all"),
            ],
        )
        .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("only http and https"));

    assert_eq!(app.count("SELECT count(*) FROM webhooks_out"), 0);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE bot = 1"), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action LIKE 'webhook_out.%'"),
        0
    );
    // An unknown hook, or one that is not a number, is not there.
    assert_eq!(ann.get("/api/v1/outgoing-webhooks/999").await.status(), 404);
    assert_eq!(ann.get("/api/v1/outgoing-webhooks/x").await.status(), 404);
}

#[tokio::test]
async fn an_admin_makes_a_hook_on_its_page_rotates_its_secret_and_revokes_it() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![]).await;

    let page = format!("/c/{general}/outgoing");
    let csrf = ann.csrf(&page).await;
    let url = receiver.url("/hook");
    let res = ann
        .form(
            &page,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Builds"),
                ("url", url.as_str()),
                ("trigger", "word"),
                ("words", "!build"),
                ("allow_private", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let at = res.headers()["location"].to_str().unwrap().to_owned();
    let hooks = ann
        .json(&format!(
            "/api/v1/conversations/{general}/outgoing-webhooks"
        ))
        .await;
    let hook = hooks["hooks"][0].clone();
    assert_eq!(at, format!("{page}/{}", hook["id"]));
    assert_eq!(hook["allow_private"], true);
    assert_eq!(hook["words"], json!(["!build"]));
    let shown = ann.get(&at).await;
    assert_eq!(shown.headers()["cache-control"], "no-store");
    let shown = shown.text().await.unwrap();
    let old = hook["secret"].as_str().unwrap().to_owned();
    assert!(shown.contains(&old), "the secret is on the hook's page");
    assert!(shown.contains("Nothing sent yet"));

    // A new secret: the next delivery is signed with it, not with the old one.
    let res = ann.form(&format!("{at}/rotate"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    let rotated = ann
        .json(&format!("/api/v1/outgoing-webhooks/{}", hook["id"]))
        .await;
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    bob.say(general, "!build main").await;
    let got = receiver.wait_for(1, 10).await;
    assert!(signed_with(&got[0], &new) && !signed_with(&got[0], &old));
    log_of(&ann, &hook, 1, 5).await;
    let shown = ann.get(&at).await.text().await.unwrap();
    assert!(
        shown.contains("delivered") && !shown.contains("Nothing sent yet"),
        "{shown}"
    );

    // Revoked: nothing more is sent; its bot is out of the conversation and deactivated.
    let res = ann.form(&format!("{at}/revoke"), &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    let bot = hook["bot"]["id"].as_i64().unwrap();
    let members = ann.json(&format!("/api/v1/conversations/{general}")).await;
    let in_it = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["user"]["id"] == bot || m["id"] == bot);
    assert!(!in_it, "the bot left: {members}");
    assert_eq!(
        app.count(&format!("SELECT deactivated FROM users WHERE id = {bot}")),
        1
    );
    bob.say(general, "!build again").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 1, "a revoked hook is sent nothing");
    let revoked = ann
        .json(&format!("/api/v1/outgoing-webhooks/{}", hook["id"]))
        .await;
    assert!(revoked["revoked_at"].is_i64());
    let rotate = format!("/api/v1/outgoing-webhooks/{}/rotate", hook["id"]);
    assert_eq!(ann.post(&rotate, json!({})).await.status(), 400);
    // Revoking again changes nothing.
    let one = format!("/api/v1/outgoing-webhooks/{}", hook["id"]);
    assert_eq!(ann.delete(&one).await.status(), 204);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action LIKE 'webhook_out.%'"),
        3
    );
}

#[tokio::test]
async fn a_message_deleted_before_its_retry_is_not_sent_again() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![Reply::Status(503)]).await;
    let hook = local_hook(&ann, general, "Later", &receiver.url("/")).await;
    let oops = bob.say(general, "my password is hunter2").await;
    log_of(&ann, &hook, 1, 10).await;
    let res = bob
        .delete(&format!("/api/v1/messages/{}", oops["id"]))
        .await;
    assert_eq!(res.status(), 204);

    retry_now(&app).await;
    let log = log_of(&ann, &hook, 2, 10).await;
    assert_eq!(log[0]["attempt"], 2);
    assert_eq!(log[0]["outcome"], "failed");
    assert_eq!(log[0]["status"], Value::Null);
    assert_eq!(log[0]["error"], "not sent: the message was deleted");
    assert_eq!(receiver.got().len(), 1, "only the try before the deletion");
    assert_eq!(waiting_deliveries(&app), 0);
}

#[tokio::test]
async fn a_bot_removed_from_its_conversation_hears_nothing_more() {
    let app = TestApp::spawn().await;
    let (ann, bob, general) = people(&app).await;
    let receiver = Receiver::start("127.0.0.1", vec![]).await;
    let hook = local_hook(&ann, general, "Listener", &receiver.url("/")).await;
    bob.say(general, "one").await;
    receiver.wait_for(1, 10).await;

    let bot = &hook["bot"]["id"];
    let res = ann
        .delete(&format!("/api/v1/conversations/{general}/members/{bot}"))
        .await;
    assert_eq!(res.status(), 204);
    bob.say(general, "two").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.got().len(),
        1,
        "the conversation is no longer heard"
    );
    assert_eq!(waiting_deliveries(&app), 0);
}

#[tokio::test]
async fn hooks_are_for_channels_and_groups_an_admin_may_see() {
    let app = TestApp::spawn().await;
    let (ann, bob, _general) = people(&app).await;
    let body = json!({"name": "Spy", "url": "https://example.org/", "allow_private": true});
    // A private group ann is not in: not even an admin sees it, or may hook it.
    let res = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "bobs"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{group}/outgoing-webhooks");
    assert_eq!(ann.get(&path).await.status(), 404);
    assert_eq!(ann.post(&path, body.clone()).await.status(), 404);
    // A direct conversation is two people's: no hooks, even for an admin in it.
    let res = ann
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    assert!(res.status().is_success());
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{direct}/outgoing-webhooks");
    assert_eq!(ann.get(&path).await.status(), 404);
    assert_eq!(ann.post(&path, body.clone()).await.status(), 404);
    // Nor a member's support conversation, which ann is in as an admin.
    let res = bob.post("/api/v1/support", json!({})).await;
    assert_eq!(res.status(), 200);
    let support = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{support}/outgoing-webhooks");
    assert_eq!(ann.get(&path).await.status(), 404);
    assert_eq!(ann.post(&path, body).await.status(), 404);
    assert_eq!(app.count("SELECT count(*) FROM webhooks_out"), 0);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE bot = 1"), 0);
}
