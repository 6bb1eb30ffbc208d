//! The start of a connection: waiting for `hello`, answering `ready`, replaying from the event
//! log what the client missed (or telling it to resync), and the seq a page resumes from.

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

use super::{close, error_frame, refusal, send, text};
use crate::domain::User;
use crate::error::Error;
use crate::hub::Hub;
use crate::store::events::{self, Resume};
use crate::web::App;
use crate::web::strict::Object;

const HELLO_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Deserialize)]
struct Hello {
    op: String,
    since: Option<i64>,
}

/// Waits for `hello`, sends `ready` and the replay; returns the last seq sent.
pub(super) async fn await_hello(
    app: &App,
    user: &User,
    socket: &mut WebSocket,
) -> Result<i64, Option<Message>> {
    let deadline = tokio::time::Instant::now() + HELLO_TIMEOUT;
    let since = loop {
        let frame = match tokio::time::timeout_at(deadline, socket.recv()).await {
            Err(_) => return Err(Some(close(4000, "no hello"))),
            Ok(Some(Ok(Message::Text(raw)))) => raw,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            Ok(Some(Ok(Message::Binary(_)))) => {
                let err = Error::invalid("frames must be JSON text");
                if !send(socket, error_frame(&Value::Null, &err)).await {
                    return Err(None);
                }
                continue;
            }
            Ok(Some(Err(err))) => return Err(refusal(err)),
            Ok(_) => return Err(None),
        };
        match serde_json::from_str::<Object<Hello>>(&frame) {
            Ok(Object(hello)) if hello.op == "hello" => break hello.since,
            _ => {
                let req = serde_json::from_str::<Value>(&frame)
                    .ok()
                    .and_then(|v| v.get("req").cloned());
                let err = Error::invalid("send {\"op\":\"hello\"} first");
                if !send(socket, error_frame(&req.unwrap_or(Value::Null), &err)).await {
                    return Err(None);
                }
            }
        }
    };
    let current = current_seq(&app.chat.hub, &app.db, since.is_some())
        .await
        .map_err(|_| Some(close(1011, "database unavailable")))?;
    // Every send here is bounded like the live ones: a client that asks for a long replay and
    // then stops reading must not pin this task (and its place in the hub) for ever.
    let ready = json!({"type": "ready", "seq": current, "user": views_user(user)});
    if !send(socket, text(ready)).await {
        return Err(None);
    }
    let Some(since) = since else {
        return Ok(current);
    };
    let resume = app
        .db
        .read(move |conn| events::resume(conn, since, current))
        .await
        .map_err(|_| Some(close(1011, "database unavailable")))?;
    match resume {
        Resume::UpToDate => return Ok(current),
        Resume::Resync => {
            if !send(socket, text(json!({"type": "resync"}))).await {
                return Err(None);
            }
            return Ok(current);
        }
        Resume::Replay => {}
    }
    let (id, mut last) = (user.id, since);
    loop {
        let after = last;
        let page = app
            .db
            .read(move |conn| events::since(conn, id, after, 1000))
            .await
            .map_err(|_| Some(close(1011, "database unavailable")))?;
        let done = page.len() < 1000;
        for (seq, frame) in page {
            if !send(socket, Message::Text(Utf8Bytes::from(frame))).await {
                return Err(None);
            }
            last = seq;
        }
        if done {
            return Ok(last.max(current));
        }
    }
}

/// The seq a page is current to, taken before the page reads what it shows: the page carries it
/// and its socket's first `hello` sends it as `since`, so what happens between the page's
/// render and `ready` is replayed rather than lost. It must never be newer than what the page
/// shows: the hub's seq is, once known, as it moves only when events are delivered, and a
/// commit forgets the newest messages kept in memory before its event goes out. The event
/// log's newest seq may be ahead of that by a commit whose hooks have not run yet.
pub async fn snapshot_seq(app: &App) -> crate::error::Result<i64> {
    current_seq(&app.chat.hub, &app.db, false).await
}

/// The current seq. A fresh connection takes the seq the hub knows; only a resume, or the
/// first socket after a start, reads the event log, and only the first read is noted for later
/// ones (see [`snapshot_seq`]: after that the hub's seq moves with delivery alone).
async fn current_seq(hub: &Hub, db: &crate::db::Db, resume: bool) -> crate::error::Result<i64> {
    if !resume && let Some(current) = hub.current_seq() {
        return Ok(current);
    }
    let current = db.read(events::current_seq).await?;
    if hub.current_seq().is_none() {
        hub.note_seq(current);
    }
    Ok(current)
}

fn views_user(user: &User) -> Value {
    json!(crate::web::api::UserView::from(user))
}
