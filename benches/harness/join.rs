//! `join`: newcomers join through one invite link, as the invite page's form posts it, many at
//! once from many addresses, while a member polls `GET /api/v1/me`. The admin makes the invite
//! through the API. Joins per second, each join's latency, resident memory at its peak and
//! after the burst, and how the member fared.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::client::{self, Http};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second, seed};

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let people: usize = opts.get("people", 300)?;
    let concurrency: usize = opts.get("concurrency", 30)?;
    let after = Duration::from_secs_f64(opts.get("after-s", 10.0)?);
    let poll = Duration::from_millis(opts.get("poll-ms", 20)?);
    // One address makes at most 10 accounts an hour: spread the newcomers so none is refused.
    let spread: usize = opts.get("source-addrs", 50)?;
    anyhow::ensure!(
        people <= spread * 10,
        "{people} newcomers need at least {} source addresses (10 accounts an hour each)",
        people.div_ceil(10)
    );
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // Person 0 is the admin who makes the invite, person 1 the member who polls.
    seed::accounts(&data, 2, |i| format!("password-{i}"))?;
    seed::make_admin(&data, 0)?;
    let server = Server::start(&bin, &data, &Settings::from(opts))?;
    let idle_rss = server.rss_mb()?;

    let admin = client_from(client::source(252, 253))?;
    let admin_cookie = sign_in(&admin, &server, 0).await?;
    let res = admin
        .post(format!("{}/api/v1/invites", server.base()))
        .header("cookie", &admin_cookie)
        .json(&serde_json::json!({"expires": "1d"}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 201, "making the invite: {}", res.status());
    let made: serde_json::Value = res.json().await?;
    let link = made["link"].as_str().unwrap_or_default();
    let token = link.rsplit("/join/").next().unwrap_or_default().to_owned();

    let poller_ip = client::source(250, 251);
    let cookie = sign_in(&client_from(poller_ip)?, &server, 1).await?;
    let mut http = Http::connect(server.addr, poller_ip).await?;

    let next = Arc::new(AtomicU64::new(0));
    let (joined, refused, failed) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let cpu_before = server::cpu_time(server.pid);
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let (next, joined, refused, failed) = (
            next.clone(),
            joined.clone(),
            refused.clone(),
            failed.clone(),
        );
        let (base, token) = (server.base(), token.clone());
        workers.push(tokio::spawn(async move {
            let mut latency = histogram();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                if n >= people {
                    break;
                }
                // Each newcomer from an address of its own group: 10 at most per address.
                let Ok(client) = client_from(client::source(n % spread, spread)) else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let name = format!("newcomer{n}");
                let form = [
                    ("username", name.as_str()),
                    ("display_name", ""),
                    ("password", "a newcomer's password"),
                    ("confirm", "a newcomer's password"),
                ];
                let at = Instant::now();
                let sent = client
                    .post(format!("{base}/join/{token}"))
                    .form(&form)
                    .send()
                    .await;
                match sent.map(|r| r.status().as_u16()) {
                    Ok(303) => {
                        latency.saturating_record(at.elapsed().as_nanos() as u64);
                        joined.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(429 | 503) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            let _ = w;
            latency
        }));
    }
    let poller = {
        let (stop, cookie) = (stop.clone(), cookie.clone());
        tokio::spawn(async move {
            let mut hist = histogram();
            let mut failures = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let at = Instant::now();
                match http.get("/api/v1/me", &cookie).await {
                    Ok((200, _)) => hist.saturating_record(at.elapsed().as_nanos() as u64),
                    _ => failures += 1,
                }
                tokio::time::sleep(poll).await;
            }
            (hist, failures)
        })
    };
    let mut peak_sampled = idle_rss;
    let mut latency = histogram();
    let mut pending = workers;
    while !pending.is_empty() {
        peak_sampled = peak_sampled.max(server.rss_mb().unwrap_or(0.0));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (done, rest): (Vec<_>, Vec<_>) = pending.into_iter().partition(|w| w.is_finished());
        for worker in done {
            latency.add(worker.await?)?;
        }
        pending = rest;
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (burst, me_failures) = poller.await?;
    let server_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    tokio::time::sleep(after).await;
    let rss_after = server.rss_mb()?;
    let peak = server::peak_rss_mb(server.pid)?.max(peak_sampled);
    let joined = joined.load(Ordering::Relaxed);

    let mut report = Report::default();
    report.note(format!(
        "{people} newcomers join through one invite link (POST /join/{{token}}, the page's form), \
         {concurrency} at a time from {spread} addresses; each join hashes a password (argon2id)"
    ));
    report.note(format!(
        "one member GETs /api/v1/me every {} ms meanwhile; {}",
        poll.as_millis(),
        server.note()
    ));
    report.figure("joins_per_s", per_second(joined, took), "(report)");
    report.figure("join_p50_ms", ms(latency.value_at_quantile(0.5)), "");
    report.figure("join_p99_ms", ms(latency.value_at_quantile(0.99)), "");
    report.figure("peak_rss_mb", peak, "<= 80");
    report.figure("rss_after_mb", rss_after, "<= 30 (after the burst)");
    report.figure("me_p99_ms", ms(burst.value_at_quantile(0.99)), "<= 50");
    report.figure("idle_rss_mb", idle_rss, "");
    report.field("joined", joined);
    report.field("refused", refused.load(Ordering::Relaxed));
    report.field("failed", failed.load(Ordering::Relaxed));
    report.field("me_requests", burst.len());
    report.field("me_failures", me_failures);
    report.field("server_cpu_s", server_cpu.as_secs_f64());
    report.field("seconds", took.as_secs_f64());
    Ok(report)
}

fn client_from(ip: std::net::IpAddr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(ip)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// Signs person `i` in (password `password-{i}`); the session cookie (`name=value`).
async fn sign_in(client: &reqwest::Client, server: &Server, i: usize) -> anyhow::Result<String> {
    let body =
        serde_json::json!({"username": seed::account_name(i), "password": format!("password-{i}")});
    let res = client
        .post(format!("{}/api/v1/session", server.base()))
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        res.status() == 200,
        "signing in person {i}: {}",
        res.status()
    );
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hearth_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no session cookie"))
}
