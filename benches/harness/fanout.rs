//! `fanout`: one channel, N connected members, one post every interval; how long until the
//! last member has each post. Then a burst, for deliveries per second at saturation.

use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use super::client;
use super::server::{self, Server, Settings};
use super::sockets::{connect_many, drain};
use super::{Opts, Report, histogram, ms, seed};

/// What the members saw of one post.
#[derive(Default)]
struct Slot {
    sent: AtomicU64,
    received: AtomicU32,
    last: AtomicU64,
}

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let clients: usize = opts.get("clients", 10_000)?;
    let posts: usize = opts.get("posts", 100)?;
    let interval = Duration::from_millis(opts.get("interval-ms", 100)?);
    let burst: usize = opts.get("burst", 50)?;
    let senders: usize = opts.get("burst-senders", 10)?.max(1);
    let concurrency: usize = opts.get("concurrency", 100)?;
    let spread: usize = opts.get("source-addrs", 50)?;
    let timeout = Duration::from_secs(opts.get("timeout-s", 120)?);
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // Users 0..senders post; the next `clients` users listen. All are members of the channel.
    let people = seed::people(&data, clients + senders, 1, |_| vec![0])?;
    let settings = Settings {
        send_per_minute: 60_000_000,
        ..Settings::from(opts)
    };
    let server = Server::start(&bin, &data, &settings)?;
    let room = people.rooms[0];

    let epoch = Instant::now();
    let now = move || epoch.elapsed().as_nanos() as u64;
    let slots: Arc<Vec<Slot>> = Arc::new((0..posts + burst).map(|_| Slot::default()).collect());
    let cookies = (senders..senders + clients)
        .map(|i| people.cookie(i))
        .collect();
    let connected = connect_many(server.addr, cookies, concurrency, spread, timeout).await;
    anyhow::ensure!(
        connected.failures.is_empty(),
        "{} of {clients} clients failed to connect; first: {}",
        connected.failures.len(),
        connected.failures[0]
    );
    let closed = Arc::new(AtomicUsize::new(0));
    let on_text = {
        let slots = slots.clone();
        Arc::new(move |t: &str| {
            let Some(at) = t.find("fanout-") else { return };
            let n: usize = t[at + 7..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0, |n, d| n * 10 + (d - b'0') as usize);
            if let Some(slot) = slots.get(n) {
                slot.last.fetch_max(now(), Ordering::Relaxed);
                slot.received.fetch_add(1, Ordering::Release);
            }
        })
    };
    let readers: Vec<_> = connected
        .sockets
        .into_iter()
        .map(|ws| drain(ws, closed.clone(), on_text.clone()))
        .collect();

    let mut sinks = Vec::new();
    let mut acks = Vec::new();
    for i in 0..senders {
        let ws = client::connect(server.addr, client::source(i, 1), &people.cookie(i)).await?;
        let (sink, stream) = ws.split();
        sinks.push(sink);
        acks.push(tokio::spawn(stream.for_each(|_| async {})));
    }
    let send = |n: usize| {
        Message::text(format!(
            r#"{{"op":"send","req":{n},"conversation":{room},"body":"fanout-{n} to everyone"}}"#
        ))
    };
    // Warm-up post (member cache, statement caches); not measured.
    sinks[0]
        .send(Message::text(format!(
            r#"{{"op":"send","req":0,"conversation":{room},"body":"warm up"}}"#
        )))
        .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Phase 1: one post per interval.
    let cpu_before = server::cpu_time(server.pid);
    let own_before = server::cpu_time(std::process::id());
    let mut tick = tokio::time::interval(interval);
    for n in 0..posts {
        tick.tick().await;
        slots[n].sent.store(now(), Ordering::Relaxed);
        sinks[0].send(send(n)).await?;
    }
    let complete = |range: std::ops::Range<usize>| {
        range
            .clone()
            .all(|n| slots[n].received.load(Ordering::Acquire) as usize >= clients)
    };
    let wait_until = Instant::now() + Duration::from_secs(30);
    while !complete(0..posts) && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut latency = histogram();
    let mut incomplete = 0;
    for slot in &slots[..posts] {
        if slot.received.load(Ordering::Acquire) as usize >= clients {
            let took = slot.last.load(Ordering::Relaxed) - slot.sent.load(Ordering::Relaxed);
            latency.saturating_record(took);
        } else {
            incomplete += 1;
        }
    }
    let paced_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    let paced_own = server::cpu_time(std::process::id()).saturating_sub(own_before);
    let paced_secs = posts as f64 * interval.as_secs_f64();

    // Phase 2: a burst from several members at once, each writing its posts back to back.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let burst_started = now();
    for n in posts..posts + burst {
        slots[n].sent.store(now(), Ordering::Relaxed);
        sinks[n % senders].feed(send(n)).await?;
    }
    for sink in &mut sinks {
        sink.flush().await?;
    }
    let wait_until = Instant::now() + Duration::from_secs(60);
    while !complete(posts..posts + burst) && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let burst_end = slots[posts..]
        .iter()
        .map(|s| s.last.load(Ordering::Relaxed))
        .max()
        .unwrap_or(0);
    let delivered: u64 = slots[posts..]
        .iter()
        .map(|s| s.received.load(Ordering::Relaxed) as u64)
        .sum();
    let burst_secs = (burst_end.saturating_sub(burst_started)) as f64 / 1e9;
    let deliveries_per_s = if burst_secs > 0.0 {
        (delivered as f64 / burst_secs).round()
    } else {
        0.0
    };
    let lagging = server
        .metrics()
        .await
        .ok()
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| k.contains("lagging"))
                .map(|(_, v)| *v)
        })
        .unwrap_or(0.0);
    for task in readers.into_iter().chain(acks) {
        task.abort();
    }

    let mut report = Report::default();
    report.note(format!(
        "{clients} members of one channel connected; {posts} posts every {interval:?}, \
         then a burst of {burst} from {senders} members"
    ));
    report.note(server.note());
    report.figure(
        "p50_ms",
        ms(latency.value_at_quantile(0.50)),
        "<= 25 (until the last member has it)",
    );
    report.figure("p99_ms", ms(latency.value_at_quantile(0.99)), "<= 40");
    report.figure("deliveries_per_s", deliveries_per_s, ">= 300000 (burst)");
    report.figure("min_ms", ms(latency.min()), "");
    report.figure("max_ms", ms(latency.max()), "");
    report.figure("incomplete_posts", incomplete as u64, "0");
    report.figure("burst_s", (burst_secs * 1000.0).round() / 1000.0, "");
    report.figure(
        "paced_server_cpu_pct",
        (paced_cpu.as_secs_f64() / paced_secs * 100.0).round(),
        "(of one core)",
    );
    report.figure(
        "paced_client_cpu_pct",
        (paced_own.as_secs_f64() / paced_secs * 100.0).round(),
        "(the load generator)",
    );
    report.figure("lagging_closed", lagging, "0");
    report.field("clients", clients);
    report.field("posts", posts);
    report.field("burst", burst);
    report.field("burst_senders", senders);
    report.field("closed_sockets", closed.load(Ordering::Relaxed));
    Ok(report)
}
