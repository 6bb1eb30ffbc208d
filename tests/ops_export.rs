//! `hearth export`: JSON Lines for programs, one readable HTML file for people; by
//! conversation, by person, or everything; an unknown conversation writes nothing.

mod common;
#[path = "common/ops.rs"]
mod ops_support;

use common::TestApp;
use ops_support::{hearth, ok, run};
use serde_json::{Value, json};

/// ada and bob talk in #general and in a private group; carol is only in #general.
async fn community() -> (TestApp, i64, i64) {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let _carol = app.person("carol").await;
    let general: i64 = app
        .sql()
        .query_row(
            "SELECT id FROM conversations WHERE name = 'general'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let first = ada.say(general, "Hello **everyone**").await;
    let res = bob
        .post(
            &format!("/api/v1/conversations/{general}/messages"),
            json!({"body": "hi ada <script>alert(1)</script>", "reply_to": first["id"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let typo = ada.say(general, "teh plan").await;
    assert_eq!(
        ada.patch(
            &format!("/api/v1/messages/{}", typo["id"]),
            json!({"body": "the plan"})
        )
        .await
        .status(),
        200
    );
    let oops = ada.say(general, "wrong room").await;
    assert!(
        ada.delete(&format!("/api/v1/messages/{}", oops["id"]))
            .await
            .status()
            .is_success()
    );
    assert!(
        bob.put(&format!("/api/v1/messages/{}/reactions/👍", first["id"]))
            .await
            .status()
            .is_success()
    );

    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "secret plans", "members": [bob.id]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    ada.say(group, "just between us").await;
    (app, general, group)
}

fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[tokio::test]
async fn everything_exports_as_json_lines_while_the_server_runs() {
    let (app, general, group) = community().await;
    let out = ok(hearth(&app.app.config.data_dir).arg("export"));
    let rows = lines(&out.stdout);
    assert_eq!(rows[0]["type"], "export");
    assert_eq!(rows[0]["conversations"], 2);
    assert_eq!(rows[0]["messages"], 5);
    let kinds: Vec<&str> = rows.iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "export",
            "conversation",
            "notice",
            "notice",
            "notice",
            "message",
            "message",
            "message",
            "message",
            "conversation",
            "message"
        ]
    );
    assert_eq!(rows[1]["id"], general);
    assert_eq!(rows[1]["members"].as_array().unwrap().len(), 3);
    // Each new account joined #general: a line in its history, in the message shape.
    for (row, who) in rows[2..5].iter().zip(["ada", "bob", "carol"]) {
        assert_eq!(row["notice"]["action"], "joined", "{row}");
        assert_eq!(row["notice"]["user"]["username"], who);
        assert_eq!(row["sender"]["username"], who);
        assert_eq!(row["body"], "");
        assert_eq!(row["html"], "<p>joined</p>");
    }
    let hello = &rows[5];
    assert_eq!(hello["body"], "Hello **everyone**");
    assert_eq!(hello["notice"], Value::Null);
    assert_eq!(hello["sender"]["username"], "ada");
    assert_eq!(hello["reactions"][0]["emoji"], "👍");
    assert_eq!(rows[6]["reply_to"], hello["id"]);
    assert_eq!(rows[7]["body"], "the plan");
    assert!(rows[7]["edited_at"].is_i64());
    assert_eq!(rows[8]["deleted"], true);
    assert_eq!(
        rows[8]["body"], "",
        "a deleted message's words are not exported"
    );
    assert_eq!(rows[9]["id"], group);
    assert_eq!(rows[10]["body"], "just between us");
    assert!(
        out.stderr.contains("Exported 2 conversations, 5 messages"),
        "{}",
        out.stderr
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_persons_export_holds_only_their_conversations() {
    let (app, general, _) = community().await;
    let dir = app.app.config.data_dir.clone();
    let rows = lines(&ok(hearth(&dir).args(["export", "--user", "CAROL"])).stdout);
    let conversations: Vec<&Value> = rows
        .iter()
        .filter(|r| r["type"] == "conversation")
        .collect();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0]["id"], general);
    assert!(!rows.iter().any(|r| r["body"] == "just between us"));
    assert_eq!(rows.iter().filter(|r| r["type"] == "message").count(), 4);

    let rows = lines(&ok(hearth(&dir).args(["export", "--user", "bob"])).stdout);
    assert!(rows.iter().any(|r| r["body"] == "just between us"));

    let res = run(hearth(&dir).args(["export", "--user", "nobody"]), "");
    assert!(!res.ok && res.stdout.is_empty(), "{res:?}");
    assert!(
        res.stderr.contains("no user named \"nobody\""),
        "{}",
        res.stderr
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn one_conversation_exports_as_a_self_contained_readable_html_file() {
    let (app, general, _) = community().await;
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("general.html");
    let res = ok(hearth(&app.app.config.data_dir)
        .args(["export", "--conversation", &general.to_string(), "--out"])
        .arg(&file));
    assert!(res.stdout.is_empty());
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<h2>#general</h2>"), "{html}");
    assert!(
        html.contains("<strong>everyone</strong>"),
        "markdown is rendered as the web UI shows it"
    );
    assert!(html.contains("hi ada"));
    assert!(
        !html.contains("<script"),
        "user text never becomes a script"
    );
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("This message was deleted."));
    assert!(!html.contains("wrong room"));
    assert!(html.contains("(edited)"));
    assert!(html.contains("👍 1"));
    assert!(
        html.contains(r#"<span class="who">carol</span> joined · <time"#),
        "lines about the conversation read as sentences: {html}"
    );
    assert!(
        html.contains("4 messages"),
        "the lines are not counted as messages"
    );
    assert!(
        !html.contains("just between us"),
        "only the conversation asked for"
    );
    // Self-contained: no stylesheet, script, font or image is fetched from anywhere.
    for outside in ["<link", "src=\"http", "url(http", "@import"] {
        assert!(!html.contains(outside), "{outside}");
    }
    // The same file is refused a second time rather than overwritten.
    let res = run(
        hearth(&app.app.config.data_dir)
            .args(["export", "--format", "html", "--out"])
            .arg(&file),
        "",
    );
    assert!(!res.ok && res.stderr.contains("already exists"), "{res:?}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn exporting_an_unknown_conversation_fails_and_writes_nothing() {
    let (app, _, _) = community().await;
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("nothing.jsonl");
    let res = run(
        hearth(&app.app.config.data_dir)
            .args(["export", "--conversation", "999", "--out"])
            .arg(&file),
        "",
    );
    assert_eq!(res.code, Some(1), "{res:?}");
    assert_eq!(
        res.stderr.trim(),
        "error: there is no conversation with id 999"
    );
    assert!(res.stdout.is_empty());
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "no file, not even a temporary one"
    );
    let res = run(
        hearth(&app.app.config.data_dir).args(["export", "--conversation", "999"]),
        "",
    );
    assert!(!res.ok && res.stdout.is_empty(), "{res:?}");
    let res = run(
        hearth(&app.app.config.data_dir).args(["export", "--conversation", "1", "--user", "ada"]),
        "",
    );
    assert!(
        !res.ok && res.stderr.contains("cannot be used with"),
        "{res:?}"
    );
    let res = run(hearth(&out_dir.path().join("nowhere")).arg("export"), "");
    assert!(
        !res.ok && res.stderr.contains("there is no database"),
        "{res:?}"
    );
    app.stop().await.unwrap();
}
