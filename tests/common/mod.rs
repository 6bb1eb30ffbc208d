//! TestApp: a real Hearth server on 127.0.0.1:0 in a temp dir, and cookie-aware clients.
#![allow(dead_code)]

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
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config {
            data_dir: dir.path().join("data"),
            ..Config::default()
        };
        tweak(&mut config);
        let db = Db::open(&config.data_dir, config.synchronous).expect("open db");
        let app = App::new(db, config).expect("app state");
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
