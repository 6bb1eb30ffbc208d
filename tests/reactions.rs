//! Reactions come back with their own messages: a direct conversation whose messages lie far
//! apart, among thousands of others' that everyone reacted to, shows on each of its messages
//! exactly the reactions made there, counted, with who made them and whether the reader did.

mod common;

use common::{Person, TestApp};
use rusqlite::{Connection, params};
use serde_json::{Value, json};

/// `n` messages in `conversation` written straight to the database, each reacted to with 👍 by
/// every one of `people` (the emoji the direct uses, so a stray one would change its counts).
fn busy_channel(sql: &mut Connection, conversation: i64, people: &[i64], n: usize) {
    let sql = sql.transaction().unwrap();
    for i in 0..n {
        let sender = people[i % people.len()];
        let id: i64 = sql
            .query_row(
                "INSERT INTO messages (conversation_id, sender_id, body, html, created_at)
                 VALUES (?1, ?2, 'busy', '<p>busy</p>', 1) RETURNING id",
                params![conversation, sender],
                |r| r.get(0),
            )
            .unwrap();
        for user in people {
            sql.execute(
                "INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES (?1, '👍', ?2, 1)",
                params![id, user],
            )
            .unwrap();
        }
    }
    sql.commit().unwrap();
}

async fn react(p: &Person, message: i64, emoji: &str) {
    let res = p
        .put(&format!("/api/v1/messages/{message}/reactions/{emoji}"))
        .await;
    assert_eq!(res.status(), 200, "{} reacts {emoji}", p.name);
}

/// The messages of a page (not the lines about the conversation), by id.
fn by_id(page: &Value) -> Vec<(i64, Value)> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["notice"].is_null())
        .map(|m| (m["id"].as_i64().unwrap(), m["reactions"].clone()))
        .collect()
}

#[tokio::test]
async fn a_direct_among_busy_channels_shows_only_its_own_reactions() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 10_000).await;
    let (ada, bob, cat) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("cat").await,
    );
    let res = ada
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let general = ada.general().await;

    let mut sql = app.sql();
    let everyone = [ada.id, bob.id, cat.id];
    let mut said = Vec::new();
    for i in 0..6 {
        let who = if i % 2 == 0 { &ada } else { &bob };
        let m = who.say(direct, &format!("direct {i}")).await;
        said.push(m["id"].as_i64().unwrap());
        busy_channel(&mut sql, general, &everyone, 400);
    }
    let (first, last) = (said[0], said[5]);
    assert!(last - first > 2_000, "the direct's ids are spread out");

    react(&ada, said[0], "👍").await;
    react(&bob, said[0], "👍").await;
    react(&bob, said[0], "🎉").await;
    react(&bob, said[3], "❤️").await;
    react(&ada, said[5], "👍").await;

    let expected = |me: i64| -> Vec<(i64, Value)> {
        let mine = |users: &[i64]| users.contains(&me);
        vec![
            (
                said[0],
                json!([
                    {"emoji": "👍", "count": 2, "user_ids": [ada.id, bob.id], "me": mine(&[ada.id, bob.id])},
                    {"emoji": "🎉", "count": 1, "user_ids": [bob.id], "me": mine(&[bob.id])},
                ]),
            ),
            (said[1], json!([])),
            (said[2], json!([])),
            (
                said[3],
                json!([{"emoji": "❤️", "count": 1, "user_ids": [bob.id], "me": mine(&[bob.id])}]),
            ),
            (said[4], json!([])),
            (
                said[5],
                json!([{"emoji": "👍", "count": 1, "user_ids": [ada.id], "me": mine(&[ada.id])}]),
            ),
        ]
    };
    // The latest page read from the database, then the same page as kept, for the other reader.
    for reader in [&ada, &bob] {
        let page = reader
            .json(&format!("/api/v1/conversations/{direct}/messages?limit=50"))
            .await;
        assert_eq!(by_id(&page), expected(reader.id), "as {}", reader.name);
    }
    // An older page, never kept: each time from the database.
    for reader in [&ada, &bob] {
        let older = reader
            .json(&format!(
                "/api/v1/conversations/{direct}/messages?before={}&limit=4",
                said[4]
            ))
            .await;
        assert_eq!(
            by_id(&older),
            expected(reader.id)[..4].to_vec(),
            "as {}",
            reader.name
        );
    }
    // The channel's own messages still carry theirs.
    let channel = cat
        .json(&format!("/api/v1/conversations/{general}/messages?limit=1"))
        .await;
    assert_eq!(
        channel["messages"][0]["reactions"],
        json!([{"emoji": "👍", "count": 3, "user_ids": everyone, "me": true}])
    );
}
