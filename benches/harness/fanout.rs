//! `fanout`: one channel, N connected members, one post every interval; how long until the
//! last member has each post. Then a burst, for deliveries per second at saturation. Then the
//! same generator against the floor (a minimal broadcast server), so Hearth's latency is
//! judged as a ratio to what this machine can do at all.

use futures_util::{SinkExt, StreamExt};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use super::client;
use super::floor::Floor;
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

/// The generator's settings, the same for Hearth and for the floor.
struct Load {
    clients: usize,
    posts: usize,
    interval: Duration,
    burst: usize,
    senders: usize,
    concurrency: usize,
    spread: usize,
    timeout: Duration,
}

/// Where the generator points: an address, cookies for listeners and senders, the channel.
struct Target {
    addr: std::net::SocketAddr,
    listeners: Vec<String>,
    senders: Vec<String>,
    room: i64,
    /// The server's process, for its CPU time (none for a floor in this one).
    pid: Option<u32>,
}

/// What the members saw.
struct Seen {
    latency: hdrhistogram::Histogram<u64>,
    incomplete: u64,
    burst_secs: f64,
    deliveries_per_s: f64,
    paced_server_cpu: Option<Duration>,
    paced_client_cpu: Duration,
    closed: usize,
    /// The longest post frame a member received, in bytes.
    frame_len: usize,
}

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let load = Load {
        clients: opts.get("clients", 10_000)?,
        posts: opts.get("posts", 100)?,
        interval: Duration::from_millis(opts.get("interval-ms", 100)?),
        burst: opts.get("burst", 50)?,
        senders: opts.get("burst-senders", 10)?.max(1),
        concurrency: opts.get("concurrency", 100)?,
        spread: opts.get("source-addrs", 50)?,
        timeout: Duration::from_secs(opts.get("timeout-s", 120)?),
    };
    let (clients, senders) = (load.clients, load.senders);
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
    let note = server.note();
    let hearth_target = Target {
        addr: server.addr,
        listeners: (senders..senders + clients)
            .map(|i| people.cookie(i))
            .collect(),
        senders: (0..senders).map(|i| people.cookie(i)).collect(),
        room: people.rooms[0],
        pid: Some(server.pid),
    };
    let hearth = measure(&load, hearth_target)
        .await
        .map_err(|e| e.context("against Hearth"))?;
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
    drop(server);

    // The same generator against the floor, with frames as long as Hearth's.
    let floor_server = Floor::start(hearth.frame_len, opts.own_processes)?;
    let floor_target = Target {
        addr: floor_server.addr,
        listeners: vec![String::from("x=y"); clients],
        senders: vec![String::from("x=y"); senders],
        room: 0,
        pid: floor_server.pid,
    };
    let floor = measure(&load, floor_target)
        .await
        .map_err(|e| e.context("against the floor"))?;
    drop(floor_server);

    let p50 = ms(hearth.latency.value_at_quantile(0.50));
    let floor_p50 = ms(floor.latency.value_at_quantile(0.50));
    let ratio = if floor_p50 > 0.0 {
        (p50 / floor_p50 * 100.0).round() / 100.0
    } else {
        0.0
    };
    let paced_secs = load.posts as f64 * load.interval.as_secs_f64();
    let pct = |d: Duration| (d.as_secs_f64() / paced_secs * 100.0).round();
    let mut report = Report::default();
    report.note(format!(
        "{clients} members of one channel connected; {} posts every {:?}, then a burst of {} \
         from {senders} members; then the same against a minimal broadcast server (the floor) \
         writing {}-byte frames",
        load.posts, load.interval, load.burst, hearth.frame_len
    ));
    report.note(note);
    report.figure("p50_ms", p50, "(report; until the last member has it)");
    report.figure(
        "p99_ms",
        ms(hearth.latency.value_at_quantile(0.99)),
        "(report)",
    );
    report.figure("floor_p50_ms", floor_p50, "(the same, minimal server)");
    report.figure(
        "floor_p99_ms",
        ms(floor.latency.value_at_quantile(0.99)),
        "",
    );
    report.figure("ratio_p50", ratio, "<= 1.15 (Hearth / floor)");
    report.figure(
        "deliveries_per_s",
        hearth.deliveries_per_s,
        "(report; burst)",
    );
    report.figure("floor_deliveries_per_s", floor.deliveries_per_s, "");
    report.figure("min_ms", ms(hearth.latency.min()), "");
    report.figure("max_ms", ms(hearth.latency.max()), "");
    report.figure("incomplete_posts", hearth.incomplete, "0");
    report.figure("floor_incomplete_posts", floor.incomplete, "0");
    report.figure("burst_s", (hearth.burst_secs * 1000.0).round() / 1000.0, "");
    report.figure(
        "paced_server_cpu_pct",
        hearth.paced_server_cpu.map_or(0.0, pct),
        "(of one core)",
    );
    report.figure(
        "floor_paced_cpu_pct",
        floor.paced_server_cpu.map_or(0.0, pct),
        "(of one core; 0 when in this process)",
    );
    report.figure(
        "paced_client_cpu_pct",
        pct(hearth.paced_client_cpu),
        "(the load generator)",
    );
    report.figure("lagging_closed", lagging, "0");
    report.field("clients", clients);
    report.field("posts", load.posts);
    report.field("burst", load.burst);
    report.field("burst_senders", senders);
    report.field("closed_sockets", hearth.closed);
    report.field("floor_closed_sockets", floor.closed);
    report.field("frame_bytes", hearth.frame_len);
    Ok(report)
}

/// Connects the listeners and the senders to `target`, posts at a pace and then in a burst;
/// what the listeners saw.
async fn measure(load: &Load, target: Target) -> anyhow::Result<Seen> {
    let Load {
        clients,
        posts,
        interval,
        burst,
        senders,
        concurrency,
        spread,
        timeout,
    } = *load;
    let room = target.room;
    let epoch = Instant::now();
    let now = move || epoch.elapsed().as_nanos() as u64;
    let slots: Arc<Vec<Slot>> = Arc::new((0..posts + burst).map(|_| Slot::default()).collect());
    let connected = connect_many(target.addr, target.listeners, concurrency, spread, timeout).await;
    anyhow::ensure!(
        connected.failures.is_empty(),
        "{} of {clients} clients failed to connect; first: {}",
        connected.failures.len(),
        connected.failures[0]
    );
    let closed = Arc::new(AtomicUsize::new(0));
    let frame_len = Arc::new(AtomicUsize::new(0));
    let on_text = {
        let (slots, frame_len) = (slots.clone(), frame_len.clone());
        Arc::new(move |t: &str| {
            let Some(at) = t.find("fanout-") else { return };
            let n: usize = t[at + 7..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .fold(0, |n, d| n * 10 + (d - b'0') as usize);
            if let Some(slot) = slots.get(n) {
                slot.last.fetch_max(now(), Ordering::Relaxed);
                slot.received.fetch_add(1, Ordering::Release);
                frame_len.fetch_max(t.len(), Ordering::Relaxed);
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
    for (i, cookie) in target.senders.iter().enumerate() {
        let ws = client::connect(target.addr, client::source(i, 1), cookie).await?;
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
    let cpu_before = target.pid.map(server::cpu_time);
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
    let paced_server_cpu = target
        .pid
        .zip(cpu_before)
        .map(|(pid, before)| server::cpu_time(pid).saturating_sub(before));
    let paced_client_cpu = server::cpu_time(std::process::id()).saturating_sub(own_before);

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
    for task in readers.into_iter().chain(acks) {
        task.abort();
    }
    Ok(Seen {
        latency,
        incomplete,
        burst_secs,
        deliveries_per_s,
        paced_server_cpu,
        paced_client_cpu,
        closed: closed.load(Ordering::Relaxed),
        frame_len: frame_len.load(Ordering::Relaxed),
    })
}
