//! The admin console: its pages and JSON answer admins only (404 for others), and each action
//! keeps a community runnable and lands in the audit log.

mod common;

use common::{Person, TestApp};
use hearth::domain::Role;
use serde_json::{Value, json};

async fn group(owner: &Person, name: &str, members: &[i64]) -> i64 {
    let res = owner
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": name, "members": members}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn send(p: &Person, conversation: i64, body: &str) -> i64 {
    let res = p
        .post(
            &format!("/api/v1/conversations/{conversation}/messages"),
            json!({ "body": body }),
        )
        .await;
    assert_eq!(res.status(), 201, "send {body}");
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn audit(app: &TestApp, action: &str) -> Vec<(String, String, String)> {
    let conn = app.sql();
    let mut stmt = conn
        .prepare("SELECT actor, target, detail FROM audit_log WHERE action = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([action], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

async fn delete_json(p: &Person, path: &str, body: Value) -> reqwest::Response {
    p.http
        .delete(p.url(path))
        .header("cookie", &p.cookie)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn members_find_no_console_anywhere() {
    let app = TestApp::spawn().await;
    let bob = app.person("bob").await;
    let root = app.person_with_role("root", Role::Admin).await;
    let pages = [
        "/admin",
        "/admin/people",
        "/admin/conversations",
        "/admin/audit",
        "/admin/settings",
    ];
    for page in pages {
        assert_eq!(bob.get(page).await.status(), 404, "{page}");
        assert_eq!(root.get(page).await.status(), 200, "{page}");
    }
    for api in [
        "/api/v1/admin/status",
        "/api/v1/admin/people",
        "/api/v1/admin/conversations",
        "/api/v1/admin/audit",
        "/api/v1/admin/settings",
    ] {
        let res = bob.get(api).await;
        assert_eq!(res.status(), 404, "{api}");
        assert_eq!(common::error_code(res).await, "not_found");
        assert_eq!(root.get(api).await.status(), 200, "{api}");
    }
    // Nor can a member act through it.
    let res = bob
        .patch("/api/v1/admin/people/root", json!({"active": false}))
        .await;
    assert_eq!(res.status(), 404);
    let res = bob
        .patch("/api/v1/admin/settings", json!({"community_name": "Mine"}))
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.app.chat.instance().community_name, "Hearth");
    let active: bool = app
        .sql()
        .query_row(
            "SELECT deactivated = 0 FROM users WHERE username = 'root'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(active);
    // The top bar links the console for admins only.
    let home = root.get("/people").await.text().await.unwrap();
    assert!(home.contains(r#"href="/admin""#));
    let home = bob.get("/people").await.text().await.unwrap();
    assert!(!home.contains(r#"href="/admin""#));
}

#[tokio::test]
async fn the_last_admin_stays_an_admin() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let res = root
        .patch("/api/v1/admin/people/root", json!({"role": "member"}))
        .await;
    assert_eq!(res.status(), 409);
    let res = root
        .patch("/api/v1/admin/people/root", json!({"active": false}))
        .await;
    assert_eq!(res.status(), 409);
    let me: Value = root.json("/api/v1/me").await;
    assert_eq!(me["role"], "admin");
    // The CLI is held to the same rule.
    let err = hearth::chat::accounts::set_role(&app.app.chat, "cli", "root", Role::Member).await;
    assert!(err.is_err());
    // With a second admin, one may step down: exactly one left is enough.
    app.person_with_role("ada", Role::Admin).await;
    let res = root
        .patch("/api/v1/admin/people/root", json!({"role": "member"}))
        .await;
    assert_eq!(res.status(), 200);
    let rows = audit(&app, "user.role.member");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, "root");
    assert_eq!(rows[0].1, "root");
    // Root is a member now: the console is gone for them at once.
    assert_eq!(root.get("/admin").await.status(), 404);
}

#[tokio::test]
async fn deactivating_with_messages_deletes_them_for_everyone() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let (ada, spam) = (app.person("ada").await, app.person("spam").await);
    let g = group(&ada, "crew", &[spam.id]).await;
    let kept = send(&ada, g, "hello crew").await;
    let mut sent = Vec::new();
    for i in 0..3 {
        sent.push(send(&spam, g, &format!("buy now {i}")).await);
    }
    // A typo in the confirmation (pages) or a wrong shape (API) changes nothing.
    let res = root
        .patch(
            "/api/v1/admin/people/spam",
            json!({"role": "member", "delete_messages": true}),
        )
        .await;
    assert_eq!(res.status(), 400);
    let res = root
        .patch(
            "/api/v1/admin/people/spam",
            json!({"active": false, "delete_messages": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["messages_deleted"], 3);
    assert_eq!(body["user"]["deactivated"], true);
    // Spam is signed out, told why, and their messages are gone; Ada's stays.
    let res = spam.get("/api/v1/me").await;
    assert_eq!(res.status(), 401);
    let why: Value = res.json().await.unwrap();
    assert_eq!(
        why["error"]["message"],
        "Your account was deactivated by an admin"
    );
    let history: Value = ada
        .json(&format!("/api/v1/conversations/{g}/messages"))
        .await;
    for m in history["messages"].as_array().unwrap() {
        let id = m["id"].as_i64().unwrap();
        if sent.contains(&id) {
            assert_eq!(m["deleted"], true, "{m}");
            assert_eq!(m["body"], "");
        }
        if id == kept {
            assert_eq!(m["body"], "hello crew");
        }
    }
    let rows = audit(&app, "user.disable");
    assert_eq!(rows[0].1, "spam");
    assert!(rows[0].2.contains("\"delete_messages\":true"), "{rows:?}");
    let rows = audit(&app, "user.messages_deleted");
    assert!(rows[0].2.contains("\"messages\":3"), "{rows:?}");
    // Reactivated, they may sign in again; their messages stay deleted.
    let res = root
        .patch("/api/v1/admin/people/spam", json!({"active": true}))
        .await;
    assert_eq!(res.status(), 200);
    app.login(&app.client(), "spam", common::PASSWORD).await;
}

#[tokio::test]
async fn people_are_found_by_name_role_and_state() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    app.person("ada_lovelace").await;
    app.person("adam").await;
    app.person("bob").await;
    let names = |v: Value| -> Vec<String> {
        v["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        names(root.json("/api/v1/admin/people?q=ada").await),
        ["ada_lovelace", "adam"]
    );
    // `_` is a letter here, not a wildcard.
    assert_eq!(
        names(root.json("/api/v1/admin/people?q=a_l").await),
        ["ada_lovelace"]
    );
    assert_eq!(
        names(root.json("/api/v1/admin/people?role=admin").await),
        ["root"]
    );
    root.patch("/api/v1/admin/people/bob", json!({"active": false}))
        .await;
    assert_eq!(
        names(root.json("/api/v1/admin/people?state=deactivated").await),
        ["bob"]
    );
    assert_eq!(
        root.get("/api/v1/admin/people?state=gone").await.status(),
        400
    );
    let page = root.get("/admin/people?q=adam").await.text().await.unwrap();
    assert!(page.contains("@adam"));
    assert!(!page.contains("@bob"));
}

#[tokio::test]
async fn an_admin_enters_a_private_group_only_in_the_open() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let g = group(&ada, "secret", &[bob.id]).await;
    send(&ada, g, "just us").await;
    // Not silently: the group is as closed to an admin as to anyone.
    let c = format!("/api/v1/conversations/{g}");
    assert_eq!(root.get(&c).await.status(), 404);
    assert_eq!(root.get(&format!("{c}/messages")).await.status(), 404);
    assert_eq!(root.get(&format!("/c/{g}")).await.status(), 404);
    // The console lists it, with its member count, and joins it on the record.
    let list: Value = root.json("/api/v1/admin/conversations").await;
    let row = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == g)
        .cloned()
        .unwrap();
    assert_eq!(row["members"], 2);
    assert_eq!(row["member"], false);
    let res = root
        .post(&format!("/api/v1/admin/conversations/{g}/join"), json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let history: Value = root.json(&format!("{c}/messages")).await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["notice"]["action"], "admin_joined", "{last}");
    // The members see the line too.
    let theirs: Value = ada.json(&format!("{c}/messages")).await;
    assert_eq!(
        theirs["messages"].as_array().unwrap().last().unwrap()["notice"]["action"],
        "admin_joined"
    );
    assert_eq!(audit(&app, "conversation.admin_join")[0].1, "secret");
    // Twice is refused.
    let res = root
        .post(&format!("/api/v1/admin/conversations/{g}/join"), json!({}))
        .await;
    assert_eq!(res.status(), 409);
}

#[tokio::test]
async fn deleting_a_conversation_needs_its_name_typed() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let ada = app.person("ada").await;
    let g = group(&ada, "old-plans", &[]).await;
    send(&ada, g, "searchable words").await;
    let path = format!("/api/v1/admin/conversations/{g}");
    let res = delete_json(&root, &path, json!({"confirm": "old-plan"})).await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        ada.get(&format!("/api/v1/conversations/{g}"))
            .await
            .status(),
        200
    );
    let mut ws = ada.ws(None).await;
    let res = delete_json(&root, &path, json!({"confirm": "old-plans"})).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        ada.get(&format!("/api/v1/conversations/{g}"))
            .await
            .status(),
        404
    );
    let event = ws.event().await;
    assert_eq!(event["event"], "conversation.deleted", "{event}");
    assert_eq!(event["conversation"], g);
    // Everything in it went: messages, their search rows.
    let conn = app.sql();
    let left: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages WHERE conversation_id = ?1",
            [g],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(left, 0);
    let found: i64 = conn
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'searchable'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 0);
    assert_eq!(audit(&app, "conversation.delete")[0].1, "old-plans");
    // Directs are not the console's to delete.
    let direct: Value = ada
        .post("/api/v1/directs", json!({"user_id": root.id}))
        .await
        .json()
        .await
        .unwrap();
    let d = direct["id"].as_i64().unwrap();
    let res = delete_json(
        &root,
        &format!("/api/v1/admin/conversations/{d}"),
        json!({"confirm": ""}),
    )
    .await;
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn archiving_from_the_console_is_audited() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let ada = app.person("ada").await;
    let g = group(&ada, "quiet", &[]).await;
    let path = format!("/api/v1/admin/conversations/{g}");
    let res = root.patch(&path, json!({"archived": true})).await;
    assert_eq!(res.status(), 200);
    let res = ada
        .post(
            &format!("/api/v1/conversations/{g}/messages"),
            json!({"body": "anyone?"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let res = root.patch(&path, json!({"archived": false})).await;
    assert_eq!(res.status(), 200);
    send(&ada, g, "back again").await;
    assert_eq!(audit(&app, "conversation.archive").len(), 1);
    assert_eq!(audit(&app, "conversation.unarchive").len(), 1);
}

#[tokio::test]
async fn settings_change_the_pages_and_bad_values_change_nothing() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let bob = app.person("bob").await;
    let long = "w".repeat(hearth::chat::instance::WELCOME_MAX + 1);
    for bad in [
        json!({"accent": "red"}),
        json!({"welcome_text": long}),
        json!({"community_name": "  "}),
        json!({"inviters": "everyone"}),
        json!({"colour": "#000000"}),
    ] {
        let res = root.patch("/api/v1/admin/settings", bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let settings: Value = root.json("/api/v1/admin/settings").await;
    assert_eq!(settings["settings"]["community_name"], "Hearth");
    let res = root
        .patch(
            "/api/v1/admin/settings",
            json!({
                "community_name": "Kettle Club",
                "welcome_text": "Tea on Thursdays.",
                "accent": "#224466",
                "channel_creators": "admins"
            }),
        )
        .await;
    assert_eq!(res.status(), 200);
    // Every page says the new name; the sign-in page welcomes; the accent is linked.
    let page = bob.get("/people").await.text().await.unwrap();
    assert!(page.contains("People · Kettle Club"), "title");
    assert!(page.contains("/theme.css?v=224466"));
    let css = bob.get("/theme.css?v=224466").await.text().await.unwrap();
    assert!(css.contains("--accent: #224466"), "{css}");
    let login = app.client().get(app.url("/login")).send().await.unwrap();
    let login = login.text().await.unwrap();
    assert!(login.contains("Tea on Thursdays."));
    assert!(login.contains("Sign in to Kettle Club"));
    // Members may no longer open channels; groups still.
    let res = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "mine"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    group(&bob, "ok", &[]).await;
    let res = root
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "announcements"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let changed = audit(&app, "setting.change");
    assert_eq!(changed.len(), 4, "{changed:?}");
}

#[tokio::test]
async fn sign_ins_and_failures_are_in_the_audit_log_and_paged() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    app.create_user("ada", Role::Member).await;
    let client = app.client();
    let res = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "ada", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    app.login(&client, "ada", common::PASSWORD).await;
    // Recorded off the request's path: wait for the writer to catch up.
    let mut found = Value::Null;
    for _ in 0..50 {
        found = root
            .json("/api/v1/admin/audit?person=ada&action=session")
            .await;
        if found["entries"].as_array().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let entries = found["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{found}");
    assert_eq!(entries[0]["action"], "session.sign_in");
    assert_eq!(entries[1]["action"], "session.sign_in_failed");
    assert_eq!(entries[1]["target"], "127.0.0.1");
    // Paging: 50 to a page, older by `before`.
    {
        let conn = app.sql();
        for i in 0..60 {
            conn.execute(
                "INSERT INTO audit_log (at, actor, action, target) VALUES (?1, 'cli', 'user.create', ?2)",
                rusqlite::params![i, format!("p{i}")],
            )
            .unwrap();
        }
    }
    let first: Value = root.json("/api/v1/admin/audit?action=user.create").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    assert_eq!(first["has_more"], true);
    let last = first["entries"][49]["id"].as_i64().unwrap();
    let next: Value = root
        .json(&format!(
            "/api/v1/admin/audit?action=user.create&before={last}"
        ))
        .await;
    let rest = next["entries"].as_array().unwrap().len();
    assert!(rest >= 10, "{rest}");
    assert_eq!(next["has_more"], false);
    // Old rows go after audit_keep_days.
    let pruned = hearth::chat::upkeep::prune_audit(&app.app.chat, 1_000)
        .await
        .unwrap();
    assert_eq!(pruned, 60);
    let page = root
        .get("/admin/audit?person=ada")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("session.sign_in_failed"));
}

#[tokio::test]
async fn the_status_page_tells_the_sizes_and_who_is_connected() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let _ws = root.ws(None).await;
    let status: Value = root.json("/api/v1/admin/status").await;
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    assert!(status["db_bytes"].as_u64().unwrap() > 0);
    assert_eq!(status["connected_people"], 1);
    assert_eq!(status["sockets"], 1);
    assert_eq!(status["last_backup_at"], Value::Null);
    // Ending someone's sessions tells them why at their next request.
    let ada = app.person("ada").await;
    let res = root.delete("/api/v1/admin/people/ada/sessions").await;
    let ended: Value = res.json().await.unwrap();
    assert_eq!(ended["ended"], 1);
    let res = ada.get("/api/v1/me").await;
    assert_eq!(res.status(), 401);
    let why: Value = res.json().await.unwrap();
    assert_eq!(
        why["error"]["message"],
        "An admin ended your sessions; sign in again"
    );
    assert_eq!(audit(&app, "user.sessions_end")[0].1, "ada");
    let page = root.get("/admin").await.text().await.unwrap();
    assert!(page.contains("Connected now"));
}

async fn csrf(p: &Person) -> String {
    p.csrf("/admin").await
}

async fn form(p: &Person, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    p.form(path, fields).await
}

/// The one link a page or answer shows: from `/password/` to its closing quote.
fn token_in(text: &str) -> String {
    let at = text.find("/password/").expect("a password link") + "/password/".len();
    text[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect()
}

#[tokio::test]
async fn the_console_adds_people_and_resets_passwords_by_link() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let token = csrf(&root).await;
    // A bad name is refused on the page and adds nobody.
    let res = form(
        &root,
        "/admin/people",
        &[("csrf", &token), ("username", "no spaces")],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("username may only hold"));
    let count = |app: &TestApp| -> i64 {
        app.sql()
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&app), 1);
    // Added from the page: the welcome link is shown once and chooses the password.
    let res = form(
        &root,
        "/admin/people",
        &[
            ("csrf", &token),
            ("username", "dora"),
            ("display_name", "Dora M"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("dora was added"));
    let welcome = token_in(&page);
    assert_eq!(count(&app), 2);
    let dora = app.client();
    let res = dora
        .post(app.url(&format!("/password/{welcome}")))
        .form(&[
            ("password", "a fresh password"),
            ("confirm", "a fresh password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "the link signs Dora in");
    app.login(&app.client(), "dora", "a fresh password").await;
    // Added from the API, as an admin.
    let res = root
        .post(
            "/api/v1/admin/people",
            json!({"username": "eve", "role": "admin"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
    assert!(body["link"].as_str().unwrap().contains("/password/"));
    // A reset from the page: Dora's sessions end and a link is shown.
    let signed = app.person("fay").await;
    let res = form(&root, "/admin/people/fay/reset-link", &[("csrf", &token)]).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Reset link for fay"));
    assert!(!token_in(&page).is_empty());
    assert_eq!(signed.get("/api/v1/me").await.status(), 401);
    let res = root
        .post("/api/v1/admin/people/fay/reset-link", json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(audit(&app, "user.reset_link").len(), 2);
    assert_eq!(audit(&app, "user.add").len(), 2);
    // Members find neither.
    let bob = app.person("bob").await;
    let bob_csrf = bob.csrf("/people").await;
    let res = form(
        &bob,
        "/admin/people",
        &[("csrf", &bob_csrf), ("username", "sneaky")],
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = form(
        &bob,
        "/admin/people/root/reset-link",
        &[("csrf", &bob_csrf)],
    )
    .await;
    assert_eq!(res.status(), 404);
    let res = bob
        .post("/api/v1/admin/people", json!({"username": "sneaky"}))
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(root.get("/api/v1/me").await.status(), 200, "root untouched");
    let sneaky: i64 = app
        .sql()
        .query_row(
            "SELECT count(*) FROM users WHERE username = 'sneaky'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(sneaky, 0);
}

#[tokio::test]
async fn an_admins_moderation_is_in_the_audit_log() {
    let app = TestApp::spawn().await;
    let root = app.person_with_role("root", Role::Admin).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    // Deleting someone else's message.
    let general = root.general().await;
    let rude = send(&bob, general, "something rude").await;
    let own = send(&root, general, "my own words").await;
    assert_eq!(
        root.delete(&format!("/api/v1/messages/{own}"))
            .await
            .status(),
        204
    );
    assert!(
        audit(&app, "message.delete").is_empty(),
        "one's own is no moderation"
    );
    assert_eq!(
        root.delete(&format!("/api/v1/messages/{rude}"))
            .await
            .status(),
        204
    );
    let rows = audit(&app, "message.delete");
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("root", "bob"));
    assert!(
        rows[0].2.contains(&format!("\"message\":{rude}")),
        "{rows:?}"
    );
    // Removing someone from a group the admin is not in; an owner's removal is not audited.
    let cat = app.person("cat").await;
    let g = group(&ada, "crew", &[bob.id, cat.id]).await;
    let res = ada
        .delete(&format!(
            "/api/v1/conversations/{g}/members/{cat}",
            cat = cat.id
        ))
        .await;
    assert_eq!(res.status(), 204);
    assert!(audit(&app, "conversation.remove_member").is_empty());
    let res = root
        .delete(&format!("/api/v1/conversations/{g}/members/{}", bob.id))
        .await;
    assert_eq!(res.status(), 204);
    let rows = audit(&app, "conversation.remove_member");
    assert_eq!((rows[0].0.as_str(), rows[0].1.as_str()), ("root", "bob"));
    // Resolving and assigning a support conversation.
    let support: Value = ada
        .post("/api/v1/support", json!({}))
        .await
        .json()
        .await
        .unwrap();
    let s = support["id"].as_i64().unwrap();
    send(&ada, s, "help please").await;
    let res = root
        .post(
            &format!("/api/v1/conversations/{s}/support"),
            json!({"state": "resolved", "assignee_id": root.id}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(audit(&app, "support.resolved")[0].1, "ada");
    assert!(
        audit(&app, "support.assign")[0]
            .2
            .contains("\"assignee\":\"root\"")
    );
}
