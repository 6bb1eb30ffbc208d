//! Background upkeep while serving: closing sockets of accounts changed from the CLI,
//! pruning the event log and expired sessions.

use std::time::Duration;

use super::Chat;
use super::conversations::GENERAL;
use crate::domain::now_ms;
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::conversations as convs;
use crate::store::{audit, events, sessions, users};

/// How long the event log keeps events for resuming clients (and at least this many).
const EVENT_DAYS: i64 = 7;
const EVENT_KEEP: i64 = 100_000;
const DAY_MS: i64 = 86_400_000;

/// Closes the sockets of users disabled or given a new password by another process
/// (the CLI writes the audit log; this server notices within a second).
pub async fn watch_revocations(chat: Chat) {
    let Ok(mut last) = chat.db.read(audit::last_id).await else {
        return;
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let after = last;
        let Ok(rows) = chat.db.read(move |conn| audit::since(conn, after)).await else {
            continue;
        };
        for (id, action, target) in rows {
            last = id;
            if action == "user.create" {
                // A new account joined #general in another process: refresh who gets its events.
                let general = chat
                    .db
                    .read(|conn| convs::channel_by_name(conn, GENERAL))
                    .await;
                if let Ok(Some(id)) = general {
                    chat.hub.forget_members(id);
                }
            } else if action == "user.disable" || action == "user.password" {
                let name = target.clone();
                if let Ok(user) = chat.db.read(move |conn| users::by_name(conn, &name)).await {
                    chat.hub.kick_user(user.id, CLOSE_SESSION_ENDED);
                }
            }
        }
    }
}

/// Hourly: forget old events and expired sessions.
pub async fn prune(chat: Chat) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        let (idle, max) = (chat.config.session_idle_days, chat.config.session_max_days);
        let outcome = chat
            .db
            .write(move |ctx| {
                let now = now_ms();
                let e = events::prune(ctx.conn, now - EVENT_DAYS * DAY_MS, EVENT_KEEP)?;
                let s = sessions::delete_expired(
                    ctx.conn,
                    now - i64::from(idle) * DAY_MS,
                    now - i64::from(max) * DAY_MS,
                )?;
                Ok((e, s))
            })
            .await;
        match outcome {
            Ok((e, s)) if e + s > 0 => tracing::info!(events = e, sessions = s, "pruned"),
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "pruning failed"),
        }
    }
}
