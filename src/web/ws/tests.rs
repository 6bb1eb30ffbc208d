//! The socket's admission, with the steps of a race put in their racing order.

use super::*;
use crate::chat::accounts::{self, NewUser};
use crate::chat::auth;
use crate::config::Config;
use crate::db::Db;
use crate::domain::Role;
use std::sync::atomic::Ordering;

async fn app(dir: &tempfile::TempDir) -> App {
    let config = Config {
        data_dir: dir.path().join("data"),
        ..Config::default()
    };
    let db = Db::open(&config.data_dir, config.synchronous).unwrap();
    App::new(db, config).await.unwrap()
}

async fn member(app: &App, name: &str) -> User {
    let new = NewUser {
        username: name.into(),
        display_name: None,
        password: "correct horse battery".into(),
        role: Role::Member,
    };
    accounts::create_user(&app.chat, "test", new).await.unwrap()
}

fn code(frame: &Message) -> Option<u16> {
    match frame {
        Message::Close(Some(close)) => Some(close.code),
        _ => None,
    }
}

#[tokio::test]
async fn a_socket_that_registers_after_its_kick_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(&dir).await;
    let sockets = || app.chat.hub.stats().sockets.load(Ordering::Relaxed);
    let (ada, bob) = (member(&app, "ada").await, member(&app, "bob").await);
    let ada_session = auth::open_session(&app.chat, ada.clone(), String::new(), Default::default())
        .await
        .unwrap();
    let bob_session = auth::open_session(&app.chat, bob.clone(), String::new(), Default::default())
        .await
        .unwrap();

    // The upgrade checks ada's session; she is deactivated (the kick finds no socket of
    // hers yet) before her socket registers.
    let checked = auth::authenticate(&app.db, &app.config, &ada_session.token)
        .await
        .unwrap();
    accounts::set_active(&app.chat, "test", "ada", false)
        .await
        .unwrap();
    let refused = admit(&app, &checked.user, checked.token_hash).await;
    assert_eq!(refused.err().as_ref().and_then(code), Some(4001));
    assert_eq!(sockets(), 0, "nothing of hers stays in the hub");

    // The same for a sign-out between the check and the registration.
    let checked = auth::authenticate(&app.db, &app.config, &bob_session.token)
        .await
        .unwrap();
    auth::logout(&app.chat, &bob_session.token).await.unwrap();
    let refused = admit(&app, &checked.user, checked.token_hash).await;
    assert_eq!(refused.err().as_ref().and_then(code), Some(4001));
    assert_eq!(sockets(), 0);

    // A session that stands is let in.
    let fresh = auth::open_session(&app.chat, bob.clone(), String::new(), Default::default())
        .await
        .unwrap();
    let checked = auth::authenticate(&app.db, &app.config, &fresh.token)
        .await
        .unwrap();
    let admitted = admit(&app, &checked.user, checked.token_hash).await;
    assert!(admitted.is_ok());
    assert_eq!(sockets(), 1);
}
