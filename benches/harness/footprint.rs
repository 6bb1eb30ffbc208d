//! `footprint`: a fresh data dir each run; exec until `/healthz` answers 200, resident memory
//! once idle, and the size of the binary.

use std::time::{Duration, Instant};

use super::client::{self, Http};
use super::server::{self, Server, Settings};
use super::{Opts, Report};

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let runs: usize = opts.get("runs", 5)?;
    let settle = Duration::from_millis(opts.get("settle-ms", 1_000)?);
    let bin = server::binary(opts);
    let binary_mb = std::fs::metadata(&bin)?.len() as f64 / (1024.0 * 1024.0);

    let mut cold = Vec::new();
    let mut rss = Vec::new();
    for _ in 0..runs.max(1) {
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        let started = Instant::now();
        let server = Server::start(&bin, &data, &Settings::from(opts))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = async {
                let mut http = Http::connect(server.addr, client::source(0, 1)).await?;
                http.get("/healthz", "x=y").await
            };
            if let Ok((200, _)) = answer.await {
                break;
            }
            anyhow::ensure!(Instant::now() < deadline, "no /healthz 200 within 10 s");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        cold.push(started.elapsed().as_secs_f64() * 1000.0);
        tokio::time::sleep(settle).await;
        rss.push(server.rss_mb()?);
    }

    let mut report = Report::default();
    report.note(format!(
        "{} runs on fresh data dirs (creates and migrates hearth.db); binary {}",
        cold.len(),
        bin.display()
    ));
    report.note(format!("load average {:.2}", server::loadavg()));
    report.figure(
        "cold_start_ms",
        (median(&mut cold) * 10.0).round() / 10.0,
        "<= 50 (exec to /healthz 200)",
    );
    report.figure("idle_rss_mb", median(&mut rss), "<= 10");
    report.figure("binary_mb", (binary_mb * 10.0).round() / 10.0, "(report)");
    report.figure(
        "cold_start_max_ms",
        (cold.iter().cloned().fold(0.0, f64::max) * 10.0).round() / 10.0,
        "",
    );
    report.field("runs", cold.len());
    Ok(report)
}

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}
