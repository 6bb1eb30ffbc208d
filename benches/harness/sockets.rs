//! `idle` and `connect`: many authenticated, subscribed sockets; and the helpers that open
//! and drain them for other scenarios.

use futures_util::StreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::client::{self, Ws};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, seed};

/// Sockets that reached `ready`, the errors of those that did not, and how long it all took.
pub struct Connected {
    pub sockets: Vec<Ws>,
    pub failures: Vec<String>,
    pub took: Duration,
    pub each: hdrhistogram::Histogram<u64>,
}

/// Opens one socket per cookie (at most `concurrency` handshakes at once) and says hello on each.
pub async fn connect_many(
    server: SocketAddr,
    cookies: Vec<String>,
    concurrency: usize,
    spread: usize,
    timeout: Duration,
) -> Connected {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let started = Instant::now();
    let tasks: Vec<JoinHandle<anyhow::Result<(Ws, Duration)>>> = cookies
        .into_iter()
        .enumerate()
        .map(|(i, cookie)| {
            let gate = gate.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let began = Instant::now();
                let ws = tokio::time::timeout(
                    timeout,
                    client::connect(server, client::source(i, spread), &cookie),
                )
                .await
                .map_err(|_| anyhow::anyhow!("no ready within {timeout:?}"))??;
                Ok((ws, began.elapsed()))
            })
        })
        .collect();
    let mut out = Connected {
        sockets: Vec::with_capacity(tasks.len()),
        failures: Vec::new(),
        took: Duration::ZERO,
        each: histogram(),
    };
    for task in tasks {
        match task.await {
            Ok(Ok((ws, took))) => {
                out.each.saturating_record(took.as_nanos() as u64);
                out.sockets.push(ws);
            }
            Ok(Err(e)) => out.failures.push(format!("{e:#}")),
            Err(e) => out.failures.push(e.to_string()),
        }
    }
    out.took = started.elapsed();
    out
}

/// Reads a socket until it ends, handing each text frame to `on_text`; counts sockets closed.
pub fn drain(
    mut ws: Ws,
    closed: Arc<AtomicUsize>,
    on_text: Arc<dyn Fn(&str) + Send + Sync>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Text(t) => on_text(&t),
                Message::Close(_) => break,
                _ => {}
            }
        }
        closed.fetch_add(1, Ordering::Relaxed);
    })
}

/// A started server with `clients` seeded users (each a member of one channel), ready to be
/// connected to; the temp dir lives as long as this does.
struct Started {
    clients: usize,
    concurrency: usize,
    spread: usize,
    timeout: Duration,
    cookies: Vec<String>,
    server: Server,
    _dir: tempfile::TempDir,
}

impl Started {
    /// Connects every client (`concurrency` handshakes at a time).
    async fn connect(&self) -> Connected {
        let cookies = self.cookies.clone();
        connect_many(
            self.server.addr,
            cookies,
            self.concurrency,
            self.spread,
            self.timeout,
        )
        .await
    }
}

async fn start(opts: &Opts) -> anyhow::Result<Started> {
    let clients = opts.get("clients", 10_000)?;
    let bin = server::binary(opts);
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let people = seed::people(&data, clients, 1, |_| vec![0])?;
    let server = Server::start(&bin, &data, &Settings::from(opts))?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(Started {
        clients,
        concurrency: opts.get("concurrency", 100)?,
        spread: opts.get("source-addrs", 50)?,
        timeout: Duration::from_secs(opts.get("timeout-s", 120)?),
        cookies: (0..clients).map(|i| people.cookie(i)).collect(),
        server,
        _dir: dir,
    })
}

/// `idle`: N connected, authenticated, subscribed clients; the server's resident memory.
pub async fn idle(opts: &Opts) -> anyhow::Result<Report> {
    let settle = Duration::from_millis(opts.get("settle-ms", 3_000)?);
    let run = start(opts).await?;
    let (clients, server) = (run.clients, &run.server);
    let rss_before = server.rss_mb()?;
    let connected = run.connect().await;
    let failures = connected.failures.len();
    let closed = Arc::new(AtomicUsize::new(0));
    let open = connected.sockets.len();
    let readers: Vec<_> = connected
        .sockets
        .into_iter()
        .map(|ws| drain(ws, closed.clone(), Arc::new(|_: &str| {})))
        .collect();
    tokio::time::sleep(settle).await;
    let rss = server.rss_mb()?;
    let sockets = server
        .metrics()
        .await?
        .get("hearth_open_sockets")
        .copied()
        .unwrap_or(0.0);
    let still_open = open - closed.load(Ordering::Relaxed);
    for r in &readers {
        r.abort();
    }

    let mut report = Report::default();
    report.note(format!(
        "{clients} clients, each its own user, all members of one channel; settled {settle:?}"
    ));
    report.note(server.note());
    report.figure("rss_mb", rss, "<= 120");
    report.figure("rss_before_mb", rss_before, "(no clients)");
    let per = if open > 0 {
        (rss - rss_before) * 1024.0 / open as f64
    } else {
        0.0
    };
    report.figure("kib_per_socket", (per * 10.0).round() / 10.0, "");
    report.figure("open_sockets", sockets, "");
    report.figure("failures", failures as u64, "0");
    report.field("clients", clients);
    report.field("still_open", still_open);
    if let Some(first) = connected.failures.first() {
        report.note(format!("first failure: {first}"));
    }
    Ok(report)
}

/// `connect`: N clients connect, authenticate and receive `ready`; how long until all have.
pub async fn connect(opts: &Opts) -> anyhow::Result<Report> {
    let run = start(opts).await?;
    let (clients, concurrency, server) = (run.clients, run.concurrency, &run.server);
    let cpu_before = server::cpu_time(server.pid);
    let own_before = server::cpu_time(std::process::id());
    let connected = run.connect().await;
    let server_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    let own_cpu = server::cpu_time(std::process::id()).saturating_sub(own_before);
    let per_conn = |cpu: Duration| (cpu.as_secs_f64() * 1e6 / clients.max(1) as f64).round();
    let took = connected.took;

    let mut report = Report::default();
    report.note(format!(
        "{clients} clients, each its own user in one channel; {concurrency} handshakes in flight at most"
    ));
    report.note(server.note());
    report.figure(
        "total_s",
        (took.as_secs_f64() * 1000.0).round() / 1000.0,
        "<= 1.0",
    );
    report.figure("failures", connected.failures.len() as u64, "0");
    report.figure(
        "connects_per_s",
        super::per_second(connected.sockets.len() as u64, took),
        "",
    );
    report.figure(
        "each_p50_ms",
        ms(connected.each.value_at_quantile(0.5)),
        "(one handshake)",
    );
    report.figure(
        "each_p99_ms",
        ms(connected.each.value_at_quantile(0.99)),
        "",
    );
    report.figure("server_cpu_us_per_conn", per_conn(server_cpu), "");
    report.figure(
        "client_cpu_us_per_conn",
        per_conn(own_cpu),
        "(the load generator)",
    );
    report.field("clients", clients);
    report.field("concurrency", concurrency);
    if let Some(first) = connected.failures.first() {
        report.note(format!("first failure: {first}"));
    }
    Ok(report)
}
