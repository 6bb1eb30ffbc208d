//! The support inbox: each member's one conversation with the admin team (a group whose
//! members are that member and every active admin), its state and assignee, and the inbox
//! the admins work from. Every admin is a member of every support conversation, so events,
//! unread counts and read markers work as in any conversation, each admin with their own.

use serde::Serialize;

use super::auth::still_active;
use super::limits::Budget;
use super::members::{self, Arrival};
use super::{Chat, emit, membership};
use crate::db::WriteCtx;
use crate::domain::chat::{Conversation, ConversationId, Kind, MemberRole, Summary, UserRef};
use crate::domain::support::{Filter, InboxEntry, State, Thread};
use crate::domain::{User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::store::events::Audience;
use crate::store::{audit, conversations as convs, memberships, support as store, users};

/// The admin team's name, as members see it ("Contact the Admins"): an instance setting.
pub fn team_name(chat: &Chat) -> String {
    chat.instance().support_name.clone()
}

/// Names the member's own support conversation in a list by the admin team's name.
pub fn name_summaries(chat: &Chat, summaries: &mut [Summary]) {
    let mut team = None;
    for s in summaries {
        if let Some(tag) = s.support.as_mut().filter(|t| t.mine) {
            tag.title = team.get_or_insert_with(|| team_name(chat)).clone();
        }
    }
}

/// Refuses what does not apply to a support conversation: its members, name and topic are
/// kept by Hearth.
pub(super) fn refuse_changes(ctx: &WriteCtx, id: ConversationId) -> Result<()> {
    if store::get(ctx.conn, id)?.is_some() {
        return Err(Error::Forbidden(
            "a support conversation cannot be left, renamed or archived, nor its members changed"
                .into(),
        ));
    }
    Ok(())
}

/// The thread of a support conversation `user` manages: an admin who is one of its members
/// and not the member it belongs to. Anyone else finds nothing.
pub(super) fn managed(
    conn: &rusqlite::Connection,
    user: &User,
    id: ConversationId,
) -> Result<Thread> {
    if !user.is_admin() {
        return Err(Error::NotFound);
    }
    membership(conn, user, id)?;
    match store::get(conn, id)? {
        Some(thread) if thread.member.id != user.id => Ok(thread),
        _ => Err(Error::NotFound),
    }
}

/// The admins a support conversation's changes are told to: its members but the member.
pub(super) fn admins_of(ctx: &WriteCtx, id: ConversationId, member: UserId) -> Result<Vec<UserId>> {
    Ok(memberships::member_ids(ctx.conn, id)?
        .into_iter()
        .filter(|u| *u != member)
        .collect())
}

/// The data of a `support.updated` event.
#[derive(Serialize)]
struct Updated<'a> {
    thread: &'a Thread,
}

/// Tells every admin of the thread how it stands now (`support.updated`, to each of them).
fn tell_admins(ctx: &mut WriteCtx, chat: &Chat, id: ConversationId) -> Result<Thread> {
    let thread = store::get(ctx.conn, id)?.ok_or(Error::NotFound)?;
    for admin in admins_of(ctx, id, thread.member.id)? {
        let data = Updated { thread: &thread };
        emit(
            ctx,
            chat,
            Audience::User(admin),
            "support.updated",
            Some(id),
            data,
        )?;
    }
    Ok(thread)
}

/// `member`'s support conversation, created (with every active admin in it) if they have none.
pub(super) fn get_or_create(
    ctx: &mut WriteCtx,
    chat: &Chat,
    member: &User,
) -> Result<Conversation> {
    if member.is_admin() {
        return Err(Error::invalid(
            "admins answer support conversations from the inbox",
        ));
    }
    if let Some(id) = store::of_member(ctx.conn, member.id)? {
        return convs::get(ctx.conn, id);
    }
    let now = now_ms();
    let id = convs::insert(ctx.conn, Kind::Group, "", "", None, Some(member.id), now)?;
    store::insert(ctx.conn, id, member.id, now)?;
    let c = convs::get(ctx.conn, id)?;
    let me = UserRef::from(member);
    members::add(ctx, chat, &c, &me, MemberRole::Member, Arrival::Created)?;
    for admin in store::admins(ctx.conn)? {
        if admin.id != member.id {
            let founding = Arrival::Founding { by: &me };
            members::add(ctx, chat, &c, &admin, MemberRole::Member, founding)?;
        }
    }
    tell_admins(ctx, chat, id)?;
    Ok(c)
}

/// The support conversation `user` has, if any (GET /support).
pub async fn mine(chat: &Chat, user: &User) -> Result<Option<ConversationId>> {
    let id = user.id;
    chat.db.read(move |conn| store::of_member(conn, id)).await
}

/// `user`'s support conversation, created if needed (POST /api/v1/support).
pub async fn open(chat: &Chat, user: &User) -> Result<Conversation> {
    chat.limits.spend(Budget::Create, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            get_or_create(ctx, &live, &me)
        })
        .await
}

/// After a message in a support conversation: a member's message reopens a resolved thread;
/// the admins hear of a change of state. Runs in the message's own write.
pub(super) fn after_message(
    ctx: &mut WriteCtx,
    chat: &Chat,
    conversation: ConversationId,
    sender: UserId,
    at: i64,
) -> Result<()> {
    let Some(thread) = store::get(ctx.conn, conversation)? else {
        return Ok(());
    };
    if thread.member.id == sender && thread.state == State::Resolved {
        store::set_state(ctx.conn, conversation, State::Open, at)?;
        tell_admins(ctx, chat, conversation)?;
    } else {
        store::touch(ctx.conn, conversation, at)?;
    }
    Ok(())
}

/// A new admin (created as one, or promoted) joins every support conversation, with no line
/// in them; its history is not news to them. Call inside the write that makes them admin.
pub fn admin_added(ctx: &mut WriteCtx, chat: &Chat, user: UserId) -> Result<()> {
    let admin = UserRef::from(&users::get(ctx.conn, user)?);
    for (id, member) in store::all(ctx.conn)? {
        if member == user {
            continue;
        }
        let c = convs::get(ctx.conn, id)?;
        members::add(
            ctx,
            chat,
            &c,
            &admin,
            MemberRole::Member,
            Arrival::Appointed,
        )?;
    }
    Ok(())
}

/// A new account made an admin from the start joins every support conversation (call inside
/// the write that creates it; nothing for anyone else).
pub fn joined_as(ctx: &mut WriteCtx, chat: &Chat, user: &User) -> Result<()> {
    if user.is_admin() {
        admin_added(ctx, chat, user.id)?;
    }
    Ok(())
}

/// Refuses to put anyone into a support conversation by other means (an invite's list): its
/// members are the member and the admins.
pub fn not_into(conn: &rusqlite::Connection, id: ConversationId) -> Result<()> {
    if store::get(conn, id)?.is_some() {
        return Err(Error::invalid(
            "nobody can be invited into a support conversation",
        ));
    }
    Ok(())
}

/// An admin no longer (demoted) leaves every support conversation but their own, with no line
/// in them. Call inside the write that takes the role away.
pub fn admin_removed(ctx: &mut WriteCtx, chat: &Chat, user: UserId) -> Result<()> {
    let admin = UserRef::from(&users::get(ctx.conn, user)?);
    for (id, member) in store::all(ctx.conn)? {
        if member == user {
            continue;
        }
        let c = convs::get(ctx.conn, id)?;
        members::depart(ctx, chat, &c, &admin)?;
    }
    Ok(())
}

/// The inbox of an admin; anyone else finds nothing.
pub async fn inbox(chat: &Chat, user: &User, filter: Filter) -> Result<Vec<InboxEntry>> {
    if !user.is_admin() {
        return Err(Error::NotFound);
    }
    let id = user.id;
    chat.db
        .read(move |conn| store::inbox(conn, id, filter))
        .await
}

/// The thread of a support conversation, for an admin in it (the panel beside it).
pub async fn thread(chat: &Chat, user: &User, id: ConversationId) -> Result<Thread> {
    let me = user.clone();
    chat.db.read(move |conn| managed(conn, &me, id)).await
}

/// Marks a thread open or resolved (admins).
pub async fn set_state(
    chat: &Chat,
    user: &User,
    id: ConversationId,
    state: State,
) -> Result<Thread> {
    chat.limits.spend(Budget::Update, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let thread = managed(ctx.conn, &me, id)?;
            if thread.state == state {
                return Ok(thread);
            }
            store::set_state(ctx.conn, id, state, now_ms())?;
            let action = format!("support.{}", state.as_str());
            audit::record(ctx.conn, &me.username, &action, &thread.member.username)?;
            tell_admins(ctx, &live, id)
        })
        .await
}

/// Assigns a thread to an admin of it, or to nobody (admins).
pub async fn assign(
    chat: &Chat,
    user: &User,
    id: ConversationId,
    assignee: Option<UserId>,
) -> Result<Thread> {
    chat.limits.spend(Budget::Update, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let thread = managed(ctx.conn, &me, id)?;
            if let Some(a) = assignee {
                let admin = users::get(ctx.conn, a)
                    .ok()
                    .filter(|u| u.is_admin() && !u.deactivated);
                if admin.is_none() || a == thread.member.id {
                    return Err(Error::invalid(format!(
                        "user {a} is not an admin who can take this conversation"
                    )));
                }
            }
            if thread.assignee.as_ref().map(|u| u.id) == assignee {
                return Ok(thread);
            }
            store::set_assignee(ctx.conn, id, assignee, now_ms())?;
            let to = match assignee {
                Some(a) => users::get(ctx.conn, a)?.username,
                None => String::new(),
            };
            let detail = serde_json::json!({ "assignee": to }).to_string();
            audit::record_detail(
                ctx.conn,
                &me.username,
                "support.assign",
                &thread.member.username,
                &detail,
            )?;
            tell_admins(ctx, &live, id)
        })
        .await
}

/// What an admin sees beside a support conversation.
pub struct Panel {
    pub thread: Thread,
    /// The internal notes, oldest first.
    pub notes: Vec<crate::domain::support::Note>,
    /// The active admins, who may take it.
    pub team: Vec<UserRef>,
}

/// The panel beside a support conversation, for an admin in it; anyone else finds nothing.
pub async fn panel(chat: &Chat, user: &User, id: ConversationId) -> Result<Panel> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            let thread = managed(conn, &me, id)?;
            Ok(Panel {
                thread,
                notes: store::notes(conn, id)?,
                team: store::admins(conn)?,
            })
        })
        .await
}

/// Writes to the admins: the member's support conversation (created if needed) and its first
/// (or next) message, in one write (POST /support).
pub async fn start(
    chat: &Chat,
    user: &User,
    draft: super::messages::Draft,
) -> Result<crate::domain::chat::Message> {
    let body = crate::domain::chat::message_body(&draft.body, chat.config.max_message_chars)?;
    let client_id = draft
        .client_id
        .as_deref()
        .map(crate::domain::chat::client_id)
        .transpose()?;
    chat.limits.spend(Budget::Message, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            if let Some(cid) = &client_id
                && let Some(id) = crate::store::messages::by_client_id(ctx.conn, me.id, cid)?
            {
                // The same form sent twice.
                return crate::store::messages::get(ctx.conn, id);
            }
            let c = get_or_create(ctx, &live, &me)?;
            let new = super::messages::Outgoing {
                body: &body,
                html: None,
                client_id: client_id.as_deref(),
                reply_to: None,
                attachments: &[],
                posted_as: None,
            };
            super::messages::write_message(ctx, &live, &me, &c, new)
        })
        .await
}
