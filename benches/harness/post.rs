//! `post`: senders over WebSocket, each waiting for its ack before the next post (durable:
//! synchronous=FULL, FTS indexed). Throughput with all senders, then single-sender latency.

use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use super::client::{self, Ws};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second, seed};

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let senders: usize = opts.get("senders", 16)?;
    let rooms: usize = opts.get("rooms", senders)?.clamp(1, senders.max(1));
    let seconds: f64 = opts.get("seconds", 10.0)?;
    let max_posts: u64 = opts.get("max-posts", 300_000)?;
    let latency_posts: usize = opts.get("latency-posts", 2_000)?;
    let warmup: usize = opts.get("warmup", 200)?;
    let sync = opts.string("sync", "full");
    let spread: usize = opts.get("source-addrs", 50)?;
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let people = seed::people(&data, senders, rooms, |i| vec![i % rooms])?;
    let settings = Settings {
        synchronous: sync.clone(),
        send_per_minute: 60_000_000,
        ..Settings::from(opts)
    };
    let server = Server::start(&bin, &data, &settings)?;
    let people = Arc::new(people);

    let mut sockets = Vec::with_capacity(senders);
    for i in 0..senders {
        sockets.push(
            client::connect(server.addr, client::source(i, spread), &people.cookie(i)).await?,
        );
    }
    // Warm up: statement caches, member caches, page cache.
    for (i, ws) in sockets.iter_mut().enumerate() {
        for n in 0..warmup / senders.max(1) {
            post(ws, people.rooms[i % rooms], n as u64, i).await?;
        }
    }

    // Phase 1: every sender, closed loop, until the time or the post budget runs out.
    let before = server.metrics().await.unwrap_or_default();
    let cpu_before = server::cpu_time(server.pid);
    let posted = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, mut ws) in sockets.into_iter().enumerate() {
        let (posted, room) = (posted.clone(), people.rooms[i % rooms]);
        tasks.push(tokio::spawn(async move {
            let mut hist = histogram();
            let mut n = 1_000_000;
            while Instant::now() < deadline && posted.fetch_add(1, Ordering::Relaxed) < max_posts {
                let took = post(&mut ws, room, n, i).await?;
                hist.saturating_record(took.as_nanos() as u64);
                n += 1;
            }
            anyhow::Ok((hist, ws))
        }));
    }
    let mut all = histogram();
    let mut sockets = Vec::new();
    for task in tasks {
        let (hist, ws) = task.await??;
        all.add(&hist)?;
        sockets.push(ws);
    }
    let took = started.elapsed();
    let server_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    let after = server.metrics().await.unwrap_or_default();
    let acked = all.len();
    let delta =
        |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
    let commits = delta("hearth_writer_commits_total");
    let jobs = delta("hearth_writer_jobs_total");

    // Phase 2: one sender alone, for latency.
    let mut ws = sockets.swap_remove(0);
    drop(sockets);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut single = histogram();
    let latency_deadline = Instant::now() + Duration::from_secs(30);
    for n in 0..latency_posts {
        if Instant::now() > latency_deadline {
            break;
        }
        let took = post(&mut ws, people.rooms[0], 5_000_000 + n as u64, 0).await?;
        single.saturating_record(took.as_nanos() as u64);
    }

    let mut report = Report::default();
    report.note(format!(
        "{senders} senders in {rooms} channel(s), one post in flight each, synchronous={sync}, {seconds} s"
    ));
    report.note(format!("{} at the end", server.note()));
    report.figure("posts_per_s", per_second(acked, took), ">= 10000");
    report.figure(
        "p50_ms",
        ms(single.value_at_quantile(0.50)),
        "<= 0.5 (one sender)",
    );
    report.figure(
        "p99_ms",
        ms(single.value_at_quantile(0.99)),
        "<= 2 (one sender)",
    );
    report.figure(
        "loaded_p50_ms",
        ms(all.value_at_quantile(0.50)),
        "(all senders)",
    );
    report.figure(
        "loaded_p99_ms",
        ms(all.value_at_quantile(0.99)),
        "(all senders)",
    );
    report.figure("posts", acked, "");
    report.figure(
        "jobs_per_commit",
        if commits > 0.0 {
            (jobs / commits * 10.0).round() / 10.0
        } else {
            0.0
        },
        "(group commit)",
    );
    report.figure(
        "server_cpu_pct",
        (server_cpu.as_secs_f64() / took.as_secs_f64() * 100.0).round(),
        "(of one core)",
    );
    report.field("senders", senders);
    report.field("rooms", rooms);
    report.field("synchronous", sync);
    report.field("latency_posts", single.len());
    let log = server.log();
    anyhow::ensure!(!log.contains("ERROR"), "the server logged errors:\n{log}");
    Ok(report)
}

/// Sends one message and waits for its ack; returns the round trip.
pub(super) async fn post(
    ws: &mut Ws,
    room: i64,
    n: u64,
    sender: usize,
) -> anyhow::Result<Duration> {
    let frame = format!(
        r#"{{"op":"send","req":{n},"conversation":{room},"body":"post {n} from sender {sender}, the quick brown fox"}}"#
    );
    let sent = Instant::now();
    ws.send(Message::text(frame)).await?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                if t.contains(r#""type":"ack""#)
                    && client::number_after(&t, r#""req":"#) == Some(n as i64)
                {
                    return Ok(sent.elapsed());
                }
                if t.contains(r#""type":"error""#) {
                    anyhow::bail!("post refused: {t}");
                }
            }
            Some(Ok(Message::Close(c))) => anyhow::bail!("closed: {c:?}"),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
            None => anyhow::bail!("socket ended"),
        }
    }
}
