//! HTTP timeouts and caps, from a raw socket: clients that send nothing, trickle a request,
//! idle between requests or stop reading are let go; connections past the cap are answered
//! 503; a declared body over the limit is refused before it is read. None of it starves
//! `/healthz`, and a WebSocket keeps its own, longer, timeouts.

mod common;

use common::{TestApp, Ws};
use hearth::config::Config;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a test waits for something that should happen within about a second.
const PATIENCE: Duration = Duration::from_secs(8);

async fn spawn(tweak: impl FnOnce(&mut Config)) -> TestApp {
    TestApp::spawn_with(tweak).await
}

/// Reads until the server closes the connection; the bytes read and when it closed.
async fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Instant) {
    let mut all = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (all, Instant::now()),
            Ok(Ok(n)) => all.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open past {PATIENCE:?}"),
        }
    }
}

/// One GET on a fresh connection; its status.
async fn status_of(app: &TestApp, path: &str) -> u16 {
    app.client()
        .get(app.url(path))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_request_timeout() {
    let app = spawn(|c| c.request_timeout_secs = 1).await;
    let opened = Instant::now();
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    let (bytes, closed) = read_until_closed(&mut silent).await;
    assert!(
        bytes.is_empty(),
        "nothing is said to a client that said nothing"
    );
    let took = closed - opened;
    assert!(took >= Duration::from_millis(900), "closed after {took:?}");
    assert_eq!(status_of(&app, "/healthz").await, 200);
    let timed_out = &app.app.server.timed_out;
    assert_eq!(
        timed_out.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "counted once"
    );
}

#[tokio::test]
async fn a_request_head_trickled_byte_by_byte_is_cut_off() {
    let app = spawn(|c| c.request_timeout_secs = 1).await;
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let opened = Instant::now();
    // Keep sending a header byte every 100 ms, never finishing the head.
    let trickle = async {
        for _ in 0..60 {
            if slow.write_all(b"x").await.is_err() {
                return Instant::now();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("six seconds of trickling and the connection is still open");
    };
    let cut = trickle.await;
    assert!(cut - opened < Duration::from_secs(4), "{:?}", cut - opened);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_a_prompt_one_is_served() {
    let app = spawn(|c| {
        c.request_timeout_secs = 10;
        c.keep_alive_secs = 1;
    })
    .await;
    let mut conn = TcpStream::connect(app.addr).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n";
    for _ in 0..2 {
        conn.write_all(request).await.unwrap();
        let mut buf = [0u8; 1024];
        let n = conn.read(&mut buf).await.unwrap();
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{:?}",
            String::from_utf8_lossy(&buf[..n])
        );
        // Within the keep-alive time the next request is served on the same connection.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let idle_from = Instant::now();
    let (bytes, closed) = read_until_closed(&mut conn).await;
    assert!(bytes.is_empty());
    let idle = closed - idle_from;
    assert!(
        idle >= Duration::from_millis(500) && idle < Duration::from_secs(5),
        "closed after {idle:?} idle (keep-alive 1 s; the request timeout of 10 s does not apply)"
    );
}

#[tokio::test]
async fn a_websocket_outlives_the_http_timeouts() {
    let app = spawn(|c| {
        c.request_timeout_secs = 1;
        c.keep_alive_secs = 1;
    })
    .await;
    let ada = app.person("ada").await;
    let mut ws = ada.ws(None).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    ws.send(serde_json::json!({"op": "ping", "req": "p"})).await;
    let pong = ws.next().await;
    assert_eq!(pong["type"], "pong", "{pong}");
}

#[tokio::test]
async fn connections_past_the_cap_get_a_503_and_healthz_answers_again_when_one_goes() {
    let app = spawn(|c| {
        c.max_connections = 3;
        c.request_timeout_secs = 30;
        c.metrics_token = "metrics-token-for-tests".into();
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // Give the server a moment to accept all three.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    let (answer, _) = read_until_closed(&mut extra).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("retry-after: 5"), "{answer}");
    assert_eq!(
        app.app
            .server
            .refused
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        status_of(&app, "/healthz").await,
        0,
        "no room for a health check either"
    );
    held.pop();
    let deadline = Instant::now() + PATIENCE;
    while status_of(&app, "/healthz").await != 200 {
        assert!(Instant::now() < deadline, "healthz never came back");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(held);
    let metrics = app
        .client()
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-tests")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("hearth_connections_refused_total 2"),
        "{metrics}"
    );
    assert!(metrics.contains("hearth_connections_open "), "{metrics}");
}

#[tokio::test]
async fn a_websocket_counts_against_the_cap_while_it_is_open() {
    let app = spawn(|c| c.max_connections = 3).await;
    // Ada's sign-in leaves one keep-alive connection open: with two sockets, three in all.
    let ada = app.person("ada").await;
    let ws = ada.ws(None).await;
    let second = Ws::connect(&ada.base, &ada.cookie, None).await;
    assert_eq!(
        status_of(&app, "/healthz").await,
        0,
        "the sockets hold their places"
    );
    drop((ws, second));
    let deadline = Instant::now() + PATIENCE;
    while status_of(&app, "/healthz").await != 200 {
        assert!(
            Instant::now() < deadline,
            "closed sockets never gave their places back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends a request whose head declares `length` bytes of body, then only a few; the answer.
async fn declared(app: &TestApp, path: &str, length: u64) -> (String, Duration) {
    let mut conn = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {length}\r\n\r\n{{}}",
        app.addr
    );
    let sent = Instant::now();
    conn.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut conn).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        sent.elapsed(),
    )
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    let app = spawn(|c| {
        c.request_timeout_secs = 30;
        c.max_request_bytes = 2048;
    })
    .await;
    let (answer, took) = declared(&app, "/api/v1/session", 99_999_999_999).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains(r#""code":"too_large""#), "{answer}");
    assert!(answer.contains("request body over 2048 bytes"), "{answer}");
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    // One byte past the limit is refused as well; the page form answers with a page.
    let (answer, _) = declared(&app, "/login", 2049).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("<html"), "{answer}");
}

#[tokio::test]
async fn a_body_of_exactly_the_limit_is_read() {
    let app = spawn(|c| c.max_request_bytes = 2048).await;
    let password = "p".repeat(2048 - r#"{"username":"ada","password":""}"#.len());
    let body = format!(r#"{{"username":"ada","password":"{password}"}}"#);
    assert_eq!(body.len(), 2048);
    let res = app
        .client()
        .post(app.url("/api/v1/session"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        401,
        "read and checked, not refused for its size"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_its_answers_is_let_go() {
    let app = spawn(|c| c.request_timeout_secs = 1).await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut conn = socket.connect(app.addr).await.unwrap();
    // Ask for the same stylesheet again and again, uncompressed, and read nothing.
    let request = "GET /assets/hearth.css HTTP/1.1\r\nhost: x\r\n\r\n";
    let pipeline = request.repeat(2000);
    let _ = tokio::time::timeout(Duration::from_secs(2), conn.write_all(pipeline.as_bytes())).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (answers, _) = read_until_closed(&mut conn).await;
    let served = answers.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
    assert!(
        (1..2000).contains(&served),
        "the server gave up on the stalled client after {served} answers"
    );
}
