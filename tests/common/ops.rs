//! Helpers for the operator's tests: the `hearth` binary as a command and as a running server.
//! Used with `#[path = "common/ops.rs"] mod ops_support;` beside `mod common;`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "correct horse battery";

/// `hearth --data-dir DIR` with a clean environment.
pub fn hearth(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("hearth"));
    cmd.arg("--data-dir")
        .arg(dir)
        .env_remove("HEARTH_CONFIG")
        .env_remove("HEARTH_LISTEN")
        .env("HEARTH_LOG", "warn");
    cmd
}

/// What a finished command said.
#[derive(Debug)]
pub struct Output {
    pub ok: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs a command with `stdin` as its input.
pub fn run(cmd: &mut Command, stdin: &str) -> Output {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hearth");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    Output {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs a command that must succeed.
pub fn ok(cmd: &mut Command) -> Output {
    let out = run(cmd, "");
    assert!(out.ok, "{cmd:?} failed: {}{}", out.stdout, out.stderr);
    out
}

/// Creates the database with an admin `root` and members `names`.
pub fn init_with_users(dir: &Path, names: &[&str]) {
    let out = run(
        hearth(dir).args(["init", "--admin", "root", "--password-stdin"]),
        PASSWORD,
    );
    assert!(out.ok, "{}", out.stderr);
    for name in names {
        let out = run(
            hearth(dir).args(["user", "add", name, "--password-stdin"]),
            PASSWORD,
        );
        assert!(out.ok, "{}", out.stderr);
    }
}

/// A `hearth serve` child process; killed on drop.
pub struct Server {
    pub child: Child,
    pub url: String,
    pub addr: String,
}

impl Server {
    /// Starts `hearth serve` on 127.0.0.1:0 and waits for its "listening" line.
    pub fn start(dir: &Path, envs: &[(&str, &str)]) -> Server {
        Self::try_start(dir, envs)
            .unwrap_or_else(|(status, err)| panic!("serve exited {status:?}: {err}"))
    }

    /// Starts `hearth serve` on a given address (e.g. where a stopped one listened).
    pub fn start_at(dir: &Path, listen: &str) -> Server {
        Self::try_start_at(dir, listen, &[])
            .unwrap_or_else(|(status, err)| panic!("serve exited {status:?}: {err}"))
    }

    /// Like `start`, but a server that exits at once gives back its status and stderr.
    pub fn try_start(dir: &Path, envs: &[(&str, &str)]) -> Result<Server, (ExitStatus, String)> {
        Self::try_start_at(dir, "127.0.0.1:0", envs)
    }

    /// Starts `hearth serve` from a shell that first runs `prelude` (`umask 000`, `ulimit -n 200`).
    pub fn start_after(dir: &Path, prelude: &str, envs: &[(&str, &str)]) -> Server {
        let mut cmd = hearth(dir);
        cmd.args(["serve", "--listen", "127.0.0.1:0"]);
        let mut shell = Command::new("sh");
        shell
            .arg("-c")
            .arg(format!("{prelude} && exec \"$0\" \"$@\""))
            .arg(cmd.get_program())
            .args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => shell.env(key, value),
                None => shell.env_remove(key),
            };
        }
        Self::spawn(shell, envs)
            .unwrap_or_else(|(status, err)| panic!("serve exited {status:?}: {err}"))
    }

    fn try_start_at(
        dir: &Path,
        listen: &str,
        envs: &[(&str, &str)],
    ) -> Result<Server, (ExitStatus, String)> {
        let mut cmd = hearth(dir);
        cmd.args(["serve", "--listen", listen]);
        Self::spawn(cmd, envs)
    }

    fn spawn(mut cmd: Command, envs: &[(&str, &str)]) -> Result<Server, (ExitStatus, String)> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start hearth serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut url = None;
        let mut line = String::new();
        while Instant::now() < deadline {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(u) = line.trim().strip_prefix("Hearth is listening on ") {
                url = Some(u.to_owned());
                break;
            }
        }
        let Some(url) = url else {
            let status = child.wait().unwrap();
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return Err((status, err));
        };
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in out.lines() {});
        let addr = url.trim_start_matches("http://").to_owned();
        Ok(Server { child, url, addr })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no shutdown, no flush, no goodbye.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then waits (bounded) for a clean exit; returns its status and stderr.
    pub fn terminate(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut err = String::new();
                if let Some(mut stderr) = self.child.stderr.take() {
                    stderr.read_to_string(&mut err).unwrap();
                }
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

/// Signs `name` in; returns the `name=value` session cookie.
pub async fn login(base: &str, name: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"username": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login as {name}");
    res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The names of the entries of a .tar.gz, in order.
pub fn archive_entries(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect()
}

/// Reads every entry of a .tar.gz into memory: (name, bytes).
pub fn unpack(path: &Path) -> Vec<(String, Vec<u8>)> {
    let file = std::fs::File::open(path).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().display().to_string();
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Writes entries as a .tar.gz (to build tampered and foreign archives).
pub fn pack(path: &Path, entries: &[(String, Vec<u8>)]) {
    let file = std::fs::File::create(path).unwrap();
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
}

/// Every file under `dir` with its bytes, for "nothing changed" assertions.
pub fn snapshot_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    if !dir.exists() {
        return found;
    }
    let mut pending = vec![dir.to_owned()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let name = path.strip_prefix(dir).unwrap().display().to_string();
                found.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}
