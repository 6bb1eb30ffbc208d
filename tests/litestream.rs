//! Hearth beside Litestream, through the disaster it is there for: people write, the machine
//! dies (`kill -9` of both, the data dir deleted), the database comes back from the replica (a
//! file replica, then an S3 one on a loopback moto server), and Hearth serves it again. Every
//! message acknowledged more than the replication interval plus a second before the loss is
//! there, `hearth check` is clean, a client resumes from its last seq without a gap it cannot
//! see, and Litestream never had to start over because Hearth checkpointed under it.

mod common;
#[path = "common/ops.rs"]
mod ops_support;
#[path = "common/litestream.rs"]
mod replication;

use common::Ws;
use ops_support::{PASSWORD, Server, hearth, init_with_users, ok};
use replication::{Moto, Replica, Replicator, write_config};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often Litestream sends what it has to the replica (its `sync-interval`).
const SYNC: Duration = Duration::from_secs(1);
/// What may be lost: what was acknowledged within this long before the machine died.
const RECOVERY_POINT: Duration = Duration::from_secs(2);
const WRITERS: usize = 4;
/// How long people write in each round before the machine dies.
const WRITING: Duration = Duration::from_secs(4);
/// File, file again (replication continues into the replica it was restored from), S3 (a
/// fresh replica of a restored database), S3 again.
const ROUNDS: [&str; 4] = ["file", "file", "s3", "s3"];

/// A message a writer was told was stored: (id, body, when the answer came).
type Acked = (i64, String, Instant);

struct Client {
    cookie: String,
    http: reqwest::Client,
}

async fn sign_in(base: &str, name: &str) -> Client {
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "sign in as {name}");
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    Client { cookie, http }
}

fn read_only(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn messages(db: &Path) -> BTreeMap<i64, String> {
    let conn = read_only(db);
    let mut stmt = conn
        .prepare("SELECT id, body FROM messages WHERE notice IS NULL")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

/// The seqs after `since` a resuming `user` is owed, from the log as it is now.
fn owed(db: &Path, user: i64, since: i64) -> (bool, Vec<i64>) {
    let conn = read_only(db);
    let kept: bool = conn
        .query_row(
            "SELECT EXISTS (SELECT 1 FROM events WHERE seq = ?1)",
            [since],
            |r| r.get(0),
        )
        .unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT seq FROM events WHERE seq > ?2 AND (user_id = ?1 OR (user_id IS NULL AND \
             conversation_id IN (SELECT conversation_id FROM memberships WHERE user_id = ?1))) \
             ORDER BY seq",
        )
        .unwrap();
    let seqs = stmt
        .query_map([user, since], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    (kept, seqs)
}

/// Writers post to #general until `stop`, each answer noted with its time.
fn start_writers(
    base: &str,
    clients: Vec<Client>,
    general: i64,
    round: usize,
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<Acked>>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let url = format!("{base}/api/v1/conversations/{general}/messages");
    clients
        .into_iter()
        .enumerate()
        .map(|(w, client)| {
            let (url, stop, acked) = (url.clone(), stop.clone(), acked.clone());
            tokio::spawn(async move {
                for n in 0..100_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let body = format!("round {round} writer {w} message {n}");
                    let sent = client
                        .http
                        .post(&url)
                        .header("cookie", &client.cookie)
                        .json(&serde_json::json!({"body": body}))
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    // After the kill, requests fail: the writer is done.
                    let Ok(res) = sent else { break };
                    if res.status() != 201 {
                        break;
                    }
                    let Ok(message) = res.json::<serde_json::Value>().await else {
                        break;
                    };
                    let at = Instant::now();
                    let id = message["id"].as_i64().unwrap();
                    acked.lock().unwrap().push((id, body, at));
                }
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_the_machine_dies_hearth_comes_back_from_litestream_with_everything_acknowledged_in_time()
 {
    let Some(litestream) = replication::litestream() else {
        return;
    };
    let Some(moto_server) = replication::require("MOTO_SERVER", "moto_server") else {
        return;
    };
    let started = Instant::now();
    let root = tempfile::tempdir().unwrap();
    let moto = Moto::start(&moto_server);
    moto.create_bucket("hearth");
    let data = root.path().join("data");
    let db = std::path::absolute(data.join("hearth.db")).unwrap();
    let writers: Vec<String> = (0..WRITERS).map(|w| format!("writer{w}")).collect();
    let mut names: Vec<&str> = writers.iter().map(String::as_str).collect();
    names.push("watcher");
    init_with_users(&data, &names);
    let rate = [("HEARTH_SEND_PER_MINUTE", "1000000")];
    let mut server = Server::start(&data, &rate);
    let mut kept: BTreeMap<i64, String> = BTreeMap::new();
    let mut logs = Vec::new();
    let mut resyncs = 0;
    let mut peak_wal = 0u64;

    for (round, kind) in ROUNDS.iter().enumerate() {
        let replica = match *kind {
            "file" => Replica::File(root.path().join("replica")),
            _ => Replica::S3 {
                endpoint: moto.endpoint.clone(),
                bucket: "hearth".into(),
                path: "hearth.db".into(),
            },
        };
        let config = root.path().join(format!("litestream-{round}.yml"));
        write_config(&config, &db, &replica, SYNC);
        let log = root.path().join(format!("litestream-{round}.log"));
        let replicator = Replicator::start(&litestream, &config, &log);
        logs.push(log);

        let base = server.url.clone();
        let mut clients = Vec::new();
        for name in &writers {
            clients.push(sign_in(&base, name).await);
        }
        let watcher = sign_in(&base, "watcher").await;
        let list: serde_json::Value = watcher
            .http
            .get(format!("{base}/api/v1/conversations"))
            .header("cookie", &watcher.cookie)
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
            .unwrap()["id"]
            .as_i64()
            .unwrap();
        let watcher_id: i64 = read_only(&db)
            .query_row("SELECT id FROM users WHERE username = 'watcher'", [], |r| {
                r.get(0)
            })
            .unwrap();

        // The watcher follows live, noting the last seq it has.
        let mut ws = Ws::connect(&base, &watcher.cookie, None).await;
        let last_seen = Arc::new(AtomicI64::new(ws.ready["seq"].as_i64().unwrap()));
        let follower = {
            let last_seen = last_seen.clone();
            tokio::spawn(async move {
                use futures_util::StreamExt;
                while let Some(Ok(frame)) = ws.stream.next().await {
                    if let tokio_tungstenite::tungstenite::Message::Text(t) = frame {
                        let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                        if let Some(seq) = v["seq"].as_i64().filter(|_| v["type"] == "event") {
                            last_seen.store(seq, Ordering::SeqCst);
                        }
                    }
                }
            })
        };

        let stop = Arc::new(AtomicBool::new(false));
        let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();
        let tasks = start_writers(&base, clients, general, round, stop.clone(), acked.clone());
        let until = Instant::now() + WRITING;
        let wal = data.join("hearth.db-wal");
        while Instant::now() < until {
            peak_wal = peak_wal.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // The machine dies: Litestream and Hearth at once, mid-write.
        let killed = Instant::now();
        replicator.kill9();
        server.kill9();
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), follower).await;
        let since = last_seen.load(Ordering::SeqCst);
        let acked = std::mem::take(&mut *acked.lock().unwrap());
        assert!(
            acked.len() > 50,
            "round {round}: writers got going ({})",
            acked.len()
        );

        // The disk is gone with it. The database comes back from the replica.
        std::fs::remove_dir_all(&data).unwrap();
        let out = ok(replication::loopback_only(&mut hearth(&data))
            .args(["restore", "--from-litestream"])
            .arg(&config)
            .arg("--litestream")
            .arg(&litestream));
        assert!(out.stdout.contains("Restored"), "{}", out.stdout);
        let check = ok(hearth(&data).arg("check"));
        assert!(
            check.stdout.contains("No problems found."),
            "{}",
            check.stdout
        );

        let got = messages(&db);
        for (id, body) in &kept {
            assert_eq!(
                got.get(id),
                Some(body),
                "round {round}: message {id} of an earlier round"
            );
        }
        let mut newest_kept = None;
        let mut oldest_lost = None;
        for (id, body, at) in &acked {
            let age = killed.saturating_duration_since(*at);
            match got.get(id) {
                Some(b) => {
                    assert_eq!(b, body, "round {round}: message {id}");
                    newest_kept = Some(newest_kept.map_or(age, |n: Duration| n.min(age)));
                }
                None => {
                    assert!(
                        age <= RECOVERY_POINT,
                        "round {round} ({kind}): message {id} acknowledged {age:?} before the \
                         loss is not in the replica"
                    );
                    oldest_lost = Some(oldest_lost.map_or(age, |o: Duration| o.max(age)));
                }
            }
        }
        let lost = acked.iter().filter(|a| !got.contains_key(&a.0)).count();
        eprintln!(
            "round {round} ({kind}): {} acknowledged, {lost} lost; the newest kept was \
             acknowledged {newest_kept:?} before the loss, the oldest lost {oldest_lost:?}",
            acked.len()
        );
        kept = got;

        // Hearth serves it again; the watcher resumes from the last seq it had.
        let (since_kept, owed) = owed(&db, watcher_id, since);
        server = Server::start(&data, &rate);
        let watcher = sign_in(&server.url, "watcher").await;
        let mut ws = Ws::connect(&server.url, &watcher.cookie, Some(since)).await;
        if since_kept {
            for seq in &owed {
                let frame = ws.event().await;
                assert_eq!(
                    frame["seq"].as_i64(),
                    Some(*seq),
                    "round {round}: replay in order, no gap"
                );
            }
        } else {
            // It saw events the replica never got: those seqs are not in this log.
            assert_eq!(
                ws.next_non_presence().await["type"],
                "resync",
                "round {round}"
            );
            resyncs += 1;
        }
        drop(ws);
    }
    let (status, err) = server.terminate();
    assert!(status.success(), "{err}");

    // Past SQLite's autocheckpoint threshold (1000 pages of 4 KiB), so Hearth's own PASSIVE
    // checkpoints ran beside Litestream's.
    assert!(
        peak_wal > 1000 * 4096,
        "the WAL never reached the autocheckpoint threshold ({peak_wal} bytes)"
    );
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap();
        assert!(
            !text.contains("another process"),
            "Litestream lost its place because something else checkpointed: {}",
            log.display()
        );
    }
    eprintln!(
        "{} rounds in {:?}; {resyncs} resumes were told to resync; the WAL peaked at {} KiB",
        ROUNDS.len(),
        started.elapsed(),
        peak_wal / 1024
    );
}
