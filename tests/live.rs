//! Live messaging over real WebSockets: two and three clients, resume, retries, bad frames.

mod common;

use common::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn three_people_see_each_others_messages_edits_deletes_reactions_reads_and_typing() {
    let app = TestApp::spawn().await;
    let (ada, bob, cat) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("cat").await,
    );
    let room = ada.general().await;
    let (mut wa, mut wb, mut wc) = (ada.ws(None).await, bob.ws(None).await, cat.ws(None).await);

    wa.send(json!({"op": "send", "req": 1, "conversation": room, "body": "hello **all**", "client_id": "c1"})).await;
    let ack = skip_to(&mut wa, "ack").await;
    skip_to(&mut wa, "message.created").await;
    assert_eq!(ack["req"], 1);
    let id = ack["data"]["id"].as_i64().unwrap();
    assert_eq!(ack["data"]["html"], "<p>hello <strong>all</strong></p>");
    for ws in [&mut wb, &mut wc] {
        let e = ws.event().await;
        assert_eq!(e["event"], "message.created");
        assert_eq!(e["conversation"], room);
        assert_eq!(e["data"]["message"]["id"], id);
        let html = e["data"]["html"].as_str().unwrap();
        assert!(
            html.contains("<strong>all</strong>") && html.contains(&format!("id=\"m-{id}\"")),
            "{html}"
        );
    }

    // Bob may not edit Ada's message: 403, and nothing changes.
    wb.send(json!({"op": "edit", "req": "e1", "message": id, "body": "hacked"}))
        .await;
    let err = wb.next_non_presence().await;
    assert_eq!(
        (
            err["type"].as_str(),
            err["code"].as_str(),
            err["req"].as_str()
        ),
        (Some("error"), Some("forbidden"), Some("e1"))
    );
    let res = bob
        .patch(&format!("/api/v1/messages/{id}"), json!({"body": "hacked"}))
        .await;
    assert_eq!(res.status(), 403);

    let res = ada
        .patch(
            &format!("/api/v1/messages/{id}"),
            json!({"body": "hello everyone"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    for ws in [&mut wa, &mut wb, &mut wc] {
        let e = ws.event().await;
        assert_eq!(e["event"], "message.updated");
        assert!(e["data"]["html"].as_str().unwrap().contains("(edited)"));
        assert_eq!(e["data"]["message"]["body"], "hello everyone");
    }

    wb.send(json!({"op": "react", "req": 2, "message": id, "emoji": "👍"}))
        .await;
    for ws in [&mut wa, &mut wc] {
        let e = ws.event().await;
        assert_eq!(e["event"], "reaction.changed");
        assert_eq!(
            e["data"]["message"]["reactions"],
            json!([{"emoji": "👍", "count": 1, "user_ids": [bob.id]}])
        );
    }
    let page = cat
        .json(&format!("/api/v1/conversations/{room}/messages"))
        .await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reactions"][0]["me"], false);
    let page = bob
        .json(&format!("/api/v1/conversations/{room}/messages"))
        .await;
    assert_eq!(
        page["messages"].as_array().unwrap().last().unwrap()["reactions"][0]["me"],
        true
    );

    // Typing reaches the others, not the typist.
    wc.send(json!({"op": "typing", "conversation": room})).await;
    for ws in [&mut wa, &mut wb] {
        let t = ws.next_non_presence().await;
        // Bob's socket still holds his own reaction event and ack first.
        let t = if t["type"] != "typing" {
            skip_to(ws, "typing").await
        } else {
            t
        };
        assert_eq!(t["user"]["username"], "cat");
        assert_eq!(t["conversation"], room);
    }

    // Reading in a channel tells only the reader's own sockets.
    let res = bob
        .post(&format!("/api/v1/conversations/{room}/read"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    let r = skip_to(&mut wb, "read.updated").await;
    assert_eq!(r["data"]["message_id"], id);

    ada.delete(&format!("/api/v1/messages/{id}")).await;
    for ws in [&mut wa, &mut wb, &mut wc] {
        let e = skip_to(ws, "message.deleted").await;
        assert_eq!(e["data"]["message"]["body"], "");
        assert!(
            e["data"]["html"]
                .as_str()
                .unwrap()
                .contains("message deleted")
        );
        assert!(!e["data"]["html"].as_str().unwrap().contains("everyone"));
    }
    assert!(
        wc.quiet_for(200).await.is_none(),
        "cat saw nothing about bob's read or her own typing"
    );
    let page = cat
        .json(&format!("/api/v1/conversations/{room}/messages"))
        .await;
    let gone = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(
        (
            gone["deleted"].as_bool(),
            gone["body"].as_str(),
            gone["html"].as_str()
        ),
        (Some(true), Some(""), Some(""))
    );
}

/// Reads frames until an event `kind` (or an ephemeral frame of that type) arrives.
async fn skip_to(ws: &mut common::Ws, kind: &str) -> Value {
    for _ in 0..50 {
        let f = ws.next().await;
        if f["event"] == kind || f["type"] == kind {
            return f;
        }
    }
    panic!("no {kind} within 50 frames");
}

#[tokio::test]
async fn a_client_that_reconnects_gets_exactly_what_it_missed_in_order() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = ada.general().await;
    let ws = bob.ws(None).await;
    let since = ws.ready["seq"].as_i64().unwrap();
    drop(ws);

    let mut sent = Vec::new();
    for i in 0..7 {
        sent.push(
            ada.say(room, &format!("missed {i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut ws = bob.ws(Some(since)).await;
    let mut got = Vec::new();
    let mut last_seq = since;
    for _ in 0..7 {
        let e = ws.event().await;
        assert!(e["seq"].as_i64().unwrap() > last_seq, "in order");
        last_seq = e["seq"].as_i64().unwrap();
        got.push(e["data"]["message"]["id"].as_i64().unwrap());
    }
    assert_eq!(got, sent);
    assert!(ws.quiet_for(200).await.is_none(), "nothing twice");
    let live = ada.say(room, "live again").await;
    assert_eq!(ws.event().await["data"]["message"]["id"], live["id"]);
}

#[tokio::test]
async fn resuming_while_others_keep_sending_loses_and_duplicates_nothing() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 10_000).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = ada.general().await;
    let since = bob.ws(None).await.ready["seq"].as_i64().unwrap();
    let sender = {
        let ada_http = ada.http.clone();
        let (cookie, url) = (
            ada.cookie.clone(),
            ada.url(&format!("/api/v1/conversations/{room}/messages")),
        );
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..60 {
                let res = ada_http
                    .post(&url)
                    .header("cookie", &cookie)
                    .json(&json!({"body": format!("m{i}")}))
                    .send()
                    .await
                    .unwrap();
                ids.push(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
            }
            ids
        })
    };
    // Reconnect several times mid-stream, each time resuming from the last seq seen.
    let mut seen: Vec<i64> = Vec::new();
    let mut last = since;
    for _ in 0..3 {
        let mut ws = bob.ws(Some(last)).await;
        for _ in 0..10 {
            let e = ws.event().await;
            let seq = e["seq"].as_i64().unwrap();
            assert!(seq > last, "seq {seq} after {last}");
            last = seq;
            seen.push(e["data"]["message"]["id"].as_i64().unwrap());
        }
    }
    let ids = sender.await.unwrap();
    let mut ws = bob.ws(Some(last)).await;
    while seen.len() < ids.len() {
        let e = ws.event().await;
        let seq = e["seq"].as_i64().unwrap();
        assert!(seq > last);
        last = seq;
        seen.push(e["data"]["message"]["id"].as_i64().unwrap());
    }
    assert_eq!(seen, ids, "every message once, in order");
}

#[tokio::test]
async fn a_since_older_than_the_log_asks_for_a_resync() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    for i in 0..3 {
        ada.say(room, &format!("{i}")).await;
    }
    app.sql()
        .execute(
            "DELETE FROM events WHERE seq < (SELECT max(seq) FROM events)",
            [],
        )
        .unwrap();
    let mut ws = ada.ws(Some(1)).await;
    assert_eq!(ws.next_non_presence().await["type"], "resync");
}

#[tokio::test]
async fn a_retried_send_returns_the_first_message() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let path = format!("/api/v1/conversations/{room}/messages");
    let first: Value = ada
        .post(&path, json!({"body": "once", "client_id": "abc-1"}))
        .await
        .json()
        .await
        .unwrap();
    let res = ada
        .post(&path, json!({"body": "once", "client_id": "abc-1"}))
        .await;
    assert_eq!(res.status(), 201);
    let again: Value = res.json().await.unwrap();
    assert_eq!(first["id"], again["id"]);
    let mut ws = ada.ws(None).await;
    ws.send(
        json!({"op": "send", "req": 9, "conversation": room, "body": "once", "client_id": "abc-1"}),
    )
    .await;
    let ack = ws.next_non_presence().await;
    assert_eq!(ack["data"]["id"], first["id"]);
    let n: i64 = app
        .sql()
        .query_row(
            "SELECT count(*) FROM messages WHERE client_id = 'abc-1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
    assert!(ws.quiet_for(200).await.is_none(), "no second event either");
}

#[tokio::test]
async fn bad_frames_get_error_frames_and_the_socket_stays_open() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let room = ada.general().await;
    let secret: Value = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "secret"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let mut ws = ada.ws(None).await;
    let cases = [
        (json!("not an object"), "invalid"),
        (json!({"op": "fly", "req": 1}), "invalid"),
        (json!({"op": "send", "req": 2}), "invalid"),
        (
            json!({"op": "send", "req": 3, "conversation": room, "body": "   "}),
            "invalid",
        ),
        (
            json!({"op": "send", "req": 4, "conversation": secret["id"], "body": "hi"}),
            "not_found",
        ),
        (
            json!({"op": "send", "req": 5, "conversation": 999_999, "body": "hi"}),
            "not_found",
        ),
        (
            json!({"op": "react", "req": 6, "message": 999_999, "emoji": "👍"}),
            "not_found",
        ),
        (
            json!({"op": "read", "req": 7, "conversation": room, "message_id": 999_999}),
            "invalid",
        ),
        (
            json!({"op": "send", "req": 8, "conversation": room, "body": "x".repeat(4001)}),
            "invalid",
        ),
    ];
    for (frame, code) in cases {
        ws.send(frame.clone()).await;
        let err = ws.next_non_presence().await;
        assert_eq!(err["type"], "error", "{frame}");
        assert_eq!(err["code"], code, "{frame}: {err}");
        assert!(!err["message"].as_str().unwrap().is_empty());
    }
    let msg = ada.say(room, "react to me").await;
    for emoji in ["ab", "👍👍", "x"] {
        ws.send(json!({"op": "react", "req": 10, "message": msg["id"], "emoji": emoji}))
            .await;
        let err = skip_to(&mut ws, "error").await;
        assert_eq!(err["code"], "invalid", "{emoji}");
    }
    use futures_util::SinkExt;
    ws.stream
        .send(tokio_tungstenite::tungstenite::Message::text("{"))
        .await
        .unwrap();
    assert_eq!(ws.next_non_presence().await["code"], "invalid");
    ws.send(json!({"op": "ping", "req": "still here"})).await;
    assert_eq!(
        ws.next_non_presence().await,
        json!({"type": "pong", "req": "still here"})
    );

    // A frame over the size limit closes the socket with 1009.
    ws.send(json!({"op": "send", "conversation": room, "body": "y".repeat(70_000)}))
        .await;
    assert_eq!(ws.closed().await, Some(1009));
}

#[tokio::test]
async fn the_socket_refuses_other_origins_and_strangers() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = app.url("/api/v1/ws").replace("http://", "ws://");
    let mut req = url.clone().into_client_request().unwrap();
    req.headers_mut()
        .insert("cookie", ada.cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let req = url.into_client_request().unwrap();
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn senders_over_their_rate_are_told_to_slow_down() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 12).await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let path = format!("/api/v1/conversations/{room}/messages");
    // A burst of max(12 / 4, 10) = 10 passes, then the limit answers.
    let mut statuses = Vec::new();
    let first = ada
        .post(&path, json!({"body": "b0", "client_id": "first"}))
        .await;
    statuses.push(first.status().as_u16());
    let first: Value = first.json().await.unwrap();
    for i in 1..12 {
        statuses.push(
            ada.post(&path, json!({"body": format!("b{i}")}))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        10,
        "{statuses:?}"
    );
    let res = ada.post(&path, json!({"body": "more"})).await;
    assert_eq!(res.status(), 429);
    assert_eq!(common::error_code(res).await, "rate_limited");
    // A retry of a message that was stored is answered even over the limit.
    let res = ada
        .post(&path, json!({"body": "b0", "client_id": "first"}))
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["id"], first["id"]);
    let res = ada
        .post(&path, json!({"body": "again", "client_id": "r-1"}))
        .await;
    assert_eq!(res.status(), 429, "a new client_id is a new send");
    let mut ws = ada.ws(None).await;
    ws.send(json!({"op": "send", "req": 1, "conversation": room, "body": "ws too"}))
        .await;
    assert_eq!(ws.next_non_presence().await["code"], "rate_limited");
}

#[tokio::test]
async fn one_person_may_hold_only_so_many_sockets() {
    let app = TestApp::spawn_with(|c| c.max_sockets_per_user = 2).await;
    let ada = app.person("ada").await;
    let _a = ada.ws(None).await;
    let _b = ada.ws(None).await;
    let mut third = common::Ws::open(&ada.base, &ada.cookie).await.unwrap();
    use futures_util::StreamExt;
    let frame = tokio::time::timeout(common::WAIT, third.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    match frame {
        tokio_tungstenite::tungstenite::Message::Close(Some(c)) => {
            assert_eq!(u16::from(c.code), 1008)
        }
        other => panic!("expected a close, got {other:?}"),
    }
}

#[tokio::test]
async fn people_in_a_direct_see_each_other_come_and_go() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let d: Value = ada
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(d["kind"], "direct");
    let mut wa = ada.ws(None).await;
    let wb = bob.ws(None).await;
    let p = skip_to(&mut wa, "presence").await;
    assert_eq!(
        (p["user_id"].as_i64(), p["status"].as_str()),
        (Some(bob.id), Some("online"))
    );
    let people = ada.json("/api/v1/users").await;
    let row = people["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == bob.id)
        .unwrap()
        .clone();
    assert_eq!(row["presence"], "online");
    drop(wb);
    let p = skip_to(&mut wa, "presence").await;
    assert_eq!(
        (p["user_id"].as_i64(), p["status"].as_str()),
        (Some(bob.id), Some("offline"))
    );
}

#[tokio::test]
async fn api_errors_are_json_whatever_goes_wrong() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let res = ada.post("/api/v1/me", json!({})).await;
    assert_eq!(res.status(), 405);
    assert_eq!(common::error_code(res).await, "invalid");
    let res = ada
        .get(&format!(
            "/api/v1/conversations/{room}/messages?before=1&before=2"
        ))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(common::error_code(res).await, "invalid");
    let res = ada
        .patch(&format!("/api/v1/conversations/{room}"), json!({}))
        .await;
    assert_eq!(res.status(), 400);
    let res = ada.get("/api/v1/conversations/not-a-number").await;
    assert_eq!(res.status(), 404);
    assert_eq!(common::error_code(res).await, "not_found");
}

#[tokio::test]
async fn presence_is_told_only_when_it_changes() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    ada.post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    let mut wa = ada.ws(None).await;
    let first = bob.ws(None).await;
    assert_eq!(skip_to(&mut wa, "presence").await["status"], "online");
    let mut second = bob.ws(None).await;
    // A second tab is no news; going idle in every tab is.
    second
        .send(json!({"op": "presence", "status": "away"}))
        .await;
    drop(first);
    let p = skip_to(&mut wa, "presence").await;
    assert_eq!(
        (p["user_id"].as_i64(), p["status"].as_str()),
        (Some(bob.id), Some("away"))
    );
    drop(second);
    assert_eq!(skip_to(&mut wa, "presence").await["status"], "offline");
}

#[tokio::test]
async fn a_since_from_the_future_asks_for_a_resync_and_binary_frames_are_refused() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let mut ws = ada.ws(Some(1_000_000)).await;
    assert_eq!(ws.next_non_presence().await["type"], "resync");
    let mut raw = common::Ws::open(&ada.base, &ada.cookie).await.unwrap();
    use futures_util::SinkExt;
    raw.send(tokio_tungstenite::tungstenite::Message::binary(vec![
        1, 2, 3,
    ]))
    .await
    .unwrap();
    assert_eq!(next_json(&mut raw).await["code"], "invalid");
    raw.send(json!({"op": "hello"}).to_string().into())
        .await
        .unwrap();
    assert_eq!(next_json(&mut raw).await["type"], "ready");
}

/// The next frame of a raw socket, as JSON.
async fn next_json<S, E>(raw: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<tokio_tungstenite::tungstenite::Message, E>> + Unpin,
    E: std::fmt::Debug,
{
    use futures_util::StreamExt;
    let frame = tokio::time::timeout(common::WAIT, raw.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    serde_json::from_str(frame.to_text().unwrap()).unwrap()
}

fn joined(e: &Value) -> Option<&str> {
    (e["event"] == "membership.changed" && e["data"]["action"] == "joined")
        .then(|| e["data"]["user"]["username"].as_str())
        .flatten()
}

#[tokio::test]
async fn events_written_by_the_cli_reach_open_sockets_in_order() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = ada.general().await;
    let mut wa = ada.ws(None).await;

    // A quiet server: the account's joining #general arrives by itself (within a second).
    app.create_from_cli("cat").await;
    let e = wa.event().await;
    assert_eq!(joined(&e), Some("cat"), "{e}");
    let cat_seq = e["seq"].as_i64().unwrap();

    // A busy server: the next event this process writes goes out after the CLI's, never
    // before it (a socket only ever moves forward, so a later one would hide it for good).
    app.create_from_cli("dan").await;
    bob.say(room, "hello dan").await;
    let first = wa.event().await;
    let second = wa.event().await;
    assert_eq!(joined(&first), Some("dan"), "{first}");
    assert_eq!(second["data"]["message"]["body"], "hello dan", "{second}");
    let (s1, s2) = (
        first["seq"].as_i64().unwrap(),
        second["seq"].as_i64().unwrap(),
    );
    assert!(cat_seq < s1 && s1 < s2, "{cat_seq} {s1} {s2}");
    assert!(wa.quiet_for(300).await.is_none(), "each event once");

    // The new member is among those who get #general's events.
    let dan = app
        .sign_in("dan", first["data"]["user"]["id"].as_i64().unwrap())
        .await;
    let mut wd = dan.ws(None).await;
    bob.say(room, "welcome").await;
    assert_eq!(wd.event().await["data"]["message"]["body"], "welcome");
}
