//! `search`: the `history` data set searched. In process, on the server's kind of pooled read
//! connection with the server stopped: each class of query (a common word, a rare one, a
//! phrase, a prefix, a filter alone, a substring in Japanese, two Japanese characters, best
//! match) by random users over their own conversations, and the page around a random message.
//! Over HTTP: one typical query on keep-alive connections, then pages around messages. And the
//! search indexes' size against the database's.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hearth::chat::search::{self, Request};
use hearth::config::Synchronous;
use hearth::db::Db;
use hearth::domain::User;
use hearth::store::messages::{self, Cursor};
use hearth::store::{memberships, users};
use rusqlite::{Connection, OptionalExtension};

use super::client::{self, Http};
use super::history_seed::{self, PHRASES};
use super::seed::{People, Rng};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second};

/// A class of query: its figures' prefix, the query (`{neighbour}` is the username of the
/// next seeded user, who shares conversations with the searcher), best match or newest
/// first, and whether every searcher must find something.
struct Class {
    name: &'static str,
    query: &'static str,
    best: bool,
    finds: bool,
    target: &'static str,
}

const CLASSES: [Class; 10] = [
    Class {
        name: "common",
        query: "build",
        best: false,
        finds: true,
        target: "<= 10 (a word in 1 of 11 messages)",
    },
    Class {
        name: "rare",
        query: "zephyr",
        best: false,
        finds: true,
        target: "<= 10 (a word in 1 of 10,000)",
    },
    Class {
        name: "phrase",
        query: "\"keys to the shed\"",
        best: false,
        finds: true,
        target: "<= 10",
    },
    Class {
        name: "prefix",
        query: "thurs*",
        best: false,
        finds: true,
        target: "<= 10 (thursday, 1 of 11)",
    },
    Class {
        name: "filter",
        query: "from:@{neighbour}",
        best: false,
        finds: true,
        target: "<= 10 (from:@ alone)",
    },
    Class {
        name: "substring",
        query: "東京で会議",
        best: false,
        finds: true,
        target: "<= 10 (trigrams, checked)",
    },
    Class {
        name: "cjk2",
        query: "会議",
        best: false,
        finds: true,
        target: "<= 10 (2 of 11; newest read)",
    },
    Class {
        name: "cjk2_none",
        query: "大阪",
        best: false,
        finds: false,
        target: "(found nowhere: the 20,000 scan)",
    },
    Class {
        name: "folded",
        query: "creme",
        best: false,
        finds: true,
        target: "(finds crème)",
    },
    Class {
        name: "best",
        query: "build",
        best: true,
        finds: true,
        target: "<= 10 (best match, common word)",
    },
];

impl Class {
    fn request(&self, j: usize, users: usize) -> Request {
        let neighbour = format!("load{}", (j + 1) % users.max(1));
        Request {
            q: self.query.replace("{neighbour}", &neighbour),
            cursor: None,
            limit: 20,
            public: false,
            best: self.best,
            tz_minutes: 0,
        }
    }
}

/// How long runs take and how much they do, in process.
#[derive(Clone, Copy)]
struct Bounds {
    iterations: usize,
    warmup: usize,
    seconds: f64,
}

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let shape = super::history::shape(opts)?;
    let bounds = Bounds {
        iterations: opts.get("iterations", 2_000)?,
        warmup: opts.get("warmup", 20)?,
        seconds: opts.get("class-seconds", 10.0)?,
    };
    let connections: usize = opts.get("connections", 32)?;
    let seconds: f64 = opts.get("seconds", 10.0)?;
    let around_seconds: f64 = opts.get("around-seconds", 5.0)?;
    let http_query = opts.string("http-query", "build");
    let spread: usize = opts.get("source-addrs", 50)?;
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let seeded_at = Instant::now();
    let (people, _, cached) = tokio::task::block_in_place(|| history_seed::history(&data, shape))?;
    let seed_secs = seeded_at.elapsed().as_secs_f64();

    let mut report = Report::default();
    report.note(format!(
        "{} messages in {} channels and {} directs of {}; {} users each in {} channels; \
         {} phrases in turn, \"{}\" in 1 of {}",
        shape.total(),
        shape.conversations,
        shape.directs,
        shape.direct_messages,
        shape.users,
        shape.member_of,
        PHRASES.len(),
        history_seed::RARE,
        history_seed::rare_every(&shape),
    ));
    report.note(format!(
        "seeding {seed_secs:.1} s ({}); per class up to {} searches in {} s after {} unrecorded, \
         limit 20, each by a random user",
        if cached {
            "copied from the cache"
        } else {
            "made now"
        },
        bounds.iterations,
        bounds.seconds,
        bounds.warmup,
    ));

    // In process, on the server's kind of pooled read connection, with the server stopped.
    let db = Db::open(&data, Synchronous::Full)?;
    let searchers: Vec<User> =
        db.read_blocking(|conn| people.ids.iter().map(|id| users::get(conn, *id)).collect())?;
    let mut empty_pages = 0;
    for class in &CLASSES {
        let run = tokio::task::block_in_place(|| time_class(&db, class, &searchers, bounds))?;
        let p99 = ms(run.hist.value_at_quantile(0.99));
        report.figure(&format!("{}_p99_ms", class.name), p99, class.target);
        report.figure(
            &format!("{}_p50_ms", class.name),
            ms(run.hist.value_at_quantile(0.50)),
            "",
        );
        report.field(&format!("{}_searches", class.name), run.hist.len());
        report.field(&format!("{}_empty", class.name), run.empty);
        report.field(
            &format!("{}_mean_hits", class.name),
            (run.hits as f64 / run.hist.len().max(1) as f64 * 10.0).round() / 10.0,
        );
        if class.finds {
            empty_pages += run.empty;
        }
    }
    report.figure(
        "empty_pages",
        empty_pages,
        "0 (searches that should find and found nothing)",
    );

    let mut rng = Rng::new(17);
    let targets = Arc::new(db.read_blocking(|conn| {
        around_targets(conn, &people, bounds.iterations.max(1_000), &mut rng)
    })?);
    let (around, short) =
        tokio::task::block_in_place(|| time_around(&db, &people, &targets, bounds))?;
    report.figure(
        "around_p99_ms",
        ms(around.value_at_quantile(0.99)),
        "<= 1 (50 around a message, in process)",
    );
    report.figure("around_p50_ms", ms(around.value_at_quantile(0.50)), "");
    report.field("around_reads", around.len());
    report.field("around_short_pages", short);
    db.writer().shutdown();
    drop(db);

    let sizes = tokio::task::block_in_place(|| index_sizes(&data.join("hearth.db")))?;
    sizes.report(&mut report);

    // Over HTTP, on a fresh server.
    let server = Server::start(&bin, &data, &Settings::from(opts))?;
    let people = Arc::new(people);
    let rss_at_start = server.rss_mb()?;
    let users = shape.users;
    let q = encode(&http_query);
    let cpu_before = server::cpu_time(server.pid);
    let searched = load(&server, &people, connections, seconds, spread, move |rng| {
        let j = rng.below(users as u64) as usize;
        (j, format!("/api/v1/search?q={q}&limit=20"))
    })
    .await?;
    let server_cpu = server::cpu_time(server.pid).saturating_sub(cpu_before);
    let peak = server::peak_rss_mb(server.pid)?;
    let picks = targets.clone();
    let arounds = load(
        &server,
        &people,
        connections,
        around_seconds,
        spread,
        move |rng| {
            let (j, c, id) = picks[rng.below(picks.len() as u64) as usize];
            (
                j,
                format!("/api/v1/conversations/{c}/messages?around={id}&limit=50"),
            )
        },
    )
    .await?;

    report.note(format!(
        "HTTP: {connections} keep-alive connections, GET /api/v1/search?q={http_query}&limit=20 \
         for {seconds} s, then GETs around a message for {around_seconds} s"
    ));
    report.note(server.note());
    report.figure(
        "search_http_rps",
        per_second(searched.hist.len(), searched.took),
        ">= 25000 (Campfire's Rust port: 23,276 on 4 threads)",
    );
    report.figure(
        "search_http_p50_ms",
        ms(searched.hist.value_at_quantile(0.50)),
        "",
    );
    report.figure(
        "search_http_p99_ms",
        ms(searched.hist.value_at_quantile(0.99)),
        "",
    );
    report.figure("http_errors", searched.bad + arounds.bad, "0");
    report.figure(
        "http_empty",
        searched.small,
        "0 (search answers too short to hold a result)",
    );
    report.figure(
        "server_cpu_us_per_search",
        (server_cpu.as_secs_f64() * 1e6 / searched.hist.len().max(1) as f64).round(),
        "",
    );
    report.figure("peak_rss_mb", peak, "(server's peak after the search load)");
    report.figure(
        "around_http_rps",
        per_second(arounds.hist.len(), arounds.took),
        "",
    );
    report.figure(
        "around_http_p99_ms",
        ms(arounds.hist.value_at_quantile(0.99)),
        "",
    );
    report.field("rss_at_start_mb", rss_at_start);
    report.field("http_query", http_query);
    report.field("messages", shape.total());
    report.field("users", shape.users);
    Ok(report)
}

/// What one class measured.
struct ClassRun {
    hist: hdrhistogram::Histogram<u64>,
    empty: u64,
    hits: usize,
}

/// Searches of one class by random users (the same ones for every class), each timed alone.
fn time_class(db: &Db, class: &Class, users: &[User], b: Bounds) -> anyhow::Result<ClassRun> {
    let mut rng = Rng::new(23);
    let mut run = ClassRun {
        hist: histogram(),
        empty: 0,
        hits: 0,
    };
    // The warm-up has a deadline of its own, so a slow class is still measured.
    let mut deadline = Instant::now() + Duration::from_secs_f64(b.seconds);
    for i in 0..b.warmup + b.iterations {
        if i == b.warmup {
            deadline = Instant::now() + Duration::from_secs_f64(b.seconds);
        } else if Instant::now() > deadline {
            if i < b.warmup {
                continue;
            }
            break;
        }
        let j = rng.below(users.len() as u64) as usize;
        let req = class.request(j, users.len());
        let started = Instant::now();
        let found = db.read_blocking(|conn| search::find(conn, &users[j], &req))?;
        let took = started.elapsed().as_nanos() as u64;
        if i < b.warmup {
            continue;
        }
        run.hist.saturating_record(took);
        run.hits += found.hits.len();
        run.empty += u64::from(found.hits.is_empty());
    }
    Ok(run)
}

/// `count` (reader by index, conversation, message): a random user, one of their
/// conversations, and a random message of it.
fn around_targets(
    conn: &Connection,
    people: &People,
    count: usize,
    rng: &mut Rng,
) -> hearth::Result<Vec<(usize, i64, i64)>> {
    let mut bounds: HashMap<i64, Option<(i64, i64)>> = HashMap::new();
    let mut targets = Vec::with_capacity(count);
    let mut at_or_below = conn.prepare(
        "SELECT id FROM messages WHERE conversation_id = ?1 AND id <= ?2 ORDER BY id DESC LIMIT 1",
    )?;
    for _ in 0..count * 4 {
        if targets.len() == count {
            break;
        }
        let j = rng.below(people.ids.len() as u64) as usize;
        let convs = memberships::conversations_of(conn, people.ids[j])?;
        if convs.is_empty() {
            continue;
        }
        let c = convs[rng.below(convs.len() as u64) as usize];
        let span = match bounds.get(&c) {
            Some(span) => *span,
            None => {
                let span = conn.query_row(
                    "SELECT min(id), max(id) FROM messages WHERE conversation_id = ?1",
                    [c],
                    |r| Ok(r.get::<_, Option<i64>>(0)?.zip(r.get::<_, Option<i64>>(1)?)),
                )?;
                *bounds.entry(c).or_insert(span)
            }
        };
        let Some((lo, hi)) = span else { continue };
        let pick = lo + rng.below((hi - lo + 1) as u64) as i64;
        let id: Option<i64> = at_or_below.query_row([c, pick], |r| r.get(0)).optional()?;
        if let Some(id) = id {
            targets.push((j, c, id));
        }
    }
    Ok(targets)
}

/// The page around a message as `chat::messages::around` reads it (limit 50): the reader's
/// membership, the message in the conversation, 24 older, then the rest from it on.
fn around(conn: &Connection, user: i64, c: i64, id: i64) -> hearth::Result<usize> {
    if memberships::role(conn, c, user)?.is_none() || !messages::exists_in(conn, c, id)? {
        return Err(hearth::Error::NotFound);
    }
    let (older, _) = messages::page(conn, c, Cursor::Before(id), 24)?;
    let (newer, _) = messages::page(conn, c, Cursor::After(id - 1), 50 - older.len())?;
    Ok(older.len() + newer.len())
}

/// Times [`around`] over the targets in turn; also counts pages shorter than 50 (near either
/// end of a conversation, or a short one).
fn time_around(
    db: &Db,
    people: &People,
    targets: &[(usize, i64, i64)],
    b: Bounds,
) -> anyhow::Result<(hdrhistogram::Histogram<u64>, u64)> {
    anyhow::ensure!(!targets.is_empty(), "no message to read around");
    let mut hist = histogram();
    let mut short = 0;
    let deadline = Instant::now() + Duration::from_secs_f64(b.seconds);
    for (i, &(j, c, id)) in targets.iter().cycle().enumerate() {
        if i >= b.warmup + b.iterations || Instant::now() > deadline {
            break;
        }
        let started = Instant::now();
        let n = db.read_blocking(|conn| around(conn, people.ids[j], c, id))?;
        let took = started.elapsed().as_nanos() as u64;
        if i >= b.warmup {
            hist.saturating_record(took);
            short += u64::from(n < 50);
        }
    }
    Ok((hist, short))
}

/// The size of the search indexes and of the whole database, from SQLite's `dbstat`.
struct Sizes {
    words: f64,
    trigram: f64,
    names: f64,
    messages: f64,
    db: f64,
}

fn mb(bytes: i64) -> f64 {
    (bytes as f64 / 1_048_576.0 * 100.0).round() / 100.0
}

fn index_sizes(path: &Path) -> anyhow::Result<Sizes> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let sum = |prefix: &str| -> i64 {
        rows.iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    };
    let messages: i64 = rows
        .iter()
        .filter(|(name, _)| name == "messages" || name.starts_with("messages_by_"))
        .chain(rows.iter().filter(|(name, _)| name == "messages_unread"))
        .map(|(_, n)| n)
        .sum();
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok(Sizes {
        words: mb(sum("messages_fts")),
        trigram: mb(sum("messages_trigram")),
        names: mb(sum("attachments_names")),
        messages: mb(messages),
        db: mb(pages * page_size),
    })
}

impl Sizes {
    fn report(&self, report: &mut Report) {
        let index = self.words + self.trigram + self.names;
        report.figure("fts_words_mb", self.words, "(messages_fts*)");
        report.figure("fts_trigram_mb", self.trigram, "(messages_trigram*)");
        report.figure("fts_names_mb", self.names, "(attachments_names*)");
        report.figure("db_mb", self.db, "(the whole file)");
        report.figure(
            "index_share",
            (index / self.db.max(0.1) * 1000.0).round() / 1000.0,
            "(search indexes' MB / db MB)",
        );
        report.field("messages_table_mb", self.messages);
    }
}

/// What a run of GETs measured.
struct Load {
    hist: hdrhistogram::Histogram<u64>,
    bad: u64,
    /// Answers of 200 too short to hold one result.
    small: u64,
    took: Duration,
}

/// GETs on `connections` keep-alive connections for `seconds`; `next` gives the user (by
/// index) and the path of each.
async fn load(
    server: &Server,
    people: &Arc<People>,
    connections: usize,
    seconds: f64,
    spread: usize,
    next: impl Fn(&mut Rng) -> (usize, String) + Send + Sync + 'static,
) -> anyhow::Result<Load> {
    let next = Arc::new(next);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (people, stop, next, addr) = (people.clone(), stop.clone(), next.clone(), server.addr);
        tasks.push(tokio::spawn(async move {
            let mut http = Http::connect(addr, client::source(c, spread)).await?;
            let mut rng = Rng::new(2_000 + c as u64);
            let (mut hist, mut bad, mut small) = (histogram(), 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let (j, path) = next(&mut rng);
                let began = Instant::now();
                let (status, len) = tokio::time::timeout(
                    Duration::from_secs(10),
                    http.get(&path, &people.cookie(j)),
                )
                .await
                .map_err(|_| anyhow::anyhow!("no answer within 10 s: {path}"))??;
                hist.saturating_record(began.elapsed().as_nanos() as u64);
                bad += u64::from(status != 200);
                small += u64::from(status == 200 && len < 200);
            }
            anyhow::Ok((hist, bad, small))
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut run = Load {
        hist: histogram(),
        bad: 0,
        small: 0,
        took: Duration::ZERO,
    };
    for t in tasks {
        let (h, b, s) = t.await??;
        run.hist.add(&h)?;
        run.bad += b;
        run.small += s;
    }
    run.took = started.elapsed();
    Ok(run)
}

/// A query string value, percent-encoded.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
