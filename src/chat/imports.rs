//! What live clients are told of an import from another chat service: the people already here
//! who became members of an imported conversation, and the conversations that were already
//! here and received history. Imported people had no sessions, so nothing is sent for them.

use serde::Serialize;
use serde_json::Value;

use super::members::{self, Arrival};
use super::{Chat, emit, json as views};
use crate::db::WriteCtx;
use crate::domain::chat::{Conversation, MemberRole, UserRef};
use crate::error::Result;
use crate::store::events::Audience;

/// Adds someone who was here before the import to an imported conversation and tells its
/// members (`membership.changed` `added`, no line); false when they already were one.
pub fn add_member(
    ctx: &mut WriteCtx,
    chat: &Chat,
    c: &Conversation,
    user: &UserRef,
    role: MemberRole,
    by: &UserRef,
) -> Result<bool> {
    members::add(ctx, chat, c, user, role, Arrival::Founding { by })
}

/// The data of a `conversation.imported` event.
#[derive(Serialize)]
struct Imported {
    conversation: Value,
    messages: usize,
    members: usize,
}

/// Tells the members of a conversation that was already here that an import added `messages`
/// messages and `members` members to it. A running server that reads this event (written by
/// the CLI) forgets what it kept of the conversation: its members and its newest messages.
pub fn conversation_imported(
    ctx: &mut WriteCtx,
    chat: &Chat,
    c: &Conversation,
    messages: usize,
    members: usize,
) -> Result<i64> {
    chat.hub.forget_members(c.id, ctx);
    let (recent, id) = (chat.recent.clone(), c.id);
    ctx.after_commit(move || recent.forget(id));
    let data = Imported {
        conversation: views::conversation(c),
        messages,
        members,
    };
    emit(
        ctx,
        chat,
        Audience::Conversation(c.id),
        "conversation.imported",
        Some(c.id),
        data,
    )
}
