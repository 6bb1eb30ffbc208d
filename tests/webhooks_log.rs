//! A webhook's secret never reaches the log, even at debug level. Alone in its file: the
//! log subscriber it installs must be the first one the process's log call sites see.

mod common;

use common::TestApp;
use serde_json::{Value, json};

/// A log writer the test can read back.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_secret_is_never_written_to_the_log_even_at_debug() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "builds"}),
        )
        .await;
    let builds = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = ada
        .post(
            &format!("/api/v1/conversations/{builds}/webhooks"),
            json!({"name": "CI"}),
        )
        .await;
    let url = res.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = url.rsplit('/').next().unwrap().to_owned();
    for (ct, body, status) in [
        ("text/plain", "logged?", 200),
        ("application/json", "{bad", 400),
    ] {
        let res = app
            .client()
            .post(&url)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status);
    }
    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("/hooks/…"),
        "the request is logged, without its secret:\n{log}"
    );
    assert!(!log.contains(&secret), "{log}");
}
