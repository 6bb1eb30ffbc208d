//! Who is in a conversation: adding and removing members, each with its
//! `membership.changed` event and, for a change under way, its line in the timeline.

use serde::Serialize;
use serde_json::Value;

use super::notices::{self, Line};
use super::{Chat, emit, json as views};
use crate::db::WriteCtx;
use crate::domain::chat::{Conversation, Kind, MemberRole, Notice, UserRef};
use crate::domain::now_ms;
use crate::error::{Error, Result};
use crate::store::events::Audience;
use crate::store::memberships;

/// How someone becomes a member, and whether the timeline tells of it.
#[derive(Clone, Copy)]
pub(super) enum Arrival<'a> {
    /// Opened the conversation.
    Created,
    /// Put in by `by` as the conversation was opened: part of its start, no line of its own.
    Founding { by: &'a UserRef },
    /// Joined a channel.
    Joined,
    /// Added by `by` to a conversation under way.
    Added { by: &'a UserRef },
    /// Put into a support conversation on becoming an admin: no line, and its history up to
    /// now is not news to them.
    Appointed,
    /// An admin let themselves into a private group from the admin console.
    AdminJoined,
}

/// The data of a `membership.changed` event, with the line it wrote (if any) flattened in.
#[derive(Serialize)]
struct MembershipChanged<'a> {
    action: &'static str,
    user: &'a UserRef,
    by: &'a UserRef,
    conversation: Value,
    #[serde(flatten)]
    line: Option<Line<'a>>,
}

/// Adds `user` to a conversation and tells everyone concerned. The new member has read
/// nothing: no receipt says otherwise. A group or direct is unread for them until they open
/// it; a channel's history up to now never counts as unread (it is not news to a newcomer).
pub(super) fn add(
    ctx: &mut WriteCtx,
    chat: &Chat,
    c: &Conversation,
    user: &UserRef,
    role: MemberRole,
    arrival: Arrival,
) -> Result<bool> {
    let unread_after = match (c.kind, arrival) {
        (Kind::Channel, _) | (_, Arrival::Appointed) => c.last_message_id,
        (Kind::Group | Kind::Direct, _) => 0,
    };
    if !memberships::add(ctx.conn, c.id, user.id, role, unread_after, now_ms())? {
        return Ok(false);
    }
    chat.hub.forget_members(c.id, ctx);
    let (action, by, notice) = match arrival {
        Arrival::Created => ("created", user, None),
        Arrival::Founding { by } => ("added", by, None),
        Arrival::Joined => ("joined", user, Some(Notice::Joined { user: user.clone() })),
        Arrival::Added { by } => ("added", by, Some(Notice::Added { user: user.clone() })),
        Arrival::Appointed => ("added", user, None),
        Arrival::AdminJoined => (
            "joined",
            user,
            Some(Notice::AdminJoined { user: user.clone() }),
        ),
    };
    let line = match notice {
        Some(notice) => Some(notices::write(ctx, chat, c.id, by, &notice)?),
        None => None,
    };
    let data = MembershipChanged {
        action,
        user,
        by,
        conversation: views::conversation(c),
        line: line.as_ref().map(Line::new),
    };
    emit(
        ctx,
        chat,
        Audience::Conversation(c.id),
        "membership.changed",
        Some(c.id),
        data,
    )?;
    Ok(true)
}

/// Removes `user` (they left when `by` is they) and tells the remaining members and the one
/// who went; the timeline gets a line.
pub(super) fn remove(
    ctx: &mut WriteCtx,
    chat: &Chat,
    c: &Conversation,
    user: &UserRef,
    by: &UserRef,
) -> Result<()> {
    if !memberships::remove(ctx.conn, c.id, user.id)? {
        return Err(Error::NotFound);
    }
    chat.hub.forget_members(c.id, ctx);
    let (action, notice) = if user.id == by.id {
        ("left", Notice::Left { user: user.clone() })
    } else {
        ("removed", Notice::Removed { user: user.clone() })
    };
    let line = notices::write(ctx, chat, c.id, by, &notice)?;
    let data = MembershipChanged {
        action,
        user,
        by,
        conversation: views::conversation(c),
        line: Some(Line::new(&line)),
    };
    emit(
        ctx,
        chat,
        Audience::Conversation(c.id),
        "membership.changed",
        Some(c.id),
        &data,
    )?;
    emit(
        ctx,
        chat,
        Audience::User(user.id),
        "membership.changed",
        Some(c.id),
        &data,
    )?;
    Ok(())
}

/// Takes `user` out of a conversation without a line in its timeline (an admin demoted leaves
/// the support conversations); the remaining members and the one who went are told.
pub(super) fn depart(
    ctx: &mut WriteCtx,
    chat: &Chat,
    c: &Conversation,
    user: &UserRef,
) -> Result<()> {
    if !memberships::remove(ctx.conn, c.id, user.id)? {
        return Ok(());
    }
    chat.hub.forget_members(c.id, ctx);
    let data = MembershipChanged {
        action: "removed",
        user,
        by: user,
        conversation: views::conversation(c),
        line: None,
    };
    emit(
        ctx,
        chat,
        Audience::Conversation(c.id),
        "membership.changed",
        Some(c.id),
        &data,
    )?;
    emit(
        ctx,
        chat,
        Audience::User(user.id),
        "membership.changed",
        Some(c.id),
        &data,
    )?;
    Ok(())
}
