//! TestApp: a real Hearth server on 127.0.0.1:0 in a temp dir, and cookie-aware clients.
#![allow(dead_code)]

pub mod browser;
pub mod images;
pub mod push;
pub mod smtp;
use hearth::chat::accounts::{self, NewUser};
use hearth::config::Config;
use hearth::db::Db;
use hearth::domain::{Role, User};
use hearth::web::{self, App};
use std::net::SocketAddr;
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub app: App,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<hearth::Result<()>>>,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose config `tweak` may change first.
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        Self::spawn_fetching(tweak, None).await
    }

    /// Starts a server whose outbound requests go through `fetch` (a client with the test's
    /// own resolver), link previews on.
    pub async fn spawn_with_fetch(
        tweak: impl FnOnce(&mut Config),
        fetch: hearth::net::Client,
    ) -> TestApp {
        Self::spawn_fetching(
            |c| {
                c.link_previews = true;
                tweak(c);
            },
            Some(fetch),
        )
        .await
    }

    async fn spawn_fetching(
        tweak: impl FnOnce(&mut Config),
        fetch: Option<hearth::net::Client>,
    ) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            // Tests reach nothing but loopback: a test that wants cards turns them on with a
            // resolver of its own.
            link_previews: false,
            ..Config::default()
        };
        tweak(&mut config);
        let db = Db::open(&config.data_dir, config.synchronous).expect("open db");
        let app = match fetch {
            Some(fetch) => App::with_fetch(db, config, fetch).await,
            None => App::new(db, config).await,
        }
        .expect("app state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(web::serve(listener, app.clone(), async {
            let _ = stopped.await;
        }));
        TestApp {
            addr,
            app,
            dir,
            stop: Some(stop),
            server: Some(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub async fn create_user(&self, name: &str, role: Role) -> User {
        let new = NewUser {
            username: name.into(),
            display_name: None,
            password: PASSWORD.into(),
            role,
        };
        accounts::create_user(&self.app.chat, "test", new)
            .await
            .expect("create user")
    }

    /// A client signed in as a new member `name`.
    pub async fn signed_in(&self, name: &str) -> reqwest::Client {
        self.create_user(name, Role::Member).await;
        let client = self.client();
        self.login(&client, name, PASSWORD).await;
        client
    }

    pub async fn login(&self, client: &reqwest::Client, name: &str, password: &str) {
        let res = client
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"username": name, "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login as {name}");
    }

    /// A direct read-write connection to the database file, for inspecting and ageing rows.
    pub fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.app.db.path()).unwrap()
    }

    /// The one number a query answers (`SELECT count(*) …`).
    pub fn count(&self, sql: &str) -> i64 {
        self.sql().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// How many blobs are stored under `attachments/`.
    pub fn blobs(&self) -> usize {
        let root = self.dir.path().join("data/attachments");
        let Ok(shards) = std::fs::read_dir(root) else {
            return 0;
        };
        shards
            .filter_map(|s| s.ok())
            .map(|s| std::fs::read_dir(s.path()).map(|d| d.count()).unwrap_or(0))
            .sum()
    }

    /// Creates an account as `hearth user add` does while the server runs: from another
    /// process's connections to the same database (its own writer and hub, no sockets).
    pub async fn create_from_cli(&self, name: &str) {
        let config = Config {
            data_dir: self.app.config.data_dir.clone(),
            ..Config::default()
        };
        let db = Db::open(&config.data_dir, config.synchronous).unwrap();
        let chat = hearth::chat::Chat::new(db.clone(), std::sync::Arc::new(config));
        let new = NewUser {
            username: name.into(),
            display_name: None,
            password: PASSWORD.into(),
            role: Role::Member,
        };
        accounts::create_user(&chat, "cli", new).await.unwrap();
        tokio::task::spawn_blocking(move || db.writer().shutdown())
            .await
            .unwrap();
    }

    /// Stops the server gracefully, keeping its data and its address, until `resume`.
    pub async fn pause(&mut self) {
        let _ = self.stop.take().expect("the server is running").send(());
        let stopped = self.server.take().unwrap().await.unwrap();
        stopped.expect("the server stopped cleanly");
    }

    /// Starts the server again on the same address and data, as a restart does.
    pub async fn resume(&mut self) {
        let config = (*self.app.config).clone();
        let db = Db::open(&config.data_dir, config.synchronous).expect("open db");
        let app = App::new(db, config).await.expect("app state");
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("binding {} again: {e}", self.addr));
        let (stop, stopped) = oneshot::channel::<()>();
        self.server = Some(tokio::spawn(web::serve(listener, app.clone(), async {
            let _ = stopped.await;
        })));
        self.stop = Some(stop);
        self.app = app;
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> hearth::Result<()> {
        let _ = self.stop.take().unwrap().send(());
        self.server.take().unwrap().await.unwrap()
    }
}

/// The `error.code` of a JSON error response.
pub async fn error_code(res: reqwest::Response) -> String {
    let body: serde_json::Value = res.json().await.expect("a JSON error body");
    body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned()
}

/// A signed-in person: an HTTP client and the raw session cookie for WebSockets.
pub struct Person {
    pub id: i64,
    pub name: String,
    pub http: reqwest::Client,
    pub cookie: String,
    pub base: String,
}

impl Person {
    /// The CSRF token of the signed-in page at `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let page = self.get(path).await.text().await.unwrap();
        let at = page.find("data-csrf=\"").expect("a signed-in page") + 11;
        page[at..at + page[at..].find('"').unwrap()].to_owned()
    }

    /// Posts a page form with this person's cookie.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Uploads `bytes` as a file named `name` (the JSON API's upload endpoint).
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/uploads"))
            .query(&[("name", name)])
            .header("cookie", &self.cookie)
            .body(bytes)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a file and answers its id (the upload must succeed).
    pub async fn uploaded(&self, name: &str, bytes: Vec<u8>) -> i64 {
        let res = self.upload(name, bytes).await;
        assert_eq!(res.status(), 201, "upload of {name}");
        res.json::<serde_json::Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .header("cookie", &self.cookie)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .patch(self.url(path))
            .header("cookie", &self.cookie)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .header("cookie", &self.cookie)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str) -> reqwest::Response {
        self.http
            .put(self.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> reqwest::Response {
        self.http
            .delete(self.url(path))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// GET returning JSON, asserting 2xx.
    pub async fn json(&self, path: &str) -> serde_json::Value {
        let res = self.get(path).await;
        assert!(res.status().is_success(), "GET {path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// The id of #general, which everyone joins.
    pub async fn general(&self) -> i64 {
        let list = self.json("/api/v1/conversations").await;
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "general")
            .expect("everyone is in #general")["id"]
            .as_i64()
            .unwrap()
    }

    /// Sends a message over HTTP and returns its JSON.
    pub async fn say(&self, conversation: i64, body: &str) -> serde_json::Value {
        let res = self
            .post(
                &format!("/api/v1/conversations/{conversation}/messages"),
                serde_json::json!({"body": body}),
            )
            .await;
        assert_eq!(res.status(), 201, "send as {}", self.name);
        res.json().await.unwrap()
    }

    /// Opens a WebSocket, says hello (with `since`), and reads `ready`.
    pub async fn ws(&self, since: Option<i64>) -> Ws {
        Ws::connect(&self.base, &self.cookie, since).await
    }
}

impl TestApp {
    /// A new member `name`, signed in.
    pub async fn person(&self, name: &str) -> Person {
        self.person_with_role(name, Role::Member).await
    }

    pub async fn person_with_role(&self, name: &str, role: Role) -> Person {
        let user = self.create_user(name, role).await;
        self.sign_in(name, user.id).await
    }

    /// Signs in an existing account (with the test password).
    pub async fn sign_in(&self, name: &str, id: i64) -> Person {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = http
            .post(self.url("/api/v1/session"))
            .json(&serde_json::json!({"username": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        Person {
            id,
            name: name.into(),
            http,
            cookie,
            base: self.url(""),
        }
    }
}

type Stream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket client speaking the v1 contract.
pub struct Ws {
    pub stream: Stream,
    pub ready: serde_json::Value,
}

pub const WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Ws {
    pub async fn open(
        base: &str,
        cookie: &str,
    ) -> Result<Stream, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = base.replace("http://", "ws://") + "/api/v1/ws";
        let mut req = url.into_client_request().unwrap();
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut().insert("origin", base.parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(stream)
    }

    /// Opens a socket with an API token (no cookie, no Origin: as a bot or a script does).
    pub async fn open_bearer(
        base: &str,
        token: &str,
    ) -> Result<Stream, tokio_tungstenite::tungstenite::Error> {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = base.replace("http://", "ws://") + "/api/v1/ws";
        let mut req = url.into_client_request().unwrap();
        req.headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        let (stream, _) = tokio_tungstenite::connect_async(req).await?;
        Ok(stream)
    }

    /// A socket opened with an API token, after hello and ready.
    pub async fn connect_bearer(base: &str, token: &str) -> Ws {
        let stream = Self::open_bearer(base, token).await.expect("ws connect");
        Self::hello(stream, None).await
    }

    pub async fn connect(base: &str, cookie: &str, since: Option<i64>) -> Ws {
        let stream = Self::open(base, cookie).await.expect("ws connect");
        Self::hello(stream, since).await
    }

    async fn hello(mut stream: Stream, since: Option<i64>) -> Ws {
        let hello = match since {
            Some(s) => serde_json::json!({"op": "hello", "since": s}),
            None => serde_json::json!({"op": "hello"}),
        };
        use futures_util::SinkExt;
        stream.send(hello.to_string().into()).await.unwrap();
        let mut ws = Ws {
            stream,
            ready: serde_json::Value::Null,
        };
        let ready = ws.next().await;
        assert_eq!(ready["type"], "ready", "{ready}");
        ws.ready = ready;
        ws
    }

    pub async fn send(&mut self, frame: serde_json::Value) {
        use futures_util::SinkExt;
        self.stream.send(frame.to_string().into()).await.unwrap();
    }

    /// The next JSON frame (panics after 5 s of silence).
    pub async fn next(&mut self) -> serde_json::Value {
        use futures_util::StreamExt;
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame within 5 s")
                .expect("socket open")
                .expect("frame");
            match msg {
                tokio_tungstenite::tungstenite::Message::Text(t) => {
                    return serde_json::from_str(&t).unwrap();
                }
                tokio_tungstenite::tungstenite::Message::Close(c) => panic!("closed: {c:?}"),
                _ => continue,
            }
        }
    }

    /// The next frame that is not presence (ephemeral presence may interleave).
    pub async fn next_non_presence(&mut self) -> serde_json::Value {
        loop {
            let frame = self.next().await;
            if frame["type"] != "presence" {
                return frame;
            }
        }
    }

    /// The next event frame, skipping ephemeral ones.
    pub async fn event(&mut self) -> serde_json::Value {
        loop {
            let frame = self.next().await;
            if frame["type"] == "event" {
                return frame;
            }
        }
    }

    /// Whether a frame arrives within `ms` milliseconds (ephemeral presence ignored).
    pub async fn quiet_for(&mut self, ms: u64) -> Option<serde_json::Value> {
        use futures_util::StreamExt;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return None,
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Text(t)))) => {
                    let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                    if v["type"] != "presence" {
                        return Some(v);
                    }
                }
                Ok(Some(Ok(tokio_tungstenite::tungstenite::Message::Close(c)))) => {
                    return Some(serde_json::json!({"closed": c.map(|c| u16::from(c.code))}));
                }
                Ok(None) | Ok(Some(Err(_))) => return Some(serde_json::json!({"closed": null})),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Waits for the server to close the socket; returns the close code.
    pub async fn closed(&mut self) -> Option<u16> {
        use futures_util::StreamExt;
        loop {
            match tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("closed within 5 s")
            {
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(c))) => {
                    return c.map(|c| u16::from(c.code));
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}
