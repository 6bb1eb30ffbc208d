//! The `hearth` binary as an operator uses it: init, user administration, serve and its refusals.

use assert_cmd::Command;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

fn hearth(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hearth").unwrap();
    cmd.arg("--data-dir")
        .arg(dir)
        .env_remove("HEARTH_CONFIG")
        .env("HEARTH_LOG", "warn");
    cmd
}

/// Runs a command; returns (success, stdout, stderr).
fn run(cmd: &mut Command, stdin: &str) -> (bool, String, String) {
    let out = cmd.write_stdin(stdin.to_owned()).output().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// A failing command prints one line naming the problem.
fn assert_fails_with(cmd: &mut Command, stdin: &str, words: &str) {
    let (ok, _, err) = run(cmd, stdin);
    assert!(!ok, "expected failure mentioning {words:?}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.contains(words), "{err:?} should mention {words:?}");
}

#[test]
fn operators_manage_users_from_the_shell() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, out, err) = run(
        hearth(d).args(["init", "--admin", "root", "--password-stdin"]),
        PASSWORD,
    );
    assert!(ok, "{err}");
    assert!(out.contains("Created admin \"root\""));
    assert!(d.join("hearth.db").exists());
    assert_fails_with(
        hearth(d).args(["init", "--admin", "other", "--password-stdin"]),
        PASSWORD,
        "an admin already exists",
    );

    assert!(
        run(
            hearth(d).args(["user", "add", "ada", "--password-stdin"]),
            PASSWORD
        )
        .0
    );
    assert!(
        run(
            hearth(d).args([
                "user",
                "add",
                "bob",
                "--admin",
                "--display-name",
                "Bob B",
                "--password-stdin"
            ]),
            PASSWORD
        )
        .0
    );
    assert_fails_with(
        hearth(d).args(["user", "add", "ADA", "--password-stdin"]),
        PASSWORD,
        "already taken",
    );
    assert_fails_with(
        hearth(d).args(["user", "add", "has space", "--password-stdin"]),
        PASSWORD,
        "username may only hold",
    );
    assert_fails_with(
        hearth(d).args(["user", "add", "bell\u{7}", "--password-stdin"]),
        PASSWORD,
        "username may only hold",
    );
    assert_fails_with(
        hearth(d).args(["user", "add", "carol", "--password-stdin"]),
        "",
        "password must not be empty",
    );
    assert_fails_with(
        hearth(d).args(["user", "add", "carol", "--password-stdin"]),
        "\n",
        "password must not be empty",
    );
    assert_fails_with(
        hearth(d).args(["user", "passwd", "nobody", "--password-stdin"]),
        PASSWORD,
        "no user named \"nobody\"",
    );
    assert_fails_with(
        hearth(d).args(["user", "disable", "nobody"]),
        "",
        "no user named",
    );
    assert_fails_with(
        hearth(d).args(["user", "role", "nobody", "admin"]),
        "",
        "no user named",
    );
    let (ok, _, err) = run(hearth(d).args(["user", "role", "ada", "king"]), "");
    assert!(!ok && err.contains("king"), "{err}");

    let (ok, out, _) = run(hearth(d).args(["user", "list"]), "");
    assert!(ok);
    assert!(out.lines().next().unwrap().starts_with("ID"));
    assert!(out.contains("Bob B") && out.contains("ada"));

    assert!(run(hearth(d).args(["user", "role", "Ada", "admin"]), "").0);
    assert!(run(hearth(d).args(["user", "disable", "bob"]), "").0);
    assert!(
        run(
            hearth(d).args(["user", "passwd", "ada", "--password-stdin"]),
            "another password\n"
        )
        .0
    );
    let (_, out, _) = run(hearth(d).args(["user", "list", "--json"]), "");
    let users: serde_json::Value = serde_json::from_str(&out).unwrap();
    let find = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(find("ada")["role"], "admin");
    assert_eq!(find("bob")["active"], false);
    assert_eq!(find("root")["active"], true);
    assert!(run(hearth(d).args(["user", "enable", "bob"]), "").0);
    let (_, out, _) = run(hearth(d).args(["user", "list", "--json"]), "");
    assert!(out.contains("\"active\":true,\"created_at\"") && !out.contains("\"active\":false"));
}

#[test]
fn without_a_terminal_the_password_prompt_explains_itself() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, _, err) = run(hearth(dir.path()).args(["user", "add", "ada"]), "");
    assert!(!ok);
    assert!(err.contains("--password-stdin"), "{err}");
}

/// A `hearth serve` child, killed on drop.
struct Server {
    child: Child,
    url: String,
    lines: Vec<String>,
}

impl Server {
    fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearth"));
        cmd.arg("--data-dir")
            .arg(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra);
        cmd.env("HEARTH_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut line = String::new();
        while Instant::now() < deadline {
            line.clear();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            lines.push(line.trim().to_owned());
            // A fresh data dir: the last line printed at start is the setup link.
            if line.contains("/setup?token=") {
                break;
            }
        }
        let url = lines
            .iter()
            .find_map(|l| l.strip_prefix("Hearth is listening on "))
            .unwrap_or_else(|| panic!("no listening line in {lines:?}"))
            .to_owned();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        Server { child, url, lines }
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(
            std::process::Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut err)
                    .unwrap();
                return (status, err);
            }
            assert!(
                Instant::now() < deadline,
                "server did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_cli_works_on_the_file_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = Server::start(d, &[]);
    let setup = server
        .lines
        .iter()
        .find(|l| l.contains("/setup?token="))
        .expect("a setup link");
    assert!(
        setup.starts_with(&format!("{}/setup?token=", server.url)),
        "{setup}"
    );
    let token = setup.split("token=").nth(1).unwrap();
    assert_eq!(token.len(), 64);

    assert!(
        run(
            hearth(d).args(["user", "add", "ada", "--password-stdin"]),
            PASSWORD
        )
        .0
    );
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let login = serde_json::json!({"username": "ada", "password": PASSWORD});
    let res = client
        .post(format!("{}/api/v1/session", server.url))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me = format!("{}/api/v1/me", server.url);
    assert_eq!(client.get(&me).send().await.unwrap().status(), 200);

    assert!(run(hearth(d).args(["user", "disable", "ada"]), "").0);
    assert_eq!(
        client.get(&me).send().await.unwrap().status(),
        401,
        "disabling ends the session"
    );
    let res = client
        .post(format!("{}/api/v1/session", server.url))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(run(hearth(d).args(["user", "enable", "ada"]), "").0);
    let res = client
        .post(format!("{}/api/v1/session", server.url))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let (status, err) = server.terminate();
    assert!(status.success(), "SIGTERM exits 0: {status:?} {err}");
}

#[test]
fn serve_with_no_flags_creates_its_data_dir_in_the_working_directory() {
    let cwd = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearth"));
    // Everything default but the port: tests never take a fixed one.
    cmd.current_dir(cwd.path())
        .env("HEARTH_LISTEN", "127.0.0.1:0")
        .env_remove("HEARTH_DATA_DIR");
    cmd.arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let mut second = String::new();
    out.read_line(&mut second).unwrap();
    let mut third = String::new();
    out.read_line(&mut third).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        first.starts_with("Hearth is listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(second.contains("No admin exists yet"), "{second}");
    assert!(third.contains("/setup?token="), "{third}");
    assert!(cwd.path().join("hearth-data/hearth.db").exists());
}

#[test]
fn serve_refuses_what_it_cannot_use_and_touches_nothing() {
    // A corrupt or foreign hearth.db.
    let dir = tempfile::tempdir().unwrap();
    let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
    std::fs::write(dir.path().join("hearth.db"), &garbage).unwrap();
    assert_fails_with(
        hearth(dir.path())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"]),
        "",
        "is not a SQLite database",
    );
    assert_eq!(
        std::fs::read(dir.path().join("hearth.db")).unwrap(),
        garbage
    );
    assert_fails_with(
        hearth(dir.path()).args(["user", "list"]),
        "",
        "is not a SQLite database",
    );

    // A file from a newer Hearth.
    let dir = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(dir.path().join("hearth.db")).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    assert_fails_with(
        hearth(dir.path())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0"]),
        "",
        "newer Hearth",
    );

    // A data dir that cannot be created.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    assert_fails_with(
        hearth(&dir.path().join("file/data")).arg("serve"),
        "",
        "cannot create data dir",
    );

    // A port already in use.
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    assert_fails_with(
        hearth(dir.path()).args(["serve", "--listen", &addr]),
        "",
        "cannot listen on",
    );
    assert_fails_with(
        hearth(dir.path()).args(["serve", "--listen", "localhost"]),
        "",
        "not of the form IP:PORT",
    );
}

#[test]
fn configuration_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hearth.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:0\"\nlisen = 1\n").unwrap();
    let mut cmd = hearth(dir.path());
    cmd.arg("--config").arg(&file).args(["user", "list"]);
    let (ok, _, err) = run(&mut cmd, "");
    assert!(!ok);
    assert!(err.contains("lisen"), "{err}");
    assert!(
        !dir.path().join("hearth.db").exists(),
        "nothing was created"
    );
    let mut cmd = hearth(dir.path());
    cmd.arg("--config")
        .arg(dir.path().join("missing.toml"))
        .args(["user", "list"]);
    assert_fails_with(&mut cmd, "", "cannot read config file");

    let (ok, out, _) = run(Command::cargo_bin("hearth").unwrap().arg("--help"), "");
    assert!(ok);
    for word in ["serve", "init", "user", "--data-dir", "--config"] {
        assert!(out.contains(word), "--help mentions {word}");
    }
}
