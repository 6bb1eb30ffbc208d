//! Attachments in object storage, against moto on loopback: uploads, ranged downloads and
//! thumbnails live in the bucket; the collector, `check`, backups and `migrate` work on it;
//! storage that refuses the credentials stops the start, and storage that goes away fails an
//! upload cleanly (down, 500, 403, no answer). Without moto the tests are skipped (in CI they
//! fail).

mod common;
#[path = "common/faults.rs"]
mod faults;
#[path = "common/ops.rs"]
mod ops_support;
#[path = "common/litestream.rs"]
mod replication;

use common::TestApp;
use common::images::png;
use hearth::blobs::Blobs;
use hearth::config::{Config, S3Config};
use hearth::ops::{Progress, check};
use replication::Moto;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn moto() -> Option<Moto> {
    let binary = replication::require("MOTO_SERVER", "moto_server")?;
    let moto = Moto::start(&binary);
    moto.create_bucket("hearth");
    Some(moto)
}

/// Points a config at the bucket `hearth` of `moto`.
fn on_s3(config: &mut Config, endpoint: &str) {
    config.attachments = "s3://hearth/blobs".into();
    config.s3 = S3Config {
        endpoint: endpoint.to_owned(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
        allow_http: true,
        timeout_secs: 10,
        ..S3Config::default()
    };
}

/// The same settings as variables, for the `hearth` command.
fn s3_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HEARTH_ATTACHMENTS", "s3://hearth/blobs".into()),
        ("HEARTH_S3_ENDPOINT", endpoint.to_owned()),
        ("HEARTH_S3_ACCESS_KEY_ID", "test".into()),
        ("HEARTH_S3_SECRET_ACCESS_KEY", "test".into()),
        ("HEARTH_S3_ALLOW_HTTP", "true".into()),
    ]
}

async fn bucket(config: &Config) -> Blobs {
    Blobs::connect(config).await.expect("the bucket")
}

async fn stored(blobs: &Blobs) -> Vec<String> {
    blobs
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.sha256)
        .collect()
}

fn check_report(data: &Path, blobs: &Blobs) -> check::Report {
    check::run_with(data, blobs, Progress::quiet()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_live_in_the_bucket_and_are_served_checked_and_backed_up() {
    let Some(moto) = moto() else { return };
    let endpoint = moto.endpoint.clone();
    let app = TestApp::spawn_with(|c| on_s3(c, &endpoint)).await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    let picture = png(900, 600, 120);
    let photo = ann.uploaded("red.png", picture.clone()).await;
    let text: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let notes = ann.uploaded("notes.bin", text.clone()).await;
    let res = ann
        .post(
            &format!("/api/v1/conversations/{general}/messages"),
            json!({"body": "Photo and notes", "attachments": [photo, notes]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.blobs(), 0, "nothing under attachments/ in the data dir");
    let blobs = bucket(&app.app.config).await;
    assert_eq!(
        stored(&blobs).await.len(),
        3,
        "the photo, its thumbnail, the notes"
    );

    // A file larger than one part goes up in parts and comes back whole and in ranges.
    let large: Vec<u8> = (0..9 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    let video = ann.uploaded("large.bin", large.clone()).await;
    assert_eq!(stored(&blobs).await.len(), 4);
    let res = ann.get(&format!("/files/{video}")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.bytes().await.unwrap().to_vec() == large,
        "the large file, whole"
    );
    let res = ann
        .http
        .get(ann.url(&format!("/files/{video}")))
        .header("cookie", &ann.cookie)
        .header("Range", "bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.bytes().await.unwrap().to_vec(),
        large[large.len() - 10..].to_vec()
    );

    // Downloads: whole, a range, and the thumbnail.
    let res = ann.get(&format!("/files/{notes}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), text);
    let res = ann
        .http
        .get(ann.url(&format!("/files/{notes}")))
        .header("cookie", &ann.cookie)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(
        res.headers()["content-range"].to_str().unwrap(),
        "bytes 100-199/20000"
    );
    assert_eq!(res.bytes().await.unwrap().to_vec(), text[100..200].to_vec());
    let res = ann.get(&format!("/thumbs/{photo}")).await;
    assert_eq!(res.status(), 200);
    let thumb = res.bytes().await.unwrap();
    assert!(image::load_from_memory(&thumb).unwrap().width() <= 720);

    // An avatar is cut square, stored in the bucket and served from it.
    let res = ann
        .http
        .put(ann.url("/api/v1/me/avatar"))
        .header("cookie", &ann.cookie)
        .body(png(600, 400, 30))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    let url = me["avatar_url"].as_str().unwrap().to_owned();
    assert!(
        stored(&blobs)
            .await
            .contains(&url["/pictures/".len()..].to_owned())
    );
    let res = ann.get(&url).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/")
    );
    assert_eq!(
        image::load_from_memory(&res.bytes().await.unwrap())
            .unwrap()
            .width(),
        256
    );

    // A backup holds the blobs, read from the bucket.
    let data = app.dir.path().join("data");
    let archive = app.dir.path().join("backup.tar.gz");
    let (d, b, a) = (data.clone(), blobs.clone(), archive.clone());
    let report = tokio::task::spawn_blocking(move || {
        let dest = hearth::ops::backup::Destination::File(a);
        let cancel = hearth::ops::backup::Cancel::default();
        hearth::ops::backup::create_from(&d, &b, &dest, Progress::quiet(), &cancel)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        report.manifest.files.len(),
        6,
        "the database and five blobs"
    );

    // The HTML export inlines the thumbnail, read from the bucket.
    let out = ops_support::ok(
        ops_support::hearth(&data)
            .envs(s3_env(&endpoint))
            .args(["export", "--format", "html"]),
    );
    assert!(
        out.stdout.contains("src=\"data:image/jpeg;base64,"),
        "the image is inlined"
    );

    // A clean check, then one with an object lost behind the server's back.
    let (d, b) = (data.clone(), blobs.clone());
    let report = tokio::task::spawn_blocking(move || check_report(&d, &b))
        .await
        .unwrap();
    assert_eq!(report.problem_count(), 0, "{}", report.render());
    let sha: String = app
        .sql()
        .query_row(
            &format!("SELECT sha256 FROM attachments WHERE id = {notes}"),
            [],
            |r| r.get(0),
        )
        .unwrap();
    blobs.delete(&sha).await.unwrap();
    let (d, b) = (data.clone(), blobs.clone());
    let report = tokio::task::spawn_blocking(move || check_report(&d, &b))
        .await
        .unwrap();
    assert_eq!(report.problem_count(), 1, "{}", report.render());
    assert!(
        report.render().contains(&format!("{sha} is missing")),
        "{}",
        report.render()
    );
    let out = ops_support::run(
        ops_support::hearth(&data)
            .envs(s3_env(&endpoint))
            .arg("check"),
        "",
    );
    assert!(
        !out.ok && out.stdout.contains(&format!("{sha} is missing")),
        "{}",
        out.stdout
    );
    assert_eq!(ann.get(&format!("/files/{notes}")).await.status(), 404);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_removes_what_no_row_needs_from_the_bucket() {
    let Some(moto) = moto() else { return };
    let endpoint = moto.endpoint.clone();
    let app = TestApp::spawn_with(|c| on_s3(c, &endpoint)).await;
    let ann = app.person("ann").await;
    let kept = ann.uploaded("kept.txt", b"kept".to_vec()).await;
    let blobs = bucket(&app.app.config).await;
    let orphan = blobs.put(b"an orphan".to_vec()).await.unwrap();
    assert_eq!(stored(&blobs).await.len(), 2);

    // Within the grace time nothing goes; past it, only the orphan.
    let (_, removed, _) = hearth::chat::files::collect(&app.app.chat).await.unwrap();
    assert_eq!(removed, 0);
    let (_, removed, freed) = hearth::chat::files::collect_with(&app.app.chat, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!((removed, freed), (1, 9));
    let left = stored(&blobs).await;
    assert_eq!(left.len(), 1);
    assert!(!left.contains(&orphan));
    assert_eq!(ann.get(&format!("/files/{kept}")).await.status(), 200);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_copies_a_data_dirs_blobs_to_the_bucket_and_resumes() {
    let Some(moto) = moto() else { return };
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    ann.uploaded("photo.png", png(64, 48, 10)).await;
    ann.uploaded("notes.txt", b"the minutes".to_vec()).await;
    assert_eq!(app.blobs(), 3);
    let data = app.dir.path().join("data");
    let mut config = Config {
        data_dir: data.clone(),
        ..Config::default()
    };
    on_s3(&mut config, &moto.endpoint);
    let local = Blobs::new(&data);
    let remote = bucket(&config).await;

    // One blob is there already: only the other two are sent.
    let one = local.list().await.unwrap().remove(0);
    remote
        .put_file(&one.sha256, &local.path(&one.sha256), one.size)
        .await
        .unwrap();
    let done = hearth::ops::migrate::migrate(&data, &local, &remote, Progress::quiet())
        .await
        .unwrap();
    assert_eq!((done.copied, done.present, done.failed), (2, 1, 0));
    let again = hearth::ops::migrate::migrate(&data, &local, &remote, Progress::quiet())
        .await
        .unwrap();
    assert_eq!(
        (again.copied, again.present),
        (0, 3),
        "a second run copies nothing"
    );
    let out = ops_support::ok(
        ops_support::hearth(&data)
            .envs(s3_env(&moto.endpoint))
            .args(["attachments", "migrate", "--to", "s3"]),
    );
    assert!(out.stdout.contains("Copied 0 blobs"), "{}", out.stdout);
    for blob in local.list().await.unwrap() {
        let there = remote.read_all(&blob.sha256).await.unwrap();
        assert_eq!(there, std::fs::read(local.path(&blob.sha256)).unwrap());
    }

    // And back into an empty data dir.
    let elsewhere = app.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let back = Blobs::new(&elsewhere);
    let done = hearth::ops::migrate::migrate(&elsewhere, &remote, &back, Progress::quiet())
        .await
        .unwrap();
    assert_eq!((done.copied, done.failed), (3, 0));
    assert_eq!(stored(&back).await, stored(&local).await);
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_or_no_storage_stop_the_start_naming_the_setting() {
    let Some(binary) = replication::require("MOTO_SERVER", "moto_server") else {
        return;
    };
    let strict = Moto::start_with(&binary, &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    on_s3(&mut config, &strict.endpoint);
    let err = Blobs::connect(&config).await.unwrap_err().to_string();
    assert!(
        err.contains("s3.access_key_id") && err.contains("s3.secret_access_key"),
        "{err}"
    );

    // `hearth serve` does not start, and says why.
    let mut child = ops_support::hearth(&dir.path().join("served"))
        .envs(s3_env(&strict.endpoint))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hearth serve started against storage that refuses its credentials");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!status.success());
    assert!(said.contains("s3.access_key_id"), "{said}");

    // Nothing listens: the start fails in a few seconds, naming the endpoint.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    on_s3(&mut config, &format!("http://127.0.0.1:{port}"));
    let started = std::time::Instant::now();
    let err = Blobs::connect(&config).await.unwrap_err().to_string();
    assert!(err.contains("s3.endpoint"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_while_storage_is_down_fails_cleanly_and_leaves_no_row() {
    let Some(moto) = moto() else { return };
    let endpoint = moto.endpoint.clone();
    let app = TestApp::spawn_with(|c| on_s3(c, &endpoint)).await;
    let ann = app.person("ann").await;
    ann.uploaded("before.txt", b"stored".to_vec()).await;
    drop(moto);

    let started = std::time::Instant::now();
    let res = ann.upload("during.txt", b"lost on the way".to_vec()).await;
    assert!(res.status().is_server_error(), "{}", res.status());
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["message"].is_string());
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(app.count("SELECT count(*) FROM attachments"), 1);
    let incoming = app.dir.path().join("data/incoming");
    let left = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "no temp file left behind");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_that_fails_refuses_uploads_cleanly_and_recovers() {
    let Some(moto) = moto() else { return };
    let upstream: std::net::SocketAddr =
        moto.endpoint.trim_start_matches("http://").parse().unwrap();
    let proxy = faults::Faulty::start(upstream).await;
    let endpoint = proxy.endpoint.clone();
    let app = TestApp::spawn_with(|c| {
        on_s3(c, &endpoint);
        c.s3.timeout_secs = 2;
    })
    .await;
    let ann = app.person("ann").await;
    let kept = ann.uploaded("before.txt", b"stored".to_vec()).await;
    let incoming = app.dir.path().join("data/incoming");

    for (mode, what) in [
        (faults::Mode::ServerError, "500"),
        (faults::Mode::Forbidden, "403"),
        (faults::Mode::Stall, "no answer"),
    ] {
        proxy.set(mode);
        let started = std::time::Instant::now();
        let res = ann
            .upload("during.txt", format!("sent during {what}").into_bytes())
            .await;
        assert!(res.status().is_server_error(), "{what}: {}", res.status());
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what}: bounded"
        );
        assert_eq!(
            app.count("SELECT count(*) FROM attachments"),
            1,
            "{what}: no row"
        );
        let left = std::fs::read_dir(&incoming).map(|d| d.count()).unwrap_or(0);
        assert_eq!(left, 0, "{what}: no temp file left behind");
        if mode == faults::Mode::ServerError {
            let res = ann.get(&format!("/files/{kept}")).await;
            assert!(
                res.status().is_server_error(),
                "a download: {}",
                res.status()
            );
        }
    }

    proxy.set(faults::Mode::Pass);
    ann.uploaded("after.txt", b"stored again".to_vec()).await;
    assert_eq!(ann.get(&format!("/files/{kept}")).await.status(), 200);
    app.stop().await.unwrap();
}
