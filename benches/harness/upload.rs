//! `upload`: files through their real path. A photo (a ~505 KB JPEG) is uploaded, sent in a
//! message and its thumbnail fetched, one after another: the latency of the whole. Twenty 5 MB
//! photos uploaded at once: the server's peak memory over idle. And posting text over the
//! WebSocket alone, then while photos are being uploaded and thumbnailed: what it does to posts.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::client::{self};
use super::server::{self, Server, Settings};
use super::{Opts, Report, histogram, ms, seed};

pub async fn run(opts: &Opts) -> anyhow::Result<Report> {
    let uploads: usize = opts.get("uploads", 200)?;
    let people: usize = opts.get("people", 20)?;
    let big: usize = opts.get("big", 20)?;
    let posts: usize = opts.get("posts", 300)?;
    let spread: usize = opts.get("source-addrs", 50)?;
    let bin = server::binary(opts);

    let photo = tokio::task::block_in_place(|| jpeg(1600, 1200, 505 * 1024));
    let large = tokio::task::block_in_place(|| jpeg(2600, 1950, 5 * 1024 * 1024));
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    // Everyone in one channel; each person uploads a share (uploads are budgeted per person).
    let seeded = seed::people(&data, people.max(big).max(2), 1, |_| vec![0])?;
    let room = seeded.rooms[0];
    let settings = Settings {
        send_per_minute: 60_000_000,
        ..Settings::from(opts)
    };
    let server = Server::start(&bin, &data, &settings)?;
    let http = reqwest::Client::builder()
        .local_address(client::source(0, spread))
        .timeout(Duration::from_secs(60))
        .build()?;
    let base = server.base();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = server.rss_mb()?;

    // Twenty large photos at once, each from its own person: peak memory over idle.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..big {
        let (http, base, cookie, body) =
            (http.clone(), base.clone(), seeded.cookie(i), large.clone());
        tasks.push(tokio::spawn(async move {
            upload(&http, &base, &cookie, &format!("big-{i}.jpg"), body).await
        }));
    }
    let mut peak_sampled = idle_rss;
    while !tasks.iter().all(|t| t.is_finished()) {
        peak_sampled = peak_sampled.max(server.rss_mb().unwrap_or(0.0));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for task in tasks {
        task.await??;
    }
    let big_seconds = started.elapsed().as_secs_f64();
    let big_peak = server::peak_rss_mb(server.pid)?.max(peak_sampled);

    // One photo at a time: upload, send, fetch the thumbnail.
    let mut whole = histogram();
    let mut upload_only = histogram();
    for n in 0..uploads {
        let cookie = seeded.cookie(n % people);
        let at = Instant::now();
        let up = upload(&http, &base, &cookie, "garden.jpg", photo.clone()).await?;
        upload_only.saturating_record(at.elapsed().as_nanos() as u64);
        let res = http
            .post(format!("{base}/api/v1/conversations/{room}/messages"))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"body": "the garden", "attachments": [up["id"]]}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 201, "sending: {}", res.status());
        let thumb = up["thumb_url"].as_str().unwrap_or_default();
        let res = http
            .get(format!("{base}{thumb}"))
            .header("cookie", &cookie)
            .send()
            .await?;
        anyhow::ensure!(res.status() == 200, "thumbnail: {}", res.status());
        res.bytes().await?;
        whole.saturating_record(at.elapsed().as_nanos() as u64);
    }

    // The floor: the same number of bytes that are no image (stored, hashed, fsynced, recorded;
    // nothing to decode), uploaded and sent the same way.
    let mut floor = histogram();
    let noise: Vec<u8> = {
        let mut rng = seed::Rng::new(11);
        (0..photo.len()).map(|_| rng.next() as u8).collect()
    };
    for n in 0..uploads {
        let cookie = seeded.cookie(n % people);
        let mut body = noise.clone();
        body[..8].copy_from_slice(&(n as u64).to_le_bytes());
        let at = Instant::now();
        let up = upload(&http, &base, &cookie, "data.bin", body).await?;
        let res = http
            .post(format!("{base}/api/v1/conversations/{room}/messages"))
            .header("cookie", &cookie)
            .json(&serde_json::json!({"body": "the data", "attachments": [up["id"]]}))
            .send()
            .await?;
        anyhow::ensure!(res.status() == 201, "sending: {}", res.status());
        floor.saturating_record(at.elapsed().as_nanos() as u64);
    }

    // Posts alone, then posts while photos upload without a pause.
    let mut ws = client::connect(server.addr, client::source(1, spread), &seeded.cookie(1)).await?;
    let mut alone = histogram();
    for n in 0..posts {
        let took = super::post::post(&mut ws, room, n as u64, 1).await?;
        alone.saturating_record(took.as_nanos() as u64);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut uploaders = Vec::new();
    for i in 2..4.min(people) {
        let (http, base, cookie, body, stop) = (
            http.clone(),
            base.clone(),
            seeded.cookie(i),
            photo.clone(),
            stop.clone(),
        );
        uploaders.push(tokio::spawn(async move {
            let mut done = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Past a person's upload budget the server answers 429: wait it out.
                match upload(&http, &base, &cookie, "busy.jpg", body.clone()).await {
                    Ok(_) => done += 1,
                    Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                }
            }
            done
        }));
    }
    let mut busy = histogram();
    for n in 0..posts {
        let took = super::post::post(&mut ws, room, (posts + n) as u64, 1).await?;
        busy.saturating_record(took.as_nanos() as u64);
    }
    stop.store(true, Ordering::Relaxed);
    let mut during = 0;
    for u in uploaders {
        during += u.await?;
    }

    let mut report = Report::default();
    report.note(format!(
        "a {} KB JPEG (1600x1200) uploaded (POST /api/v1/uploads), sent in a message and its \
         thumbnail fetched, {uploads} times one after another, by {people} people; {}",
        photo.len() / 1024,
        server.note()
    ));
    report.note(format!(
        "{big} photos of {:.1} MB (2600x1950) uploaded at once, each thumbnailed (two decode at a time)",
        large.len() as f64 / 1048576.0
    ));
    report.figure(
        "upload_p50_ms",
        ms(whole.value_at_quantile(0.5)),
        "<= 15 (upload, send, thumbnail)",
    );
    report.figure(
        "upload_p99_ms",
        ms(whole.value_at_quantile(0.99)),
        "(report)",
    );
    report.figure(
        "upload_only_p50_ms",
        ms(upload_only.value_at_quantile(0.5)),
        "",
    );
    report.figure(
        "file_floor_p50_ms",
        ms(floor.value_at_quantile(0.5)),
        "(the same bytes, not an image: upload and send)",
    );
    report.figure(
        "photo_over_floor",
        // Three decimals, as every figure is printed (the JSON line must read back equal).
        (whole.value_at_quantile(0.5) as f64 / floor.value_at_quantile(0.5).max(1) as f64 * 1000.0)
            .round()
            / 1000.0,
        "(report)",
    );
    report.figure(
        "upload_peak_rss_mb",
        big_peak,
        &format!("<= {:.0} (idle + 64)", idle_rss + 64.0),
    );
    report.figure("idle_rss_mb", idle_rss, "");
    report.figure("post_alone_p50_ms", ms(alone.value_at_quantile(0.5)), "");
    report.figure("post_alone_p99_ms", ms(alone.value_at_quantile(0.99)), "");
    report.figure(
        "post_during_uploads_p50_ms",
        ms(busy.value_at_quantile(0.5)),
        "",
    );
    report.figure(
        "post_during_uploads_p99_ms",
        ms(busy.value_at_quantile(0.99)),
        "",
    );
    report.field("big_upload_seconds", big_seconds);
    report.field("uploads_during_posts", during);
    report.field("photo_bytes", photo.len() as u64);
    report.field("large_bytes", large.len() as u64);
    Ok(report)
}

async fn upload(
    http: &reqwest::Client,
    base: &str,
    cookie: &str,
    name: &str,
    body: Vec<u8>,
) -> anyhow::Result<serde_json::Value> {
    let res = http
        .post(format!("{base}/api/v1/uploads"))
        .query(&[("name", name)])
        .header("cookie", cookie)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(res.status() == 201, "upload: {}", res.status());
    Ok(res.json().await?)
}

/// A photo-like JPEG of about `target` bytes: smooth colour with fine grain, its quality
/// chosen to land near the size.
fn jpeg(width: u32, height: u32, target: usize) -> Vec<u8> {
    let mut rng = seed::Rng::new(7);
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let grain = (rng.next() % 48) as i32 - 24;
        let c = |base: u32, d: u32| ((base * 200 / d) as i32 + grain).clamp(0, 255) as u8;
        image::Rgb([c(x, width), c(y, height), c(x + y, width + height)])
    });
    let (mut low, mut high, mut best) = (10u8, 100u8, Vec::new());
    while low <= high {
        let q = (low + high) / 2;
        let mut out = Cursor::new(Vec::new());
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q)
            .encode_image(&img)
            .expect("encodes");
        let bytes = out.into_inner();
        if bytes.len() <= target {
            best = bytes;
            low = q + 1;
        } else {
            if best.is_empty() {
                best = bytes;
            }
            if q == 0 {
                break;
            }
            high = q - 1;
        }
    }
    best
}
