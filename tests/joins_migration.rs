//! A database written by the previous Hearth (schema version 4) is served by this one: its
//! read markers and unread counts mean what they meant, its messages page and search as before,
//! and from then on joining writes lines and sets no receipt.

mod common;

use common::{PASSWORD, TestApp};
use hearth::ops::Progress;
use rusqlite::Connection;
use serde_json::Value;
use std::path::Path;

const SCHEMA: &str = include_str!("../schema.sql");

/// Builds `hearth.db` as schema version 4 left it: ada and bob in #general and in a group,
/// with read markers part way.
fn version_4_database(data_dir: &Path, password_hash: &str) {
    let v4 = &SCHEMA[..SCHEMA.find("\n-- version 5").expect("a version 5 step")];
    std::fs::create_dir_all(data_dir).unwrap();
    let conn = Connection::open(data_dir.join("hearth.db")).unwrap();
    conn.execute_batch(v4).unwrap();
    conn.pragma_update(None, "user_version", 4).unwrap();
    conn.execute(
        "INSERT INTO users (id, username, display_name, password_hash, role, created_at)
         VALUES (1, 'ada', 'Ada', ?1, 'admin', 0), (2, 'bob', 'Bob', ?1, 'member', 0)",
        [password_hash],
    )
    .unwrap();
    conn.execute_batch(
        "INSERT INTO conversations (id, kind, name, created_by, created_at, last_message_id, last_activity_at)
             VALUES (1, 'channel', 'general', 1, 0, 3, 3), (2, 'group', 'old plans', 2, 0, 4, 4);
         INSERT INTO memberships (conversation_id, user_id, role, last_read_message_id, joined_at)
             VALUES (1, 1, 'member', 2, 0), (1, 2, 'member', 3, 0),
                    (2, 1, 'member', 0, 0), (2, 2, 'owner', 4, 0);
         INSERT INTO messages (id, conversation_id, sender_id, body, html, created_at) VALUES
             (1, 1, 1, 'hello', '<p>hello</p>', 1),
             (2, 1, 2, 'hi ada', '<p>hi ada</p>', 2),
             (3, 1, 2, 'still there?', '<p>still there?</p>', 3),
             (4, 2, 2, 'secret plans', '<p>secret plans</p>', 4);",
    )
    .unwrap();
}

fn bodies(page: &Value) -> Vec<&str> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_version_4_database_is_migrated_and_keeps_its_read_state() {
    let hash = hearth::chat::passwords::hash_blocking(PASSWORD).unwrap();
    let app = TestApp::spawn_with(|config| version_4_database(&config.data_dir, &hash)).await;
    let sql = app.sql();
    let version: u32 = sql
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, *hearth::db::LATEST_VERSION);
    assert!(version >= 5, "{version}");
    let index: String = sql
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'messages_unread'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(index.contains("notice IS NULL"), "{index}");

    let (ada, bob) = (app.sign_in("ada", 1).await, app.sign_in("bob", 2).await);
    // What was unread is unread; what was read is read.
    let unread = ada.json("/api/v1/unread").await;
    assert_eq!(unread["conversations"]["1"], 1, "{unread}");
    assert_eq!(unread["conversations"]["2"], 1, "{unread}");
    assert_eq!(bob.json("/api/v1/unread").await["total"], 0);
    let general = ada.json("/api/v1/conversations/1").await;
    let ada_marker = general["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["username"] == "ada")
        .unwrap()["last_read_message_id"]
        .clone();
    assert_eq!(ada_marker, 2);
    // The old messages page as before, none of them a line, and search still finds them.
    let page = ada.json("/api/v1/conversations/1/messages").await;
    assert_eq!(bodies(&page), ["hello", "hi ada", "still there?"]);
    assert!(page["messages"][0]["notice"].is_null());
    let found: i64 = sql
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'secret'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(found, 1);
    // The search of schema 8 indexed the old messages when it came: by word, inside words,
    // and only where the searcher may read.
    let search = |q: &str| format!("/api/v1/search?q={q}");
    let hits = |v: &Value| -> Vec<String> {
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["message"]["body"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(hits(&ada.json(&search("plans")).await), ["secret plans"]);
    assert_eq!(hits(&ada.json(&search("ecre")).await), ["secret plans"]);
    assert_eq!(hits(&bob.json(&search("there")).await), ["still there?"]);

    // From now on: a newcomer joins #general with a line and no receipt, and the line is news
    // to no one.
    let cat = app.person("cat").await;
    let page = ada.json("/api/v1/conversations/1/messages").await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["notice"]["action"], "joined");
    assert_eq!(last["sender"]["username"], "cat");
    assert_eq!(ada.json("/api/v1/unread").await["conversations"]["1"], 1);
    assert_eq!(cat.json("/api/v1/unread").await["conversations"]["1"], 0);

    // And `hearth check` finds the migrated file sound.
    let report = hearth::ops::check::run(&app.app.config.data_dir, Progress::quiet()).unwrap();
    assert_eq!(report.problem_count(), 0, "{}", report.render());
    app.stop().await.unwrap();
}
