//! `hearth check` and `hearth stats` as an operator reads them: a clean bill of health, or
//! each problem named with a non-zero exit.

#[path = "common/ops.rs"]
mod ops_support;

use ops_support::{Server, hearth, init_with_users, login, ok, run};
use rusqlite::Connection;
use sha2::{Digest, Sha256};
use std::path::Path;

/// A stopped data dir with two users, three messages and one attachment blob. Returns the blob's path.
async fn populated(d: &Path) -> std::path::PathBuf {
    init_with_users(d, &["ada"]);
    let server = Server::start(d, &[]);
    let cookie = login(&server.url, "ada").await;
    let general: i64 = Connection::open(d.join("hearth.db"))
        .unwrap()
        .query_row(
            "SELECT id FROM conversations WHERE name = 'general'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let client = reqwest::Client::new();
    for body in ["first", "second", "third with a picture"] {
        let res = client
            .post(format!(
                "{}/api/v1/conversations/{general}/messages",
                server.url
            ))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"body": body}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    server.terminate();
    let blob = b"pretend this is a photo".repeat(50);
    let sha = hex::encode(Sha256::digest(&blob));
    let path = hearth::ops::attachment_path(d, &sha);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &blob).unwrap();
    Connection::open(d.join("hearth.db"))
        .unwrap()
        .execute(
            "INSERT INTO attachments (message_id, uploader_id, sha256, size, mime, filename, created_at)
             VALUES ((SELECT max(id) FROM messages), (SELECT id FROM users WHERE username = 'ada'),
                     ?1, ?2, 'image/jpeg', 'photo.jpg', 0)",
            rusqlite::params![sha, blob.len() as i64],
        )
        .unwrap();
    path
}

fn check(d: &Path) -> ops_support::Output {
    run(hearth(d).arg("check"), "")
}

#[tokio::test]
async fn check_reports_a_missing_or_altered_attachment_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blob = populated(d).await;
    let out = check(d);
    assert!(out.ok, "{out:?}");
    assert!(
        out.stdout.contains("ok       attachments: 1 files"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("No problems found."), "{}", out.stdout);

    let original = std::fs::read(&blob).unwrap();
    let mut altered = original.clone();
    altered[3] ^= 1;
    std::fs::write(&blob, &altered).unwrap();
    let out = check(d);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout.contains("PROBLEM  attachments"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("attachment 1 (\"photo.jpg\")") && out.stdout.contains("was altered"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("1 problem found."), "{}", out.stdout);
    assert!(
        out.stderr.contains("hearth check found 1 problem"),
        "{}",
        out.stderr
    );

    std::fs::remove_file(&blob).unwrap();
    let out = check(d);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.contains("is missing"), "{}", out.stdout);

    std::fs::write(&blob, &original).unwrap();
    std::fs::write(blob.with_file_name("stray"), "left over").unwrap();
    let out = check(d);
    assert!(
        out.ok,
        "a stray file is worth a note, not a failure: {out:?}"
    );
    assert!(
        out.stdout
            .contains("1 files under attachments/ belong to no attachment"),
        "{}",
        out.stdout
    );
}

#[tokio::test]
async fn check_reports_a_search_index_out_of_step_and_broken_references() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    populated(d).await;
    let conn = Connection::open(d.join("hearth.db")).unwrap();
    // Drop one message from the index behind the triggers' back.
    conn.execute(
        "INSERT INTO messages_fts(messages_fts, rowid, body) SELECT 'delete', id, body FROM messages WHERE body = 'second'",
        [],
    )
    .unwrap();
    let out = check(d);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("PROBLEM  search index: 3 messages and 2 lines about conversations"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("1 messages are not indexed"),
        "{}",
        out.stdout
    );
    conn.execute(
        "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
        [],
    )
    .unwrap();
    assert!(check(d).ok);

    // The substring index, out of step the same way, is named with the way to rebuild it.
    conn.execute(
        "INSERT INTO messages_trigram(messages_trigram, rowid, body) SELECT 'delete', id, body FROM messages WHERE body = 'second'",
        [],
    )
    .unwrap();
    let out = check(d);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout
            .contains("the messages_trigram index does not match the messages"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("INSERT INTO messages_trigram(messages_trigram) VALUES('rebuild')"),
        "{}",
        out.stdout
    );
    conn.execute(
        "INSERT INTO messages_trigram(messages_trigram) VALUES ('rebuild')",
        [],
    )
    .unwrap();
    assert!(check(d).ok);

    // A membership of a user that does not exist (written with foreign keys off).
    conn.pragma_update(None, "foreign_keys", "OFF").unwrap();
    conn.execute(
        "INSERT INTO memberships (conversation_id, user_id, joined_at) VALUES ((SELECT min(id) FROM conversations), 999, 0)",
        [],
    )
    .unwrap();
    let out = check(d);
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stdout.contains("PROBLEM  foreign keys"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("memberships a row refers to a missing users row"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_refuses_what_is_not_a_hearth_database_and_stays_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let out = check(dir.path());
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("there is no database"),
        "{}",
        out.stderr
    );
    assert!(
        !dir.path().join("hearth.db").exists(),
        "check creates nothing"
    );

    let garbage = b"not a database at all\n".repeat(300);
    std::fs::write(dir.path().join("hearth.db"), &garbage).unwrap();
    let out = check(dir.path());
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("not a Hearth database"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(dir.path().join("hearth.db")).unwrap(),
        garbage
    );

    // A file from a newer Hearth is named as such.
    let dir = tempfile::tempdir().unwrap();
    Connection::open(dir.path().join("hearth.db"))
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let out = check(dir.path());
    assert!(!out.ok && out.stderr.contains("newer Hearth"), "{out:?}");
}

#[tokio::test]
async fn stats_counts_people_conversations_messages_and_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    populated(d).await;
    let out = ok(hearth(d).args(["stats", "--json"]));
    let stats: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(stats["users"], 2);
    assert_eq!(stats["admins"], 1);
    assert_eq!(stats["channels"], 1);
    assert_eq!(stats["messages"], 3);
    assert_eq!(stats["attachments"], 1);
    assert_eq!(stats["attachment_bytes"], 23 * 50);
    assert!(stats["db_bytes"].as_u64().unwrap() > 0);
    let out = ok(hearth(d).arg("stats"));
    assert!(
        out.stdout
            .contains("users           2 (2 active, 1 admins)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("messages        3"), "{}", out.stdout);
    assert!(out.stdout.contains("WAL"), "{}", out.stdout);
}
