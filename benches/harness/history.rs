//! `history`: a big seeded history. In process: the latest-50 page of a conversation plus the
//! reader's unread counts. Over HTTP: history GETs on keep-alive connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hearth::config::Synchronous;
use hearth::db::Db;
use hearth::store::messages::{self, Cursor};
use hearth::store::reads;

use super::client::{self, Http};
use super::history_seed::{self, HistoryShape};
use super::seed::Rng;
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second};

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let shape = HistoryShape {
        messages: opts.get("messages", 2_000_000)?,
        conversations: opts.get("conversations", 200)?,
        users: opts.get("users", 200)?,
        member_of: opts.get("member-of", 20)?,
    };
    let iterations: usize = opts.get("iterations", 20_000)?;
    let connections: usize = opts.get("connections", 32)?;
    let seconds: f64 = opts.get("seconds", 10.0)?;
    let page: usize = opts.get("page", 50)?;
    let spread: usize = opts.get("source-addrs", 50)?;
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let seeded_at = Instant::now();
    let (people, cached) = tokio::task::block_in_place(|| history_seed::history(&data, shape))?;
    let seed_secs = seeded_at.elapsed().as_secs_f64();

    // In process, on the server's kind of pooled read connection, with the server stopped.
    let db = Db::open(&data, Synchronous::Full)?;
    let mut rng = Rng::new(7);
    let mut inproc = histogram();
    let mut unread_total = 0i64;
    let deadline = Instant::now() + Duration::from_secs(30);
    tokio::task::block_in_place(|| -> anyhow::Result<()> {
        for _ in 0..iterations {
            if Instant::now() > deadline {
                break;
            }
            let j = rng.below(shape.users as u64) as usize;
            let rooms = history_seed::history_rooms(&shape, j);
            let room = people.rooms[rooms[rng.below(rooms.len() as u64) as usize]];
            let user = people.ids[j];
            let started = Instant::now();
            let counts = db.read_blocking(|conn| {
                messages::page(conn, room, Cursor::Latest, page)?;
                reads::unread(conn, user)
            })?;
            inproc.saturating_record(started.elapsed().as_nanos() as u64);
            unread_total += counts.iter().map(|(_, n, _)| n).sum::<i64>();
        }
        Ok(())
    })?;
    db.writer().shutdown();
    drop(db);

    // Over HTTP: keep-alive GETs of the latest page, as many as the server answers.
    let server = Server::start(&bin, &data, &Settings::from(opts))?;
    let people = Arc::new(people);
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_before = server::cpu_time(server.pid);
    let own_before = server::cpu_time(std::process::id());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (people, stop, addr) = (people.clone(), stop.clone(), server.addr);
        tasks.push(tokio::spawn(async move {
            let mut http = Http::connect(addr, client::source(c, spread)).await?;
            let mut rng = Rng::new(1_000 + c as u64);
            let mut hist = histogram();
            let mut bad = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let j = rng.below(shape.users as u64) as usize;
                let rooms = history_seed::history_rooms(&shape, j);
                let room = people.rooms[rooms[rng.below(rooms.len() as u64) as usize]];
                let path = format!("/api/v1/conversations/{room}/messages?limit={page}");
                let began = Instant::now();
                let (status, _) = tokio::time::timeout(
                    Duration::from_secs(10),
                    http.get(&path, &people.cookie(j)),
                )
                .await
                .map_err(|_| anyhow::anyhow!("no answer within 10 s"))??;
                hist.saturating_record(began.elapsed().as_nanos() as u64);
                if status != 200 {
                    bad += 1;
                }
            }
            anyhow::Ok((hist, bad))
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut http = histogram();
    let mut bad = 0;
    for t in tasks {
        let (h, b) = t.await??;
        http.add(&h)?;
        bad += b;
    }
    let took = started.elapsed();
    let server_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    let own_cpu = server::cpu_time(std::process::id()).saturating_sub(own_before);
    let per_request = |cpu: Duration| (cpu.as_secs_f64() * 1e6 / http.len().max(1) as f64).round();

    let mut report = Report::default();
    report.note(format!(
        "{} messages in {} conversations; {} users each in {} of them, 0..1500 unread each",
        shape.messages, shape.conversations, shape.users, shape.member_of
    ));
    report.note(format!(
        "seeding {seed_secs:.1} s ({}); {connections} keep-alive connections for {seconds} s",
        if cached {
            "copied from the cache"
        } else {
            "made now"
        }
    ));
    report.note(server.note());
    report.figure(
        "p99_ms",
        ms(inproc.value_at_quantile(0.99)),
        "<= 1 (page + unread, in process)",
    );
    report.figure("p50_ms", ms(inproc.value_at_quantile(0.50)), "");
    report.figure("http_rps", per_second(http.len(), took), ">= 20000");
    report.figure("http_p50_ms", ms(http.value_at_quantile(0.50)), "");
    report.figure("http_p99_ms", ms(http.value_at_quantile(0.99)), "");
    report.figure("http_errors", bad, "0");
    report.figure("server_cpu_us_per_req", per_request(server_cpu), "");
    report.figure(
        "client_cpu_us_per_req",
        per_request(own_cpu),
        "(the load generator)",
    );
    report.field("iterations", inproc.len());
    report.field(
        "mean_unread_total",
        unread_total / inproc.len().max(1) as i64,
    );
    report.field("messages", shape.messages);
    report.field("conversations", shape.conversations);
    Ok(report)
}
