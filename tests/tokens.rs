//! API tokens: made once and kept as a hash, used as `Authorization: Bearer` on the JSON API and
//! the socket within their scope, refused with a clear code when expired, revoked, wrong, or sent
//! with a cookie; and bots, which act only through theirs.

mod common;

use common::{PASSWORD, Person, TestApp, Ws, error_code};
use hearth::domain::Role;
use serde_json::{Value, json};

async fn make_token(p: &Person, scope: &str, expires: Option<&str>) -> String {
    let mut body = json!({"name": format!("{scope} token"), "scope": scope});
    if let Some(e) = expires {
        body["expires"] = json!(e);
    }
    let res = p.post("/api/v1/me/tokens", body).await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.unwrap();
    made["token"].as_str().unwrap().to_owned()
}

fn bearer(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
) -> reqwest::RequestBuilder {
    app.client()
        .request(method, app.url(path))
        .header("authorization", format!("Bearer {token}"))
}

async fn get(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    bearer(app, reqwest::Method::GET, path, token)
        .send()
        .await
        .unwrap()
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    bearer(app, reqwest::Method::POST, path, token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_is_shown_once_kept_as_a_hash_and_acts_as_its_owner() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let res = ada
        .post("/api/v1/me/tokens", json!({"name": "ci", "scope": "write"}))
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let made: Value = res.json().await.unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(
        token.starts_with("hearth_") && token.len() == 7 + 64,
        "{token}"
    );
    assert_eq!(made["name"], "ci");
    assert_eq!(made["scope"], "write");
    // Ninety days by default.
    let days =
        (made["expires_at"].as_i64().unwrap() - made["created_at"].as_i64().unwrap()) / 86_400_000;
    assert_eq!(days, 90);

    // Only a hash is stored; the list never shows the value.
    let stored: Vec<u8> = app
        .sql()
        .query_row("SELECT token_hash FROM api_tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&token[7..]));
    let list = ada.json("/api/v1/me/tokens").await;
    assert_eq!(list["tokens"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&token), "{list}");
    assert_eq!(list["tokens"][0]["last_used_at"], Value::Null);

    // The token reads and writes as Ada, with no cookie and no Origin.
    let me: Value = get(&app, "/api/v1/me", &token).await.json().await.unwrap();
    assert_eq!(me["username"], "ada");
    let general = ada.general().await;
    let res = post(
        &app,
        &format!("/api/v1/conversations/{general}/messages"),
        &token,
        json!({"body": "from CI"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["sender"]["username"], "ada");
    // From another site too: a token is never sent by a browser on its own.
    let res = bearer(
        &app,
        reqwest::Method::POST,
        &format!("/api/v1/conversations/{general}/messages"),
        &token,
    )
    .header("origin", "https://elsewhere.example")
    .header("sec-fetch-site", "cross-site")
    .json(&json!({"body": "cross-site with a token"}))
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 201);

    // Its use is noted.
    let list = ada.json("/api/v1/me/tokens").await;
    assert!(
        list["tokens"][0]["last_used_at"].as_i64().is_some(),
        "{list}"
    );
}

#[tokio::test]
async fn a_read_token_only_reads_and_an_admin_needs_the_admin_scope() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let general = root.general().await;
    let read = make_token(&root, "read", None).await;
    let write = make_token(&root, "write", None).await;
    let admin = make_token(&root, "admin", None).await;

    let res = get(
        &app,
        &format!("/api/v1/conversations/{general}/messages"),
        &read,
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post(
        &app,
        &format!("/api/v1/conversations/{general}/messages"),
        &read,
        json!({"body": "no"}),
    )
    .await;
    assert_eq!(res.status(), 403);
    assert_eq!(error_code(res).await, "insufficient_scope");
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE body = 'no'"),
        0
    );

    // An admin's token without the admin scope acts as a member.
    assert_eq!(
        get(&app, "/api/v1/admin/status", &write).await.status(),
        404
    );
    assert_eq!(get(&app, "/api/v1/admin/status", &read).await.status(), 404);
    assert_eq!(
        get(&app, "/api/v1/admin/status", &admin).await.status(),
        200
    );
    let me: Value = get(&app, "/api/v1/me", &write).await.json().await.unwrap();
    assert_eq!(me["role"], "member");
}

#[tokio::test]
async fn a_token_never_goes_beyond_its_owners_role_or_lasts_forever_for_a_member() {
    let app = TestApp::spawn().await;
    let bo = app.person("bo").await;
    let res = bo
        .post("/api/v1/me/tokens", json!({"name": "x", "scope": "admin"}))
        .await;
    assert_eq!(res.status(), 403);
    let res = bo
        .post(
            "/api/v1/me/tokens",
            json!({"name": "x", "scope": "read", "expires": "never"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    // Names and lifetimes at their limits.
    let res = bo
        .post(
            "/api/v1/me/tokens",
            json!({"name": "n".repeat(64), "expires": "3650d"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    for bad in [
        json!({"name": "n".repeat(65)}),
        json!({"name": "   "}),
        json!({"name": "x", "expires": "3651d"}),
        json!({"name": "x", "expires": "0d"}),
        json!({"name": "x", "scope": "root"}),
        json!({"name": "x", "surprise": 1}),
    ] {
        let res = bo.post("/api/v1/me/tokens", bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(app.count("SELECT count(*) FROM api_tokens"), 1);

    let root = app.person_with_role("root", Role::Admin).await;
    let res = root
        .post(
            "/api/v1/me/tokens",
            json!({"name": "forever", "expires": "never"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.unwrap();
    assert_eq!(made["expires_at"], Value::Null);
}

#[tokio::test]
async fn expired_revoked_wrong_and_cookie_with_token_are_refused_with_their_code() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let token = make_token(&ada, "write", None).await;
    let old = make_token(&ada, "write", None).await;

    let res = get(&app, "/api/v1/me", "hearth_0000").await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "token_invalid");
    let res = app
        .client()
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "token_invalid");

    // A token and a cookie together: neither is guessed at.
    let res = app
        .client()
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Bearer {token}"))
        .header("cookie", &ada.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "token_with_cookie");

    // Expired: one millisecond past its time.
    app.sql()
        .execute(
            "UPDATE api_tokens SET expires_at = ?1 WHERE id = (SELECT max(id) FROM api_tokens)",
            [hearth::domain::now_ms() - 1],
        )
        .unwrap();
    let res = get(&app, "/api/v1/me", &old).await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "token_expired");

    // Revoked: at once, on the API and on its open socket.
    let mut ws = Ws::connect_bearer(&app.url(""), &token).await;
    let list = ada.json("/api/v1/me/tokens").await;
    let id = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["expires_at"].as_i64().unwrap() > hearth::domain::now_ms())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        ada.delete(&format!("/api/v1/me/tokens/{id}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        ada.delete(&format!("/api/v1/me/tokens/{id}"))
            .await
            .status(),
        404
    );
    let res = get(&app, "/api/v1/me", &token).await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "token_revoked");
    assert!(
        ws.closed().await.is_some(),
        "the revoked token's socket closes"
    );

    // A token cannot manage tokens.
    let other = make_token(&ada, "write", None).await;
    let res = get(&app, "/api/v1/me/tokens", &other).await;
    assert_eq!(res.status(), 403);
    let res = post(&app, "/api/v1/me/tokens", &other, json!({"name": "more"})).await;
    assert_eq!(res.status(), 403);

    // Nobody revokes another person's token.
    let bo = app.person("bo").await;
    let bos = bo.json("/api/v1/me/tokens").await;
    assert_eq!(bos["tokens"].as_array().unwrap().len(), 0);
    let ada_ids = ada.json("/api/v1/me/tokens").await;
    let theirs = ada_ids["tokens"][0]["id"].as_i64().unwrap();
    assert_eq!(
        bo.delete(&format!("/api/v1/me/tokens/{theirs}"))
            .await
            .status(),
        404
    );
    assert_eq!(get(&app, "/api/v1/me", &other).await.status(), 200);

    // A deactivated account's tokens stop working.
    app.sql()
        .execute(
            "UPDATE users SET deactivated = 1 WHERE username = 'ada'",
            [],
        )
        .unwrap();
    let res = get(&app, "/api/v1/me", &other).await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "token_invalid");
}

#[tokio::test]
async fn a_socket_opened_with_a_token_hears_events_and_a_read_token_cannot_send_on_it() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let general = ada.general().await;
    let write = make_token(&ada, "write", None).await;
    let read = make_token(&ada, "read", None).await;

    let mut ws = Ws::connect_bearer(&app.url(""), &write).await;
    let mut ro = Ws::connect_bearer(&app.url(""), &read).await;
    ws.send(json!({"op": "send", "req": 1, "conversation": general, "body": "over the socket"}))
        .await;
    let ack = ws.next_non_presence().await;
    let ack = if ack["type"] == "event" {
        ws.next_non_presence().await
    } else {
        ack
    };
    assert_eq!(ack["type"], "ack", "{ack}");
    let event = ro.event().await;
    assert_eq!(
        event["data"]["message"]["body"], "over the socket",
        "{event}"
    );

    ro.send(json!({"op": "send", "req": 2, "conversation": general, "body": "nope"}))
        .await;
    let err = ro.next_non_presence().await;
    assert_eq!(err["type"], "error", "{err}");
    assert_eq!(err["code"], "insufficient_scope", "{err}");
    ro.send(json!({"op": "ping", "req": 3})).await;
    assert_eq!(ro.next_non_presence().await["type"], "pong");
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE body = 'nope'"),
        0
    );

    // A wrong token opens no socket.
    assert!(Ws::open_bearer(&app.url(""), "hearth_wrong").await.is_err());
}

#[tokio::test]
async fn token_requests_spend_the_same_budgets() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 1).await;
    let ada = app.person("ada").await;
    let general = ada.general().await;
    let token = make_token(&ada, "write", None).await;
    let path = format!("/api/v1/conversations/{general}/messages");
    let mut statuses = Vec::new();
    for i in 0..12 {
        let res = post(&app, &path, &token, json!({"body": format!("m{i}")})).await;
        statuses.push(res.status().as_u16());
    }
    // The burst is 10 at this rate; then 429 with Retry-After.
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses[10..], [429, 429]);
}

#[tokio::test]
async fn bots_are_made_by_admins_never_sign_in_and_are_marked_where_they_post() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let bo = app.person("bo").await;
    let res = bo
        .post("/api/v1/admin/bots", json!({"username": "builder"}))
        .await;
    assert_eq!(res.status(), 404);
    let res = root
        .post(
            "/api/v1/admin/bots",
            json!({"username": "builder", "display_name": "Build bot"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let bot: Value = res.json().await.unwrap();
    assert_eq!(bot["bot"], true);
    let bot_id = bot["id"].as_i64().unwrap();
    assert_eq!(bot["role"], "member");
    let bots = root.json("/api/v1/admin/bots").await;
    assert_eq!(bots["bots"][0]["username"], "builder");

    // No password works, and a bot cannot be made an admin or sent a reset link.
    for password in ["", PASSWORD, "!bot"] {
        let res = app
            .client()
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "builder", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "{password:?}");
    }
    let res = root
        .post("/api/v1/admin/people/builder/reset-link", json!({}))
        .await;
    assert_eq!(res.status(), 400);

    // Its token: at most write, made by an admin.
    let res = root
        .post(
            "/api/v1/admin/bots/builder/tokens",
            json!({"name": "ci", "scope": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = root
        .post(
            "/api/v1/admin/bots/builder/tokens",
            json!({"name": "ci", "scope": "write", "expires": "never"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    // A person is not a bot here.
    let res = root
        .post("/api/v1/admin/bots/bo/tokens", json!({"name": "x"}))
        .await;
    assert_eq!(res.status(), 404);

    // Added to a channel like a person, it posts there, marked as a bot.
    let res = root
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "builds"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let channel = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = root
        .post(
            &format!("/api/v1/conversations/{channel}/members"),
            json!({"user_id": bot_id}),
        )
        .await;
    assert_eq!(res.status(), 204);
    let res = post(
        &app,
        &format!("/api/v1/conversations/{channel}/messages"),
        &token,
        json!({"body": "build 42 passed"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let sent: Value = res.json().await.unwrap();
    assert_eq!(sent["sender"]["bot"], true, "{sent}");
    let history = root
        .json(&format!("/api/v1/conversations/{channel}/messages"))
        .await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["sender"]["bot"], true, "{last}");
    let page = root
        .get(&format!("/c/{channel}"))
        .await
        .text()
        .await
        .unwrap();
    let at = page.find("build 42 passed").unwrap();
    let article = &page[page[..at].rfind("<article").unwrap()..at];
    assert!(article.contains("bot-badge"), "{article}");
    // People are not marked.
    let general = root.general().await;
    root.say(general, "from a person").await;
    let page = root
        .get(&format!("/c/{general}"))
        .await
        .text()
        .await
        .unwrap();
    let at = page.find("from a person").unwrap();
    let article = &page[page[..at].rfind("<article").unwrap()..at];
    assert!(!article.contains("bot-badge"), "{article}");
    let me = get(&app, "/api/v1/me", &token)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(me["bot"], true);
    let bo_me = bo.json("/api/v1/me").await;
    assert!(bo_me.get("bot").is_none(), "{bo_me}");
}
