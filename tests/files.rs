//! Files end to end: uploads streamed and bound to a message, served safely to members only,
//! images measured and thumbnailed, bad input refused with nothing changed, and the collector.

mod common;

use common::TestApp;
use common::images::{png, png_claiming};
use serde_json::{Value, json};

async fn send(
    p: &common::Person,
    conversation: i64,
    body: &str,
    files: &[i64],
) -> reqwest::Response {
    p.post(
        &format!("/api/v1/conversations/{conversation}/messages"),
        json!({"body": body, "attachments": files}),
    )
    .await
}

#[tokio::test]
async fn a_photo_is_uploaded_sent_and_seen_by_members_only() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let general = ann.general().await;
    let mut bob_ws = bob.ws(None).await;

    let res = ann.upload("holiday photo.png", png(1600, 900, 200)).await;
    assert_eq!(res.status(), 201);
    let up: Value = res.json().await.unwrap();
    assert_eq!(up["kind"], "image");
    assert_eq!(up["mime"], "image/png");
    assert_eq!(
        (up["width"].as_i64(), up["height"].as_i64()),
        (Some(1600), Some(900))
    );
    assert_eq!(up["name"], "holiday photo.png");
    let id = up["id"].as_i64().unwrap();
    assert_eq!(up["url"], format!("/files/{id}/holiday%20photo.png"));
    assert_eq!(up["thumb_url"], format!("/thumbs/{id}"));

    // Before it is sent, only its uploader may fetch it.
    assert_eq!(ann.get(&format!("/files/{id}")).await.status(), 200);
    assert_eq!(bob.get(&format!("/files/{id}")).await.status(), 404);

    let res = send(&ann, general, "Look at this", &[id]).await;
    assert_eq!(res.status(), 201);
    let m: Value = res.json().await.unwrap();
    assert_eq!(m["attachments"][0]["id"], id);
    assert_eq!(m["attachments"][0]["width"], 1600);

    // Bob hears it live, with the file and the thumbnail in the fragment at its final size.
    let event = bob_ws.event().await;
    assert_eq!(event["event"], "message.created");
    assert_eq!(
        event["data"]["message"]["attachments"][0]["thumb_url"],
        format!("/thumbs/{id}")
    );
    let html = event["data"]["html"].as_str().unwrap();
    assert!(html.contains(&format!("src=\"/thumbs/{id}\"")), "{html}");
    assert!(
        html.contains("width=\"720\"") && html.contains("height=\"405\""),
        "{html}"
    );

    // History carries it too.
    let page = bob
        .json(&format!("/api/v1/conversations/{general}/messages"))
        .await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["attachments"][0]["name"], "holiday photo.png");

    // Bob downloads it: inline, typed by its content, sandboxed, cacheable by its hash.
    let res = bob.get(&format!("/files/{id}/holiday%20photo.png")).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline;")
    );
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    let etag = h["etag"].to_str().unwrap().to_owned();
    let bytes = res.bytes().await.unwrap();
    assert_eq!(
        bytes.as_ref(),
        png(1600, 900, 200).as_slice(),
        "the same bytes back"
    );

    // The thumbnail: a smaller image, served inline.
    let res = bob.get(&format!("/thumbs/{id}")).await;
    assert_eq!(res.status(), 200);
    let thumb = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (720, 405));

    // Revalidation and ranges.
    let res = bob
        .http
        .get(bob.url(&format!("/files/{id}")))
        .header("cookie", &bob.cookie)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let res = bob
        .http
        .get(bob.url(&format!("/files/{id}")))
        .header("cookie", &bob.cookie)
        .header("range", "bytes=0-7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    let total = bytes.len();
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 0-7/{total}").as_str()
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), b"\x89PNG\r\n\x1a\n");
    let res = bob
        .http
        .get(bob.url(&format!("/files/{id}")))
        .header("cookie", &bob.cookie)
        .header("range", format!("bytes={total}-"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 416);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes */{total}").as_str()
    );

    // Someone outside a private group never sees its files, nor learns they exist.
    let group = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "secret"}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let secret = ann.uploaded("plan.png", png(10, 10, 200)).await;
    assert_eq!(send(&ann, group, "", &[secret]).await.status(), 201);
    for path in [
        format!("/files/{secret}"),
        format!("/thumbs/{secret}"),
        "/files/999999".into(),
    ] {
        assert_eq!(bob.get(&path).await.status(), 404, "{path}");
    }
    let res = bob
        .get(&format!("/api/v1/conversations/{group}/files"))
        .await;
    assert_eq!(res.status(), 404);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn what_a_browser_could_run_is_only_ever_a_download() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    let cases: [(&str, &[u8]); 3] = [
        ("cat.png", b"<!doctype html><script>alert(1)</script>"),
        (
            "logo.png",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        ),
        ("page.html", b"<html><body>hi</body></html>"),
    ];
    for (name, bytes) in cases {
        let res = ann.upload(name, bytes.to_vec()).await;
        assert_eq!(res.status(), 201, "{name}");
        let up: Value = res.json().await.unwrap();
        assert_eq!(up["kind"], "file", "{name}: typed by content, not name");
        assert!(up["thumb_url"].is_null());
        let id = up["id"].as_i64().unwrap();
        assert_eq!(send(&ann, general, name, &[id]).await.status(), 201);
        let res = ann.get(&format!("/files/{id}")).await;
        let h = res.headers();
        assert_eq!(h["content-type"], "application/octet-stream", "{name}");
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment;"),
            "{name}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("sandbox")
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_and_leave_nothing() {
    let app = TestApp::spawn_with(|c| c.max_upload_mb = 1).await;
    let ann = app.person("ann").await;
    let limit = 1024 * 1024;

    // Exactly at the limit: taken.
    let at = vec![7u8; limit];
    assert_eq!(ann.upload("at.bin", at).await.status(), 201);
    assert_eq!(app.count("SELECT count(*) FROM attachments"), 1);

    // One byte past it, declared: refused before the body is read.
    let res = ann.upload("over.bin", vec![7u8; limit + 1]).await;
    assert_eq!(res.status(), 413);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1 MB"),
        "{body}"
    );

    // One byte past it, streamed without a length: cut off, nothing kept.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(vec![1u8; limit / 2]),
        Ok(vec![2u8; limit / 2]),
        Ok(vec![3u8]),
    ];
    let res = ann
        .http
        .post(ann.url("/api/v1/uploads?name=streamed.bin"))
        .header("cookie", &ann.cookie)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);

    // An empty file: a clear error.
    let res = ann.upload("empty.txt", Vec::new()).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "the file is empty");

    assert_eq!(
        app.count("SELECT count(*) FROM attachments"),
        1,
        "only the one at the limit"
    );
    assert_eq!(app.blobs(), 1);
    let incoming = std::fs::read_dir(app.dir.path().join("data/incoming"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(incoming, 0, "no half-written upload stays");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_upload_cut_off_midway_leaves_no_blob_and_no_row() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/uploads?name=half.bin HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\n\
         Content-Length: 100000\r\n\r\n",
        app.addr, ann.cookie
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.write_all(&[9u8; 5000]).await.unwrap();
    tcp.flush().await.unwrap();
    drop(tcp);
    // The server notices the broken body and removes the temp file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let incoming = std::fs::read_dir(app.dir.path().join("data/incoming"))
            .map(|d| d.count())
            .unwrap_or(0);
        if incoming == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the temp file stays");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM attachments"), 0);
    assert_eq!(app.blobs(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_with_a_clear_error() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let res = ann.upload("bomb.png", png_claiming(20_000, 20_000)).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("20000") && message.contains("cannot be shown"),
        "{message}"
    );
    assert_eq!(app.count("SELECT count(*) FROM attachments"), 0);
    assert_eq!(app.blobs(), 0, "neither the bomb nor a thumbnail is kept");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn names_are_made_safe_and_the_same_bytes_are_stored_once() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bytes = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF".to_vec();
    let mut names = Vec::new();
    for raw in [
        "../../etc/passwd.pdf",
        "evil\u{202E}fdp.exe",
        "a\u{0}b\nc.pdf",
        &"x".repeat(1000),
    ] {
        let res = ann.upload(raw, bytes.clone()).await;
        assert_eq!(res.status(), 201, "{raw:?}");
        let up: Value = res.json().await.unwrap();
        names.push(up["name"].as_str().unwrap().to_owned());
        assert_eq!(up["mime"], "application/pdf");
    }
    assert_eq!(names[0], "passwd.pdf");
    assert!(!names[1].contains('\u{202E}'), "{:?}", names[1]);
    assert!(!names[2].chars().any(char::is_control), "{:?}", names[2]);
    assert!(names[3].len() <= 200);
    assert_eq!(app.count("SELECT count(*) FROM attachments"), 4);
    assert_eq!(app.blobs(), 1, "four uploads of the same bytes, one blob");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_message_takes_only_its_senders_fresh_uploads() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let general = ann.general().await;
    let bobs = bob.uploaded("b.txt", b"bob's".to_vec()).await;
    let stale = ann.uploaded("old.txt", b"old".to_vec()).await;
    app.sql()
        .execute(
            "UPDATE attachments SET created_at = created_at - 25 * 3600 * 1000 WHERE id = ?1",
            [stale],
        )
        .unwrap();
    let mine = ann.uploaded("a.txt", b"ann's".to_vec()).await;
    let before = app.count("SELECT count(*) FROM messages");

    for (files, why) in [
        (vec![bobs], "no upload"),
        (vec![stale], "expired"),
        (vec![mine, mine], "twice"),
        (vec![123_456], "no upload"),
        ((0..11).collect::<Vec<i64>>(), "at most 10"),
    ] {
        let res = send(&ann, general, "with files", &files).await;
        assert_eq!(res.status(), 400, "{why}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM messages"),
        before,
        "nothing stored"
    );

    // A caption may be empty when files go; a file goes once.
    let res = send(&ann, general, "", &[mine]).await;
    assert_eq!(res.status(), 201);
    let res = send(&ann, general, "again", &[mine]).await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("already sent"));
    // Without files, an empty body is still refused.
    assert_eq!(send(&ann, general, " ", &[]).await.status(), 400);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn files_of_a_deleted_message_go_and_the_collector_frees_them() {
    let app = TestApp::spawn_with(|c| c.deleted_files_keep_days = 0).await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    let sent = ann.uploaded("photo.png", png(64, 48, 200)).await;
    let m: Value = send(&ann, general, "soon gone", &[sent])
        .await
        .json()
        .await
        .unwrap();
    let never_sent = ann.uploaded("draft.txt", b"never sent".to_vec()).await;
    assert_eq!(app.blobs(), 3, "the photo, its thumbnail and the draft");

    let res = ann.delete(&format!("/api/v1/messages/{}", m["id"])).await;
    assert!(res.status().is_success());
    assert_eq!(ann.get(&format!("/files/{sent}")).await.status(), 404);
    assert_eq!(ann.get(&format!("/thumbs/{sent}")).await.status(), 404);
    let files = ann
        .json(&format!("/api/v1/conversations/{general}/files"))
        .await;
    assert_eq!(files["files"].as_array().unwrap().len(), 0);

    // The upload not yet a day old stays; blobs younger than the grace time stay.
    let (rows, removed, _) = hearth::chat::files::collect(&app.app.chat).await.unwrap();
    assert_eq!((rows, removed), (1, 0));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM attachments WHERE id = {never_sent}"
        )),
        1
    );

    // Age everything: the draft expires and no blob is needed any more.
    app.sql()
        .execute(
            "UPDATE attachments SET created_at = created_at - 25 * 3600 * 1000",
            [],
        )
        .unwrap();
    age_blobs(&app);
    let (rows, removed, freed) = hearth::chat::files::collect(&app.app.chat).await.unwrap();
    assert_eq!((rows, removed), (1, 3));
    assert!(freed > 0);
    assert_eq!(app.blobs(), 0);
    app.stop().await.unwrap();
}

/// Makes every blob two hours old, past the collector's grace time.
fn age_blobs(app: &TestApp) {
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    for shard in std::fs::read_dir(app.dir.path().join("data/attachments")).unwrap() {
        for blob in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let f = std::fs::File::options()
                .write(true)
                .open(blob.unwrap().path())
                .unwrap();
            f.set_modified(old).unwrap();
        }
    }
}

#[tokio::test]
async fn a_quota_stops_uploads_past_it() {
    let app = TestApp::spawn_with(|c| {
        c.max_upload_mb = 1;
        c.upload_quota_mb = 2;
    })
    .await;
    let ann = app.person("ann").await;
    let mb = 1024 * 1024;
    assert_eq!(ann.upload("1.bin", vec![1u8; mb]).await.status(), 201);
    assert_eq!(
        ann.upload("2.bin", vec![2u8; mb]).await.status(),
        201,
        "exactly at the quota"
    );
    let res = ann.upload("3.bin", vec![3u8; 1]).await;
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("quota"));
    assert_eq!(app.count("SELECT count(*) FROM attachments"), 2);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_conversations_files_are_listed_newest_first_with_an_image_filter() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    let doc = ann.uploaded("notes.txt", b"notes".to_vec()).await;
    let pic = ann.uploaded("pic.png", png(20, 10, 200)).await;
    let third = ann.uploaded("more.txt", b"more".to_vec()).await;
    assert_eq!(send(&ann, general, "two", &[doc, pic]).await.status(), 201);
    assert_eq!(send(&ann, general, "one", &[third]).await.status(), 201);

    let all = ann
        .json(&format!("/api/v1/conversations/{general}/files?limit=2"))
        .await;
    let ids: Vec<i64> = all["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![third, pic]);
    let next = all["next_before"].as_i64().unwrap();
    let rest = ann
        .json(&format!(
            "/api/v1/conversations/{general}/files?limit=2&before={next}"
        ))
        .await;
    assert_eq!(rest["files"][0]["id"], doc);
    assert!(rest["next_before"].is_null());
    let images = ann
        .json(&format!(
            "/api/v1/conversations/{general}/files?images=true"
        ))
        .await;
    assert_eq!(images["files"].as_array().unwrap().len(), 1);
    assert_eq!(images["files"][0]["id"], pic);

    let page = ann
        .get(&format!("/c/{general}/files"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("notes.txt") && page.contains("pic.png") && page.contains("more.txt"));
    let page = ann
        .get(&format!("/c/{general}/files?images=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("pic.png") && !page.contains("notes.txt"));
    app.stop().await.unwrap();
}
