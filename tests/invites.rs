//! Invites over real HTTP: making, listing and revoking them, joining through a link, the
//! links that cannot be used, races for the last use, and open sign-up.

mod common;

use common::{PASSWORD, Person, TestApp, error_code};
use hearth::domain::Role;
use serde_json::{Value, json};

fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn users(app: &TestApp) -> i64 {
    count(app, "SELECT count(*) FROM users")
}

/// Makes an invite through the API; its JSON and the token from its link.
async fn invite(admin: &Person, body: Value) -> (Value, String) {
    let res = admin.post("/api/v1/invites", body).await;
    assert_eq!(res.status(), 201);
    let made: Value = res.json().await.unwrap();
    let link = made["link"].as_str().unwrap().to_owned();
    let token = link.rsplit("/join/").next().unwrap().to_owned();
    assert!(link.ends_with(&format!("/join/{token}")), "{link}");
    (made["invite"].clone(), token)
}

fn join_form(name: &str) -> [(&str, &str); 4] {
    [
        ("username", name),
        ("display_name", ""),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ]
}

async fn join(app: &TestApp, token: &str, name: &str) -> reqwest::Response {
    app.client()
        .post(app.url(&format!("/join/{token}")))
        .form(&join_form(name))
        .send()
        .await
        .unwrap()
}

async fn csrf(person: &Person, path: &str) -> String {
    person.csrf(path).await
}

#[tokio::test]
async fn an_invite_link_makes_an_account_joins_its_channels_and_signs_in() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let res = admin
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "welcome"}),
        )
        .await;
    let channel = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let (made, token) = invite(&admin, json!({"conversations": [channel]})).await;
    assert_eq!(made["state"], "active");
    assert_eq!(made["max_uses"], Value::Null);
    assert_eq!(made["created_by"], "root");
    let week = made["expires_at"].as_i64().unwrap() - made["created_at"].as_i64().unwrap();
    assert_eq!(week, 7 * 86_400_000, "the default expiry is 7 days");

    // Only the hash is kept.
    let stored: Vec<u8> = app
        .sql()
        .query_row("SELECT token_hash FROM invites", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, hearth::chat::secrets::token_hash(&token));
    let dump = count(
        &app,
        &format!(
            "SELECT count(*) FROM invites WHERE CAST(token_hash AS TEXT) = '{token}' OR conversations LIKE '%{token}%'"
        ),
    );
    assert_eq!(dump, 0);

    let browser = app.client();
    let page = browser
        .get(app.url(&format!("/join/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("You are invited"));

    let res = browser
        .post(app.url(&format!("/join/{token}")))
        .form(&[
            ("username", "newt"),
            ("display_name", "Newt Scamander"),
            ("password", PASSWORD),
            ("confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/");
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "newt");
    assert_eq!(me["display_name"], "Newt Scamander");
    assert_eq!(me["role"], "member");
    let mine: Value = browser
        .get(app.url("/api/v1/conversations"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = mine["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"general") && names.contains(&"welcome"),
        "{names:?}"
    );

    let list = admin.json("/api/v1/invites").await;
    assert_eq!(list["invites"][0]["uses"], 1);
    let audit = count(
        &app,
        "SELECT count(*) FROM audit_log WHERE action IN ('invite.create', 'invite.use')",
    );
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn a_single_use_invite_works_exactly_once() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let (_, token) = invite(&admin, json!({"max_uses": 1, "role": "admin"})).await;
    let res = join(&app, &token, "first").await;
    assert_eq!(res.status(), 303);
    let list = admin.json("/api/v1/invites").await;
    assert_eq!(list["invites"][0]["state"], "used_up");
    let first = count(
        &app,
        "SELECT count(*) FROM users WHERE username = 'first' AND role = 'admin'",
    );
    assert_eq!(first, 1, "the invite's role is given");

    let before = users(&app);
    let res = join(&app, &token, "second").await;
    assert_eq!(res.status(), 410);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("This invite link has been used up")
    );
    let page = app
        .client()
        .get(app.url(&format!("/join/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert_eq!(users(&app), before);
    assert_eq!(count(&app, "SELECT uses FROM invites"), 1);
}

#[tokio::test]
async fn expired_revoked_and_forged_links_say_so_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let (expired, old) = invite(&admin, json!({"expires": "1d"})).await;
    app.sql()
        .execute(
            "UPDATE invites SET expires_at = ?2 WHERE id = ?1",
            rusqlite::params![expired["id"].as_i64().unwrap(), 1],
        )
        .unwrap();
    let (revoked, gone) = invite(&admin, json!({"expires": "never"})).await;
    let res = admin
        .delete(&format!("/api/v1/invites/{}", revoked["id"]))
        .await;
    assert_eq!(res.status(), 204);
    let forged = "ab".repeat(32);

    let before = users(&app);
    let cases = [
        (old.as_str(), 410, "This invite link has expired"),
        (gone.as_str(), 410, "This invite link was revoked"),
        (forged.as_str(), 404, "This invite link is not valid"),
        ("not-even-hex", 404, "This invite link is not valid"),
    ];
    for (token, status, says) in cases {
        let page = app
            .client()
            .get(app.url(&format!("/join/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), status, "{says}");
        assert!(page.text().await.unwrap().contains(says), "{says}");
        let res = join(&app, token, "sneaky").await;
        assert_eq!(res.status(), status, "{says}");
        assert!(res.text().await.unwrap().contains(says), "{says}");
    }
    assert_eq!(users(&app), before);
    assert_eq!(count(&app, "SELECT sum(uses) FROM invites"), 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'invite.revoke'"
        ),
        1
    );
    let list = admin.json("/api/v1/invites").await;
    let states: Vec<&str> = list["invites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["revoked", "expired"]);
}

#[tokio::test]
async fn two_people_racing_for_the_last_use_do_not_both_get_it() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let (_, token) = invite(&admin, json!({"max_uses": 2})).await;
    assert_eq!(join(&app, &token, "early").await.status(), 303);
    let (a, b) = tokio::join!(join(&app, &token, "racer_a"), join(&app, &token, "racer_b"));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [303, 410]);
    assert_eq!(count(&app, "SELECT uses FROM invites"), 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM users WHERE username LIKE 'racer%'"
        ),
        1
    );
}

#[tokio::test]
async fn a_name_taken_in_another_letter_case_is_a_form_error_that_spends_no_use() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    app.create_user("Grace", Role::Member).await;
    let (_, token) = invite(&admin, json!({"max_uses": 1})).await;
    let before = users(&app);
    let res = join(&app, &token, "GRACE").await;
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(page.contains("already taken"), "{page}");
    assert!(
        page.contains("value=\"GRACE\""),
        "the form keeps what was typed"
    );

    let res = app
        .client()
        .post(app.url(&format!("/join/{token}")))
        .form(&[
            ("username", "newt"),
            ("password", PASSWORD),
            ("confirm", "something else"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("the two passwords differ")
    );
    let res = join(&app, &token, "has space").await;
    assert_eq!(res.status(), 400);

    assert_eq!(users(&app), before);
    assert_eq!(count(&app, "SELECT uses FROM invites"), 0);
    assert_eq!(join(&app, &token, "grace2").await.status(), 303);
}

#[tokio::test]
async fn members_may_not_make_see_or_revoke_invites() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let (made, _) = invite(&admin, json!({})).await;
    let member = app.person("mia").await;

    for role in ["admin", "member"] {
        let res = member.post("/api/v1/invites", json!({"role": role})).await;
        assert_eq!(res.status(), 404, "{role}");
        assert_eq!(error_code(res).await, "not_found");
    }
    assert_eq!(member.get("/api/v1/invites").await.status(), 404);
    assert_eq!(member.get("/invites").await.status(), 404);
    let res = member
        .delete(&format!("/api/v1/invites/{}", made["id"]))
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(count(&app, "SELECT count(*) FROM invites"), 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM invites WHERE revoked_at IS NOT NULL"
        ),
        0
    );
}

#[tokio::test]
async fn bad_invites_are_refused_and_nothing_is_made() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let bob = app.person("bob").await;
    let res = admin
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let bad = [
        json!({"max_uses": 0}),
        json!({"max_uses": -3}),
        json!({"expires": "2d"}),
        json!({"role": "owner"}),
        json!({"conversations": [direct]}),
        json!({"conversations": [9999]}),
        json!({"surprise": true}),
    ];
    for body in bad {
        let res = admin.post("/api/v1/invites", body.clone()).await;
        assert_eq!(res.status(), 400, "{body}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM invites"), 0);
    assert_eq!(admin.delete("/api/v1/invites/12345").await.status(), 404);
}

#[tokio::test]
async fn the_invites_page_makes_a_copyable_link_once_and_revokes() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let page = admin.get("/invites").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("New invite"));
    let token = csrf(&admin, "/invites").await;

    let forged = admin
        .http
        .post(admin.url("/invites"))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", "nope"), ("uses", "1"), ("expires", "7d")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(count(&app, "SELECT count(*) FROM invites"), 0);

    let res = admin
        .http
        .post(admin.url("/invites"))
        .header("cookie", &admin.cookie)
        .form(&[
            ("csrf", token.as_str()),
            ("uses", "unlimited"),
            ("expires", "30d"),
            ("role", "member"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let at = html.find("id=\"invite-link\"").expect("the new link");
    let field = &html[at..];
    let value = field.split("value=\"").nth(1).unwrap();
    let link = &value[..value.find('"').unwrap()];
    assert!(
        link.starts_with(&format!("http://{}/join/", app.addr)),
        "{link}"
    );
    assert!(field[..200.min(field.len())].contains("readonly"));
    assert!(html.contains("data-copy=\"invite-link\""));
    // Listed with its uses and state, never its link.
    let list = admin.get("/invites").await.text().await.unwrap();
    let secret = link.rsplit('/').next().unwrap();
    assert!(!list.contains(secret));
    assert!(
        list.contains("0 (no limit)") && list.contains("active"),
        "{list}"
    );

    let id = count(&app, "SELECT id FROM invites");
    let res = admin
        .http
        .post(admin.url(&format!("/invites/{id}/revoke")))
        .header("cookie", &admin.cookie)
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let list = admin.get("/invites").await.text().await.unwrap();
    assert!(list.contains("revoked"));
    let res = join(&app, secret, "late").await;
    assert_eq!(res.status(), 410);
}

#[tokio::test]
async fn a_signed_in_visitor_is_not_offered_a_second_account() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let (_, token) = invite(&admin, json!({})).await;
    let page = admin.get(&format!("/join/{token}")).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("You are already signed in")
    );
    let before = users(&app);
    let res = admin
        .http
        .post(admin.url(&format!("/join/{token}")))
        .header("cookie", &admin.cookie)
        .form(&join_form("second"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(users(&app), before);
}

#[tokio::test]
async fn open_sign_up_works_only_when_turned_on() {
    let closed = TestApp::spawn().await;
    assert_eq!(
        closed
            .client()
            .get(closed.url("/signup"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res = closed
        .client()
        .post(closed.url("/signup"))
        .form(&join_form("walkin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(users(&closed), 0);
    let login = closed
        .client()
        .get(closed.url("/login"))
        .send()
        .await
        .unwrap();
    assert!(!login.text().await.unwrap().contains("/signup"));

    let open = TestApp::spawn_with(|c| c.open_signup = true).await;
    let login = open.client().get(open.url("/login")).send().await.unwrap();
    assert!(login.text().await.unwrap().contains("href=\"/signup\""));
    assert_eq!(
        open.client()
            .get(open.url("/signup"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    open.create_user("Taken", Role::Member).await;
    let browser = open.client();
    let res = browser
        .post(open.url("/signup"))
        .form(&join_form("TAKEN"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    let res = browser
        .post(open.url("/signup"))
        .form(&join_form("walkin"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let me: Value = browser
        .get(open.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "walkin");
    assert_eq!(me["role"], "member");
}

#[tokio::test]
async fn members_allowed_to_invite_make_member_invites_and_see_only_their_own() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("root", Role::Admin).await;
    let root = app.sign_in("root", admin.id).await;
    let (_, _) = invite(&root, json!({})).await;
    // The sidebar shows the way to invites to whoever may invite, and to nobody else.
    let before = app.person("early").await;
    let sidebar = |page: String| page.contains(r#"href="/invites""#);
    assert!(sidebar(root.get("/people").await.text().await.unwrap()));
    assert!(!sidebar(before.get("/people").await.text().await.unwrap()));
    let change = hearth::chat::instance::Change {
        inviters: Some("members".into()),
        ..Default::default()
    };
    hearth::chat::instance::change(&app.app.chat, &admin, change)
        .await
        .unwrap();
    let mia = app.person("mia").await;
    assert!(sidebar(mia.get("/people").await.text().await.unwrap()));

    let res = mia.post("/api/v1/invites", json!({"role": "admin"})).await;
    assert_eq!(res.status(), 403);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("only an admin may invite an admin")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM invites"), 1);

    let (made, token) = invite(&mia, json!({"max_uses": 1})).await;
    assert_eq!(made["created_by"], "mia");
    let list = mia.json("/api/v1/invites").await;
    assert_eq!(list["invites"].as_array().unwrap().len(), 1, "only her own");
    let page = mia.get("/invites").await;
    assert_eq!(page.status(), 200);
    assert!(
        !page.text().await.unwrap().contains("value=\"admin\""),
        "no admin role offered"
    );
    let root_invite = count(&app, "SELECT min(id) FROM invites");
    let res = mia.delete(&format!("/api/v1/invites/{root_invite}")).await;
    assert_eq!(res.status(), 404, "not hers");
    assert_eq!(join(&app, &token, "friend").await.status(), 303);
    assert_eq!(
        root.json("/api/v1/invites").await["invites"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn one_address_makes_at_most_ten_accounts_an_hour() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let (_, token) = invite(&admin, json!({})).await;
    let before = users(&app);
    let limit = hearth::chat::invites::NEW_ACCOUNTS_PER_ADDRESS.limit;
    for i in 0..limit {
        let res = join(&app, &token, &format!("newcomer{i}")).await;
        assert_eq!(res.status(), 303, "join {i}");
    }
    assert_eq!(users(&app), before + limit as i64);
    // One past the limit: refused before any password work, nothing made, a time to retry.
    let res = join(&app, &token, "one_too_many").await;
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 3600, "{retry}");
    assert_eq!(users(&app), before + limit as i64);
    // Open sign-up shares the same count.
    let open = TestApp::spawn_with(|c| c.open_signup = true).await;
    for i in 0..limit {
        let res = open
            .client()
            .post(open.url("/signup"))
            .form(&join_form(&format!("signer{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "sign-up {i}");
    }
    let res = open
        .client()
        .post(open.url("/signup"))
        .form(&join_form("signer_late"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
}
