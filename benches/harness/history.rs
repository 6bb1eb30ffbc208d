//! `history`: a big seeded history. In process: the latest-50 page of a channel plus the
//! reader's unread counts. Over HTTP: first the pages of direct conversations, each read from
//! the database (the latest page on its first request, older pages always), a few at a time,
//! while `/healthz` is polled; then history GETs of channels on keep-alive connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hearth::config::Synchronous;
use hearth::db::Db;
use hearth::store::messages::{self, Cursor};
use hearth::store::reads;

use super::client::{self, Http};
use super::history_seed::{self, Direct, HistoryShape};
use super::seed::Rng;
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second};

/// The data set's shape from the options (shared with `search`), full scale by default.
pub fn shape(opts: &Opts) -> anyhow::Result<HistoryShape> {
    Ok(HistoryShape {
        messages: opts.get("messages", 2_000_000)?,
        conversations: opts.get("conversations", 200)?,
        users: opts.get("users", 200)?,
        member_of: opts.get("member-of", 20)?,
        directs: opts.get("directs", 2_000)?,
        direct_messages: opts.get("direct-messages", 150)?,
        reactions: opts.get("reactions", 1_200_000)?,
    })
}

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let shape = shape(opts)?;
    let direct_load = DirectLoad {
        connections: opts.get("direct-connections", 4)?,
        seconds: opts.get("direct-seconds", 30.0)?,
        older_pages: opts.get("older-pages", 2)?,
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
    let (people, directs, cached) =
        tokio::task::block_in_place(|| history_seed::history(&data, shape))?;
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
    let (reactions, direct_pages) = tokio::task::block_in_place(|| {
        db.read_blocking(|conn| {
            let reactions: i64 =
                conn.query_row("SELECT count(*) FROM reactions", [], |r| r.get(0))?;
            Ok((
                reactions,
                direct_pages(conn, &directs, page, direct_load.older_pages)?,
            ))
        })
    })?;
    db.writer().shutdown();
    drop(db);

    // Over HTTP, on a fresh server: pages of directs, then channels' latest pages.
    let server = Server::start(&bin, &data, &Settings::from(opts))?;
    let people = Arc::new(people);
    let rss_at_start = server.rss_mb()?;
    // Without directs (`--directs 0`), the data set and figures of the rounds before them.
    let directs_run = if direct_pages.is_empty() {
        None
    } else {
        let run = load_directs(&server, &people, direct_pages, &direct_load, page, spread);
        Some((run.await?, server::peak_rss_mb(server.pid)?))
    };
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
    report.note(format!(
        "{} directs of {} messages each, spread among the channels' ids; {reactions} reactions \
         on all messages",
        shape.directs, shape.direct_messages
    ));
    if directs_run.is_some() {
        report.note(format!(
            "directs: {} connections, each taking the next direct: its latest page, then {} \
             older ones, for up to {} s; /healthz polled every 20 ms meanwhile",
            direct_load.connections, direct_load.older_pages, direct_load.seconds
        ));
    }
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
    if let Some((d, peak)) = &directs_run {
        d.report(&mut report, *peak);
    }
    report.figure(
        "peak_rss_mb",
        server::peak_rss_mb(server.pid)?,
        "(server's peak at the end)",
    );
    report.field("rss_at_start_mb", rss_at_start);
    report.field("directs", shape.directs);
    report.field("direct_messages", shape.direct_messages);
    report.field("reactions", reactions);
    report.field("iterations", inproc.len());
    report.field(
        "mean_unread_total",
        unread_total / inproc.len().max(1) as i64,
    );
    report.field("messages", shape.messages);
    report.field("conversations", shape.conversations);
    Ok(report)
}

/// How the pages of directs are loaded.
#[derive(Clone, Copy)]
struct DirectLoad {
    connections: usize,
    seconds: f64,
    older_pages: usize,
}

/// A direct to load: the reader's index, the latest page's path and the older pages' paths.
struct DirectPages {
    reader: usize,
    latest: String,
    older: Vec<String>,
}

/// The pages of each direct, in a shuffled order: the latest `page`, then up to `older` pages
/// before it, each from the oldest message of the page after it.
fn direct_pages(
    conn: &rusqlite::Connection,
    directs: &[Direct],
    page: usize,
    older: usize,
) -> hearth::Result<Vec<DirectPages>> {
    let mut newest = conn
        .prepare("SELECT id FROM messages WHERE conversation_id = ?1 ORDER BY id DESC LIMIT ?2")?;
    let mut pages = Vec::with_capacity(directs.len());
    for d in directs {
        let ids = newest
            .query_map(rusqlite::params![d.id, (page * (older + 1)) as i64], |r| {
                r.get::<_, i64>(0)
            })?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        let path = format!("/api/v1/conversations/{}/messages?limit={page}", d.id);
        pages.push(DirectPages {
            reader: d.reader,
            older: (1..=older)
                .filter_map(|i| ids.get(page * i).map(|_| ids[page * i - 1]))
                .map(|before| format!("{path}&before={before}"))
                .collect(),
            latest: path,
        });
    }
    let mut rng = Rng::new(11);
    for i in (1..pages.len()).rev() {
        pages.swap(i, rng.below(i as u64 + 1) as usize);
    }
    Ok(pages)
}

/// What loading the directs measured.
struct DirectRun {
    latest: hdrhistogram::Histogram<u64>,
    older: hdrhistogram::Histogram<u64>,
    healthz: hdrhistogram::Histogram<u64>,
    bad: u64,
    took: Duration,
}

impl DirectRun {
    fn report(&self, report: &mut Report, peak_rss_mb: f64) {
        report.figure(
            "direct_latest_p99_ms",
            ms(self.latest.value_at_quantile(0.99)),
            "(a direct's latest page over HTTP, not kept yet)",
        );
        report.figure(
            "direct_latest_p50_ms",
            ms(self.latest.value_at_quantile(0.50)),
            "",
        );
        report.figure(
            "direct_older_p99_ms",
            ms(self.older.value_at_quantile(0.99)),
            "(older pages of directs over HTTP)",
        );
        report.figure(
            "direct_older_p50_ms",
            ms(self.older.value_at_quantile(0.50)),
            "",
        );
        report.figure(
            "healthz_p99_ms",
            ms(self.healthz.value_at_quantile(0.99)),
            "(while directs load)",
        );
        report.figure("healthz_max_ms", ms(self.healthz.max()), "");
        report.figure("direct_errors", self.bad, "0");
        report.figure(
            "direct_peak_rss_mb",
            peak_rss_mb,
            "(server's peak after the directs)",
        );
        report.field("direct_latest_pages", self.latest.len());
        report.field("direct_older_pages", self.older.len());
        report.field("direct_seconds", self.took.as_secs_f64());
        report.field("healthz_checks", self.healthz.len());
    }
}

/// Loads each direct's pages once (so the latest is never kept yet), `connections` at a time,
/// until all are done or the time is up, while one more connection polls `/healthz`.
async fn load_directs(
    server: &Server,
    people: &Arc<super::seed::People>,
    pages: Vec<DirectPages>,
    load: &DirectLoad,
    page: usize,
    spread: usize,
) -> anyhow::Result<DirectRun> {
    let pages = Arc::new(pages);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs_f64(load.seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..load.connections {
        let (pages, next, people, addr) =
            (pages.clone(), next.clone(), people.clone(), server.addr);
        tasks.push(tokio::spawn(async move {
            let mut http = Http::connect(addr, client::source(c, spread)).await?;
            let (mut latest, mut older, mut bad) = (histogram(), histogram(), 0u64);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= pages.len() || Instant::now() > deadline {
                    break;
                }
                let d = &pages[i];
                let cookie = people.cookie(d.reader);
                for (n, path) in std::iter::once(&d.latest).chain(&d.older).enumerate() {
                    let began = Instant::now();
                    let (status, _) =
                        tokio::time::timeout(Duration::from_secs(60), http.get(path, &cookie))
                            .await
                            .map_err(|_| anyhow::anyhow!("no answer within 60 s: {path}"))??;
                    let took = began.elapsed().as_nanos() as u64;
                    let hist = if n == 0 { &mut latest } else { &mut older };
                    hist.saturating_record(took);
                    bad += u64::from(status != 200);
                }
            }
            anyhow::Ok((latest, older, bad))
        }));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (stop, addr, cookie) = (stop.clone(), server.addr, people.cookie(0));
        let from = client::source(load.connections, spread.max(load.connections + 1));
        tokio::spawn(async move {
            let mut http = Http::connect(addr, from).await?;
            let mut hist = histogram();
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let (status, _) = http.get("/healthz", &cookie).await?;
                anyhow::ensure!(status == 200, "/healthz answered {status}");
                hist.saturating_record(began.elapsed().as_nanos() as u64);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            anyhow::Ok(hist)
        })
    };
    let mut run = DirectRun {
        latest: histogram(),
        older: histogram(),
        healthz: histogram(),
        bad: 0,
        took: Duration::ZERO,
    };
    for t in tasks {
        let (latest, older, bad) = t.await??;
        run.latest.add(&latest)?;
        run.older.add(&older)?;
        run.bad += bad;
    }
    run.took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    run.healthz = poller.await??;
    anyhow::ensure!(!run.latest.is_empty(), "no direct was loaded (page {page})");
    Ok(run)
}
