//! What an admin does across the instance from the console: find people, deactivate them (and
//! delete what they wrote), end their sessions; list, archive, delete and enter conversations;
//! read the audit log; see how the server is doing. Anyone else is told these do not exist.

use serde::Serialize;

use super::accounts::{keeps_an_admin, still_admin};
use super::members::{self, Arrival};
use super::messages::emit_message;
use super::{Chat, emit};
use crate::domain::chat::{Conversation, ConversationId, Kind, MemberRole, UserRef};
use crate::domain::{Role, User, now_ms};
use crate::error::{Error, Result};
use crate::hub::CLOSE_SESSION_ENDED;
use crate::store::events::Audience;
use crate::store::users::{Filter, Person};
use crate::store::{audit, conversations as convs, memberships, messages, sessions, users};

/// The most people one search lists.
pub const PEOPLE_MAX: usize = 200;
/// Audit rows per page.
pub const AUDIT_PAGE: usize = 50;
/// What a person whose sessions an admin ended is told at their next visit.
pub const ENDED_REASON: &str = "An admin ended your sessions; sign in again";
/// What a deactivated person is told at their next visit.
pub const DEACTIVATED_REASON: &str = "Your account was deactivated by an admin";
/// Messages deleted per write when a person's messages are deleted with their account.
const PURGE_CHUNK: usize = 500;

fn admin_only(actor: &User) -> Result<()> {
    if actor.is_admin() && !actor.deactivated {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// People matching `filter`, by username; at most [`PEOPLE_MAX`].
pub async fn people(chat: &Chat, actor: &User, filter: Filter) -> Result<Vec<Person>> {
    admin_only(actor)?;
    chat.db
        .read(move |conn| users::search(conn, &filter, PEOPLE_MAX))
        .await
}

/// Makes `username` an admin or a member; the last active admin stays one. Audited.
pub async fn set_role(chat: &Chat, actor: &User, username: &str, role: Role) -> Result<User> {
    admin_only(actor)?;
    super::accounts::set_role(chat, &actor.username, username, role).await
}

/// Lets a deactivated person sign in again. Audited.
pub async fn reactivate(chat: &Chat, actor: &User, username: &str) -> Result<User> {
    admin_only(actor)?;
    super::accounts::set_active(chat, &actor.username, username, true).await
}

/// What came of a deactivation.
#[derive(Debug, Clone, Serialize)]
pub struct Deactivated {
    pub user: User,
    /// Messages deleted with the account (0 unless asked).
    pub messages_deleted: usize,
}

/// Deactivates `username`: their sessions end and their sockets close at once; with
/// `delete_messages`, every message they wrote is then deleted for everyone, each with its
/// `message.deleted` event. The last active admin cannot be deactivated. Audited, with the
/// number of messages deleted.
pub async fn deactivate(
    chat: &Chat,
    actor: &User,
    username: &str,
    delete_messages: bool,
) -> Result<Deactivated> {
    admin_only(actor)?;
    let target = super::accounts::find(chat, username).await?;
    let (id, name) = (actor.id, actor.username.clone());
    let user = chat
        .db
        .write(move |ctx| {
            still_admin(ctx.conn, id)?;
            keeps_an_admin(ctx.conn, &target)?;
            users::set_deactivated(ctx.conn, target.id, true)?;
            sessions::end_all_because(ctx.conn, target.id, DEACTIVATED_REASON, now_ms())?;
            let detail = serde_json::json!({ "delete_messages": delete_messages }).to_string();
            audit::record_detail(ctx.conn, &name, "user.disable", &target.username, &detail)?;
            users::get(ctx.conn, target.id)
        })
        .await?;
    chat.hub.kick_user(user.id, CLOSE_SESSION_ENDED);
    let mut deleted = 0;
    if delete_messages {
        // In chunks after the account is closed: it can write nothing more meanwhile, and no
        // single write holds the writer for long.
        loop {
            let (live, who) = (chat.clone(), user.id);
            let n = chat
                .db
                .write(move |ctx| {
                    let ids = messages::live_by_sender(ctx.conn, who, PURGE_CHUNK)?;
                    let now = now_ms();
                    for id in &ids {
                        messages::soft_delete(ctx.conn, *id, now)?;
                        let message = messages::get(ctx.conn, *id)?;
                        emit_message(ctx, &live, "message.deleted", &message)?;
                    }
                    Ok(ids.len())
                })
                .await?;
            deleted += n;
            if n < PURGE_CHUNK {
                break;
            }
        }
        let (name, target) = (actor.username.clone(), user.username.clone());
        let detail = serde_json::json!({ "messages": deleted }).to_string();
        chat.db
            .write(move |ctx| {
                audit::record_detail(ctx.conn, &name, "user.messages_deleted", &target, &detail)
            })
            .await?;
    }
    Ok(Deactivated {
        user,
        messages_deleted: deleted,
    })
}

/// Ends every session of `username` (they sign in again); audited.
pub async fn end_sessions(chat: &Chat, actor: &User, username: &str) -> Result<usize> {
    admin_only(actor)?;
    let target = super::accounts::find(chat, username).await?;
    let (id, name, who) = (actor.id, actor.username.clone(), target.id);
    let ended = chat
        .db
        .write(move |ctx| {
            still_admin(ctx.conn, id)?;
            let n = sessions::end_all_because(ctx.conn, who, ENDED_REASON, now_ms())?;
            let detail = serde_json::json!({ "sessions": n }).to_string();
            audit::record_detail(
                ctx.conn,
                &name,
                "user.sessions_end",
                &target.username,
                &detail,
            )?;
            Ok(n)
        })
        .await?;
    chat.hub.kick_user(who, CLOSE_SESSION_ENDED);
    Ok(ended)
}

/// A channel or group as the console lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SharedConversation)]
pub struct Shared {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub members: i64,
    /// Whether the admin looking is a member.
    pub member: bool,
}

/// Every channel and group, channels first.
pub async fn conversations(chat: &Chat, actor: &User) -> Result<Vec<Shared>> {
    admin_only(actor)?;
    let me = actor.id;
    chat.db
        .read(move |conn| {
            convs::all_shared(conn)?
                .into_iter()
                .map(|(conversation, members)| {
                    let member = memberships::role(conn, conversation.id, me)?.is_some();
                    Ok(Shared {
                        conversation,
                        members,
                        member,
                    })
                })
                .collect()
        })
        .await
}

/// A channel or group the console may act on (never a direct or a support conversation).
fn shared(conn: &rusqlite::Connection, id: ConversationId) -> Result<Conversation> {
    let c = convs::get(conn, id)?;
    let support: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM support_threads WHERE conversation_id = ?1)")?
        .query_row([id], |r| r.get(0))?;
    if c.kind == Kind::Direct || support {
        return Err(Error::NotFound);
    }
    Ok(c)
}

/// Deletes a channel or group and everything in it, once its name is typed to confirm. Its
/// members are told (`conversation.deleted`, to each of them); audited.
pub async fn delete_conversation(
    chat: &Chat,
    actor: &User,
    id: ConversationId,
    typed_name: &str,
) -> Result<()> {
    admin_only(actor)?;
    let (live, me, name) = (chat.clone(), actor.id, actor.username.clone());
    let typed = typed_name.trim().to_owned();
    chat.db
        .write(move |ctx| {
            still_admin(ctx.conn, me)?;
            let c = shared(ctx.conn, id)?;
            if typed.is_empty() || !typed.eq_ignore_ascii_case(&c.name) {
                return Err(Error::invalid(format!(
                    "type the conversation's name, {:?}, to delete it",
                    c.name
                )));
            }
            #[derive(Serialize)]
            struct Deleted<'a> {
                id: ConversationId,
                name: &'a str,
            }
            let data = Deleted { id, name: &c.name };
            for member in memberships::member_ids(ctx.conn, id)? {
                emit(
                    ctx,
                    &live,
                    Audience::User(member),
                    "conversation.deleted",
                    Some(id),
                    &data,
                )?;
            }
            convs::delete(ctx.conn, id)?;
            live.hub.forget_members(id, ctx);
            let recent = live.recent.clone();
            ctx.after_commit(move || recent.forget(id));
            let detail = serde_json::json!({ "id": id, "kind": c.kind.as_str() }).to_string();
            audit::record_detail(ctx.conn, &name, "conversation.delete", &c.name, &detail)
        })
        .await
}

/// Archives or unarchives a channel or group (members or not), with its line; audited.
pub async fn set_archived(
    chat: &Chat,
    actor: &User,
    id: ConversationId,
    archived: bool,
) -> Result<Conversation> {
    admin_only(actor)?;
    let c = chat.db.read(move |conn| shared(conn, id)).await?;
    let c = if c.archived == archived {
        c
    } else {
        let change = super::conversations::Changes {
            archived: Some(archived),
            ..Default::default()
        };
        super::conversations::update(chat, actor, id, change).await?
    };
    let (name, target) = (actor.username.clone(), c.name.clone());
    let action = if archived {
        "conversation.archive"
    } else {
        "conversation.unarchive"
    };
    chat.db
        .write(move |ctx| audit::record(ctx.conn, &name, action, &target))
        .await?;
    Ok(c)
}

/// Lets an admin into a private group: a line in the group tells its members, and the audit
/// log keeps who and when. The only way an admin reads a group they were not added to.
pub async fn join_group(chat: &Chat, actor: &User, id: ConversationId) -> Result<Conversation> {
    admin_only(actor)?;
    let (live, me) = (chat.clone(), actor.clone());
    chat.db
        .write(move |ctx| {
            still_admin(ctx.conn, me.id)?;
            let c = shared(ctx.conn, id)?;
            if c.kind != Kind::Group {
                return Err(Error::invalid(
                    "channels are joined like any member joins them",
                ));
            }
            let who = UserRef::from(&me);
            if !members::add(
                ctx,
                &live,
                &c,
                &who,
                MemberRole::Member,
                Arrival::AdminJoined,
            )? {
                return Err(Error::Conflict("you are already a member".into()));
            }
            audit::record(ctx.conn, &me.username, "conversation.admin_join", &c.name)?;
            Ok(c)
        })
        .await
}

/// A page of the audit log, newest first, and whether older rows exist.
pub async fn audit_log(
    chat: &Chat,
    actor: &User,
    filter: audit::Filter,
) -> Result<(Vec<audit::Entry>, bool)> {
    admin_only(actor)?;
    chat.db
        .read(move |conn| {
            let mut rows = audit::page(conn, &filter, AUDIT_PAGE + 1)?;
            let more = rows.len() > AUDIT_PAGE;
            rows.truncate(AUDIT_PAGE);
            Ok((rows, more))
        })
        .await
}
