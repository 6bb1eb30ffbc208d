//! One's own account over real HTTP: the sessions one has open (device, address, ending
//! them), the display name others see, and changing one's password.

mod common;

use common::{PASSWORD, Person, TestApp, error_code};
use serde_json::{Value, json};

const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/120.0.0.0 Safari/537.36";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Signs `name` in from a client that says it is `agent`; the session cookie.
async fn sign_in_as(
    app: &TestApp,
    name: &str,
    password: &str,
    agent: &str,
) -> (reqwest::Response, String) {
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/session"))
        .header("user-agent", agent)
        .json(&json!({"username": name, "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .unwrap_or_default();
    (res, cookie)
}

fn as_person(app: &TestApp, p: &Person, cookie: String) -> Person {
    Person {
        id: p.id,
        name: p.name.clone(),
        http: p.http.clone(),
        cookie,
        base: app.url(""),
    }
}

async fn csrf(person: &Person) -> String {
    person.csrf("/account").await
}

async fn form(person: &Person, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    person.form(path, fields).await
}

#[tokio::test]
async fn sessions_are_listed_with_device_and_address_and_can_be_ended() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let (_, cookie) = sign_in_as(&app, "ada", PASSWORD, CHROME).await;
    let laptop = as_person(&app, &ada, cookie);
    let (_, cookie) = sign_in_as(&app, "ada", PASSWORD, IPHONE).await;
    let phone = as_person(&app, &ada, cookie);

    let list = laptop.json("/api/v1/me/sessions").await;
    let sessions = list["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    let devices: Vec<&str> = sessions
        .iter()
        .map(|s| s["device"].as_str().unwrap())
        .collect();
    assert!(
        devices.contains(&"Chrome on Linux") && devices.contains(&"Safari on iPhone"),
        "{devices:?}"
    );
    assert!(sessions.iter().all(|s| s["address"] == "127.0.0.1"));
    let current: Vec<&Value> = sessions.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Chrome on Linux");
    // Public ids are short and are not the stored hash.
    let hashes: Vec<Vec<u8>> = app
        .sql()
        .prepare("SELECT token_hash FROM sessions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for s in sessions {
        let id = s["id"].as_str().unwrap();
        assert_eq!(id.len(), 16);
        assert!(hashes.iter().all(|h| hex_of(h) != id));
        assert!(s.get("token_hash").is_none());
    }

    let phone_id = sessions
        .iter()
        .find(|s| s["device"] == "Safari on iPhone")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Someone else cannot end it, nor can a made-up id.
    let bob = app.person("bob").await;
    assert_eq!(
        bob.delete(&format!("/api/v1/me/sessions/{phone_id}"))
            .await
            .status(),
        404
    );
    assert_eq!(
        laptop
            .delete("/api/v1/me/sessions/0011223344556677")
            .await
            .status(),
        404
    );
    assert_eq!(phone.get("/api/v1/me").await.status(), 200);

    assert_eq!(
        laptop
            .delete(&format!("/api/v1/me/sessions/{phone_id}"))
            .await
            .status(),
        204
    );
    assert_eq!(phone.get("/api/v1/me").await.status(), 401);
    assert_eq!(laptop.get("/api/v1/me").await.status(), 200);
    assert_eq!(ada.get("/api/v1/me").await.status(), 200);
    assert_eq!(
        laptop.json("/api/v1/me/sessions").await["sessions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_password_change_needs_the_current_one_and_ends_the_other_sessions_only() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let other = app.sign_in("ada", ada.id).await;
    let new = "the new password";

    let res = ada
        .post(
            "/api/v1/me/password",
            json!({"current": "not it at all", "new": new}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "the current password is not right"
    );
    let res = ada
        .post(
            "/api/v1/me/password",
            json!({"current": PASSWORD, "new": "short"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(error_code(res).await, "invalid");
    // Nothing changed.
    assert_eq!(other.get("/api/v1/me").await.status(), 200);
    assert_eq!(sign_in_as(&app, "ada", PASSWORD, "").await.0.status(), 200);

    let res = ada
        .post(
            "/api/v1/me/password",
            json!({"current": PASSWORD, "new": new}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        ada.get("/api/v1/me").await.status(),
        200,
        "this session stays"
    );
    assert_eq!(other.get("/api/v1/me").await.status(), 401, "others end");
    assert_eq!(count(&app, "SELECT count(*) FROM sessions"), 1);
    assert_eq!(sign_in_as(&app, "ada", PASSWORD, "").await.0.status(), 401);
    assert_eq!(sign_in_as(&app, "ada", new, "").await.0.status(), 200);
}

#[tokio::test]
async fn a_new_display_name_is_what_others_see_on_new_messages() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let general = ada.general().await;
    ada.say(general, "before").await;
    // Bob has the conversation open: its latest page is kept in memory.
    let page = bob
        .json(&format!("/api/v1/conversations/{general}/messages"))
        .await;
    assert_eq!(
        page["messages"].as_array().unwrap().last().unwrap()["sender"]["display_name"],
        "ada"
    );
    let mut ws = bob.ws(None).await;

    for bad in ["", "   ", &"x".repeat(65)] {
        let res = ada.patch("/api/v1/me", json!({"display_name": bad})).await;
        assert_eq!(res.status(), 400, "{bad:?}");
    }
    let res = ada
        .patch("/api/v1/me", json!({"display_name": "Ada Lovelace"}))
        .await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["display_name"], "Ada Lovelace");
    assert_eq!(ada.json("/api/v1/me").await["display_name"], "Ada Lovelace");

    // The kept page is read afresh: what it shows of ada carries the new name.
    let page = bob
        .json(&format!("/api/v1/conversations/{general}/messages"))
        .await;
    let names: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender"]["username"] == "ada")
        .map(|m| m["sender"]["display_name"].as_str().unwrap())
        .collect();
    assert!(
        !names.is_empty() && names.iter().all(|n| *n == "Ada Lovelace"),
        "{names:?}"
    );

    ada.say(general, "after").await;
    let event = ws.event().await;
    assert_eq!(event["event"], "message.created");
    assert_eq!(
        event["data"]["message"]["sender"]["display_name"],
        "Ada Lovelace"
    );
    assert!(
        event["data"]["html"]
            .as_str()
            .unwrap()
            .contains("Ada Lovelace")
    );
}

#[tokio::test]
async fn the_account_page_does_it_all_with_forms() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let other = app.sign_in("ada", ada.id).await;
    let third = app.sign_in("ada", ada.id).await;

    let home = ada.get("/channels").await.text().await.unwrap();
    assert!(
        home.contains("href=\"/account\""),
        "the top bar links to the account"
    );
    let page = ada.get("/account").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Your account") && html.contains("this device"),
        "{html}"
    );
    assert_eq!(html.matches("data-session=").count(), 3);
    let token = csrf(&ada).await;

    let res = form(&ada, "/account/name", &[("display_name", "Ada L")]).await;
    assert_eq!(res.status(), 403, "no CSRF token");
    let res = form(
        &ada,
        "/account/name",
        &[("csrf", &token), ("display_name", "Ada L")],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Your display name is changed")
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users WHERE display_name = 'Ada L'"
        ),
        1
    );

    let wrong = [
        ("csrf", token.as_str()),
        ("current", "nope nope"),
        ("new", "fresh password"),
        ("confirm", "fresh password"),
    ];
    let res = form(&ada, "/account/password", &wrong).await;
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("the current password is not right")
    );
    let differ = [
        ("csrf", token.as_str()),
        ("current", PASSWORD),
        ("new", "fresh password"),
        ("confirm", "fresh passw0rd"),
    ];
    assert_eq!(form(&ada, "/account/password", &differ).await.status(), 400);
    assert_eq!(other.get("/api/v1/me").await.status(), 200);

    // End one, then all others, then everywhere.
    let list = ada.json("/api/v1/me/sessions").await;
    let id = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = form(
        &ada,
        &format!("/account/sessions/{id}/end"),
        &[("csrf", &token)],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(count(&app, "SELECT count(*) FROM sessions"), 2);
    let res = form(&ada, "/account/sessions/end-others", &[("csrf", &token)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(other.get("/api/v1/me").await.status(), 401);
    assert_eq!(third.get("/api/v1/me").await.status(), 401);
    assert_eq!(ada.get("/api/v1/me").await.status(), 200);
    let res = form(&ada, "/account/sign-out-everywhere", &[("csrf", &token)]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM sessions"), 0);
}

#[tokio::test]
async fn using_hearth_marks_the_person_as_seen() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    app.sql()
        .execute(
            "UPDATE sessions SET last_seen_at = last_seen_at - 120000",
            [],
        )
        .unwrap();
    assert_eq!(
        count(
            &app,
            "SELECT last_seen_at FROM users WHERE username = 'ada'"
        ),
        0
    );
    assert_eq!(ada.get("/api/v1/me").await.status(), 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let seen = count(
            &app,
            "SELECT last_seen_at FROM users WHERE username = 'ada'",
        );
        if seen > 0 {
            assert_eq!(seen, count(&app, "SELECT last_seen_at FROM sessions"));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "users.last_seen_at was never set"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
