//! `integrations`: API tokens and incoming webhooks through their real paths. Tokens are made
//! with `POST /api/v1/me/tokens` and a webhook with `POST /api/v1/conversations/{id}/webhooks`;
//! then `GET /api/v1/me` on keep-alive connections with a bearer token against the same with a
//! session cookie (the floor), and messages posted to the webhook's URL against the same
//! messages posted by a person through the API (the floor), with the server's memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::client::{self, Http};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, per_second, seed};

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let people: usize = opts.get("people", 16)?;
    let connections: usize = opts.get("connections", 16)?;
    let seconds: f64 = opts.get("seconds", 5.0)?;
    let posts: usize = opts.get("posts", 2000)?;
    let concurrency: usize = opts.get("concurrency", 8)?;
    let spread: usize = opts.get("source-addrs", 50)?;
    let bin = server::binary(opts);

    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let seeded = Arc::new(seed::people(&data, people.max(2), 1, |_| vec![0])?);
    let room = seeded.rooms[0];
    // The first person owns the channel, and so may give it a webhook.
    rusqlite::Connection::open(data.join("hearth.db"))?.execute(
        "UPDATE memberships SET role = 'owner' WHERE user_id = ?1",
        [seeded.ids[0]],
    )?;
    let settings = Settings {
        send_per_minute: 60_000_000,
        ..Settings::from(opts)
    };
    let server = Server::start(&bin, &data, &settings)?;
    let base = server.base();
    let http = reqwest::Client::builder()
        .local_address(client::source(0, spread))
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(concurrency)
        .build()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = server.rss_mb()?;

    // Each person makes a token; the channel gets a webhook from its owner.
    let mut tokens = Vec::new();
    for i in 0..people {
        let res = http
            .post(format!("{base}/api/v1/me/tokens"))
            .header("cookie", seeded.cookie(i))
            .json(&serde_json::json!({"name": "bench", "scope": "read"}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 201, "making a token: {}", res.status());
        let made: serde_json::Value = res.json().await?;
        tokens.push(made["token"].as_str().unwrap_or_default().to_owned());
    }
    let tokens = Arc::new(tokens);
    let res = http
        .post(format!("{base}/api/v1/conversations/{room}/webhooks"))
        .header("cookie", seeded.cookie(0))
        .json(&serde_json::json!({"name": "Bench hook"}))
        .send()
        .await?;
    anyhow::ensure!(res.status() == 201, "making a webhook: {}", res.status());
    let hook_url: String = res.json::<serde_json::Value>().await?["url"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    // Reads with a token and with a cookie, in turn, twice: the better run of each counts, so
    // that neither is judged by a moment when the machine was busy with something else.
    let (mut bearer, mut cookie): (Option<Reads>, Option<Reads>) = (None, None);
    let mut peak_reads: f64 = 0.0;
    for _ in 0..2 {
        let tokens = tokens.clone();
        let run = reads(&server, connections, seconds / 2.0, spread, move |c| {
            format!("authorization: Bearer {}", tokens[c % tokens.len()])
        })
        .await?;
        peak_reads = peak_reads.max(server.rss_mb()?);
        bearer = Some(better(bearer, run));
        let seeded = seeded.clone();
        let run = reads(&server, connections, seconds / 2.0, spread, move |c| {
            format!("cookie: {}", seeded.cookie(c % seeded.tokens.len()))
        })
        .await?;
        cookie = Some(better(cookie, run));
    }
    let (bearer, cookie) = (bearer.expect("two runs"), cookie.expect("two runs"));

    // Messages through the webhook, then the same through the API.
    let (hook_hist, hook_took, hook_peak) = writes(&server, posts, concurrency, |n| {
        http.post(&hook_url)
            .header("content-type", "text/plain")
            .body(format!("hook message {n}"))
    })
    .await?;
    let (api_hist, api_took, _) = writes(&server, posts, concurrency, |n| {
        http.post(format!("{base}/api/v1/conversations/{room}/messages"))
            .header("cookie", seeded.cookie(n % people))
            .json(&serde_json::json!({"body": format!("api message {n}")}))
    })
    .await?;
    let peak = server::peak_rss_mb(server.pid)?
        .max(hook_peak)
        .max(peak_reads);

    let mut report = Report::default();
    report.note(format!(
        "{people} people, each with a read token (POST /api/v1/me/tokens); {connections} \
         keep-alive connections GET /api/v1/me with a bearer token and with a session cookie in \
         turn, twice each ({seconds} s in all for each; the better run counts); {}",
        server.note()
    ));
    report.note(format!(
        "{posts} messages POSTed as text to an incoming webhook's URL, {concurrency} at a time; \
         then {posts} through POST /api/v1/conversations/{{id}}/messages with cookies, the same way"
    ));
    report.figure("token_rps", bearer.rate, "(report)");
    report.figure("cookie_rps", cookie.rate, "(the floor: a session cookie)");
    report.figure(
        "token_over_cookie",
        (bearer.rate / cookie.rate.max(1.0) * 1000.0).round() / 1000.0,
        ">= 0.9 (a token costs about what a session does)",
    );
    report.figure("token_p99_ms", ms(bearer.hist.value_at_quantile(0.99)), "");
    report.figure("bad_answers", bearer.bad + cookie.bad, "0");
    report.figure(
        "hook_posts_per_s",
        per_second(posts as u64, hook_took),
        "(report)",
    );
    report.figure(
        "api_posts_per_s",
        per_second(posts as u64, api_took),
        "(the floor: the API's send)",
    );
    report.figure("hook_p50_ms", ms(hook_hist.value_at_quantile(0.5)), "");
    report.figure("hook_p99_ms", ms(hook_hist.value_at_quantile(0.99)), "");
    report.figure("api_p99_ms", ms(api_hist.value_at_quantile(0.99)), "");
    report.figure("idle_rss_mb", idle_rss, "");
    report.figure(
        "peak_rss_mb",
        peak,
        &format!("<= {:.0} (idle + 32)", idle_rss + 32.0),
    );
    report.field("people", people);
    report.field("connections", connections);
    report.field("posts", posts);
    Ok(report)
}

/// The run with the higher rate (bad answers of both are kept).
fn better(best: Option<Reads>, run: Reads) -> Reads {
    match best {
        Some(b) if b.rate >= run.rate => Reads {
            bad: b.bad + run.bad,
            ..b
        },
        Some(b) => Reads {
            bad: b.bad + run.bad,
            ..run
        },
        None => run,
    }
}

struct Reads {
    hist: hdrhistogram::Histogram<u64>,
    rate: f64,
    bad: u64,
}

/// `GET /api/v1/me` on `connections` keep-alive connections for `seconds`, connection `c`
/// sending the header line `header(c)`.
async fn reads(
    server: &Server,
    connections: usize,
    seconds: f64,
    spread: usize,
    header: impl Fn(usize) -> String + Send + Sync + 'static,
) -> anyhow::Result<Reads> {
    let header = Arc::new(header);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (stop, header, addr) = (stop.clone(), header.clone(), server.addr);
        tasks.push(tokio::spawn(async move {
            let mut http = Http::connect(addr, client::source(c, spread)).await?;
            let line = header(c);
            let (mut hist, mut done, mut bad) = (histogram(), 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                let began = Instant::now();
                let (status, _) = tokio::time::timeout(
                    Duration::from_secs(10),
                    http.get_with("/api/v1/me", &line),
                )
                .await
                .map_err(|_| anyhow::anyhow!("no answer within 10 s"))??;
                hist.saturating_record(began.elapsed().as_nanos() as u64);
                done += 1;
                bad += u64::from(status != 200);
            }
            anyhow::Ok((hist, done, bad))
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut hist, mut done, mut bad) = (histogram(), 0, 0);
    for t in tasks {
        let (h, d, b) = t.await??;
        hist.add(&h)?;
        done += d;
        bad += b;
    }
    Ok(Reads {
        hist,
        rate: per_second(done, started.elapsed()),
        bad,
    })
}

/// `posts` requests made by `request(n)`, `concurrency` at a time; each must succeed. The
/// latencies, the time taken and the server's highest memory seen meanwhile.
async fn writes(
    server: &Server,
    posts: usize,
    concurrency: usize,
    request: impl Fn(usize) -> reqwest::RequestBuilder,
) -> anyhow::Result<(hdrhistogram::Histogram<u64>, Duration, f64)> {
    let started = Instant::now();
    let mut hist = histogram();
    let mut peak: f64 = 0.0;
    let mut n = 0;
    while n < posts {
        let batch: Vec<_> = (n..(n + concurrency).min(posts))
            .map(|i| {
                let req = request(i);
                tokio::spawn(async move {
                    let began = Instant::now();
                    let res = req.send().await?;
                    anyhow::ensure!(res.status().is_success(), "a post: {}", res.status());
                    anyhow::Ok(began.elapsed())
                })
            })
            .collect();
        n += batch.len();
        for t in batch {
            hist.saturating_record(t.await??.as_nanos() as u64);
        }
        if n % (concurrency * 50) < concurrency {
            peak = peak.max(server.rss_mb().unwrap_or(0.0));
        }
    }
    Ok((hist, started.elapsed(), peak))
}
