//! `hearth restore --from-litestream CONFIG`: a replica that is sound, of this community's
//! database and not behind it is put in place; anything else is refused with the reason, and
//! the data dir is left exactly as it was.

#[path = "common/ops.rs"]
mod ops_support;
#[path = "common/litestream.rs"]
mod replication;

use ops_support::{Output, PASSWORD, Server, hearth, init_with_users, ok, run, snapshot_dir};
use replication::{Replica, Replicator, write_config};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The data dir's files without the lock file (whose content is bookkeeping) and the WAL
/// index (`-shm`, which any reader updates): each name with its length and a digest of its
/// bytes, so a difference reads as names.
fn files(dir: &Path) -> Vec<(String, usize, u64)> {
    use std::hash::{Hash, Hasher};
    snapshot_dir(dir)
        .into_iter()
        .filter(|(n, _)| n != "hearth.lock" && !n.ends_with("-shm"))
        .map(|(n, bytes)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            bytes.hash(&mut h);
            (n, bytes.len(), h.finish())
        })
        .collect()
}

fn count(db: &Path, sql: &str) -> i64 {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
        .unwrap_or(-1)
}

/// `hearth restore --from-litestream CONFIG [--force]` with `litestream` as the binary.
fn restore(data: &Path, config: &Path, litestream: &Path, force: bool) -> Output {
    let mut cmd = hearth(data);
    cmd.args(["restore", "--from-litestream"])
        .arg(config)
        .arg("--litestream")
        .arg(litestream);
    if force {
        cmd.arg("--force");
    }
    run(&mut cmd, "")
}

/// A community whose database Litestream has replicated (up to its newest event) to a file
/// replica; Litestream is stopped again. Answers (data dir, its litestream.yml).
fn replicated(root: &Path, name: &str, litestream: &Path) -> (PathBuf, PathBuf) {
    let data = root.join(name);
    init_with_users(&data, &["ada"]);
    let config = root.join(format!("{name}.yml"));
    let db = std::path::absolute(data.join("hearth.db")).unwrap();
    let replica = Replica::File(root.join(format!("{name}-replica")));
    write_config(&config, &db, &replica, Duration::from_millis(200));
    let replicator = Replicator::start(litestream, &config, &root.join(format!("{name}.log")));
    let newest = count(&db, "SELECT COALESCE(MAX(seq), 0) FROM events");
    let wanted = format!("SELECT COALESCE(MAX(seq), 0) >= {newest} FROM events");
    replication::wait_replicated(litestream, &config, &db, |copy| count(copy, &wanted) == 1);
    replicator.terminate();
    (data, config)
}

/// Posts one message as ada through a running server, then stops it.
async fn post_a_message(data: &Path, body: &str) {
    let server = Server::start(data, &[]);
    let http = ::reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/session", server.url))
        .json(&serde_json::json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let list: serde_json::Value = http
        .get(format!("{}/api/v1/conversations", server.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let general = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "general")
        .expect("ada is in #general")["id"]
        .as_i64()
        .unwrap();
    let res = http
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
    let (status, err) = server.terminate();
    assert!(status.success(), "{err}");
}

fn refused(out: &Output, why: &str) {
    assert!(!out.ok, "restore should have been refused: {}", out.stdout);
    assert!(
        out.stderr.contains(why),
        "expected {why:?} in: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("nothing was changed") || why.contains("--force"),
        "{}",
        out.stderr
    );
}

#[test]
fn without_litestream_or_its_config_the_restore_is_refused_and_nothing_changes() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    init_with_users(&data, &[]);
    let config = root.path().join("litestream.yml");
    let db = std::path::absolute(data.join("hearth.db")).unwrap();
    write_config(
        &config,
        &db,
        &Replica::File(root.path().join("replica")),
        Duration::from_secs(1),
    );
    let before = files(&data);

    let out = restore(&data, &config, Path::new("/nonexistent/litestream"), true);
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("no litestream binary at /nonexistent/litestream"),
        "{}",
        out.stderr
    );
    // Not on PATH either.
    let empty = tempfile::tempdir().unwrap();
    let out = run(
        hearth(&data)
            .args(["restore", "--force", "--from-litestream"])
            .arg(&config)
            .env("PATH", empty.path()),
        "",
    );
    assert!(!out.ok);
    assert!(
        out.stderr.contains("litestream is not installed"),
        "{}",
        out.stderr
    );
    let out = run(
        hearth(&data)
            .args(["restore", "--force", "--from-litestream"])
            .arg(root.path().join("missing.yml"))
            .arg("--litestream")
            .arg("/bin/true"),
        "",
    );
    assert!(
        out.stderr.contains("there is no Litestream config at"),
        "{}",
        out.stderr
    );
    assert_eq!(files(&data), before, "a refused restore changes nothing");
}

#[test]
fn a_missing_replica_or_a_config_without_this_database_is_refused() {
    let Some(litestream) = replication::litestream() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    init_with_users(&data, &[]);
    let db = std::path::absolute(data.join("hearth.db")).unwrap();
    let before = files(&data);

    let config = root.path().join("litestream.yml");
    let empty = root.path().join("empty-replica");
    std::fs::create_dir_all(&empty).unwrap();
    write_config(&config, &db, &Replica::File(empty), Duration::from_secs(1));
    let out = restore(&data, &config, &litestream, true);
    refused(&out, "the replica holds no copy of this database");

    let other = root.path().join("other.yml");
    let elsewhere = root.path().join("elsewhere/hearth.db");
    write_config(
        &other,
        &elsewhere,
        &Replica::File(root.path().join("r")),
        Duration::from_secs(1),
    );
    let out = restore(&data, &other, &litestream, true);
    refused(&out, "the config has no entry whose path is this database");

    // Into a data dir that does not exist yet: refused, and no folder is left behind.
    let fresh = root.path().join("fresh");
    let fresh_config = root.path().join("fresh.yml");
    write_config(
        &fresh_config,
        &std::path::absolute(fresh.join("hearth.db")).unwrap(),
        &Replica::File(root.path().join("never")),
        Duration::from_secs(1),
    );
    let out = restore(&fresh, &fresh_config, &litestream, false);
    refused(&out, "holds no copy");
    assert!(
        !fresh.exists(),
        "a failed restore leaves no data dir behind"
    );
    assert_eq!(files(&data), before);
}

#[test]
fn a_replica_of_another_database_or_of_something_else_is_refused() {
    let Some(litestream) = replication::litestream() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (_theirs, their_config) = replicated(root.path(), "theirs", &litestream);
    // Ours is another community: its own `hearth init`, its own first account.
    let ours = root.path().join("ours");
    init_with_users(&ours, &["bob"]);
    let before = files(&ours);
    // A config that (wrongly) sends our database's replica to where theirs is.
    let db = |dir: &Path| {
        std::path::absolute(dir.join("hearth.db"))
            .unwrap()
            .display()
            .to_string()
    };
    let text = std::fs::read_to_string(&their_config)
        .unwrap()
        .replace(&db(&root.path().join("theirs")), &db(&ours));
    let mixed = root.path().join("mixed.yml");
    std::fs::write(&mixed, text).unwrap();
    let out = restore(&ours, &mixed, &litestream, true);
    refused(&out, "is of another Hearth database");
    assert_eq!(files(&ours), before);

    // A replica of a SQLite file that is not Hearth's.
    let plain = root.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let plain_db = std::path::absolute(plain.join("hearth.db")).unwrap();
    let conn = Connection::open(&plain_db).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi');",
    )
    .unwrap();
    drop(conn);
    let plain_config = root.path().join("plain.yml");
    write_config(
        &plain_config,
        &plain_db,
        &Replica::File(root.path().join("plain-replica")),
        Duration::from_millis(200),
    );
    let replicator = Replicator::start(&litestream, &plain_config, &root.path().join("plain.log"));
    replication::wait_replicated(&litestream, &plain_config, &plain_db, |copy| {
        count(copy, "SELECT count(*) FROM notes") == 1
    });
    replicator.terminate();
    let before = files(&plain);
    let out = restore(&plain, &plain_config, &litestream, true);
    refused(&out, "it is not a Hearth database");
    assert_eq!(files(&plain), before);
}

#[tokio::test]
async fn a_replica_behind_the_database_is_refused_and_a_current_one_replaces_it_with_force() {
    let Some(litestream) = replication::litestream() else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (data, config) = replicated(root.path(), "data", &litestream);
    let db = data.join("hearth.db");

    // The server runs on without Litestream: the replica falls behind.
    post_a_message(&data, "after the replica stopped").await;
    let before = files(&data);
    let out = restore(&data, &config, &litestream, true);
    refused(&out, "the Litestream replica is behind");
    assert!(
        out.stderr.contains("Is Litestream replicating?"),
        "{}",
        out.stderr
    );
    assert_eq!(files(&data), before);

    // Litestream catches up; without --force an existing database is never replaced.
    let replicator = Replicator::start(&litestream, &config, &root.path().join("again.log"));
    let newest = count(&db, "SELECT MAX(seq) FROM events");
    let wanted = format!("SELECT MAX(seq) >= {newest} FROM events");
    replication::wait_replicated(
        &litestream,
        &config,
        &std::path::absolute(&db).unwrap(),
        |c| count(c, &wanted) == 1,
    );
    replicator.terminate();
    let before = files(&data);
    let out = restore(&data, &config, &litestream, false);
    refused(&out, "restore with --force");
    assert_eq!(files(&data), before);

    let out = ok(hearth(&data)
        .args(["restore", "--force", "--from-litestream"])
        .arg(&config)
        .arg("--litestream")
        .arg(&litestream));
    assert!(out.stdout.contains("Restored"), "{}", out.stdout);
    let aside = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pre-restore-")
        })
        .expect("the replaced files are kept");
    assert!(aside.join("hearth.db").is_file());
    assert!(
        aside.join(".hearth.db-litestream").is_dir(),
        "Litestream's record of the replaced database goes with it"
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM messages WHERE body = 'after the replica stopped'"
        ),
        1
    );
    let check = ok(hearth(&data).arg("check"));
    assert!(
        check.stdout.contains("No problems found."),
        "{}",
        check.stdout
    );

    // The monthly drill: the same replica into a scratch data dir, the live one untouched.
    let live = files(&data);
    let drill = root.path().join("drill");
    ok(hearth(&drill)
        .args(["restore", "--from-litestream"])
        .arg(&config)
        .arg("--replica-of")
        .arg(std::path::absolute(&db).unwrap())
        .arg("--litestream")
        .arg(&litestream));
    let check = ok(hearth(&drill).arg("check"));
    assert!(
        check.stdout.contains("No problems found."),
        "{}",
        check.stdout
    );
    let restored = drill.join("hearth.db");
    let found = "SELECT count(*) FROM messages WHERE body = 'after the replica stopped'";
    assert_eq!(count(&restored, found), 1);
    assert_eq!(files(&data), live);
}
