//! `login`: people with real argon2id hashes sign in through `POST /api/v1/session`, many at
//! once, right and wrong passwords mixed, while a signed-in user polls `GET /api/v1/me`.
//! Resident memory at its peak and after the burst, and how the signed-in user fared.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::client::{self, Http};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second, seed};

/// Answers counted by status: 200, 401, 429, 503, anything else, and transport errors.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    wrong: AtomicU64,
    throttled: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
    errors: AtomicU64,
}

impl Tally {
    fn count(&self, status: Option<u16>) {
        let slot = match status {
            Some(200) => &self.ok,
            Some(401) => &self.wrong,
            Some(429) => &self.throttled,
            Some(503) => &self.busy,
            Some(_) => &self.other,
            None => &self.errors,
        };
        slot.fetch_add(1, Ordering::Relaxed);
    }

    fn get(slot: &AtomicU64) -> u64 {
        slot.load(Ordering::Relaxed)
    }
}

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let people: usize = opts.get("people", 500)?;
    let concurrency: usize = opts.get("concurrency", 50)?;
    let seconds: f64 = opts.get("seconds", 10.0)?;
    let after = Duration::from_secs_f64(opts.get("after-s", 10.0)?);
    let poll = Duration::from_millis(opts.get("poll-ms", 20)?);
    let spread: usize = opts.get("source-addrs", 50)?;
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let seeded_at = Instant::now();
    // Person 0 is the one who polls; everyone signs in with `password-<i>`.
    seed::accounts(&data, people + 1, |i| format!("password-{i}"))?;
    let seed_secs = seeded_at.elapsed().as_secs_f64();
    let server = Server::start(&bin, &data, &Settings::from(opts))?;
    let idle_rss = server.rss_mb()?;

    // The poller signs in through the real path, from an address of its own.
    let poller_ip = client::source(250, 251);
    let cookie = sign_in(&reqwest_from(poller_ip)?, &server, 0, true)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the poller could not sign in"))?;
    let mut http = Http::connect(server.addr, poller_ip).await?;
    let mut quiet = histogram();
    for _ in 0..50 {
        let started = Instant::now();
        let (status, _) = http.get("/api/v1/me", &cookie).await?;
        anyhow::ensure!(
            status == 200,
            "GET /api/v1/me answered {status} before the burst"
        );
        quiet.saturating_record(started.elapsed().as_nanos() as u64);
        tokio::time::sleep(poll).await;
    }

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let cpu_before = server::cpu_time(server.pid);
    let mut workers = Vec::with_capacity(concurrency);
    for w in 0..concurrency {
        let client = reqwest_from(client::source(w, spread))?;
        let (tally, next, base) = (tally.clone(), next.clone(), server.base());
        workers.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                // People 1..=people in turn; every other attempt has the wrong password.
                let person = 1 + n % people.max(1);
                let right = (n / people.max(1) + n) % 2 == 0;
                tally.count(attempt(&client, &base, person, right).await);
            }
        }));
    }
    let poller = {
        let (stop, cookie) = (stop.clone(), cookie.clone());
        tokio::spawn(async move {
            let mut hist = histogram();
            let mut failures = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let started = Instant::now();
                match http.get("/api/v1/me", &cookie).await {
                    Ok((200, _)) => hist.saturating_record(started.elapsed().as_nanos() as u64),
                    _ => failures += 1,
                }
                tokio::time::sleep(poll).await;
            }
            (hist, failures)
        })
    };
    let mut peak_sampled = idle_rss;
    while Instant::now() < deadline {
        peak_sampled = peak_sampled.max(server.rss_mb().unwrap_or(0.0));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for worker in workers {
        worker.await?;
    }
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (burst, me_failures) = poller.await?;
    let server_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    let end_rss = server.rss_mb()?;
    tokio::time::sleep(after).await;
    let rss_after = server.rss_mb()?;
    let peak = server::peak_rss_mb(server.pid)?.max(peak_sampled);

    let t = &tally;
    let attempts = [&t.ok, &t.wrong, &t.throttled, &t.busy, &t.other, &t.errors]
        .iter()
        .map(|s| Tally::get(s))
        .sum::<u64>();
    let mut report = Report::default();
    report.note(format!(
        "{people} people with real argon2id hashes (seeded in {seed_secs:.1} s); {concurrency} \
         clients from {} addresses sign in for {seconds} s, right and wrong passwords in turn",
        spread.min(concurrency)
    ));
    report.note(format!(
        "one signed-in user GETs /api/v1/me every {} ms meanwhile; {}",
        poll.as_millis(),
        server.note()
    ));
    report.figure(
        "signins_per_s",
        per_second(Tally::get(&t.ok), took),
        "(report)",
    );
    report.figure("peak_rss_mb", peak, "<= 80");
    report.figure("rss_after_mb", rss_after, "<= 30 (10 s after the burst)");
    report.figure("me_p99_ms", ms(burst.value_at_quantile(0.99)), "<= 50");
    report.figure("me_p50_ms", ms(burst.value_at_quantile(0.5)), "");
    report.figure("me_quiet_p99_ms", ms(quiet.value_at_quantile(0.99)), "");
    report.figure(
        "checks_per_s",
        per_second(Tally::get(&t.ok) + Tally::get(&t.wrong), took),
        "",
    );
    report.figure("idle_rss_mb", idle_rss, "");
    report.figure("rss_at_end_mb", end_rss, "");
    report.field("attempts", attempts);
    report.field("ok", Tally::get(&t.ok));
    report.field("wrong", Tally::get(&t.wrong));
    report.field("throttled", Tally::get(&t.throttled));
    report.field("busy", Tally::get(&t.busy));
    report.field("other", Tally::get(&t.other));
    report.field("errors", Tally::get(&t.errors));
    report.field("me_requests", burst.len());
    report.field("me_failures", me_failures);
    report.field("server_cpu_s", server_cpu.as_secs_f64());
    report.field("people", people);
    report.field("concurrency", concurrency);
    Ok(report)
}

/// An HTTP client whose connections leave from `ip`.
fn reqwest_from(ip: std::net::IpAddr) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .local_address(ip)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// One sign-in attempt; the status, or `None` when the request failed in transport.
async fn attempt(client: &reqwest::Client, base: &str, person: usize, right: bool) -> Option<u16> {
    let password = if right {
        format!("password-{person}")
    } else {
        "not-the-password".to_owned()
    };
    let body = serde_json::json!({"username": seed::account_name(person), "password": password});
    let res = client
        .post(format!("{base}/api/v1/session"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = res.status().as_u16();
    let _ = res.bytes().await;
    Some(status)
}

/// Signs person `i` in; the session cookie (`name=value`) when it worked.
async fn sign_in(
    client: &reqwest::Client,
    server: &Server,
    person: usize,
    right: bool,
) -> anyhow::Result<Option<String>> {
    let password = if right {
        format!("password-{person}")
    } else {
        "wrong".into()
    };
    let body = serde_json::json!({"username": seed::account_name(person), "password": password});
    let res = client
        .post(format!("{}/api/v1/session", server.base()))
        .json(&body)
        .send()
        .await?;
    if !res.status().is_success() {
        return Ok(None);
    }
    Ok(res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned))
}
