//! The WebSocket endpoint: hello and `since` resume, ops that call `chat`, live delivery.
//!
//! Order of a connection: register with the hub first (live events start queueing), answer
//! `hello` with `ready`, replay what the client missed from the event log, then stream the
//! queue, skipping any seq already sent. No gap, no duplicate.
//!
//! Writes are batched: a reply and every frame already queued go out with one flush (one
//! write on the socket), so a burst costs one syscall per socket rather than one per frame.

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

mod hello;
mod ops;

use hello::await_hello;
pub use hello::snapshot_seq;

use super::App;
use super::api::ApiError;
use super::auth::session_token;
use crate::chat;
use crate::domain::User;
use crate::domain::tokens::Scope;
use crate::error::Error;
use crate::hub::{CLOSE_SESSION_ENDED, CLOSE_SHUTDOWN, Conn, Outgoing, Presence};
use crate::store::memberships;

/// Largest frame a client may send; a body of max_message_chars fits with room to spare.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
const PING_EVERY: Duration = Duration::from_secs(25);
const IDLE_TIMEOUT: Duration = Duration::from_secs(70);
/// A socket that cannot take a frame for this long is dropped (its reader is gone).
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes each socket reads at a time (and keeps allocated while idle).
const READ_BUFFER: usize = 2 * 1024;
/// The most queued frames written before one flush.
const WRITE_BATCH: usize = 64;
/// The most presence changes announced with one database read.
const PRESENCE_BATCH: usize = 256;

type Queue = mpsc::Receiver<Arc<Outgoing>>;

async fn send(socket: &mut WebSocket, frame: Message) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(frame)).await,
        Ok(Ok(()))
    )
}

/// GET /api/v1/ws
pub async fn upgrade(
    State(app): State<App>,
    headers: HeaderMap,
    http: Option<Extension<Arc<super::server::Conn>>>,
    ws: WebSocketUpgrade,
) -> Response {
    // A browser page from another site may not open a socket on a person's cookie; an API
    // token is never ambient, so a bearer socket (from a bot or a script) needs no Origin.
    let session = match super::auth::bearer(&headers) {
        Ok(Some(token)) => chat::tokens::authenticate(&app.chat, token).await,
        Ok(None) => {
            if !super::guard::is_same_origin(&headers, &app.config.base_url) {
                return ApiError(Error::Forbidden("cross-origin WebSocket refused".into()))
                    .into_response();
            }
            let Some(token) = session_token(&headers) else {
                return ApiError(Error::Unauthorized("not signed in".into())).into_response();
            };
            chat::auth::authenticate(&app.db, &app.config, token).await
        }
        Err(err) => Err(err),
    };
    let session = match session {
        Ok(session) => session,
        Err(err) => return ApiError(err).into_response(),
    };
    // From here the socket's own hello, ping and idle timeouts apply, not the HTTP ones.
    if let Some(Extension(http)) = http {
        http.upgraded();
    }
    // Small buffers: an idle socket keeps its read buffer, and 10,000 of them add up. Client
    // frames are small JSON ops; a rare big one is read in a few steps. Writes coalesce up to
    // 4 KiB (two or three events) per syscall.
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(4 * 1024)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| {
            let read_only = session.scope == Some(Scope::Read);
            connection(app, session.user, session.token_hash, read_only, socket)
        })
}

fn text(value: Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

fn error_frame(req: &Value, err: &Error) -> Message {
    let mut frame =
        json!({"type": "error", "req": req, "code": err.code(), "message": err.public_message()});
    if let Error::RateLimited { retry_after } = err {
        frame["retry_after"] = json!(retry_after);
    }
    text(frame)
}

/// `read_only`: the socket was opened with a read token, and its ops may not write.
async fn connection(
    app: App,
    user: User,
    session: Vec<u8>,
    read_only: bool,
    mut socket: WebSocket,
) {
    let hub = app.chat.hub.clone();
    let before = hub.presence(user.id);
    let (conn, mut queue) = match admit(&app, &user, session).await {
        Ok(admitted) => admitted,
        Err(refusal) => {
            send(&mut socket, refusal).await;
            return;
        }
    };
    // Only a change is news: a second tab of someone already online says nothing.
    let now = hub.presence(user.id);
    if now != before {
        announce_presence(&app, user.id, now);
    }
    let outcome = serve_socket(&app, &user, &conn, read_only, &mut queue, &mut socket).await;
    if let Some(frame) = outcome {
        send(&mut socket, frame).await;
    }
    let before = hub.presence(user.id);
    hub.unregister(&conn);
    // The last socket gone means offline; the last active one gone (idle tabs left) means away.
    let now = hub.presence(user.id);
    if now != before {
        announce_presence(&app, user.id, now);
    }
}

/// Registers the socket with the hub, then checks its session again: a sign-out or
/// deactivation that came after the upgrade's check, and before this, closed the sockets
/// registered then — not this one. From here on a kick finds it. The close frame if refused.
async fn admit(app: &App, user: &User, session: Vec<u8>) -> Result<(Arc<Conn>, Queue), Message> {
    let hub = &app.chat.hub;
    let Ok((conn, queue)) = hub.register(user.id, session, app.config.max_sockets_per_user) else {
        return Err(close(1008, "too many open connections"));
    };
    let refusal = match chat::auth::session_stands(&app.db, conn.session.clone()).await {
        Ok(true) => return Ok((conn, queue)),
        Ok(false) => close_for(CLOSE_SESSION_ENDED),
        Err(_) => close(1011, "database unavailable"),
    };
    hub.unregister(&conn);
    Err(refusal)
}

/// Tells the people who share a group or direct with `user` how they are. Changes queue for
/// one announcer task, which looks up contacts for many of them in one read (a storm of
/// connects costs a few reads, not one per socket).
fn announce_presence(app: &App, user: i64, status: Presence) {
    let queue = app.chat.hub.presence_queue(|| {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(announcer(app.chat.clone(), rx));
        tx
    });
    let _ = queue.send((user, status));
}

async fn announcer(chat: chat::Chat, mut changes: mpsc::UnboundedReceiver<(i64, Presence)>) {
    let mut batch = Vec::with_capacity(PRESENCE_BATCH);
    while changes.recv_many(&mut batch, PRESENCE_BATCH).await > 0 {
        let users: Vec<i64> = batch.iter().map(|(user, _)| *user).collect();
        let contacts = chat
            .db
            .read(move |conn| {
                users
                    .iter()
                    .map(|user| memberships::contacts(conn, *user))
                    .collect::<crate::error::Result<Vec<_>>>()
            })
            .await;
        if let Ok(contacts) = contacts {
            for ((user, status), to) in batch.iter().zip(contacts) {
                if !to.is_empty() {
                    let frame = json!({"type": "presence", "user_id": user, "status": status});
                    chat.hub.deliver(
                        &to,
                        &Outgoing {
                            seq: 0,
                            frame: Utf8Bytes::from(frame.to_string()),
                        },
                    );
                }
            }
        }
        batch.clear();
    }
}

/// Writes `first` (if any) and the frames already queued, skipping seqs already sent, then
/// flushes once; stops taking frames once the hub has asked for a close. False when the
/// socket is gone or stuck.
async fn write_batch(
    socket: &mut WebSocket,
    first: Option<Message>,
    conn: &Conn,
    queue: &mut Queue,
    last_sent: &mut i64,
) -> bool {
    let work = async {
        if let Some(frame) = first {
            socket.feed(frame).await?;
        }
        for _ in 0..WRITE_BATCH {
            if conn.closing().is_some() {
                break;
            }
            let Ok(out) = queue.try_recv() else { break };
            if out.seq != 0 {
                if out.seq <= *last_sent {
                    continue;
                }
                *last_sent = out.seq;
            }
            socket.feed(Message::Text(out.frame.clone())).await?;
        }
        socket.flush().await
    };
    tokio::pin!(work);
    // Nearly every batch fits the socket's buffer at once: only one that has to wait for the
    // peer is given a timer (arming one per write cost as much as a tenth of fan-out's CPU).
    match std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await {
        Poll::Ready(written) => written.is_ok(),
        Poll::Pending => matches!(tokio::time::timeout(SEND_TIMEOUT, work).await, Ok(Ok(()))),
    }
}

/// Runs one socket until it ends; returns the frame to close with, if any.
async fn serve_socket(
    app: &App,
    user: &User,
    conn: &Conn,
    read_only: bool,
    queue: &mut Queue,
    socket: &mut WebSocket,
) -> Option<Message> {
    let mut last_sent = match await_hello(app, user, socket).await {
        Ok(seq) => seq,
        Err(frame) => return frame,
    };
    let mut heard = Instant::now();
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    // One wait for the hub's kick for the socket's life, not one per frame.
    let kicked = conn.kicked();
    tokio::pin!(kicked);
    loop {
        tokio::select! {
            // Queue first: draining it is what keeps a socket from falling behind, and a wake-up
            // for a delivery then costs one poll. Client frames wait at most one written batch.
            biased;
            out = queue.recv() => {
                let out = out?;
                if let Some(code) = conn.closing() {
                    return Some(close_for(code));
                }
                if out.seq != 0 {
                    if out.seq <= last_sent {
                        continue;
                    }
                    last_sent = out.seq;
                }
                let first = Message::Text(out.frame.clone());
                if !write_batch(socket, Some(first), conn, queue, &mut last_sent).await {
                    return None;
                }
            }
            incoming = socket.recv() => {
                heard = Instant::now();
                match incoming {
                    Some(Ok(Message::Text(raw))) => {
                        // Boxed: the op futures are large and an idle socket should not carry them.
                        let reply = Box::pin(ops::handle(app, user, conn, read_only, &raw)).await;
                        // The reply and what the op queued (its own event) leave in one write.
                        if reply.is_some() && !write_batch(socket, reply, conn, queue, &mut last_sent).await {
                            return None;
                        }
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let err = Error::invalid("frames must be JSON text");
                        if !send(socket, error_frame(&Value::Null, &err)).await {
                            return None;
                        }
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                    Some(Ok(Message::Close(_))) | None => return None,
                    Some(Err(err)) => return refusal(err),
                }
            }
            code = &mut kicked => return Some(close_for(code)),
            _ = ping.tick() => {
                if heard.elapsed() > IDLE_TIMEOUT {
                    return Some(close(4000, "idle timeout"));
                }
                if !send(socket, Message::Ping(Default::default())).await {
                    return None;
                }
            }
        }
    }
}

/// The close frame for a hub's kick.
fn close_for(code: u16) -> Message {
    let reason = match code {
        crate::hub::CLOSE_LAGGING => "fell behind; resume with since",
        CLOSE_SHUTDOWN => "server stopping",
        _ => "session ended",
    };
    close(code, reason)
}

/// The close frame for a frame the client should not have sent: too large (1009), text that
/// is not UTF-8 (1007), or a break of the protocol (1002) such as an unmasked frame, reserved
/// bits or an unknown opcode. None when the connection itself failed (nothing to tell).
fn refusal(err: axum::Error) -> Option<Message> {
    use tungstenite::error::{Error as WsError, ProtocolError};
    let err = err.into_inner().downcast::<WsError>().ok()?;
    match *err {
        WsError::Capacity(_) => Some(close(1009, "frame too large")),
        WsError::Utf8(_) => Some(close(1007, "text frame is not UTF-8")),
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake | ProtocolError::ReceivedAfterClosing,
        ) => None,
        WsError::Protocol(_) => Some(close(1002, "protocol violation")),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
