//! The `hearth serve` binary as an operator runs it: one instance per data dir, surviving
//! `kill -9` without losing an acknowledged message, scheduled backups, health checks, logs.

#[path = "common/ops.rs"]
mod ops_support;

use ops_support::{Server, hearth, init_with_users, login, ok, run};
use rusqlite::{Connection, OpenFlags};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const FAST: [(&str, &str); 1] = [("HEARTH_SEND_PER_MINUTE", "1000000")];

fn general_id(dir: &Path) -> i64 {
    let conn = Connection::open_with_flags(dir.join("hearth.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    conn.query_row(
        "SELECT id FROM conversations WHERE name = 'general'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn a_second_serve_on_the_same_data_dir_is_refused_with_the_first_ones_name() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), &[]);
    let (status, err) = match Server::try_start(dir.path(), &[]) {
        Ok(_) => panic!("a second server started on the same data dir"),
        Err(refusal) => refusal,
    };
    assert!(!status.success());
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(&format!("pid {}", first.pid())), "{err}");
    assert!(
        err.contains(&format!("listening on {}", first.url)),
        "{err}"
    );
    assert!(err.contains("another Hearth"), "{err}");

    // While it runs, user administration still works (it does not take the lock) …
    let out = run(
        hearth(dir.path()).args(["user", "add", "ada", "--password-stdin"]),
        ops_support::PASSWORD,
    );
    assert!(out.ok, "{}", out.stderr);
    // … but a restore is refused, naming the server, and changes nothing.
    let backup = dir.path().join("b.tar.gz");
    ok(hearth(dir.path()).args(["backup", "--out"]).arg(&backup));
    let before = std::fs::read(dir.path().join("hearth.db")).unwrap();
    let out = run(
        hearth(dir.path()).args(["restore", "--force"]).arg(&backup),
        "",
    );
    assert!(!out.ok);
    assert!(
        out.stderr.contains(&format!("pid {}", first.pid()))
            && out.stderr.contains("stop it before restoring"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(dir.path().join("hearth.db")).unwrap(), before);

    // Once the first has stopped, the data dir is free again.
    let (status, err) = first.terminate();
    assert!(status.success(), "{err}");
    let again = Server::start(dir.path(), &[]);
    again.terminate();
}

/// Writers that post to #general until told to stop; each acknowledged message is recorded.
struct Writers {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<(i64, String)>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Writers {
    fn start(base: &str, cookies: &[String], general: i64, round: usize) -> Writers {
        let stop = Arc::new(AtomicBool::new(false));
        let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
        let tasks = cookies
            .iter()
            .enumerate()
            .map(|(w, cookie)| {
                let (stop, acked, cookie) = (stop.clone(), acked.clone(), cookie.clone());
                let url = format!("{base}/api/v1/conversations/{general}/messages");
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    for n in 0..100_000 {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        let body = format!("round {round} writer {w} message {n}");
                        let sent = client
                            .post(&url)
                            .header("cookie", &cookie)
                            .json(&serde_json::json!({"body": body, "client_id": format!("r{round}-w{w}-{n}")}))
                            .timeout(Duration::from_secs(10))
                            .send()
                            .await;
                        // Once the server is killed, requests fail: those were never acknowledged.
                        let Ok(res) = sent else { return };
                        if res.status() != 201 {
                            return;
                        }
                        let Ok(message) = res.json::<serde_json::Value>().await else { return };
                        acked.lock().unwrap().push((message["id"].as_i64().unwrap(), body));
                    }
                })
            })
            .collect();
        Writers { stop, acked, tasks }
    }

    async fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.acked.lock().unwrap().len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            self.acked.lock().unwrap().len() >= n,
            "writers made progress"
        );
    }

    async fn finish(self) -> Vec<(i64, String)> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            t.await.unwrap();
        }
        Arc::try_unwrap(self.acked).unwrap().into_inner().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_sustained_writes_loses_no_acknowledged_message_in_20_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let names = ["w0", "w1", "w2", "w3"];
    init_with_users(d, &names);
    let general = general_id(d);
    let mut cookies = Vec::new();
    let mut acknowledged: BTreeMap<i64, String> = BTreeMap::new();
    for round in 0..20 {
        let server = Server::start(d, &FAST);
        if cookies.is_empty() {
            for name in names {
                cookies.push(login(&server.url, name).await);
            }
        }
        // Sessions survived the earlier kills too: the first write of each round uses them.
        let writers = Writers::start(&server.url, &cookies, general, round);
        writers.wait_for(40 + round * 3).await;
        server.kill9(); // mid-stream: requests are in flight
        let acked = writers.finish().await;
        assert!(!acked.is_empty());
        acknowledged.extend(acked);

        // Restart: every acknowledged message is there, and the data dir is sound.
        let server = Server::start(d, &FAST);
        let conn =
            Connection::open_with_flags(d.join("hearth.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let mut stmt = conn.prepare("SELECT id, body FROM messages").unwrap();
        let stored: BTreeMap<i64, String> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        for (id, body) in &acknowledged {
            assert_eq!(
                stored.get(id),
                Some(body),
                "round {round}: acknowledged message {id} survived"
            );
        }
        drop(stmt);
        drop(conn);
        let check = run(hearth(d).arg("check"), "");
        assert!(
            check.ok,
            "round {round}: hearth check: {}{}",
            check.stdout, check.stderr
        );
        assert!(
            check.stdout.contains("No problems found."),
            "{}",
            check.stdout
        );
        if round == 19 {
            let (status, err) = server.terminate();
            assert!(status.success(), "{err}");
        } else {
            server.kill9();
        }
    }
    assert!(
        acknowledged.len() >= 20 * 40,
        "{} messages acknowledged in all",
        acknowledged.len()
    );
}

#[tokio::test]
async fn scheduled_backups_are_written_rotated_and_counted_in_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    init_with_users(&d, &["ada"]);
    let config = dir.path().join("hearth.toml");
    let token = "0123456789abcdef0123";
    std::fs::write(
        &config,
        format!(
            "metrics_token = \"{token}\"\n[backup]\ninterval = \"1s\"\nkeep = 2\ndir = {:?}\n",
            backups.display().to_string()
        ),
    )
    .unwrap();
    let server = Server::start(&d, &[("HEARTH_CONFIG", config.to_str().unwrap())]);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut made = 0;
    while made < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let text = client
            .get(format!("{}/metrics", server.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        made = text
            .lines()
            .find_map(|l| l.strip_prefix("hearth_backups_total "))
            .map_or(0, |v| v.trim().parse().unwrap());
        assert!(text.contains("hearth_backups_failed_total 0"), "{text}");
    }
    assert!(
        made >= 3,
        "three scheduled backups within a minute ({made})"
    );
    let (status, err) = server.terminate();
    assert!(status.success(), "{err}");
    let mut left: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    left.sort();
    assert_eq!(left.len(), 2, "rotated to backup.keep: {left:?}");
    // The newest restores.
    let into = dir.path().join("restored");
    let out = ok(hearth(&into).arg("restore").arg(&left[1]));
    assert!(out.stdout.contains("2 users"), "{}", out.stdout);
}

#[test]
fn healthcheck_exits_0_while_the_server_answers_and_1_when_it_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let out = run(
        hearth(dir.path())
            .arg("healthcheck")
            .env("HEARTH_LISTEN", &server.addr),
        "",
    );
    assert!(out.ok, "{out:?}");
    // A wildcard listen address is checked on this machine's loopback.
    let port = server.addr.rsplit(':').next().unwrap().to_owned();
    let out = run(
        hearth(dir.path())
            .arg("healthcheck")
            .env("HEARTH_LISTEN", format!("0.0.0.0:{port}")),
        "",
    );
    assert!(out.ok, "{out:?}");
    server.terminate();
    let out = run(
        hearth(dir.path())
            .args(["healthcheck", "--timeout", "2"])
            .env("HEARTH_LISTEN", format!("127.0.0.1:{port}")),
        "",
    );
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("does not answer"), "{}", out.stderr);
}

#[test]
fn logs_are_json_lines_with_log_format_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = hearth(dir.path());
    cmd.args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .env("HEARTH_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = None;
    while Instant::now() < deadline {
        line.clear();
        if std::io::BufRead::read_line(&mut err, &mut line).unwrap() == 0 {
            break;
        }
        let parsed: serde_json::Value =
            serde_json::from_str(line.trim()).expect("every log line is JSON");
        if parsed["fields"]["message"] == "Hearth is listening" {
            seen = Some(parsed);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let seen = seen.expect("the listening line was logged");
    assert_eq!(seen["level"], "INFO");
}

/// The server returns large freed buffers to the system (see `cli::serve::memory`): it runs
/// with glibc's mmap threshold fixed, unless the operator chose a value.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn serve_runs_with_a_fixed_mmap_threshold_unless_one_is_given() {
    use hearth::cli::serve::memory::{THRESHOLD, VARIABLE};
    let environ = |pid: u32| std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let has = |env: &[u8], pair: &str| env.split(|b| *b == 0).any(|kv| kv == pair.as_bytes());

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert!(has(
        &environ(server.pid()),
        &format!("{VARIABLE}={THRESHOLD}")
    ));
    server.terminate();

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[(VARIABLE, "262144")]);
    let env = environ(server.pid());
    assert!(
        has(&env, &format!("{VARIABLE}=262144")),
        "the operator's value stays"
    );
    assert!(!has(&env, &format!("{VARIABLE}={THRESHOLD}")));
    server.terminate();
}
