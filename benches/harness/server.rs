//! The server under test: the `hearth` binary as a child process on a temp data dir.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Opts;

/// Raises this process's open-file limit as far as allowed; children (the server) inherit it.
pub fn raise_nofile() {
    const WANT: u64 = 65_536;
    if rlimit::setrlimit(rlimit::Resource::NOFILE, WANT, WANT).is_err() {
        let _ = rlimit::increase_nofile_limit(WANT);
    }
}

/// The current soft open-file limit.
pub fn nofile() -> u64 {
    rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(0, |(soft, _)| soft)
}

/// The `hearth` binary to start: `--bin`, else the one cargo built alongside this target.
pub fn binary(opts: &Opts) -> PathBuf {
    PathBuf::from(opts.string("bin", env!("CARGO_BIN_EXE_hearth")))
}

const METRICS_TOKEN: &str = "hearth-load-harness-metrics";

/// How the server is configured beyond its data dir.
#[derive(Clone, Debug)]
pub struct Settings {
    pub synchronous: String,
    pub send_per_minute: u32,
    /// More environment for the server (`--server-env K=V,K=V`), for experiments.
    pub env: Vec<(String, String)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            synchronous: "full".into(),
            send_per_minute: 120,
            env: Vec::new(),
        }
    }
}

impl Settings {
    /// Defaults plus the `--server-env` of the command line.
    pub fn from(opts: &Opts) -> Settings {
        let env = opts
            .string("server-env", "")
            .split(',')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        Settings {
            env,
            ..Settings::default()
        }
    }
}

/// A running server; killed and its data dir removed on drop.
pub struct Server {
    pub addr: SocketAddr,
    pub pid: u32,
    /// From exec to the "listening" line on stdout.
    pub started_in: Duration,
    child: Child,
    log: PathBuf,
}

impl Server {
    /// The report line naming this server and how loaded the machine is now.
    pub fn note(&self) -> String {
        format!("server pid {}; load average {:.2}", self.pid, loadavg())
    }

    /// Starts `bin` on `data_dir` listening on 127.0.0.1 (a free port) and waits until it listens.
    pub fn start(bin: &Path, data_dir: &Path, settings: &Settings) -> anyhow::Result<Server> {
        let log = data_dir.with_extension("log");
        let stderr = std::fs::File::create(&log)?;
        let started = Instant::now();
        let mut child = Command::new(bin)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env("HEARTH_SYNCHRONOUS", &settings.synchronous)
            .env(
                "HEARTH_SEND_PER_MINUTE",
                settings.send_per_minute.to_string(),
            )
            .env("HEARTH_LOG", "warn")
            .env("HEARTH_METRICS_TOKEN", METRICS_TOKEN)
            .envs(settings.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next() else {
                let _ = child.kill();
                let _ = child.wait();
                let why = std::fs::read_to_string(&log).unwrap_or_default();
                anyhow::bail!("{} exited before listening:\n{why}", bin.display());
            };
            if let Some(url) = line?.strip_prefix("Hearth is listening on http://") {
                break url.trim().parse::<SocketAddr>()?;
            }
        };
        let started_in = started.elapsed();
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Ok(Server {
            addr,
            pid,
            started_in,
            child,
            log,
        })
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Resident memory of the server process, in MiB.
    pub fn rss_mb(&self) -> anyhow::Result<f64> {
        rss_mb(self.pid)
    }

    /// The unlabelled samples of `/metrics` (writer commits and jobs, sockets, deliveries).
    pub async fn metrics(&self) -> anyhow::Result<std::collections::HashMap<String, f64>> {
        let text = reqwest::Client::new()
            .get(format!("{}/metrics", self.base()))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.contains('{'))
            .filter_map(|l| {
                let (name, value) = l.split_once(' ')?;
                Some((name.to_owned(), value.trim().parse().ok()?))
            })
            .collect())
    }

    /// Warnings and errors the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // For debugging a run: HEARTH_LOAD_SERVER_LOG=path keeps the server's log there.
        if let Ok(keep) = std::env::var("HEARTH_LOAD_SERVER_LOG") {
            let _ = std::fs::copy(&self.log, keep);
        }
    }
}

/// VmRSS of a process, in MiB.
pub fn rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for pid {pid}"))?;
    Ok((kb / 1024.0 * 10.0).round() / 10.0)
}

/// The most memory the process ever had resident (VmHWM), in MiB.
pub fn peak_rss_mb(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM for pid {pid}"))?;
    Ok((kb / 1024.0 * 10.0).round() / 10.0)
}

/// CPU time (user + system) a process has used, from /proc/PID/stat.
pub fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat; here 0-based after the state field at 0.
    let total = ticks(11) + ticks(12);
    Duration::from_millis(total * 10)
}

/// Total memory of the machine, in MiB.
pub fn mem_total_mb() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

/// The 1-minute load average: how busy the machine was around the run.
pub fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}
