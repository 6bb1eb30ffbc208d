//! Incoming webhooks: a secret URL per hook posting to one conversation as the hook's bot, in
//! Slack's JSON, a form or plain text; wrong, revoked and rotated secrets, bad bodies, sizes and
//! rates refused with nothing written; the secret never in the log.

mod common;

use common::{Person, TestApp, error_code};
use hearth::domain::Role;
use serde_json::{Value, json};

async fn channel(p: &Person, name: &str) -> i64 {
    let res = p
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": name}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn make_hook(p: &Person, conversation: i64, name: &str) -> (i64, String) {
    let res = p
        .post(
            &format!("/api/v1/conversations/{conversation}/webhooks"),
            json!({"name": name}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.unwrap();
    (
        made["webhook"]["id"].as_i64().unwrap(),
        made["url"].as_str().unwrap().to_owned(),
    )
}

/// Posts to a hook's URL from nowhere in particular: no cookie, another site's Origin.
async fn hook_post(
    app: &TestApp,
    url: &str,
    ct: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client()
        .post(url)
        .header("content-type", ct)
        .header("origin", "https://website.example")
        .header("sec-fetch-site", "cross-site")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn messages(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM messages WHERE notice IS NULL")
}

#[tokio::test]
async fn a_hook_posts_slack_json_forms_and_text_as_its_bot() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let builds = channel(&ada, "builds").await;
    let (_, url) = make_hook(&ada, builds, "CI").await;
    let secret = url.rsplit('/').next().unwrap().to_owned();
    assert!(url.starts_with(&app.url("/hooks/")), "{url}");
    assert_eq!(secret.len(), 64);
    // Only the secret's hash is kept.
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM webhooks_in WHERE instr(hex(secret_hash), upper('{secret}')) > 0"
        )),
        0
    );

    let res = hook_post(
        &app,
        &url,
        "application/json",
        json!({"text": "Build *42* passed", "username": "Deploys", "icon_url": "https://ci.example/i.png", "blocks": []}).to_string(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let posted: Value = res.json().await.unwrap();
    assert_eq!(posted["ok"], true);
    let id = posted["message_id"].as_i64().unwrap();

    let history = ada
        .json(&format!("/api/v1/conversations/{builds}/messages"))
        .await;
    let m = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(m["body"], "Build *42* passed");
    assert_eq!(m["sender"]["username"], "ci-bot");
    assert_eq!(m["sender"]["bot"], true);
    assert_eq!(m["posted_as"], "Deploys");
    let page = ada.get(&format!("/c/{builds}")).await.text().await.unwrap();
    let at = page
        .find("Build <em>42</em> passed")
        .expect("rendered as markdown");
    let article = &page[page[..at].rfind("<article").unwrap()..at];
    assert!(
        article.contains(">Deploys<") && article.contains("bot-badge"),
        "{article}"
    );

    // Slack's form with a payload, a plain form, plain text, and the secret in a header.
    let form =
        serde_urlencoded::to_string([("payload", r#"{"text":"from a slack form"}"#)]).unwrap();
    let res = hook_post(&app, &url, "application/x-www-form-urlencoded", form).await;
    assert_eq!(res.status(), 200);
    let res = hook_post(
        &app,
        &url,
        "application/x-www-form-urlencoded",
        "text=website+form",
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = hook_post(&app, &url, "text/plain; charset=utf-8", "plain text").await;
    assert_eq!(res.status(), 200);
    let res = app
        .client()
        .post(app.url("/hooks"))
        .header("x-hook-secret", &secret)
        .json(&json!({"text": "secret in a header"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    for body in [
        "from a slack form",
        "website form",
        "plain text",
        "secret in a header",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM messages WHERE body = '{body}'"
            )),
            1,
            "{body}"
        );
    }
    let list = ada
        .json(&format!("/api/v1/conversations/{builds}/webhooks"))
        .await;
    assert_eq!(list["webhooks"][0]["bot"], "ci-bot");
    assert!(
        list["webhooks"][0]["last_used_at"].as_i64().is_some() || {
            // The use is noted after the answer; give the writer a moment.
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            ada.json(&format!("/api/v1/conversations/{builds}/webhooks"))
                .await["webhooks"][0]["last_used_at"]
                .as_i64()
                .is_some()
        }
    );
    assert!(!list.to_string().contains(&secret));
}

#[tokio::test]
async fn wrong_revoked_and_rotated_secrets_find_nothing_and_write_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let builds = channel(&ada, "builds").await;
    let (hook, url) = make_hook(&ada, builds, "CI").await;
    let before = messages(&app);

    // A wrong secret is 404 whatever the body, like any unknown path.
    let wrong = app.url(&format!("/hooks/{}", "0".repeat(64)));
    let good = json!({"text": "x"}).to_string();
    for (ct, body) in [
        ("application/json", good.as_str()),
        ("application/json", "{bad"),
    ] {
        let res = hook_post(&app, &wrong, ct, body.to_owned()).await;
        assert_eq!(res.status(), 404, "{body}");
        assert_eq!(error_code(res).await, "not_found");
    }
    let res = app
        .client()
        .post(app.url("/hooks"))
        .json(&json!({"text": "no secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);

    // A new URL: the old one stops at once.
    let res = ada
        .post(
            &format!("/api/v1/conversations/{builds}/webhooks/{hook}/rotate"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, url);
    assert_eq!(
        hook_post(&app, &url, "text/plain", "old").await.status(),
        404
    );
    assert_eq!(
        hook_post(&app, &rotated, "text/plain", "new")
            .await
            .status(),
        200
    );

    // Revoked: the URL stops and the bot is deactivated.
    let res = ada
        .delete(&format!("/api/v1/conversations/{builds}/webhooks/{hook}"))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        hook_post(&app, &rotated, "text/plain", "after")
            .await
            .status(),
        404
    );
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE bot = 1 AND deactivated = 1"),
        1
    );
    assert_eq!(messages(&app), before + 1);
    let list = ada
        .json(&format!("/api/v1/conversations/{builds}/webhooks"))
        .await;
    assert_eq!(list["webhooks"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bodies_that_are_not_messages_are_refused_at_their_limits() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let builds = channel(&ada, "builds").await;
    let (_, url) = make_hook(&ada, builds, "CI").await;
    let before = messages(&app);
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("application/json", b"{not json".to_vec(), "not the JSON"),
        (
            "application/json",
            br#"{"username":"x"}"#.to_vec(),
            "text is required",
        ),
        (
            "application/json",
            br#"{"text":"x","icon_url":"file:///etc"}"#.to_vec(),
            "icon_url",
        ),
        (
            "application/json",
            br#"{"text":"x","username":"a\u0007b"}"#.to_vec(),
            "username",
        ),
        ("image/png", b"\x89PNG".to_vec(), "content type"),
        ("text/plain", vec![0xff, 0xfe], "UTF-8"),
    ];
    for (ct, body, why) in cases {
        let res = hook_post(&app, &url, ct, body).await;
        assert_eq!(res.status(), 400, "{why}");
        let e: Value = res.json().await.unwrap();
        assert!(e["error"]["message"].as_str().unwrap().contains(why), "{e}");
    }
    // 64 KiB is read (and is too long for a message); one byte more is not read at all.
    let limit = hearth::web::webhooks::receive::MAX_BODY;
    let res = hook_post(&app, &url, "text/plain", "a".repeat(limit)).await;
    assert_eq!(res.status(), 400);
    let res = hook_post(&app, &url, "text/plain", "a".repeat(limit + 1)).await;
    assert_eq!(res.status(), 413);
    assert_eq!(messages(&app), before);
}

#[tokio::test]
async fn only_owners_and_admins_make_hooks_and_only_in_channels_and_groups() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let bo = app.person("bo").await;
    let root = app.person_with_role("root", Role::Admin).await;
    let builds = channel(&ada, "builds").await;
    assert_eq!(
        bo.post(&format!("/api/v1/conversations/{builds}/join"), json!({}))
            .await
            .status(),
        200
    );
    let res = bo
        .post(
            &format!("/api/v1/conversations/{builds}/webhooks"),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = bo
        .get(&format!("/api/v1/conversations/{builds}/webhooks"))
        .await;
    assert_eq!(res.status(), 403);
    // An admin may, member or not.
    make_hook(&root, builds, "Ops").await;
    // A group one is not in is not there at all.
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "secret", "members": [root_id(&root).await]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = bo
        .post(
            &format!("/api/v1/conversations/{group}/webhooks"),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    make_hook(&ada, group, "Group hook").await;
    // Directs take none.
    let res = ada.post("/api/v1/directs", json!({"user_id": bo.id})).await;
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = ada
        .post(
            &format!("/api/v1/conversations/{direct}/webhooks"),
            json!({"name": "x"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    // Names: 64 characters at most.
    let res = ada
        .post(
            &format!("/api/v1/conversations/{builds}/webhooks"),
            json!({"name": "n".repeat(65)}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = ada
        .post(
            &format!("/api/v1/conversations/{builds}/webhooks"),
            json!({"name": "n".repeat(64)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("SELECT count(*) FROM webhooks_in"), 3);
    // The settings page links to them for owners, and the page makes one with its form.
    let settings = ada
        .get(&format!("/c/{builds}/settings"))
        .await
        .text()
        .await
        .unwrap();
    assert!(settings.contains(&format!("/c/{builds}/integrations")));
    let settings = bo
        .get(&format!("/c/{builds}/settings"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!settings.contains("/integrations"));
    let csrf = ada.csrf(&format!("/c/{builds}/integrations")).await;
    let res = ada
        .form(
            &format!("/c/{builds}/integrations/hooks"),
            &[("csrf", &csrf), ("name", "Website")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    let at = page.find("id=\"hook-url\"").expect("the URL is shown once");
    assert!(
        page[at..].contains(&app.url("/hooks/")),
        "{}",
        &page[at..at + 300]
    );
    let again = ada
        .get(&format!("/c/{builds}/integrations"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!again.contains("id=\"hook-url\""));
}

async fn root_id(root: &Person) -> i64 {
    root.id
}

#[tokio::test]
async fn a_hook_spends_its_bots_message_budget() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 1).await;
    let ada = app.person("ada").await;
    let builds = channel(&ada, "builds").await;
    let (_, url) = make_hook(&ada, builds, "CI").await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(
            hook_post(&app, &url, "text/plain", format!("n{i}"))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    assert_eq!(statuses[10..], [429, 429]);
}
