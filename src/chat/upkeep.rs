//! Background upkeep while serving: following what the CLI changes (its events, accounts it
//! disables), pruning the event log and expired sessions, collecting files no one needs.

use std::time::Duration;

use super::Chat;
use crate::domain::now_ms;
use crate::error::Error;
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::{audit, events, sessions, users};

const DAY_MS: i64 = 86_400_000;
/// How often the event log and sessions are pruned, and how long after a start the first
/// pruning waits (clients reconnecting after a restart come first).
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const PRUNE_FIRST_AFTER: Duration = Duration::from_secs(60);
/// Events deleted by one writer job: a few milliseconds, so other writes wait no longer.
const PRUNE_CHUNK: i64 = 1_000;
/// How long the reason a session was ended stays to be told.
const ENDED_KEPT_DAYS: i64 = 30;

/// Follows what other processes (the CLI) change while this server runs: their events reach
/// open sockets, in order (a new account's joining #general, say), and users disabled or
/// given a new password have their sockets closed. The CLI writes the audit log;
/// this server looks at it every second.
///
/// Starting takes a write (the database may be locked by another process for a while): it is
/// retried until it works, waiting a little longer each time, since without it a user disabled
/// from the CLI would keep their open sockets for the life of the server.
pub async fn watch_other_processes(chat: Chat) {
    const FIRST_RETRY: Duration = Duration::from_secs(1);
    const LONGEST_WAIT: Duration = Duration::from_secs(30);
    // Where the audit log stood at boot (a read: never waits for the lock), so what the CLI
    // did before a late start is still acted on.
    let boot = chat.db.read(audit::last_id).await.ok();
    let mut wait = FIRST_RETRY;
    let mut last = loop {
        let hub = chat.hub.clone();
        let start = chat
            .db
            .write(move |ctx| {
                let version: i64 = ctx
                    .conn
                    .query_row("PRAGMA data_version", [], |r| r.get(0))?;
                hub.watch_log(version, events::current_seq(ctx.conn)?);
                audit::last_id(ctx.conn)
            })
            .await;
        match start {
            Ok(at_start) => break boot.unwrap_or(at_start),
            // The server is stopping: nothing to follow.
            Err(Error::WriterGone) => return,
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    retry_in_secs = wait.as_secs(),
                    "cannot start following what other processes change; trying again"
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(LONGEST_WAIT);
            }
        }
    };
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let after = last;
        let Ok(rows) = chat.db.read(move |conn| audit::since(conn, after)).await else {
            continue;
        };
        if !rows.is_empty() {
            let live = chat.clone();
            let delivered = chat
                .db
                .write(move |ctx| super::deliver_foreign(ctx, &live))
                .await;
            if let Err(err) = delivered {
                tracing::warn!(error = %err, "delivering other processes' events failed");
            }
        }
        for (id, action, target) in rows {
            last = id;
            if matches!(
                action.as_str(),
                "user.disable" | "user.password" | "user.reset_link"
            ) {
                let name = target.clone();
                if let Ok(user) = chat.db.read(move |conn| users::by_name(conn, &name)).await {
                    chat.hub.kick_user(user.id, CLOSE_SESSION_ENDED);
                }
            }
        }
    }
}

/// Hourly: forget events replay can no longer use and expired sessions.
pub async fn prune(chat: Chat) {
    let start = tokio::time::Instant::now() + PRUNE_FIRST_AFTER;
    let mut tick = tokio::time::interval_at(start, PRUNE_EVERY);
    loop {
        tick.tick().await;
        let events = prune_events(&chat).await;
        let (idle, max) = (chat.config.session_idle_days, chat.config.session_max_days);
        let sessions = chat
            .db
            .write(move |ctx| {
                let now = now_ms();
                sessions::prune_ended(ctx.conn, now - ENDED_KEPT_DAYS * DAY_MS)?;
                sessions::delete_expired(
                    ctx.conn,
                    now - i64::from(idle) * DAY_MS,
                    now - i64::from(max) * DAY_MS,
                )
            })
            .await;
        if let Err(err) = super::files::collect(&chat).await {
            tracing::warn!(error = %err, "collecting unused files failed");
        }
        let keep_days = chat.config.audit_keep_days;
        let audit = if keep_days == 0 {
            Ok(0)
        } else {
            let before = now_ms() - i64::from(keep_days) * DAY_MS;
            prune_audit(&chat, before).await
        };
        if let Err(err) = &audit {
            tracing::warn!(error = %err, "pruning the audit log failed");
        }
        match (events, sessions) {
            (Ok(e), Ok(s)) if e + s > 0 => tracing::info!(events = e, sessions = s, "pruned"),
            (Ok(_), Ok(_)) => {}
            (Err(err), _) | (_, Err(err)) => tracing::warn!(error = %err, "pruning failed"),
        }
    }
}

/// Deletes audit rows older than `before`, one chunk per writer job; returns how many went.
pub async fn prune_audit(chat: &Chat, before: i64) -> crate::error::Result<usize> {
    let mut pruned = 0;
    loop {
        let gone = chat
            .db
            .write(move |ctx| audit::prune(ctx.conn, before, PRUNE_CHUNK as usize))
            .await?;
        pruned += gone;
        if (gone as i64) < PRUNE_CHUNK {
            return Ok(pruned);
        }
        tokio::task::yield_now().await;
    }
}

/// Deletes the events beyond the newest [`events::KEEP`], one chunk per writer job, so other
/// writes interleave; returns how many went.
pub async fn prune_events(chat: &Chat) -> crate::error::Result<usize> {
    let mut pruned = 0;
    loop {
        let gone = chat
            .db
            .write(|ctx| events::prune(ctx.conn, events::KEEP, PRUNE_CHUNK))
            .await?;
        pruned += gone;
        if (gone as i64) < PRUNE_CHUNK {
            return Ok(pruned);
        }
        tokio::task::yield_now().await;
    }
}
