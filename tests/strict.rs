//! Strict input: JSON bodies must be objects, forms and query strings must decode to UTF-8,
//! and a WebSocket frame that breaks the protocol closes the socket with the right code.
//! None of this input writes anything.

mod common;

use common::{Person, TestApp};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn count(app: &TestApp, sql: &str) -> i64 {
    app.sql().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// POSTs `body` as is, with a content type.
async fn post_raw(
    p: &Person,
    path: &str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> reqwest::Response {
    p.http
        .post(p.url(path))
        .header("cookie", &p.cookie)
        .header("content-type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn json_bodies_must_be_objects() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = ada.general().await;
    let send = format!("/api/v1/conversations/{room}/messages");
    for body in [
        &b"[\"x\"]"[..],
        b"[\"x\", \"c-1\"]",
        b"\"x\"",
        b"5",
        b"null",
    ] {
        let res = post_raw(&ada, &send, "application/json", body).await;
        assert_eq!(res.status(), 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(common::error_code(res).await, "invalid");
    }
    let res = post_raw(
        &ada,
        "/api/v1/conversations",
        "application/json",
        b"[\"channel\", \"x\"]",
    )
    .await;
    assert_eq!(res.status(), 400);
    let res = post_raw(
        &ada,
        "/api/v1/session",
        "application/json",
        b"[\"ada\", \"correct horse battery\"]",
    )
    .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
    assert_eq!(count(&app, "SELECT count(*) FROM conversations"), 1);

    // An object still works; then an array cannot edit it or move a read marker.
    let id = ada.say(room, "kept").await["id"].as_i64().unwrap();
    let edit = ada
        .http
        .patch(ada.url(&format!("/api/v1/messages/{id}")))
        .header("cookie", &ada.cookie)
        .header("content-type", "application/json")
        .body("[\"changed\"]")
        .send()
        .await
        .unwrap();
    assert_eq!(edit.status(), 400);
    let read = format!("/api/v1/conversations/{room}/read");
    let res = post_raw(&bob, &read, "application/json", format!("[{id}]")).await;
    assert_eq!(res.status(), 400);
    let marker = count(
        &app,
        &format!(
            "SELECT last_read_message_id FROM memberships WHERE user_id = {}",
            bob.id
        ),
    );
    assert_eq!(marker, 0);
    let res = post_raw(&bob, &read, "text/plain", b"").await;
    assert_eq!(res.status(), 204, "an empty body still means everything");
    let body = ada
        .json(&format!("/api/v1/conversations/{room}/messages"))
        .await;
    let kept = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap();
    assert_eq!(kept["body"], "kept");
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE kind = 'message.updated'"
        ),
        0
    );
}

#[tokio::test]
async fn page_forms_refuse_escapes_that_are_not_utf8() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let page = ada.get(&format!("/c/{room}")).await.text().await.unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let send = format!("/c/{room}/messages");
    let form = "application/x-www-form-urlencoded";
    for body in ["body=%FF%FE", "body=%C3", "body=%zz", "body=caf%C3%A9%"] {
        let res = post_raw(&ada, &send, form, format!("{body}&csrf={csrf}")).await;
        assert_eq!(res.status(), 400, "{body}");
        assert!(res.text().await.unwrap().contains("could not be read"));
    }
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
    let ok = format!("body=caf%C3%A9+%F0%9F%91%8D&csrf={csrf}");
    assert_eq!(post_raw(&ada, &send, form, ok).await.status(), 303);
    let body: String = app
        .sql()
        .query_row("SELECT body FROM messages WHERE notice IS NULL", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(body, "café 👍");
    // The sign-in form has no session yet and goes through the same reader.
    let res = app
        .client()
        .post(app.url("/login"))
        .header("content-type", form)
        .body("username=ada%FF&password=x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn undecodable_query_strings_are_refused_on_every_route() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    for path in [
        "/api/v1/conversations?%zz=1".to_owned(),
        format!("/api/v1/conversations/{room}/messages?limit=%FF"),
        "/api/v1/nowhere?a=%".to_owned(),
        "/api/v1/ws?x=%C3".to_owned(),
    ] {
        let res = ada.get(&path).await;
        assert_eq!(res.status(), 400, "{path}");
        assert_eq!(common::error_code(res).await, "invalid", "{path}");
    }
    for path in [
        format!("/c/{room}?%zz=1"),
        "/nowhere?a=%FF".to_owned(),
        "/login?%4".to_owned(),
    ] {
        let res = ada.get(&path).await;
        assert_eq!(res.status(), 400, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
    }
    let res = ada
        .post(
            &format!("/api/v1/conversations/{room}/messages?%zz=1"),
            json!({"body": "no"}),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
    let res = ada
        .get(&format!(
            "/api/v1/conversations/{room}/messages?limit=1&x=caf%C3%A9"
        ))
        .await;
    assert_eq!(res.status(), 200, "a query that decodes is fine");
}

/// A WebSocket client that writes frames byte by byte, masked or not as it is told.
struct RawWs(TcpStream);

impl RawWs {
    /// Upgrades, says hello and reads `ready`.
    async fn open(p: &Person) -> RawWs {
        let mut ws = RawWs::upgrade(p).await;
        ws.write(0x81, br#"{"op":"hello"}"#, true).await;
        let (opcode, payload) = ws.read().await;
        assert_eq!(opcode, 0x1);
        let ready: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(ready["type"], "ready");
        ws
    }

    /// Upgrades, written by hand.
    async fn upgrade(p: &Person) -> RawWs {
        let host = p.base.trim_start_matches("http://").to_owned();
        let mut tcp = TcpStream::connect(&host).await.unwrap();
        let request = format!(
            "GET /api/v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             Cookie: {}\r\n\r\n",
            p.cookie
        );
        tcp.write_all(request.as_bytes()).await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            assert!(head.len() < 4096, "an endless response head");
            let mut byte = [0u8];
            let read = tokio::time::timeout(common::WAIT, tcp.read_exact(&mut byte)).await;
            read.expect("the upgrade answers").unwrap();
            head.push(byte[0]);
        }
        assert!(
            head.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&head)
        );
        RawWs(tcp)
    }

    /// Writes one frame: `first` is the first byte (FIN, reserved bits, opcode).
    async fn write(&mut self, first: u8, payload: &[u8], masked: bool) {
        assert!(payload.len() < 126);
        let mut frame = vec![first, payload.len() as u8 | if masked { 0x80 } else { 0 }];
        let key = [0x37, 0xfa, 0x21, 0x3d];
        if masked {
            frame.extend_from_slice(&key);
            frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        } else {
            frame.extend_from_slice(payload);
        }
        self.0.write_all(&frame).await.unwrap();
    }

    /// Reads one frame from the server (never masked): its opcode and payload.
    async fn read(&mut self) -> (u8, Vec<u8>) {
        let mut head = [0u8; 2];
        let read = tokio::time::timeout(common::WAIT, self.0.read_exact(&mut head)).await;
        read.expect("a frame within 5 s").expect("a frame");
        let len = match head[1] & 0x7f {
            126 => u64::from(self.0.read_u16().await.unwrap()),
            127 => self.0.read_u64().await.unwrap(),
            n => u64::from(n),
        };
        let mut payload = vec![0; len as usize];
        self.0.read_exact(&mut payload).await.unwrap();
        (head[0] & 0x0f, payload)
    }

    /// Reads frames until a close frame; its code.
    async fn close_code(&mut self) -> u16 {
        for _ in 0..50 {
            let (opcode, payload) = self.read().await;
            if opcode == 0x8 {
                assert!(payload.len() >= 2, "a close frame with a code");
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
        panic!("no close frame");
    }
}

#[tokio::test]
async fn text_that_is_not_utf8_closes_the_socket_with_1007() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let mut ws = RawWs::open(&ada).await;
    let send = format!(r#"{{"op":"send","conversation":{room},"body":"a"#).into_bytes();
    let frame = [&send[..], b"\xff\xfe\"}"].concat();
    ws.write(0x81, &frame, true).await;
    assert_eq!(ws.close_code().await, 1007);
    // Before hello too.
    let mut before = RawWs::upgrade(&ada).await;
    before.write(0x81, b"{\"op\":\"hello\"\xc3}", true).await;
    assert_eq!(before.close_code().await, 1007);
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM events WHERE kind LIKE 'message.%'"
        ),
        0
    );
}

#[tokio::test]
async fn protocol_violations_close_the_socket_with_1002() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let send = format!(r#"{{"op":"send","conversation":{room},"body":"sneaky"}}"#);
    // An unmasked client frame (a well-formed send otherwise), reserved bits, unknown opcodes.
    let cases: [(u8, bool); 4] = [(0x81, false), (0xC1, true), (0x83, true), (0x8B, true)];
    for (first, masked) in cases {
        let mut ws = RawWs::open(&ada).await;
        ws.write(first, send.as_bytes(), masked).await;
        assert_eq!(
            ws.close_code().await,
            1002,
            "first byte {first:#x}, masked {masked}"
        );
    }
    let mut early = RawWs::upgrade(&ada).await;
    early.write(0x81, br#"{"op":"hello"}"#, false).await;
    assert_eq!(early.close_code().await, 1002, "before hello too");
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
}

#[tokio::test]
async fn websocket_frames_must_be_objects() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    use futures_util::{SinkExt, StreamExt};
    let mut raw = common::Ws::open(&ada.base, &ada.cookie).await.unwrap();
    raw.send(json!(["hello", null]).to_string().into())
        .await
        .unwrap();
    let frame = tokio::time::timeout(common::WAIT, raw.next())
        .await
        .unwrap();
    let frame: Value = serde_json::from_str(frame.unwrap().unwrap().to_text().unwrap()).unwrap();
    assert_eq!(frame["type"], "error", "an array is not a hello: {frame}");
    let mut ws = ada.ws(None).await;
    ws.send(json!(["send", room, "sneaky", null, null])).await;
    let frame = ws.next_non_presence().await;
    assert_eq!(
        (frame["type"].as_str(), frame["code"].as_str()),
        (Some("error"), Some("invalid")),
        "{frame}"
    );
    ws.send(json!({"op": "ping", "req": "p"})).await;
    assert_eq!(ws.next_non_presence().await["type"], "pong");
    assert_eq!(
        count(&app, "SELECT count(*) FROM messages WHERE notice IS NULL"),
        0
    );
}
