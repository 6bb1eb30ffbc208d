//! The live socket when things go wrong around it: a client that stops reading in the middle of
//! its replay, messages posted while a page loads, an account deactivated under open sockets.

mod common;

use common::TestApp;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Waits (up to `within`) until `done` holds; false if it never did.
async fn eventually(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

#[tokio::test]
async fn a_client_that_stops_reading_its_replay_is_let_go() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    // Thousands of events for ada, 8 KB each: far more than the socket buffers on both sides hold.
    let pad = "x".repeat(8 * 1024);
    let mut sql = app.sql();
    let tx = sql.transaction().unwrap();
    for _ in 0..3000 {
        tx.execute(
            "INSERT INTO events (user_id, kind, frame, created_at)
             VALUES (?1, 'read.updated', ?2, 0)",
            rusqlite::params![ada.id, format!("{{\"type\":\"event\",\"pad\":\"{pad}\"}}")],
        )
        .unwrap();
    }
    // The client resumes from the event just before them: every one is to be replayed.
    let since: i64 = tx
        .query_row(
            "SELECT MAX(seq) FROM events WHERE seq < (SELECT MIN(seq) FROM events WHERE kind = 'read.updated' AND user_id = ?1)",
            [ada.id],
            |r| r.get(0),
        )
        .unwrap();
    tx.commit().unwrap();

    // A client with a small receive window that asks for all of it and then never reads.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(app.addr).await.unwrap();
    let mut req = app
        .url("/api/v1/ws")
        .replace("http://", "ws://")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("cookie", ada.cookie.parse().unwrap());
    req.headers_mut()
        .insert("origin", ada.base.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::client_async(req, tcp).await.unwrap();
    ws.send(format!(r#"{{"op":"hello","since":{since}}}"#).into())
        .await
        .unwrap();

    let sockets = || app.app.chat.hub.stats().sockets.load(Ordering::Relaxed);
    assert!(eventually(Duration::from_secs(5), || sockets() == 1).await);
    // The send timeout (10 s) lets it go, however long the replay would have taken.
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(30), || sockets() == 0).await,
        "the server still holds a socket that has not read for 30 s"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "not before it stalled"
    );
    drop(ws);
}

/// The `data-seq` a conversation page carries.
fn page_seq(page: &str) -> i64 {
    page.split("data-seq=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|seq| seq.parse().ok())
        .expect("the conversation page carries its seq")
}

#[tokio::test]
async fn a_message_posted_while_a_page_loads_is_replayed_from_the_pages_seq() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let room = ada.general().await;
    bob.say(room, "before the page").await;
    let page = ada.get(&format!("/c/{room}")).await.text().await.unwrap();
    let seq = page_seq(&page);
    assert!(page.contains("before the page"));

    // Posted after the page was rendered, before its socket says hello.
    let late = bob.say(room, "while the page loads").await;
    let mut wa = ada.ws(Some(seq)).await;
    assert!(wa.ready["seq"].as_i64().unwrap() > seq, "{}", wa.ready);
    let event = wa.event().await;
    assert_eq!(event["event"], "message.created", "{event}");
    assert_eq!(event["data"]["message"]["id"], late["id"], "{event}");
    // Only what the page did not show: the earlier message is not sent again.
    assert!(wa.quiet_for(300).await.is_none(), "nothing else");

    // A page with nothing new since: its hello replays nothing.
    let page = ada.get(&format!("/c/{room}")).await.text().await.unwrap();
    let mut again = ada.ws(Some(page_seq(&page))).await;
    assert!(again.quiet_for(300).await.is_none(), "nothing to replay");
}

/// What a member's writes change, in a few numbers.
fn footprint(app: &TestApp) -> Vec<i64> {
    let sql = app.sql();
    [
        "SELECT count(*) FROM messages",
        "SELECT count(*) FROM messages WHERE edited_at IS NOT NULL OR deleted_at IS NOT NULL",
        "SELECT count(*) FROM reactions",
        "SELECT count(*) FROM conversations",
        "SELECT count(*) FROM memberships",
        "SELECT coalesce(sum(last_read_message_id), 0) FROM memberships",
        "SELECT count(*) FROM events",
    ]
    .iter()
    .map(|q| sql.query_row(q, [], |r| r.get(0)).unwrap())
    .collect()
}

#[tokio::test]
async fn a_deactivated_account_writes_nothing_through_what_it_held_before() {
    use hearth::Error;
    use hearth::chat::conversations::{self as convs, Changes, NewConversation};
    use hearth::chat::{messages, reads};
    use serde_json::json;

    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let cat = app.create_user("cat", hearth::domain::Role::Member).await;
    let chat = &app.app.chat;
    let general = bob.general().await;
    let crew = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "crew", "members": [ada.id]}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let side = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "side"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let mine = bob.say(general, "bob's").await["id"].as_i64().unwrap();
    ada.say(general, "unread for bob").await;
    // What a socket or request opened earlier holds: bob as he was.
    let held = hearth::chat::accounts::find(chat, "bob").await.unwrap();
    let mut socket = bob.ws(None).await;

    // Deactivated behind the server's back: no kick, and nothing the watcher would notice
    // (as when it is not running).
    app.sql()
        .execute("UPDATE users SET deactivated = 1 WHERE id = ?1", [bob.id])
        .unwrap();
    let before = footprint(&app);

    socket
        .send(json!({"op": "send", "req": 1, "conversation": general, "body": "after"}))
        .await;
    let refused = socket.next().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["code"], "unauthorized", "{refused}");
    assert_eq!(
        socket.closed().await,
        Some(4001),
        "and the socket is closed"
    );

    let draft = messages::Draft {
        body: "after".into(),
        ..Default::default()
    };
    let channel = NewConversation {
        kind: "channel".into(),
        name: "late".into(),
        ..Default::default()
    };
    let topic = Changes {
        topic: Some("late".into()),
        ..Default::default()
    };
    let outcomes = [
        (
            "send",
            messages::send(chat, &held, general, draft).await.err(),
        ),
        (
            "edit",
            messages::edit(chat, &held, mine, "edited").await.err(),
        ),
        ("delete", messages::delete(chat, &held, mine).await.err()),
        (
            "react",
            messages::react(chat, &held, mine, "👍", true).await.err(),
        ),
        (
            "read",
            reads::mark_read(chat, &held, general, None).await.err(),
        ),
        ("typing", reads::typing(chat, &held, general).await.err()),
        ("create", convs::create(chat, &held, channel).await.err()),
        ("direct", convs::direct(chat, &held, cat.id).await.err()),
        (
            "update",
            convs::update(chat, &held, crew, topic).await.err(),
        ),
        ("join", convs::join(chat, &held, side).await.err()),
        ("add", convs::add(chat, &held, crew, cat.id).await.err()),
        (
            "remove",
            convs::remove(chat, &held, crew, ada.id).await.err(),
        ),
        ("leave", convs::leave(chat, &held, crew).await.err()),
    ];
    for (what, err) in outcomes {
        assert!(
            matches!(err, Some(Error::Unauthorized(_))),
            "{what}: {err:?}"
        );
    }
    assert_eq!(footprint(&app), before, "nothing changed");
    assert_eq!(bob.get("/api/v1/me").await.status(), 401);
}

#[tokio::test]
async fn the_cli_watcher_starts_late_when_the_database_is_locked_at_start() {
    use hearth::chat::{accounts, auth};
    use hearth::config::Config;
    use hearth::db::Db;
    use hearth::store::{audit, sessions, users};

    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let db = Db::open(&config.data_dir, config.synchronous).unwrap();
    let app = hearth::web::App::new(db, config).await.unwrap();
    let bob = accounts::create_user(
        &app.chat,
        "test",
        accounts::NewUser {
            username: "bob".into(),
            display_name: None,
            password: common::PASSWORD.into(),
            role: hearth::domain::Role::Member,
        },
    )
    .await
    .unwrap();
    let session = auth::open_session(&app.chat, bob.clone(), String::new(), Default::default())
        .await
        .unwrap();

    // The CLI holds the write lock for longer than the busy timeout (5 s) as the server
    // starts: the watcher's first start fails.
    let cli = rusqlite::Connection::open(app.db.path()).unwrap();
    cli.execute_batch("BEGIN IMMEDIATE").unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hearth::web::serve(listener, app.clone(), async {
        let _ = stopped.await;
    }));
    // Reading needs no lock: bob's socket opens meanwhile.
    let cookie = format!("hearth_session={}", session.token);
    let mut socket = common::Ws::connect(&base, &cookie, None).await;
    // By now the watcher has asked for its start; a write asked for a second later is
    // answered no sooner than that start was.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let probe = app.db.write(|_| Ok(())).await;
    assert!(probe.is_err(), "the lock outlasted the busy timeout");

    // In that same transaction the CLI disables bob, then lets go.
    users::set_deactivated(&cli, bob.id, true).unwrap();
    sessions::delete_for_user(&cli, bob.id).unwrap();
    audit::record(&cli, "cli", "user.disable", "bob").unwrap();
    cli.execute_batch("COMMIT").unwrap();
    assert_eq!(
        socket.closed().await,
        Some(4001),
        "the watcher started after all, and acted on what the CLI did before it could"
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
