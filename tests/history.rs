//! The latest page of history, which the server keeps in memory: every change shows at once,
//! for every reader, through every way of reading it.

mod common;

use common::{Person, TestApp};
use serde_json::{Value, json};

async fn latest(p: &Person, room: i64, limit: usize) -> Value {
    p.json(&format!(
        "/api/v1/conversations/{room}/messages?limit={limit}"
    ))
    .await
}

/// The bodies of the messages on a page (lines about the conversation, such as "ada joined",
/// have a `notice` and are left out).
fn bodies(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["notice"].is_null())
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect()
}

/// A new group of `p`'s with `members`: its history holds only what is said in it.
async fn group(p: &Person, name: &str, members: &[i64]) -> i64 {
    let res = p
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": name, "members": members}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test]
async fn the_latest_page_shows_every_change_at_once() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = group(&ada, "changes", &[bob.id]).await;
    let first = ada.say(room, "one").await["id"].as_i64().unwrap();
    ada.say(room, "two").await;
    // Read (and so keep) the latest page, then change it in every way.
    assert_eq!(bodies(&latest(&bob, room, 50).await), ["one", "two"]);

    bob.say(room, "three").await;
    assert_eq!(
        bodies(&latest(&ada, room, 50).await),
        ["one", "two", "three"]
    );

    let res = ada
        .patch(&format!("/api/v1/messages/{first}"), json!({"body": "uno"}))
        .await;
    assert_eq!(res.status(), 200);
    let page = latest(&bob, room, 50).await;
    assert_eq!(bodies(&page), ["uno", "two", "three"]);
    assert!(page["messages"][0]["edited_at"].is_i64());

    let res = bob
        .put(&format!("/api/v1/messages/{first}/reactions/🎉"))
        .await;
    assert_eq!(res.status(), 200);
    // The same kept page, seen by two people: only the reactor's says `me`.
    let by_bob = latest(&bob, room, 50).await;
    let by_ada = latest(&ada, room, 50).await;
    assert_eq!(by_bob["messages"][0]["reactions"][0]["me"], true);
    assert_eq!(by_ada["messages"][0]["reactions"][0]["me"], false);
    assert_eq!(by_ada["messages"][0]["reactions"][0]["count"], 1);

    let res = ada.delete(&format!("/api/v1/messages/{first}")).await;
    assert_eq!(res.status(), 204);
    let page = latest(&bob, room, 50).await;
    assert_eq!(page["messages"][0]["deleted"], true);
    assert_eq!(page["messages"][0]["body"], "");
    assert_eq!(page["messages"][0]["reactions"], json!([]));
}

#[tokio::test]
async fn smaller_pages_come_from_the_kept_one_with_the_right_has_more() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = group(&ada, "counting", &[]).await;
    for n in 0..5 {
        ada.say(room, &format!("m{n}")).await;
    }
    let all = latest(&ada, room, 100).await;
    assert_eq!(bodies(&all), ["m0", "m1", "m2", "m3", "m4"]);
    assert_eq!(all["has_more"], false);
    let two = latest(&ada, room, 2).await;
    assert_eq!(bodies(&two), ["m3", "m4"]);
    assert_eq!(two["has_more"], true);
    let five = latest(&ada, room, 5).await;
    assert_eq!(five["has_more"], false);
    // Older pages are read from the database and agree with the kept one.
    let oldest_kept = two["messages"][0]["id"].as_i64().unwrap();
    let older = ada
        .json(&format!(
            "/api/v1/conversations/{room}/messages?before={oldest_kept}&limit=10"
        ))
        .await;
    assert_eq!(bodies(&older), ["m0", "m1", "m2"]);
    assert_eq!(older["has_more"], false);
}

#[tokio::test]
async fn a_kept_page_is_only_for_members() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let group = group(&ada, "secret", &[]).await;
    ada.say(group, "for ada only").await;
    assert_eq!(bodies(&latest(&ada, group, 50).await), ["for ada only"]);
    let res = bob
        .get(&format!("/api/v1/conversations/{group}/messages"))
        .await;
    assert_eq!(res.status(), 404, "kept or not, it is not bob's to read");

    // Once ada leaves, the page she read is no longer hers either.
    let res = ada
        .post(&format!("/api/v1/conversations/{group}/leave"), json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = ada
        .get(&format!("/api/v1/conversations/{group}/messages"))
        .await;
    assert_eq!(res.status(), 404);
}

async fn room_page(p: &Person, room: i64) -> String {
    let res = p.get(&format!("/c/{room}")).await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[tokio::test]
async fn the_room_page_shows_a_message_sent_after_it_was_kept() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = ada.general().await;
    ada.say(room, "before").await;
    assert!(room_page(&bob, room).await.contains("before"));
    // Over WebSocket this time: the same action, the same freshness.
    let mut ws = ada.ws(None).await;
    ws.send(json!({"op": "send", "req": 1, "conversation": room, "body": "after"}))
        .await;
    loop {
        if ws.next().await["type"] == "ack" {
            break;
        }
    }
    let html = room_page(&bob, room).await;
    assert!(html.contains("before") && html.contains("after"), "{html}");
}

#[tokio::test]
async fn a_page_around_a_message_for_links_to_it() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = group(&ada, "around", &[bob.id]).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(
            ada.say(room, &format!("m{i}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let around = |id: i64, limit: usize| {
        format!("/api/v1/conversations/{room}/messages?around={id}&limit={limit}")
    };
    // The message with as many older as newer ones, and both ways said.
    let page = bob.json(&around(ids[10], 5)).await;
    assert_eq!(bodies(&page), ["m8", "m9", "m10", "m11", "m12"]);
    assert_eq!(page["has_more"], true);
    assert_eq!(page["has_newer"], true);
    // At the ends: what there is, the rest on the other side.
    let page = bob.json(&around(ids[19], 5)).await;
    assert_eq!(bodies(&page), ["m17", "m18", "m19"]);
    assert_eq!(
        (page["has_more"].clone(), page["has_newer"].clone()),
        (json!(true), json!(false))
    );
    let page = bob.json(&around(ids[0], 4)).await;
    let total = page["messages"].as_array().unwrap().len();
    assert_eq!(total, 4, "the page is filled from the other side");
    assert_eq!(bodies(&page)[0], "m0");
    assert_eq!(page["has_newer"], true);
    // One message alone.
    let page = bob.json(&around(ids[5], 1)).await;
    assert_eq!(bodies(&page), ["m5"]);
    assert_eq!(
        (page["has_more"].clone(), page["has_newer"].clone()),
        (json!(true), json!(true))
    );
    // Plain pages do not carry `has_newer`.
    assert!(
        bob.json(&format!("/api/v1/conversations/{room}/messages"))
            .await
            .get("has_newer")
            .is_none()
    );

    // A message elsewhere, or in a conversation one cannot see: not found.
    let cat = app.person("cat").await;
    let res = cat.get(&around(ids[10], 5)).await;
    assert_eq!(res.status(), 404);
    let elsewhere = group(&ada, "elsewhere", &[]).await;
    let hidden = ada.say(elsewhere, "hidden").await["id"].as_i64().unwrap();
    let res = bob.get(&around(hidden, 5)).await;
    assert_eq!(res.status(), 404);
    for bad in [
        "around=0",
        "around=-3",
        "around=x",
        &format!("around={}&before={}", ids[3], ids[4]),
    ] {
        let res = bob
            .get(&format!("/api/v1/conversations/{room}/messages?{bad}"))
            .await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    let res = bob
        .get(&format!(
            "{}&limit=101",
            around(ids[3], 1).replace("&limit=1", "")
        ))
        .await;
    assert_eq!(res.status(), 400);
}
