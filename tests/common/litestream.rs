//! Helpers for the replication tests: the pinned tools (`litestream`, `moto_server`, installed by
//! `.ci/run` from `.ci/requirements.txt`), a replicating Litestream, and an S3
//! endpoint on loopback. Used with `#[path = "common/litestream.rs"] mod replication;`.
//!
//! A tool is found by its variable (`LITESTREAM`, `MOTO_SERVER`), then in `.ci/venv/bin`, then
//! on PATH. Missing, the test is skipped with a message, except in CI (`CI` set): there it fails.
#![allow(dead_code)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Finds a tool, or says why the test cannot run (panicking in CI).
pub fn require(var: &str, name: &str) -> Option<PathBuf> {
    let found = std::env::var_os(var)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let venv = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(".ci/venv/bin")
                .join(name);
            venv.is_file().then_some(venv)
        })
        .or_else(|| {
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .filter(|p| p.is_file());
    if found.is_none() {
        let why = format!(
            "{name} is not installed (set {var}, or run: python3 -m venv .ci/venv && \
             .ci/venv/bin/pip install -r .ci/requirements.txt)"
        );
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("CI is set but the replication tests cannot run: {why}");
        }
        let _ = writeln!(
            std::io::stderr(),
            "\n**********************************************************************\n\
             SKIPPING REPLICATION TEST: {why}\n\
             **********************************************************************\n"
        );
    }
    found
}

pub fn litestream() -> Option<PathBuf> {
    require("LITESTREAM", "litestream")
}

/// Where Litestream sends the database.
#[derive(Debug, Clone)]
pub enum Replica {
    File(PathBuf),
    S3 {
        endpoint: String,
        bucket: String,
        path: String,
    },
}

impl Replica {
    pub fn kind(&self) -> &'static str {
        match self {
            Replica::File(_) => "file",
            Replica::S3 { .. } => "s3",
        }
    }
}

/// Writes a litestream.yml replicating `db` to `replica`, syncing every `sync`.
pub fn write_config(path: &Path, db: &Path, replica: &Replica, sync: Duration) {
    let replica = match replica {
        Replica::File(dir) => format!("      type: file\n      path: {}\n", dir.display()),
        Replica::S3 {
            endpoint,
            bucket,
            path,
        } => format!(
            "      type: s3\n      bucket: {bucket}\n      path: {path}\n      endpoint: {endpoint}\n      \
             region: us-east-1\n      force-path-style: true\n      access-key-id: test\n      \
             secret-access-key: test\n"
        ),
    };
    let text = format!(
        "dbs:\n  - path: {}\n    monitor-interval: 250ms\n    replica:\n{replica}      sync-interval: {}ms\n",
        db.display(),
        sync.as_millis()
    );
    std::fs::write(path, text).unwrap();
}

/// The environment a Litestream child gets: nothing that could send it off loopback.
pub fn loopback_only(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("AWS_") || key.to_ascii_lowercase().ends_with("_proxy") {
            cmd.env_remove(key.as_ref());
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_PROXY", "127.0.0.1")
}

/// `litestream replicate`, its output in a log file; killed on drop.
pub struct Replicator {
    child: Child,
    pub log: PathBuf,
}

impl Replicator {
    pub fn start(binary: &Path, config: &Path, log: &Path) -> Replicator {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = loopback_only(&mut Command::new(binary))
            .args(["replicate", "-config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start litestream replicate");
        Replicator {
            child,
            log: log.to_owned(),
        }
    }

    /// `kill -9`: what it had not sent is lost.
    pub fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it cleanly (it sends what it has first), bounded.
    pub fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "litestream did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Replicator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `litestream restore -config CONFIG -o OUT DB`, until it succeeds and `ready(OUT)` says the
/// copy has what the test waits for (bounded).
pub fn wait_replicated(
    binary: &Path,
    config: &Path,
    db: &Path,
    ready: impl Fn(&Path) -> bool,
) -> PathBuf {
    let work = config.with_extension("probe");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work).unwrap();
        let out = work.join("copy.db");
        let status = loopback_only(&mut Command::new(binary))
            .args(["restore", "-config"])
            .arg(config)
            .arg("-o")
            .arg(&out)
            .arg(db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        if status.success() && ready(&out) {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "litestream did not replicate {} within 20 s",
            db.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `moto_server`: an S3-compatible endpoint on a free loopback port; killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
    addr: SocketAddr,
}

impl Moto {
    pub fn start(binary: &Path) -> Moto {
        Moto::start_with(binary, &[])
    }

    /// The same, with variables for moto (`INITIAL_NO_AUTH_ACTION_COUNT=0` makes it check
    /// credentials, which it then knows none of).
    pub fn start_with(binary: &Path, env: &[(&str, &str)]) -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .envs(env.iter().copied())
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let moto = Moto {
            child,
            endpoint: format!("http://{addr}"),
            addr,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while moto.request("GET", "/").is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Creates a bucket (moto takes unsigned requests).
    pub fn create_bucket(&self, name: &str) {
        let status = self.request("PUT", &format!("/{name}")).unwrap();
        assert!(status.contains(" 200"), "create bucket {name}: {status}");
    }

    /// One HTTP/1.0 request; answers the status line.
    fn request(&self, method: &str, path: &str) -> std::io::Result<String> {
        use std::io::Read;
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        write!(
            stream,
            "{method} {path} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\n\r\n",
            self.addr
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer.lines().next().unwrap_or("").to_owned())
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
