//! Reports: a member tells the admins about a message they can see. The report is kept in
//! `reports` (which lets the admins open the message) and written as a message of the
//! reporter in their support conversation, linking to it with the reason.

use super::auth::still_active;
use super::limits::Budget;
use super::messages::{Outgoing, write_message};
use super::support::get_or_create;
use super::{Chat, visible};
use crate::domain::chat::{Message, MessageId};
use crate::domain::support::{self, report_body};
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::fragments;
use crate::store::{messages, reports};

/// Reports message `id`; returns the line written into the reporter's support conversation.
/// A message the reporter cannot see (outside their conversations and the channels) is
/// `NotFound`, and nothing is written.
pub async fn report(chat: &Chat, user: &User, id: MessageId, reason: &str) -> Result<Message> {
    let reason = support::reason(reason)?;
    chat.limits.spend(Budget::Message, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let reported = messages::get(ctx.conn, id)?;
            // What one can see: one's conversations, and every channel.
            visible(ctx.conn, &me, reported.conversation_id)?;
            if reported.notice.is_some() {
                return Err(Error::NotFound);
            }
            if reported.deleted {
                return Err(Error::invalid("a deleted message cannot be reported"));
            }
            let c = get_or_create(ctx, &live, &me)?;
            reports::insert(ctx.conn, id, me.id, &reason, now_ms())?;
            let new = Outgoing {
                body: &report_body(id, &reason),
                html: Some(fragments::report(id, &reason).into_string()),
                client_id: None,
                reply_to: None,
                attachments: &[],
                posted_as: None,
            };
            write_message(ctx, &live, &me, &c, new)
        })
        .await
}
