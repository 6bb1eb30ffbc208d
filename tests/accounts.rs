//! Accounts over real HTTP: first-admin setup, sign in and out, sessions, throttling.

mod common;

use common::{PASSWORD, TestApp, error_code};
use hearth::chat::accounts;
use hearth::domain::Role;
use serde_json::json;

/// The page `/` lands on for a signed-in client (following its redirect).
async fn landing(app: &TestApp, client: &reqwest::Client) -> String {
    let res = client.get(app.url("/")).send().await.unwrap();
    let res = if res.status() == 303 {
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert!(to.starts_with("/c/"), "{to}");
        client.get(app.url(&to)).send().await.unwrap()
    } else {
        res
    };
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_first_admin_is_created_through_the_setup_link_once() {
    let app = TestApp::spawn().await;
    let url = app
        .app
        .setup_url(app.addr)
        .expect("a setup link while no admin exists");
    let token = url.split("token=").nth(1).unwrap().to_owned();
    let browser = app.client();

    let res = browser
        .get(app.url("/setup?token=wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = browser.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("Create the first admin"));

    // Mismatched passwords and bad names are refused and change nothing.
    let bad = [
        ("ada", "long enough 1", "long enough 2", "differ"),
        ("has space", PASSWORD, PASSWORD, "username may only hold"),
        ("ada", "short", "short", "at least 8"),
    ];
    for (name, pw, confirm, why) in bad {
        let form = [
            ("token", token.as_str()),
            ("username", name),
            ("password", pw),
            ("confirm", confirm),
        ];
        let res = browser
            .post(app.url("/setup"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{why}");
        assert!(res.text().await.unwrap().contains(why), "{why}");
    }
    assert!(
        accounts::list_users(&app.app.chat)
            .await
            .unwrap()
            .is_empty()
    );

    let form = [
        ("token", token.as_str()),
        ("username", "ada"),
        ("display_name", "Ada Lovelace"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let res = browser
        .post(app.url("/setup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    // Home is the newest conversation: #general, which every new account joins.
    let home = landing(&app, &browser).await;
    assert!(
        home.contains("Ada Lovelace") && home.contains("general"),
        "{home}"
    );
    let me: serde_json::Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");

    // The link is spent.
    assert!(app.app.setup_url(app.addr).is_none());
    let again = app
        .client()
        .post(app.url("/setup"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert_eq!(accounts::list_users(&app.app.chat).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_person_signs_in_and_out_with_the_forms() {
    let app = TestApp::spawn().await;
    app.create_user("Grace", Role::Member).await;
    let browser = app.client();

    let res = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");

    let wrong = [("username", "grace"), ("password", "not the password")];
    let res = browser
        .post(app.url("/login"))
        .form(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("wrong username or password")
    );

    // Usernames match in any letter case.
    let right = [("username", "GRACE"), ("password", PASSWORD)];
    let res = browser
        .post(app.url("/login"))
        .form(&right)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("hearth_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not mark the cookie Secure"
    );
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("hearth_session=");
    assert_eq!(token.len(), 64);
    // Only the hash of the token is stored.
    let stored: Vec<u8> = app
        .sql()
        .query_row("SELECT token_hash FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(token));

    let page = landing(&app, &browser).await;
    assert!(page.contains("Signed in as"));
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();

    // Signing out needs the form's CSRF token.
    let res = browser
        .post(app.url("/logout"))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        landing(&app, &browser).await.contains("Signed in as"),
        "still signed in"
    );
    let res = browser
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let res = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.headers()["location"], "/login", "signed out");
    let left: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn scripts_use_the_session_api() {
    let app = TestApp::spawn_with(|c| c.base_url = "https://chat.example.org".into()).await;
    app.create_user("linus", Role::Member).await;
    let client = app.client();

    let res = client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "unauthorized");

    let res = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "linus", "password": "nope nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let res = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "linus", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .ends_with("; Secure")
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["user"]["username"], "linus");
    let token = app
        .sql()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get::<_, i64>(0))
        .unwrap();
    assert_eq!(token, 1);

    // reqwest keeps Secure cookies only for https, so send it by hand from here on.
    let cookie = {
        let res = app
            .client()
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "linus", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    };
    let me = |c: &str| {
        app.client()
            .get(app.url("/api/v1/me"))
            .header("cookie", c.to_owned())
            .send()
    };
    let res = me(&cookie).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"id": body["id"], "username": "linus", "display_name": "linus", "role": "member",
               "avatar_url": null})
    );

    let res = app
        .client()
        .delete(app.url("/api/v1/session"))
        .header("cookie", cookie.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(me(&cookie).await.unwrap().status(), 401);
}

#[tokio::test]
async fn forged_and_expired_cookies_are_refused() {
    let app = TestApp::spawn().await;
    let client = app.signed_in("mary").await;
    let forged = format!("hearth_session={}", "ab".repeat(32));
    let res = app
        .client()
        .get(app.url("/api/v1/me"))
        .header("cookie", forged.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = app
        .client()
        .get(app.url("/"))
        .header("cookie", forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");

    assert_eq!(
        client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Idle for longer than session_idle_days.
    let idle = hearth::domain::now_ms() - 15 * 86_400_000;
    app.sql()
        .execute("UPDATE sessions SET last_seen_at = ?1", [idle])
        .unwrap();
    assert_eq!(
        client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Older than session_max_days, however recently used.
    let client = app.client();
    app.login(&client, "mary", PASSWORD).await;
    let old = hearth::domain::now_ms() - 91 * 86_400_000;
    app.sql()
        .execute("UPDATE sessions SET created_at = ?1", [old])
        .unwrap();
    assert_eq!(
        client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}

#[tokio::test]
async fn a_password_change_or_deactivation_ends_every_session() {
    let app = TestApp::spawn().await;
    let laptop = app.signed_in("alan").await;
    let phone = app.client();
    app.login(&phone, "alan", PASSWORD).await;
    for c in [&laptop, &phone] {
        assert_eq!(
            c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
            200
        );
    }
    accounts::set_password(&app.app.chat, "test", "ALAN", "a brand new password".into())
        .await
        .unwrap();
    for c in [&laptop, &phone] {
        assert_eq!(
            c.get(app.url("/api/v1/me")).send().await.unwrap().status(),
            401
        );
    }
    app.login(&laptop, "alan", "a brand new password").await;

    accounts::set_active(&app.app.chat, "test", "alan", false)
        .await
        .unwrap();
    assert_eq!(
        laptop
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    let res = laptop
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "alan", "password": "a brand new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a deactivated user cannot sign in");
    accounts::set_active(&app.app.chat, "test", "alan", true)
        .await
        .unwrap();
    app.login(&laptop, "alan", "a brand new password").await;
}

async fn attempt(
    app: &TestApp,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = app
        .client()
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": name, "password": password}));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn ten_failures_per_username_lock_it_for_a_while() {
    let app = TestApp::spawn().await;
    app.create_user("ada", Role::Member).await;
    app.create_user("bob", Role::Member).await;
    for i in 0..10 {
        // Spread over forwarded addresses: without trusted proxies they change nothing.
        let res = attempt(
            &app,
            "ada",
            "wrong password",
            Some(&format!("203.0.113.{i}")),
        )
        .await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = attempt(&app, "ADA", PASSWORD, None).await;
    assert_eq!(res.status(), 429, "even the right password waits");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert_eq!(error_code(res).await, "rate_limited");
    // The form says so too.
    let res = app
        .client()
        .post(app.url("/login"))
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // Another account from the same address is not locked with it.
    assert_eq!(attempt(&app, "bob", PASSWORD, None).await.status(), 200);
}

#[tokio::test]
async fn forwarded_for_counts_only_behind_a_trusted_proxy() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_user("ada", Role::Member).await;
    for _ in 0..10 {
        let res = attempt(&app, "ada", "wrong password", Some("198.51.100.7")).await;
        assert_eq!(res.status(), 401);
    }
    // That client address is throttled for ada; another behind the same proxy is not.
    assert_eq!(
        attempt(&app, "ada", PASSWORD, Some("198.51.100.7"))
            .await
            .status(),
        429
    );
    assert_eq!(
        attempt(&app, "ada", PASSWORD, Some("198.51.100.8"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn bad_bodies_get_clear_errors_and_change_nothing() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let cases: [(&str, &str, u16); 4] = [
        ("{not json", "application/json", 400),
        ("{\"username\": 5}", "application/json", 400),
        (
            "username=a&password=b",
            "application/x-www-form-urlencoded",
            400,
        ),
        ("[]", "application/json", 400),
    ];
    for (body, ctype, status) in cases {
        let res = client
            .post(app.url("/api/v1/session"))
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{body}");
        let err: serde_json::Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "invalid", "{body}");
        assert!(!err["error"]["message"].as_str().unwrap().is_empty());
    }
    let huge = json!({"username": "a".repeat(100_000), "password": "x"});
    let res = client
        .post(app.url("/api/v1/session"))
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert_eq!(error_code(res).await, "too_large");
    let long = json!({"username": "a".repeat(300), "password": "x"});
    let res = client
        .post(app.url("/api/v1/session"))
        .json(&long)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let res = client
        .post(app.url("/login"))
        .body("%%%")
        .header("content-type", "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("the form could not be read")
    );
    let n: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn cross_origin_writes_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.create_user("ada", Role::Member).await;
    let creds = json!({"username": "ada", "password": PASSWORD});
    let client = app.client();

    let res = client
        .post(app.url("/api/v1/session"))
        .header("origin", "http://evil.example")
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    let n: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);

    // A page of this origin may.
    let res = client
        .post(app.url("/api/v1/session"))
        .header("origin", format!("http://{}", app.addr))
        .json(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    // A cross-site form cannot sign the user out.
    let res = client
        .delete(app.url("/api/v1/session"))
        .header("sec-fetch-site", "cross-site")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = client
        .post(app.url("/login"))
        .header("sec-fetch-site", "same-site")
        .form(&[("username", "ada"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("cross-origin request refused")
    );
}

#[tokio::test]
async fn usernames_are_unique_in_any_letter_case() {
    let app = TestApp::spawn().await;
    app.create_user("Ada", Role::Member).await;
    let new = accounts::NewUser {
        username: "aDA".into(),
        display_name: None,
        password: PASSWORD.into(),
        role: Role::Member,
    };
    let err = accounts::create_user(&app.app.chat, "test", new)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "username \"Ada\" is already taken");
}
