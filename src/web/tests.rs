//! The server and its writer: what `/healthz` and the process do when the writer stalls or dies.

use std::time::Duration;

use super::{App, serve};
use crate::config::Config;
use crate::db::{Db, WriterLimits};

async fn healthz(client: &reqwest::Client, addr: std::net::SocketAddr) -> u16 {
    client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn healthz_goes_through_the_writer_and_the_server_stops_when_the_writer_dies() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let limits = WriterLimits {
        deadline: Duration::from_millis(300),
        ..WriterLimits::default()
    };
    let db = Db::open_with(&config.data_dir, config.synchronous, limits).unwrap();
    let writer = db.writer().clone();
    let app = App::new(db, config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve(listener, app, std::future::pending()));
    let client = reqwest::Client::new();
    assert_eq!(healthz(&client, addr).await, 200);

    // A writer that does not move makes the check fail, though reads still answer.
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let held = writer.submit(move |_| {
        let _ = wait.recv();
        Ok(())
    });
    assert_eq!(healthz(&client, addr).await, 503);
    release.send(()).unwrap();
    held.await.unwrap().unwrap();
    assert_eq!(healthz(&client, addr).await, 200);

    // A writer that ends stops the server with an error (a non-zero exit for the supervisor).
    writer.crash();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server stops")
        .unwrap();
    let err = stopped.expect_err("the server reports the writer's end");
    assert!(err.to_string().contains("writer stopped"), "{err}");
}

#[test]
fn secrets_in_paths_never_reach_the_log() {
    use super::loggable_path;
    assert_eq!(loggable_path("/hooks/abc123"), "/hooks/…");
    assert_eq!(loggable_path("/join/tok"), "/join/…");
    assert_eq!(loggable_path("/password/tok"), "/password/…");
    assert_eq!(loggable_path("/hooks/"), "/hooks/");
    assert_eq!(loggable_path("/hooks"), "/hooks");
    assert_eq!(loggable_path("/c/1/integrations"), "/c/1/integrations");
}
