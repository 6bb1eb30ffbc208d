//! `push`: one channel of N members who are all away, each with a push device and the level
//! "every message"; messages posted to it, and how fast their pushes reach a local push
//! service (the real path: decision, encryption, VAPID, the checked client), how posting in
//! another conversation fares meanwhile, and the server's memory.

use axum::Router;
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::server::{self, Server, Settings};
use super::{Opts, Report, client, histogram, ms, per_second, seed};

/// Counts what the push service took, and when the last arrived (µs after `epoch`).
struct Receiver {
    taken: AtomicU64,
    last_us: AtomicU64,
    epoch: Instant,
}

async fn start_receiver() -> anyhow::Result<(std::net::SocketAddr, Arc<Receiver>)> {
    let state = Arc::new(Receiver {
        taken: AtomicU64::new(0),
        last_us: AtomicU64::new(0),
        epoch: Instant::now(),
    });
    let shared = state.clone();
    let app = Router::new().route(
        "/push/{n}",
        post(move || {
            let r = shared.clone();
            async move {
                r.taken.fetch_add(1, Ordering::Relaxed);
                r.last_us
                    .fetch_max(r.epoch.elapsed().as_micros() as u64, Ordering::Relaxed);
                axum::http::StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((addr, state))
}

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let members: usize = opts.get("members", 1000)?;
    let posts: usize = opts.get("posts", 5)?;
    let probes: usize = opts.get("probes", 300)?;
    let spread: usize = opts.get("source-addrs", 50)?;
    let timeout = Duration::from_secs(opts.get("timeout-s", 120)?);
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // User 0 posts to the big channel (room 0); user 1 posts probes in room 1; users 2.. are the
    // members with devices.
    let seeded = seed::people(&data, members + 2, 2, |i| match i {
        0 => vec![0, 1],
        1 => vec![1],
        _ => vec![0],
    })?;
    let (big, quiet) = (seeded.rooms[0], seeded.rooms[1]);
    tokio::task::block_in_place(|| -> anyhow::Result<()> {
        let conn = rusqlite::Connection::open(data.join("hearth.db"))?;
        conn.execute(
            "UPDATE memberships SET notify = 'all' WHERE conversation_id = ?1",
            [big],
        )?;
        Ok(())
    })?;
    let (receiver_addr, receiver) = start_receiver().await?;
    let mut settings = Settings {
        send_per_minute: 60_000_000,
        ..Settings::from(opts)
    };
    settings.env.extend([
        (
            "HEARTH_PUSH_SUBJECT".into(),
            "mailto:ops@example.org".into(),
        ),
        ("HEARTH_FETCH_ALLOW_NETWORKS".into(), "127.0.0.0/8".into()),
    ]);
    let server = Server::start(&bin, &data, &settings)?;
    let base = server.base();
    let http = reqwest::Client::builder()
        .local_address(client::source(0, spread))
        .timeout(Duration::from_secs(60))
        .build()?;

    // Every member subscribes a device, as a browser does (the key is any valid P-256 point).
    let p256dh = hearth::notify::webpush::VapidKeys::generate().public_key();
    let subscribe_started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in (2..members + 2)
        .collect::<Vec<_>>()
        .chunks(members.div_ceil(16).max(1))
    {
        let (http, base, chunk) = (http.clone(), base.clone(), chunk.to_vec());
        let cookies: Vec<String> = chunk.iter().map(|i| seeded.cookie(*i)).collect();
        let p256dh = p256dh.clone();
        tasks.spawn(async move {
            for (i, cookie) in chunk.iter().zip(cookies) {
                let body = serde_json::json!({
                    "endpoint": format!("http://{receiver_addr}/push/{i}"),
                    "keys": {"p256dh": p256dh, "auth": URL_SAFE_NO_PAD.encode([*i as u8; 16])},
                });
                let res = http
                    .post(format!("{base}/api/v1/me/devices"))
                    .header("cookie", cookie)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(res.status() == 201, "subscribing: {}", res.status());
            }
            Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let subscribe_secs = subscribe_started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle_rss = server.rss_mb()?;

    // Posting alone, in a conversation whose members have no devices.
    let mut ws = client::connect(server.addr, client::source(1, spread), &seeded.cookie(1)).await?;
    let mut alone = histogram();
    for n in 0..probes {
        let took = super::post::post(&mut ws, quiet, n as u64, 1).await?;
        alone.saturating_record(took.as_nanos() as u64);
    }

    // The big channel's posts, while the same probes go on until every push has arrived.
    let expected = (posts * members) as u64;
    let started = Instant::now();
    let started_us = receiver.epoch.elapsed().as_micros() as u64;
    let sender = {
        let (http, base, cookie) = (http.clone(), base.clone(), seeded.cookie(0));
        tokio::spawn(async move {
            for n in 0..posts {
                let res = http
                    .post(format!("{base}/api/v1/conversations/{big}/messages"))
                    .header("cookie", &cookie)
                    .json(&serde_json::json!({"body": format!("news {n} for everyone")}))
                    .send()
                    .await?;
                anyhow::ensure!(res.status() == 201, "posting: {}", res.status());
            }
            anyhow::Ok(())
        })
    };
    let mut during = histogram();
    let mut peak_sampled = idle_rss;
    let mut n = probes as u64;
    while receiver.taken.load(Ordering::Relaxed) < expected && started.elapsed() < timeout {
        let took = super::post::post(&mut ws, quiet, n, 1).await?;
        during.saturating_record(took.as_nanos() as u64);
        peak_sampled = peak_sampled.max(server.rss_mb().unwrap_or(0.0));
        n += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sender.await??;
    let taken = receiver.taken.load(Ordering::Relaxed);
    anyhow::ensure!(
        taken >= expected,
        "only {taken} of {expected} pushes arrived in {timeout:?}\n{}",
        server.log()
    );
    let took = Duration::from_micros(receiver.last_us.load(Ordering::Relaxed) - started_us);
    let peak = server::peak_rss_mb(server.pid)?.max(peak_sampled);

    let mut report = Report::default();
    report.note(format!(
        "{members} members away, each with a device; {posts} posts to their channel = {expected} pushes to a push service on 127.0.0.1"
    ));
    report.note(format!(
        "{probes} posts alone, then {} during, in another conversation; {}",
        during.len(),
        server.note()
    ));
    report.figure("pushes_per_s", per_second(expected, took), ">= 2000");
    report.figure("post_alone_p99_ms", ms(alone.value_at_quantile(0.99)), "");
    report.figure(
        "post_p99_ms_during",
        ms(during.value_at_quantile(0.99)),
        "about post_alone_p99_ms",
    );
    report.figure(
        "peak_rss_mb",
        peak,
        &format!("<= {:.0} (idle + 64)", idle_rss + 64.0),
    );
    report.figure("idle_rss_mb", idle_rss, "");
    report.field("post_alone_p50_ms", ms(alone.value_at_quantile(0.5)));
    report.field("post_p50_ms_during", ms(during.value_at_quantile(0.5)));
    report.field(
        "push_seconds",
        (took.as_secs_f64() * 1000.0).round() / 1000.0,
    );
    report.field(
        "subscribe_seconds",
        (subscribe_secs * 1000.0).round() / 1000.0,
    );
    report.field("pushes", expected);
    Ok(report)
}
