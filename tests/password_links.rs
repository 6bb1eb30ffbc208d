//! One-time password links: adding a person with a welcome link, an admin's reset that ends
//! every session and tells why, links that are single use and expire; and the CLI commands.

mod common;

use common::{PASSWORD, TestApp, error_code};
use hearth::chat::actor::Actor;
use hearth::chat::links;
use hearth::domain::Role;
use hearth::error::Error;
use serde_json::Value;

const NEW: &str = "a brand new secret";

fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn password_hash(app: &TestApp, name: &str) -> String {
    app.sql()
        .query_row(
            "SELECT password_hash FROM users WHERE username = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap()
}

async fn set(app: &TestApp, client: &reqwest::Client, token: &str, pw: &str) -> reqwest::Response {
    client
        .post(app.url(&format!("/password/{token}")))
        .form(&[("password", pw), ("confirm", pw)])
        .send()
        .await
        .unwrap()
}

async fn login_status(app: &TestApp, name: &str, pw: &str) -> u16 {
    app.client()
        .post(app.url("/api/v1/session"))
        .json(&serde_json::json!({"username": name, "password": pw}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn an_added_person_chooses_their_password_through_a_welcome_link_once() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("root", Role::Admin).await;
    let (user, token) = links::add_person(
        &app.app.chat,
        Actor::User(&admin),
        "newt",
        Some("Newt".into()),
        Role::Member,
    )
    .await
    .unwrap();
    assert_eq!(user.display_name, "Newt");
    assert_eq!(
        links::link("https://x", &token),
        format!("https://x/password/{token}")
    );
    let (purpose, lifetime): (String, i64) = app
        .sql()
        .query_row(
            "SELECT purpose, expires_at - created_at FROM password_links",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((purpose.as_str(), lifetime), ("welcome", 7 * 86_400_000));
    let stored: Vec<u8> = app
        .sql()
        .query_row("SELECT token_hash FROM password_links", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, hearth::chat::secrets::token_hash(&token));
    assert_ne!(stored, token.as_bytes());
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.add'"
        ),
        1
    );
    // Nobody knows the password yet, and the account is in #general.
    assert_eq!(login_status(&app, "newt", PASSWORD).await, 401);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM memberships WHERE user_id = (SELECT id FROM users WHERE username = 'newt')"
        ),
        1
    );

    let browser = app.client();
    let page = browser
        .get(app.url(&format!("/password/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Welcome to Hearth") && html.contains("@newt"),
        "{html}"
    );

    // Refused input leaves the link usable.
    let res = browser
        .post(app.url(&format!("/password/{token}")))
        .form(&[("password", NEW), ("confirm", "something else")])
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
    assert_eq!(set(&app, &browser, &token, "short").await.status(), 400);

    let res = set(&app, &browser, &token, NEW).await;
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
    assert_eq!(login_status(&app, "newt", NEW).await, 200);

    // Single use.
    let hash = password_hash(&app, "newt");
    let again = set(&app, &app.client(), &token, "another password").await;
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("already been used"));
    let page = app
        .client()
        .get(app.url(&format!("/password/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert_eq!(password_hash(&app, "newt"), hash);
}

#[tokio::test]
async fn a_reset_ends_every_session_and_the_old_one_is_told_why() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("root", Role::Admin).await;
    let ada = app.person("ada").await;
    let other = app.sign_in("ada", ada.id).await;
    let mut ws = ada.ws(None).await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM sessions WHERE user_id = 2"),
        2
    );

    let first = links::reset_link(&app.app.chat, Actor::User(&admin), "ada")
        .await
        .unwrap();
    let token = links::reset_link(&app.app.chat, Actor::User(&admin), "ADA")
        .await
        .unwrap();
    assert_eq!(ws.closed().await, Some(hearth::hub::CLOSE_SESSION_ENDED));
    assert_eq!(
        count(&app, "SELECT count(*) FROM sessions WHERE user_id = 2"),
        0
    );
    assert_eq!(count(&app, "SELECT count(*) FROM ended_sessions"), 2);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE action = 'user.reset_link' AND actor = 'root'"
        ),
        2
    );
    let lifetime = count(&app, "SELECT expires_at - created_at FROM password_links");
    assert_eq!(lifetime, 86_400_000);

    // The API says why; a page goes to the login page, which says why.
    let res = other.get("/api/v1/me").await;
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Your password was reset by an admin"
    );
    let res = ada.get("/").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    let login = ada.get("/login").await.text().await.unwrap();
    assert!(
        login.contains("Your password was reset by an admin"),
        "{login}"
    );
    // A visitor with no such cookie is told nothing.
    let plain = app
        .client()
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!plain.contains("reset by an admin"));

    // The older link was voided by the newer one.
    let res = set(&app, &app.client(), &first, NEW).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("This link is not valid"));
    // The old password is gone with the reset; the new link sets one.
    assert_eq!(login_status(&app, "ada", PASSWORD).await, 401);
    let browser = app.client();
    assert_eq!(set(&app, &browser, &token, NEW).await.status(), 303);
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "ada");
    assert_eq!(login_status(&app, "ada", NEW).await, 200);
}

#[tokio::test]
async fn expired_and_forged_links_say_so_and_change_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.create_user("root", Role::Admin).await;
    app.create_user("ada", Role::Member).await;
    let token = links::reset_link(&app.app.chat, Actor::Cli, "ada")
        .await
        .unwrap();
    app.sql()
        .execute("UPDATE password_links SET expires_at = 1", [])
        .unwrap();
    let hash = password_hash(&app, "ada");
    let page = app
        .client()
        .get(app.url(&format!("/password/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("This link has expired"));
    assert_eq!(set(&app, &app.client(), &token, NEW).await.status(), 410);
    for forged in ["ab".repeat(32), "nonsense".into()] {
        let res = set(&app, &app.client(), &forged, NEW).await;
        assert_eq!(res.status(), 404);
        assert!(res.text().await.unwrap().contains("This link is not valid"));
    }
    assert_eq!(password_hash(&app, "ada"), hash);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM password_links WHERE used_at IS NOT NULL"
        ),
        0
    );
    assert_eq!(count(&app, "SELECT count(*) FROM sessions"), 0);
    let _ = admin;
}

#[tokio::test]
async fn only_admins_add_people_and_make_reset_links() {
    let app = TestApp::spawn().await;
    let mia = app.create_user("mia", Role::Member).await;
    let ada = app.person("ada").await;
    let users = count(&app, "SELECT count(*) FROM users");
    let added =
        links::add_person(&app.app.chat, Actor::User(&mia), "sneak", None, Role::Admin).await;
    assert!(matches!(added, Err(Error::NotFound)), "{added:?}");
    let reset = links::reset_link(&app.app.chat, Actor::User(&mia), "ada").await;
    assert!(matches!(reset, Err(Error::NotFound)), "{reset:?}");
    assert_eq!(count(&app, "SELECT count(*) FROM users"), users);
    assert_eq!(count(&app, "SELECT count(*) FROM password_links"), 0);
    assert_eq!(
        ada.get("/api/v1/me").await.status(),
        200,
        "ada's session stands"
    );
    // Bad input from an admin changes nothing either.
    let admin = app.create_user("root", Role::Admin).await;
    for name in ["has space", "ADA"] {
        let r =
            links::add_person(&app.app.chat, Actor::User(&admin), name, None, Role::Member).await;
        assert!(
            matches!(r, Err(Error::Invalid(_) | Error::Conflict(_))),
            "{r:?}"
        );
    }
    let r = links::reset_link(&app.app.chat, Actor::User(&admin), "nobody").await;
    assert!(matches!(r, Err(Error::NoSuchUser(_))), "{r:?}");
    assert_eq!(count(&app, "SELECT count(*) FROM password_links"), 0);
    let res = ada.get("/api/v1/me").await;
    assert_eq!(res.status(), 200);
    let _ = error_code;
}

/// The operator's commands: links printed, with a placeholder until `base_url` is set.
#[test]
fn the_cli_prints_welcome_reset_and_invite_links() {
    use assert_cmd::Command;
    let dir = tempfile::tempdir().unwrap();
    let hearth = |args: &[&str]| {
        let out = Command::cargo_bin("hearth")
            .unwrap()
            .arg("--data-dir")
            .arg(dir.path())
            .env_remove("HEARTH_CONFIG")
            .env_remove("HEARTH_BASE_URL")
            .env("HEARTH_LOG", "warn")
            .args(args)
            .write_stdin(PASSWORD)
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    assert!(hearth(&["init", "--admin", "root", "--password-stdin"]).0);
    let (ok, out, err) = hearth(&["user", "add", "newt", "--link"]);
    assert!(ok, "{err}");
    assert!(out.contains("https://YOUR-HEARTH/password/"), "{out}");
    assert!(err.contains("base_url is not set"), "{err}");
    let (ok, out, err) = hearth(&["--config", "/dev/null", "user", "reset-link", "NEWT"]);
    assert!(ok, "{err}");
    assert!(out.contains("/password/"), "{out}");
    let (ok, _, err) = hearth(&["user", "reset-link", "nobody"]);
    assert!(!ok && err.contains("nobody"), "{err}");

    let (ok, out, err) = hearth(&[
        "invite",
        "create",
        "--uses",
        "3",
        "--expires",
        "30d",
        "--join",
        "general",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("https://YOUR-HEARTH/join/"), "{out}");
    let (ok, _, err) = hearth(&["invite", "create", "--expires", "2d"]);
    assert!(!ok && err.contains("2d"), "{err}");
    let (ok, _, err) = hearth(&["invite", "create", "--join", "nowhere"]);
    assert!(!ok && err.contains("nowhere"), "{err}");
    let (ok, out, _) = hearth(&["invite", "list"]);
    assert!(
        ok && out.contains("0/3") && out.contains("active") && out.contains("cli"),
        "{out}"
    );
    let (ok, out, err) = hearth(&["invite", "revoke", "1"]);
    assert!(ok, "{err}");
    assert!(out.contains("revoked"));
    let (_, out, _) = hearth(&["invite", "list"]);
    assert!(out.contains("revoked"), "{out}");

    let db = rusqlite::Connection::open(dir.path().join("hearth.db")).unwrap();
    let actions: Vec<String> = db
        .prepare("SELECT action FROM audit_log WHERE actor = 'cli' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        actions,
        [
            "user.add",
            "user.reset_link",
            "invite.create",
            "invite.revoke"
        ]
    );
}
