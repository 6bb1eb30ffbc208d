//! Resuming across a restore: seqs of a lost timeline are never issued again, so a client of
//! that timeline is told to resync instead of silently missing what was lost.

mod common;

use common::TestApp;

#[tokio::test]
async fn a_client_of_a_timeline_lost_to_a_restore_gets_a_resync_never_a_silent_gap() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let backup = root.path().join("backup.db");

    let first = TestApp::spawn_with(|c| c.data_dir = data.clone()).await;
    let ada = first.person("ada").await;
    let room = ada.general().await;
    ada.say(room, "kept by the backup").await;
    first
        .sql()
        .execute("VACUUM INTO ?1", [backup.to_str().unwrap()])
        .unwrap();
    // After the backup, the live timeline goes on and a client follows it.
    let mut ws = ada.ws(None).await;
    for body in ["lost one", "lost two"] {
        ada.say(room, body).await;
    }
    let mut since = 0;
    for _ in 0..2 {
        since = ws.event().await["seq"].as_i64().unwrap();
    }
    drop(ws);
    first.stop().await.unwrap();

    // The disk is lost; the backup is restored and the server starts on it.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("hearth.db{suffix}")));
    }
    std::fs::copy(&backup, data.join("hearth.db")).unwrap();
    let second = TestApp::spawn_with(|c| c.data_dir = data.clone()).await;
    let ada = second.sign_in("ada", ada.id).await;
    // The new timeline grows past where the old one ended (by count of events).
    for i in 0..4 {
        ada.say(room, &format!("new {i}")).await;
    }
    let current = ada.ws(None).await.ready["seq"].as_i64().unwrap();
    assert!(
        current > since,
        "the new timeline's seqs are past the old one's"
    );

    let mut ws = ada.ws(Some(since)).await;
    assert_eq!(ws.next_non_presence().await["type"], "resync");
}

#[tokio::test]
async fn a_restart_on_the_same_database_resumes_exactly() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let first = TestApp::spawn_with(|c| c.data_dir = data.clone()).await;
    let ada = first.person("ada").await;
    let room = ada.general().await;
    let mut ws = ada.ws(None).await;
    ada.say(room, "before the restart").await;
    let since = ws.event().await["seq"].as_i64().unwrap();
    drop(ws);
    first.stop().await.unwrap();

    let second = TestApp::spawn_with(|c| c.data_dir = data.clone()).await;
    let ada = second.sign_in("ada", ada.id).await;
    let sent = ada.say(room, "after the restart").await;
    let mut ws = ada.ws(Some(since)).await;
    let replayed = ws.event().await;
    assert_eq!(replayed["data"]["message"]["id"], sent["id"]);
    assert!(replayed["seq"].as_i64().unwrap() > since);
}
