//! Web Push: the devices a person subscribed, and the pushes a new message queues for the
//! members it notifies who are not looking at a page.

use super::Chat;
use crate::db::WriteCtx;
use crate::domain::chat::Message;
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::store::{outbox, push as store};

/// The outbox kind of the job that pushes one message to the devices of those it notifies.
pub const JOB: &str = "push";

/// Queues the pushes of a new message in its write, when some other member has a device: one
/// job, so that a message to a thousand people costs its write one row.
pub(super) fn queue(ctx: &mut WriteCtx, chat: &Chat, message: &Message) -> Result<()> {
    if chat.config.push_subject().is_none() {
        return Ok(());
    }
    let any: bool = ctx
        .conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM memberships m
                 JOIN push_subscriptions p ON p.user_id = m.user_id
                 WHERE m.conversation_id = ?1 AND m.user_id != ?2)",
        )?
        .query_row(
            rusqlite::params![message.conversation_id, message.sender.id],
            |r| r.get(0),
        )?;
    if !any {
        return Ok(());
    }
    let payload = serde_json::json!({ "message": message.id }).to_string();
    outbox::enqueue(
        ctx.conn,
        JOB,
        &format!("{JOB}:{}", message.id),
        &payload,
        now_ms(),
    )?;
    let wake = chat.files.wake.clone();
    ctx.after_commit(move || wake.notify_one());
    Ok(())
}

/// A person's push devices.
pub async fn devices(chat: &Chat, user: &User) -> Result<Vec<store::Device>> {
    let me = user.id;
    chat.db.read(move |conn| store::of_user(conn, me)).await
}

/// Removes one of a person's devices.
pub async fn remove(chat: &Chat, user: &User, id: i64) -> Result<()> {
    let me = user.id;
    match chat
        .db
        .write(move |ctx| store::remove(ctx.conn, me, id))
        .await?
    {
        true => Ok(()),
        false => Err(Error::NotFound),
    }
}
