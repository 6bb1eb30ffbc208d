//! The processes behind a `Browser`: finding Chromium and chromedriver, starting the driver on
//! a free port, and ending a session without an async runtime.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::POLL;

/// How long chromedriver may take to answer after it was started.
const DRIVER_START: Duration = Duration::from_secs(10);

/// The binaries a browser test needs, when both are installed.
pub(super) struct Binaries {
    pub(super) driver: PathBuf,
    pub(super) chromium: PathBuf,
}

impl Binaries {
    /// Finds chromedriver (`CHROMEDRIVER`, /usr/bin/chromedriver, PATH) and Chromium
    /// (`CHROMIUM`, /usr/bin/chromium, PATH); names what is missing otherwise.
    pub(super) fn find() -> Result<Binaries, String> {
        let driver = find_binary("CHROMEDRIVER", "/usr/bin/chromedriver", &["chromedriver"]);
        let chromium = find_binary(
            "CHROMIUM",
            "/usr/bin/chromium",
            &["chromium", "chromium-browser"],
        );
        match (driver, chromium) {
            (Ok(driver), Ok(chromium)) => Ok(Binaries { driver, chromium }),
            (Err(a), Err(b)) => Err(format!("{a}; {b}")),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

fn find_binary(env: &str, default: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{env}={} does not exist", path.display()))
        };
    }
    let default = Path::new(default);
    if default.is_file() {
        return Ok(default.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!("{} not found (set {env}, or install it)", names[0]))
}

pub(super) fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// A chromedriver child process, killed on drop.
pub(super) struct Driver {
    child: Child,
    pub(super) addr: SocketAddr,
    log: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it says it is ready.
    pub(super) async fn start(binary: &Path, dir: &Path, http: &reqwest::Client) -> Driver {
        let mut last_failure = String::new();
        // The free port is found by binding :0 and letting go; another process may take it
        // in between, so a driver that dies at once is retried on a new port.
        for attempt in 1..=3 {
            let addr = free_port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let child = Command::new(binary)
                .arg(format!("--port={}", addr.port()))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut driver = Driver { child, addr, log };
            match driver.wait_ready(http).await {
                Ok(()) => return driver,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("chromedriver did not start: {last_failure}");
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let deadline = Instant::now() + DRIVER_START;
        let status = format!("http://{}/status", self.addr);
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                return Err(format!("it exited with {exit}; log:\n{}", self.log_tail()));
            }
            let ready = http
                .get(&status)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(res) = ready {
                let body: Value = res.json().await.unwrap_or_default();
                if body["value"]["ready"] == json!(true) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no answer on {} within {DRIVER_START:?}; log:\n{}",
                    self.addr,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    pub(super) fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr")
}

/// Ends a WebDriver session with a plain blocking request (for `Drop`, where no runtime runs).
pub(super) fn delete_session_blocking(addr: SocketAddr, session_id: &str) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}
