//! The ops a client sends after hello, each answered with an ack or an error frame. Each
//! calls the same `chat` function as the HTTP API.

use axum::extract::ws::Message;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{announce_presence, error_frame, text};
use crate::chat::limits::Budget;
use crate::chat::{self, json as views};
use crate::domain::User;
use crate::domain::chat::{ConversationId, MessageId};
use crate::error::Error;
use crate::hub::Conn;
use crate::web::App;
use crate::web::strict::Object;

/// Client ops after hello. Each calls the same `chat` function as the HTTP API.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
enum Op {
    Hello {},
    Send {
        conversation: ConversationId,
        body: String,
        client_id: Option<String>,
        reply_to: Option<MessageId>,
        #[serde(default)]
        attachments: Vec<crate::domain::files::AttachmentId>,
    },
    Edit {
        message: MessageId,
        body: String,
    },
    Delete {
        message: MessageId,
    },
    React {
        message: MessageId,
        emoji: String,
        on: Option<bool>,
    },
    Read {
        conversation: ConversationId,
        message_id: Option<MessageId>,
    },
    Typing {
        conversation: ConversationId,
    },
    Ping {},
    Presence {
        status: String,
    },
}

impl Op {
    /// Whether the op changes anything (a read token may not): everything but hello, ping and
    /// presence (which only says whether a tab is looked at).
    fn writes(&self) -> bool {
        !matches!(self, Op::Hello {} | Op::Ping {} | Op::Presence { .. })
    }
}

/// Answers one client frame. `read_only` (a read token's socket): ops that change anything
/// are refused with `insufficient_scope`.
pub(super) async fn handle(
    app: &App,
    user: &User,
    conn: &Conn,
    read_only: bool,
    raw: &str,
) -> Option<Message> {
    let Ok(value) = serde_json::from_str::<Value>(raw) else {
        return Some(error_frame(
            &Value::Null,
            &Error::invalid("frame is not JSON"),
        ));
    };
    let req = value.get("req").cloned().unwrap_or(Value::Null);
    let op = match serde_json::from_value::<Object<Op>>(value) {
        Ok(Object(op)) => op,
        Err(e) => return Some(error_frame(&req, &Error::invalid(format!("bad op: {e}")))),
    };
    let chat = &app.chat;
    let me = Some(user.id);
    if read_only && op.writes() {
        return Some(error_frame(
            &req,
            &Error::Token(crate::error::TokenRefusal::Scope),
        ));
    }
    let data = match op {
        Op::Hello {} => Err(Error::invalid("already said hello")),
        Op::Send {
            conversation,
            body,
            client_id,
            reply_to,
            attachments,
        } => {
            let draft = chat::messages::Draft {
                body,
                client_id,
                reply_to,
                attachments,
            };
            chat::messages::send(chat, user, conversation, draft)
                .await
                .map(|m| views::message(&m, me))
        }
        Op::Edit { message, body } => chat::messages::edit(chat, user, message, &body)
            .await
            .map(|m| views::message(&m, me)),
        Op::Delete { message } => chat::messages::delete(chat, user, message)
            .await
            .map(|m| views::message(&m, me)),
        Op::React { message, emoji, on } => {
            chat::messages::react(chat, user, message, &emoji, on.unwrap_or(true))
                .await
                .map(|m| views::message(&m, me))
        }
        Op::Read {
            conversation,
            message_id,
        } => chat::reads::mark_read(chat, user, conversation, message_id)
            .await
            .map(|()| json!({})),
        Op::Typing { conversation } => match chat::reads::typing(chat, user, conversation).await {
            // Typing is fire-and-forget: no ack unless asked with a req.
            Ok(()) if req.is_null() => return None,
            other => other.map(|()| json!({})),
        },
        Op::Ping {} => return Some(text(json!({"type": "pong", "req": req}))),
        Op::Presence { status } => match status.as_str() {
            "away" | "online" => {
                if let Err(err) = chat.limits.spend(Budget::Presence, user.id) {
                    return Some(error_frame(&req, &err));
                }
                if let Some(now) = chat.hub.set_away(conn, status == "away") {
                    announce_presence(app, user.id, now);
                }
                if req.is_null() {
                    return None;
                }
                Ok(json!({}))
            }
            _ => Err(Error::invalid("status must be away or online")),
        },
    };
    Some(match data {
        Ok(data) => text(json!({"type": "ack", "req": req, "data": data})),
        Err(err) => error_frame(&req, &err),
    })
}
