//! Budgets on every write a member can repeat: each allows exactly its burst and refuses the
//! next one, over HTTP (429, `Retry-After`) and the WebSocket (error frame with `retry_after`),
//! and a refused write changes nothing.

mod common;

use common::{Person, TestApp, Ws};
use hearth::chat::limits;
use serde_json::{Value, json};

fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn events(app: &TestApp, kind: &str) -> i64 {
    app.sql()
        .query_row("SELECT count(*) FROM events WHERE kind = ?1", [kind], |r| {
            r.get(0)
        })
        .unwrap()
}

/// The answer (ack or error) to the op sent with `req`, skipping events and ephemeral frames.
async fn answer(ws: &mut Ws, req: &str) -> Value {
    for _ in 0..100 {
        let frame = ws.next().await;
        if matches!(frame["type"].as_str(), Some("ack" | "error")) && frame["req"] == req {
            return frame;
        }
    }
    panic!("no answer to {req}");
}

/// A refusal over HTTP: 429, `rate_limited`, and a `Retry-After` of 1..=`max` seconds.
async fn assert_refused(res: reqwest::Response, max: u64) -> u64 {
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=max).contains(&wait), "Retry-After {wait}");
    assert_eq!(common::error_code(res).await, "rate_limited");
    wait
}

/// A refusal over the WebSocket: an error frame `rate_limited` with `retry_after` 1..=`max`.
fn assert_refused_frame(frame: &Value, max: u64) {
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["code"], "rate_limited", "{frame}");
    let wait = frame["retry_after"].as_u64().expect("retry_after");
    assert!((1..=max).contains(&wait), "{frame}");
}

/// Sends `n` POSTs at once (so they all meet the budget within a moment); their statuses.
async fn post_at_once(p: &Person, path: &str, body: Value, n: usize) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let req = p
            .http
            .post(p.url(path))
            .header("cookie", &p.cookie)
            .json(&body);
        set.spawn(async move { req.send().await.unwrap().status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

#[tokio::test]
async fn sends_edits_reactions_and_deletes_share_the_send_budget() {
    // One a minute, burst 10: the 11th write within the minute is refused.
    let app = TestApp::spawn_with(|c| c.send_per_minute = 1).await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let mut ws = ada.ws(None).await;
    let first = ada
        .post(
            &format!("/api/v1/conversations/{room}/messages"),
            json!({"body": "one", "client_id": "c-1"}),
        )
        .await;
    let first: Value = first.json().await.unwrap();
    let id = first["id"].as_i64().unwrap();
    let spare = ada.say(room, "two").await["id"].as_i64().unwrap();
    for body in ["one!", "one!!", "one!!!"] {
        let res = ada
            .patch(&format!("/api/v1/messages/{id}"), json!({"body": body}))
            .await;
        assert_eq!(res.status(), 200);
    }
    for emoji in ["%F0%9F%91%8D", "%F0%9F%8E%89"] {
        let res = ada
            .put(&format!("/api/v1/messages/{id}/reactions/{emoji}"))
            .await;
        assert_eq!(res.status(), 200);
    }
    let res = ada.delete(&format!("/api/v1/messages/{spare}")).await;
    assert_eq!(res.status(), 204);
    // 8 spent; over the socket the 9th and 10th pass and the 11th is refused.
    ws.send(json!({"op": "react", "req": "r9", "message": id, "emoji": "👀"}))
        .await;
    assert_eq!(answer(&mut ws, "r9").await["type"], "ack");
    ws.send(json!({"op": "edit", "req": "e10", "message": id, "body": "final"}))
        .await;
    assert_eq!(answer(&mut ws, "e10").await["type"], "ack");
    ws.send(json!({"op": "edit", "req": "e11", "message": id, "body": "refused"}))
        .await;
    assert_refused_frame(&answer(&mut ws, "e11").await, 60);
    ws.send(json!({"op": "react", "req": "r11", "message": id, "emoji": "🔥"}))
        .await;
    assert_refused_frame(&answer(&mut ws, "r11").await, 60);
    ws.send(json!({"op": "send", "req": "s11", "conversation": room, "body": "more"}))
        .await;
    assert_refused_frame(&answer(&mut ws, "s11").await, 60);

    // And over HTTP, for every kind of message write.
    let path = format!("/api/v1/messages/{id}");
    assert_refused(ada.patch(&path, json!({"body": "refused"})).await, 60).await;
    assert_refused(ada.put(&format!("{path}/reactions/%F0%9F%94%A5")).await, 60).await;
    assert_refused(
        ada.delete(&format!("{path}/reactions/%F0%9F%91%8D")).await,
        60,
    )
    .await;
    assert_refused(ada.delete(&path).await, 60).await;
    let send = format!("/api/v1/conversations/{room}/messages");
    assert_refused(ada.post(&send, json!({"body": "more"})).await, 60).await;

    // A retried send is still answered with the message it stored, over both.
    let res = ada
        .post(&send, json!({"body": "one", "client_id": "c-1"}))
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], id);
    ws.send(json!({"op": "send", "req": "again", "conversation": room, "body": "one", "client_id": "c-1"}))
        .await;
    assert_eq!(answer(&mut ws, "again").await["data"]["id"], id);

    // What was refused left no trace: the message reads as the 10th write left it.
    let m = ada
        .json(&format!("/api/v1/conversations/{room}/messages"))
        .await;
    let m = m["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(
        (m["body"].as_str(), m["deleted"].as_bool()),
        (Some("final"), Some(false))
    );
    let emoji: Vec<&str> = m["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["emoji"].as_str().unwrap())
        .collect();
    assert_eq!(emoji, ["👍", "🎉", "👀"]);
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        2
    );
    assert_eq!(count(&app, "SELECT count(*) FROM reactions"), 3);
    assert_eq!(events(&app, "message.created"), 2);
    assert_eq!(events(&app, "message.updated"), 4);
    assert_eq!(events(&app, "reaction.changed"), 3);
    assert_eq!(events(&app, "message.deleted"), 1);
}

/// Bob and Ada in a group with two messages of Bob's; Ada has read neither.
async fn group_with_two_messages(app: &TestApp) -> (Person, Person, i64, i64, i64) {
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let res = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "pair", "members": [ada.id]}),
        )
        .await;
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let m1 = bob.say(group, "first").await["id"].as_i64().unwrap();
    let m2 = bob.say(group, "second").await["id"].as_i64().unwrap();
    (ada, bob, group, m1, m2)
}

fn read_marker(app: &TestApp, user: i64, conversation: i64) -> i64 {
    app.sql()
        .query_row(
            "SELECT last_read_message_id FROM memberships WHERE user_id = ?1 AND conversation_id = ?2",
            [user, conversation],
            |r| r.get(0),
        )
        .unwrap()
}

#[tokio::test]
async fn read_markers_have_a_budget_and_a_refused_one_stays_put() {
    let app = TestApp::spawn().await;
    let (ada, _bob, group, m1, m2) = group_with_two_messages(&app).await;
    let mut ws = ada.ws(None).await;
    let path = format!("/api/v1/conversations/{group}/read");
    let burst = limits::READ.burst as usize;
    let statuses = post_at_once(&ada, &path, json!({"message_id": m1}), burst - 1).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    ws.send(json!({"op": "read", "req": "last", "conversation": group, "message_id": m1}))
        .await;
    assert_eq!(answer(&mut ws, "last").await["type"], "ack");
    ws.send(json!({"op": "read", "req": "over", "conversation": group, "message_id": m2}))
        .await;
    assert_refused_frame(&answer(&mut ws, "over").await, 2);
    assert_refused(ada.post(&path, json!({"message_id": m2})).await, 2).await;
    assert_eq!(read_marker(&app, ada.id, group), m1);
    let ada_reads = app
        .sql()
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'read.updated' AND frame LIKE ?1",
            [format!("%\"message_id\":{m2}%")],
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    assert_eq!(ada_reads, 0, "no read.updated for the refused marker");
    let moved = count(
        &app,
        &format!(
            "SELECT count(*) FROM events WHERE kind = 'read.updated' AND frame LIKE '%\"message_id\":{m1}%'"
        ),
    );
    assert_eq!(moved, 1, "one read.updated, for the marker that moved");
}

#[tokio::test]
async fn typing_is_bounded_across_conversations() {
    let app = TestApp::spawn().await;
    let (ada, bob, group, _, _) = group_with_two_messages(&app).await;
    let room = ada.general().await;
    let mut wa = ada.ws(None).await;
    let mut wb = bob.ws(None).await;
    let burst = limits::TYPING.burst as usize;
    let path = format!("/api/v1/conversations/{room}/typing");
    let statuses = post_at_once(&ada, &path, json!({}), burst - 1).await;
    assert!(statuses.iter().all(|s| *s == 204), "{statuses:?}");
    wa.send(json!({"op": "typing", "req": "t20", "conversation": room}))
        .await;
    assert_eq!(answer(&mut wa, "t20").await["type"], "ack");
    let seen = wb.next_non_presence().await;
    assert_eq!(
        (seen["type"].as_str(), seen["conversation"].as_i64()),
        (Some("typing"), Some(room))
    );
    // Another conversation does not escape the budget; nothing reaches Bob.
    wa.send(json!({"op": "typing", "req": "t21", "conversation": group}))
        .await;
    assert_refused_frame(&answer(&mut wa, "t21").await, 2);
    let other = format!("/api/v1/conversations/{group}/typing");
    assert_refused(ada.post(&other, json!({})).await, 2).await;
    assert_eq!(wb.quiet_for(300).await, None);
}

#[tokio::test]
async fn presence_changes_have_a_budget() {
    let app = TestApp::spawn().await;
    let (ada, bob, ..) = group_with_two_messages(&app).await;
    let mut wa = ada.ws(None).await;
    for i in 0..limits::PRESENCE.burst {
        let status = if i % 2 == 0 { "away" } else { "online" };
        let req = format!("p{i}");
        wa.send(json!({"op": "presence", "req": req, "status": status}))
            .await;
        assert_eq!(answer(&mut wa, &req).await["type"], "ack");
    }
    wa.send(json!({"op": "presence", "req": "over", "status": "away"}))
        .await;
    assert_refused_frame(&answer(&mut wa, "over").await, 3);
    let people = bob.json("/api/v1/users").await;
    let me = people["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == ada.id)
        .unwrap()
        .clone();
    assert_eq!(
        me["presence"], "online",
        "the refused change did not happen"
    );
}

#[tokio::test]
async fn opening_conversations_has_a_budget() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    for i in 1..limits::CREATE.burst {
        let res = ada
            .post(
                "/api/v1/conversations",
                json!({"kind": "channel", "name": format!("c{i}")}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = ada
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    assert_eq!(res.status(), 200, "the last one within the budget");
    let before = count(&app, "SELECT count(*) FROM conversations");
    let memberships = count(&app, "SELECT count(*) FROM memberships");
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "over"}),
        )
        .await;
    assert_refused(res, 60).await;
    let cat = app.person("cat").await;
    assert_refused(
        ada.post("/api/v1/directs", json!({"user_id": cat.id}))
            .await,
        60,
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM conversations"), before);
    // (cat's own joining of #general is the one new membership)
    assert_eq!(
        count(&app, "SELECT count(*) FROM memberships"),
        memberships + 1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM conversations WHERE name = 'over'"
        ),
        0
    );
}

#[tokio::test]
async fn membership_changes_have_a_budget() {
    let app = TestApp::spawn().await;
    let (ada, bob, cat) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("cat").await,
    );
    let res = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "side"}),
        )
        .await;
    let side = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let burst = limits::MEMBERSHIP.burst;
    // Join and leave in turn, then (the last one within the budget) add Cat.
    for i in 0..burst - 1 {
        let action = if i % 2 == 0 { "join" } else { "leave" };
        let res = ada
            .post(&format!("/api/v1/conversations/{side}/{action}"), json!({}))
            .await;
        assert!(res.status().is_success(), "{action} {i}: {}", res.status());
    }
    let members = format!("/api/v1/conversations/{side}/members");
    let res = ada.post(&members, json!({"user_id": cat.id})).await;
    assert_eq!(res.status(), 204);
    let changes = events(&app, "membership.changed");
    let rows = count(&app, "SELECT count(*) FROM memberships");
    let res = ada
        .post(&format!("/api/v1/conversations/{side}/leave"), json!({}))
        .await;
    assert_refused(res, 10).await;
    assert_refused(ada.delete(&format!("{members}/{}", cat.id)).await, 10).await;
    let general = ada.general().await;
    assert_refused(
        ada.post(&format!("/api/v1/conversations/{general}/leave"), json!({}))
            .await,
        10,
    )
    .await;
    assert_eq!(events(&app, "membership.changed"), changes);
    assert_eq!(count(&app, "SELECT count(*) FROM memberships"), rows);
}

#[tokio::test]
async fn conversation_updates_have_a_budget() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "plans"}),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{id}");
    for i in 0..limits::UPDATE.burst {
        let res = ada.patch(&path, json!({"topic": format!("t{i}")})).await;
        assert_eq!(res.status(), 200);
    }
    assert_refused(ada.patch(&path, json!({"name": "renamed"})).await, 30).await;
    assert_refused(ada.patch(&path, json!({"archived": true})).await, 30).await;
    let c = ada.json(&path).await;
    let last = format!("t{}", limits::UPDATE.burst - 1);
    assert_eq!(
        (
            c["name"].as_str(),
            c["topic"].as_str(),
            c["archived"].as_bool()
        ),
        (Some("plans"), Some(last.as_str()), Some(false))
    );
    assert_eq!(
        events(&app, "conversation.updated"),
        i64::from(limits::UPDATE.burst)
    );
}

#[tokio::test]
async fn page_forms_answer_429_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 1).await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let page = ada.get(&format!("/c/{room}")).await.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let send = |body: String| {
        ada.http
            .post(ada.url(&format!("/c/{room}/messages")))
            .header("cookie", &ada.cookie)
            .form(&[("body", body.as_str()), ("csrf", csrf.as_str())])
            .send()
    };
    for i in 0..10 {
        assert_eq!(send(format!("m{i}")).await.unwrap().status(), 303);
    }
    let res = send("over".into()).await.unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        10
    );
}
