//! Authorization on every path: strangers, removed members and deactivated users.

mod common;

use common::{Person, TestApp};
use hearth::chat::accounts;
use hearth::domain::Role;
use serde_json::{Value, json};

/// Every conversation-scoped request, each expected to answer 404 to someone outside.
async fn every_path(
    p: &Person,
    conversation: i64,
    message: i64,
    target: i64,
) -> Vec<(String, u16)> {
    let c = format!("/api/v1/conversations/{conversation}");
    let m = format!("/api/v1/messages/{message}");
    vec![
        (format!("GET {c}"), p.get(&c).await.status().as_u16()),
        (
            format!("PATCH {c}"),
            p.patch(&c, json!({"topic": "x"})).await.status().as_u16(),
        ),
        (
            format!("GET {c}/messages"),
            p.get(&format!("{c}/messages")).await.status().as_u16(),
        ),
        (
            format!("POST {c}/messages"),
            p.post(&format!("{c}/messages"), json!({"body": "x"}))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("POST {c}/read"),
            p.post(&format!("{c}/read"), json!({}))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("POST {c}/typing"),
            p.post(&format!("{c}/typing"), json!({}))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("POST {c}/join"),
            p.post(&format!("{c}/join"), json!({}))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("POST {c}/leave"),
            p.post(&format!("{c}/leave"), json!({}))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("POST {c}/members"),
            p.post(&format!("{c}/members"), json!({"user_id": target}))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("DELETE {c}/members"),
            p.delete(&format!("{c}/members/{target}"))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("PATCH {m}"),
            p.patch(&m, json!({"body": "x"})).await.status().as_u16(),
        ),
        (format!("DELETE {m}"), p.delete(&m).await.status().as_u16()),
        (
            format!("PUT {m}/reactions"),
            p.put(&format!("{m}/reactions/%F0%9F%91%8D"))
                .await
                .status()
                .as_u16(),
        ),
        (
            format!("DELETE {m}/reactions"),
            p.delete(&format!("{m}/reactions/%F0%9F%91%8D"))
                .await
                .status()
                .as_u16(),
        ),
    ]
}

fn all_404(results: &[(String, u16)]) {
    for (what, status) in results {
        assert_eq!(*status, 404, "{what} must answer 404");
    }
}

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

#[tokio::test]
async fn a_stranger_gets_404_on_every_path_of_a_private_group() {
    let app = TestApp::spawn().await;
    let (ada, bob, eve) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("eve").await,
    );
    let g = group(&ada, "plans", &[bob.id]).await;
    let m = ada.say(g, "secret plans").await["id"].as_i64().unwrap();
    all_404(&every_path(&eve, g, m, bob.id).await);
    // Nothing changed, and the group shows nowhere for her.
    let page = bob
        .json(&format!("/api/v1/conversations/{g}/messages"))
        .await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page["messages"][0]["body"], "secret plans");
    assert!(
        page["messages"][0]["reactions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let mine = eve.json("/api/v1/conversations").await;
    assert!(!mine.to_string().contains("plans"));
    assert!(
        !eve.json("/api/v1/channels")
            .await
            .to_string()
            .contains("plans")
    );
    // A direct between two others is just as invisible.
    let d: Value = ada
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await
        .json()
        .await
        .unwrap();
    let dm = ada.say(d["id"].as_i64().unwrap(), "psst").await["id"]
        .as_i64()
        .unwrap();
    all_404(&every_path(&eve, d["id"].as_i64().unwrap(), dm, ada.id).await);
    // And a conversation that does not exist looks the same.
    all_404(&every_path(&eve, 987_654, 987_654, ada.id).await);
}

#[tokio::test]
async fn a_removed_member_stops_receiving_at_once_and_loses_access() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let g = group(&ada, "team", &[bob.id]).await;
    let mut wb = bob.ws(None).await;
    let m = ada.say(g, "before").await["id"].as_i64().unwrap();
    assert_eq!(wb.event().await["data"]["message"]["id"], m);

    let res = bob
        .delete(&format!("/api/v1/conversations/{g}/members/{}", ada.id))
        .await;
    assert_eq!(res.status(), 403, "members may not remove owners");
    let res = ada
        .delete(&format!("/api/v1/conversations/{g}/members/{}", bob.id))
        .await;
    assert_eq!(res.status(), 204);
    let notice = wb.event().await;
    assert_eq!(notice["event"], "membership.changed");
    assert_eq!(notice["data"]["action"], "removed");
    assert_eq!(notice["data"]["user"]["id"], bob.id);

    ada.say(g, "after").await;
    ada.patch(
        &format!("/api/v1/conversations/{g}"),
        json!({"topic": "new topic"}),
    )
    .await;
    assert!(wb.quiet_for(300).await.is_none(), "nothing after removal");
    all_404(&every_path(&bob, g, m, ada.id).await);
    // On reconnect with an old since, nothing from the group is replayed either.
    let mut again = bob.ws(Some(0)).await;
    while let Some(frame) = again.quiet_for(300).await {
        assert!(!frame.to_string().contains("\"after\""), "{frame}");
    }
}

#[tokio::test]
async fn a_deactivated_user_is_cut_off_at_once() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let mut wb = bob.ws(None).await;
    accounts::set_active(&app.app.chat, "test", "bob", false)
        .await
        .unwrap();
    assert_eq!(wb.closed().await, Some(4001));
    assert_eq!(bob.get("/api/v1/me").await.status(), 401);
    assert!(
        common::Ws::open(&bob.base, &bob.cookie).await.is_err(),
        "no new socket"
    );
    // Others are unaffected.
    assert_eq!(ada.get("/api/v1/me").await.status(), 200);
}

#[tokio::test]
async fn owners_and_admins_manage_members_and_channels_are_open() {
    let app = TestApp::spawn().await;
    let (ada, bob, cat) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("cat").await,
    );
    let root = app.person_with_role("root", Role::Admin).await;
    let g = group(&ada, "crew", &[bob.id]).await;
    // Members may not add to a group; owners and admins may, once the admin is in it (an
    // admin outside a private group knows no more of it than anyone).
    assert_eq!(
        bob.post(
            &format!("/api/v1/conversations/{g}/members"),
            json!({"user_id": cat.id})
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        root.post(
            &format!("/api/v1/conversations/{g}/members"),
            json!({"user_id": cat.id})
        )
        .await
        .status(),
        404
    );
    let joined = root
        .post(&format!("/api/v1/admin/conversations/{g}/join"), json!({}))
        .await;
    assert_eq!(joined.status(), 200);
    assert_eq!(
        root.post(
            &format!("/api/v1/conversations/{g}/members"),
            json!({"user_id": cat.id})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        bob.patch(
            &format!("/api/v1/conversations/{g}"),
            json!({"name": "mine"})
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        bob.patch(
            &format!("/api/v1/conversations/{g}"),
            json!({"topic": "anyone may"})
        )
        .await
        .status(),
        200
    );
    // Anyone may leave a group.
    assert_eq!(
        cat.post(&format!("/api/v1/conversations/{g}/leave"), json!({}))
            .await
            .status(),
        204
    );

    // A channel shows in the browser and anyone may join it.
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "random", "topic": "anything"}),
        )
        .await;
    let ch = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert!(
        cat.json("/api/v1/channels")
            .await
            .to_string()
            .contains("random")
    );
    assert_eq!(
        cat.get(&format!("/api/v1/conversations/{ch}/messages"))
            .await
            .status(),
        404,
        "join first"
    );
    assert_eq!(
        cat.post(&format!("/api/v1/conversations/{ch}/join"), json!({}))
            .await
            .status(),
        200
    );
    cat.say(ch, "hi random").await;
    assert_eq!(
        ada.post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "RANDOM"})
        )
        .await
        .status(),
        409
    );

    // Archived: read-only for everyone.
    assert_eq!(
        ada.patch(
            &format!("/api/v1/conversations/{ch}"),
            json!({"archived": true})
        )
        .await
        .status(),
        200
    );
    let res = cat
        .post(
            &format!("/api/v1/conversations/{ch}/messages"),
            json!({"body": "still?"}),
        )
        .await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        cat.get(&format!("/api/v1/conversations/{ch}/messages"))
            .await
            .status(),
        200
    );

    // Directs: one per pair, whoever opens it.
    let d1: Value = ada
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await
        .json()
        .await
        .unwrap();
    let d2: Value = bob
        .post("/api/v1/directs", json!({"user_id": ada.id}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d1["id"], d2["id"]);
    assert_eq!(d1["kind"], "direct");
    assert_eq!(
        ada.post("/api/v1/directs", json!({"user_id": ada.id}))
            .await
            .status(),
        400
    );
    assert_eq!(
        ada.post(
            &format!("/api/v1/conversations/{}/leave", d1["id"]),
            json!({})
        )
        .await
        .status(),
        400
    );
}

#[tokio::test]
async fn unread_and_mentions_are_counted_and_cleared() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let g = group(&ada, "counting", &[bob.id]).await;
    ada.say(g, "one").await;
    ada.say(g, "two, @bob").await;
    let last = ada.say(g, "three @nobody").await;
    assert!(
        last["html"].as_str().unwrap().contains("@nobody")
            && !last["html"].as_str().unwrap().contains("mention")
    );
    let unread = bob.json("/api/v1/unread").await;
    assert_eq!(unread["conversations"][g.to_string()], 3);
    assert_eq!(unread["mention_counts"][g.to_string()], 1);
    assert!(unread["total"].as_i64().unwrap() >= 3);
    assert_eq!(
        ada.json("/api/v1/unread").await["conversations"][g.to_string()],
        0,
        "own messages are read"
    );
    let list = bob.json("/api/v1/conversations").await;
    let row = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == g)
        .unwrap()
        .clone();
    assert_eq!(
        (row["unread"].as_i64(), row["mentions"].as_i64()),
        (Some(3), Some(1))
    );
    assert_eq!(row["last_message"]["excerpt"], "three @nobody");

    // Reading up to the first message leaves two; reading all clears, and a group tells its members.
    let page = bob
        .json(&format!("/api/v1/conversations/{g}/messages"))
        .await;
    let first = page["messages"][0]["id"].as_i64().unwrap();
    let mut wa = ada.ws(None).await;
    assert_eq!(
        bob.post(
            &format!("/api/v1/conversations/{g}/read"),
            json!({"message_id": first})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        bob.json("/api/v1/unread").await["conversations"][g.to_string()],
        2
    );
    let receipt = wa.event().await;
    assert_eq!(
        (
            receipt["event"].as_str(),
            receipt["data"]["user"]["id"].as_i64()
        ),
        (Some("read.updated"), Some(bob.id))
    );
    assert_eq!(
        bob.post(&format!("/api/v1/conversations/{g}/read"), json!({}))
            .await
            .status(),
        204
    );
    let unread = bob.json("/api/v1/unread").await;
    assert_eq!(
        (
            unread["conversations"][g.to_string()].as_i64(),
            unread["mention_counts"][g.to_string()].as_i64()
        ),
        (Some(0), Some(0))
    );
    // The marker never moves back.
    assert_eq!(
        bob.post(
            &format!("/api/v1/conversations/{g}/read"),
            json!({"message_id": first})
        )
        .await
        .status(),
        204
    );
    assert_eq!(
        bob.json("/api/v1/unread").await["conversations"][g.to_string()],
        0
    );
}

#[tokio::test]
async fn history_pages_with_cursors_and_refuses_bad_ones() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 10_000).await;
    let ada = app.person("ada").await;
    let g = group(&ada, "history", &[]).await;
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(ada.say(g, &format!("n{i}")).await["id"].as_i64().unwrap());
    }
    let path = format!("/api/v1/conversations/{g}/messages");
    let latest = ada.json(&format!("{path}?limit=10")).await;
    let got: Vec<i64> = latest["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[15..]);
    assert_eq!(latest["has_more"], true);
    let older = ada
        .json(&format!("{path}?limit=10&before={}", ids[15]))
        .await;
    let got: Vec<i64> = older["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[5..15]);
    let oldest = ada
        .json(&format!("{path}?limit=10&before={}", ids[5]))
        .await;
    assert_eq!(oldest["messages"].as_array().unwrap().len(), 5);
    assert_eq!(oldest["has_more"], false);
    let newer = ada.json(&format!("{path}?limit=3&after={}", ids[20])).await;
    let got: Vec<i64> = newer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(got, ids[21..24]);
    for bad in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "before=999999",
        "before=abc",
        "after=-1",
        "before=1&after=2",
    ] {
        let res = ada.get(&format!("{path}?{bad}")).await;
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(common::error_code(res).await, "invalid");
    }
}

#[tokio::test]
async fn hostile_markup_is_rendered_inert_everywhere() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let g = group(&ada, "xss", &[]).await;
    let corpus = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<svg onload=alert(1)>",
        "<scr<script>ipt>alert(1)</script>",
        "**unclosed <b onclick=alert(1)>",
        "<iframe src=//evil.example></iframe>",
    ];
    for body in corpus {
        let m = ada.say(g, body).await;
        let html = m["html"].as_str().unwrap().to_lowercase();
        for tag in real_tags(&html) {
            let name = tag
                .trim_start_matches(['<', '/'])
                .split([' ', '>'])
                .next()
                .unwrap()
                .to_owned();
            assert!(
                ["p", "a", "strong", "em", "br", "code", "del"].contains(&name.as_str()),
                "{body} made <{name}>: {html}"
            );
            assert!(
                !tag.contains(" on") && !tag.contains("javascript:"),
                "{body} rendered {tag}"
            );
        }
    }
    // The conversation page shows the same bodies: only the page's own module script is a script.
    let page = ada.get(&format!("/c/{g}")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap().to_lowercase();
    for tag in real_tags(&html) {
        let name = tag
            .trim_start_matches(['<', '/'])
            .split([' ', '>'])
            .next()
            .unwrap_or("");
        assert!(
            !["img", "svg", "iframe", "object", "embed"].contains(&name),
            "page made {tag}"
        );
        assert!(
            name != "script"
                || tag.contains("type=\"module\" src=\"/assets/")
                || tag == "</script>",
            "{tag}"
        );
        let bare = without_quoted_values(tag);
        assert!(
            !bare.contains(" onerror") && !bare.contains(" onload") && !bare.contains(" onclick"),
            "{tag}"
        );
        assert!(!tag.contains("href=\"javascript:"), "{tag}");
    }
    let link = ada
        .say(
            g,
            "see https://example.org/a?b=1 and [docs](https://docs.example.org)",
        )
        .await;
    let html = link["html"].as_str().unwrap();
    assert!(
        html.contains("href=\"https://example.org/a?b=1\"")
            && html.contains("rel=\"noopener noreferrer\""),
        "{html}"
    );
}

/// The tags in rendered HTML (escaped text holds `&lt;`, never `<`).
fn real_tags(html: &str) -> Vec<&str> {
    html.match_indices('<')
        .map(|(i, _)| &html[i..=html[i..].find('>').map_or(html.len() - 1, |j| i + j)])
        .collect()
}

#[tokio::test]
async fn a_user_disabled_from_another_process_is_cut_off_within_moments() {
    let app = TestApp::spawn().await;
    let bob = app.person("bob").await;
    let mut wb = bob.ws(None).await;
    // The CLI has its own process and hub: only the database is shared.
    let cli = hearth::chat::Chat::new(app.app.db.clone(), app.app.config.clone());
    accounts::set_active(&cli, "cli", "bob", false)
        .await
        .unwrap();
    assert_eq!(wb.closed().await, Some(4001));
}

/// A tag with its quoted attribute values emptied: what is left is names and syntax.
fn without_quoted_values(tag: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in tag.chars() {
        if c == '"' {
            quoted = !quoted;
            out.push(c);
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

/// POSTs a form as `p` (with its session cookie).
async fn post_form(p: &Person, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    p.http
        .post(p.url(path))
        .header("cookie", &p.cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn page_forms_refuse_a_forged_or_missing_csrf_token_and_change_nothing() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let page = ada.get(&format!("/c/{room}")).await.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page's forms carry the token")
        .to_owned();
    let count = |sql: &str| -> i64 { app.sql().query_row(sql, [], |r| r.get(0)).unwrap() };
    let send = format!("/c/{room}/messages");

    for fields in [
        vec![("body", "forged"), ("csrf", "0000")],
        vec![("body", "no token at all")],
    ] {
        let res = post_form(&ada, &send, &fields).await;
        assert_eq!(res.status(), 403, "{fields:?}");
    }
    let res = post_form(&ada, "/channels", &[("kind", "channel"), ("name", "x")]).await;
    assert_eq!(res.status(), 403, "repeated-field forms are checked too");
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
    assert_eq!(count("SELECT count(*) FROM conversations"), 1);

    let res = post_form(&ada, &send, &[("body", "real"), ("csrf", &csrf)]).await;
    assert_eq!(res.status(), 303);
    let id = count("SELECT id FROM messages WHERE body = 'real'");

    let res = post_form(&ada, &format!("/m/{id}/delete"), &[("csrf", "0000")]).await;
    assert_eq!(res.status(), 403);
    let res = post_form(&ada, &format!("/c/{room}/leave"), &[]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE deleted_at IS NULL AND notice IS NULL"),
        1
    );
    assert_eq!(count("SELECT count(*) FROM memberships"), 1);

    // A form that cannot be read is a 400 page, even with the right token.
    let archive = format!("/c/{room}/archive");
    let res = post_form(&ada, &archive, &[("archived", "maybe"), ("csrf", &csrf)]).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("could not be read"));

    // Not signed in: to the login page, before the form is looked at.
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url(&send))
        .form(&[("body", "anonymous"), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/login");
    assert_eq!(
        count("SELECT count(*) FROM messages WHERE notice IS NULL"),
        1
    );
}
