//! Conversation actions: create, directs, rename, topic, archive, join, leave, members.

use serde::Serialize;
use serde_json::Value;

use super::auth::still_active;
use super::limits::Budget;
use super::members::{self, Arrival};
use super::notices::{self, Line};
use super::{Chat, emit, json as views, managed, membership, support, visible, writable};
use crate::db::WriteCtx;
use crate::domain::chat::{
    self, Conversation, ConversationId, Kind, Member, MemberRole, Summary, UserRef,
};
use crate::domain::{User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::store::events::Audience;
use crate::store::{conversations as convs, memberships, reads, users};

/// The channel every new user joins.
pub const GENERAL: &str = "general";

/// What it takes to open a channel or group.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct NewConversation {
    /// `channel` or `group`.
    #[schema(value_type = NewKind, example = "group")]
    pub kind: String,
    #[schema(example = "plans")]
    pub name: String,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub members: Vec<UserId>,
}

/// What a new conversation may be (directs are opened with `POST /api/v1/directs`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum NewKind {
    Channel,
    Group,
}

fn may_manage(user: &User, role: Option<MemberRole>) -> bool {
    user.is_admin() || role == Some(MemberRole::Owner)
}

/// The data of a `conversation.updated` event, with its line (if anything changed) flattened in.
#[derive(Serialize)]
struct ConversationUpdated<'a> {
    conversation: Value,
    by: &'a UserRef,
    #[serde(flatten)]
    line: Option<Line<'a>>,
}

fn active_user(ctx: &WriteCtx, id: UserId) -> Result<UserRef> {
    let user =
        users::get(ctx.conn, id).map_err(|_| Error::invalid(format!("no user with id {id}")))?;
    if user.deactivated {
        return Err(Error::invalid(format!("{} is deactivated", user.username)));
    }
    Ok(UserRef::from(&user))
}

/// Joins a user to `general`, creating it if needed (new accounts call this).
pub fn join_general(ctx: &mut WriteCtx, chat: &Chat, user: &User) -> Result<()> {
    let id = match convs::channel_by_name(ctx.conn, GENERAL)? {
        Some(id) => id,
        None => convs::insert(
            ctx.conn,
            Kind::Channel,
            GENERAL,
            "Everyone is here.",
            None,
            None,
            now_ms(),
        )?,
    };
    let c = convs::get(ctx.conn, id)?;
    members::add(
        ctx,
        chat,
        &c,
        &UserRef::from(user),
        MemberRole::Member,
        Arrival::Joined,
    )?;
    Ok(())
}

/// Opens a channel or group with its creator as owner.
pub async fn create(chat: &Chat, user: &User, new: NewConversation) -> Result<Conversation> {
    let kind = Kind::parse(&new.kind)?;
    if kind == Kind::Direct {
        return Err(Error::invalid(
            "open a direct conversation with POST /api/v1/directs",
        ));
    }
    let name = chat::conversation_name(&new.name)?;
    let topic = chat::topic(new.topic.as_deref().unwrap_or(""))?;
    if new.members.len() > 1000 {
        return Err(Error::invalid("at most 1000 members at once"));
    }
    if kind == Kind::Channel && !chat.instance().may_create_channels(user) {
        return Err(Error::Forbidden(
            "only admins may create channels here; ask one, or start a private group".into(),
        ));
    }
    chat.limits.spend(Budget::Create, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            if kind == Kind::Channel && convs::channel_by_name(ctx.conn, &name)?.is_some() {
                return Err(Error::Conflict(format!(
                    "a channel named {name:?} already exists"
                )));
            }
            let id = convs::insert(ctx.conn, kind, &name, &topic, None, Some(me.id), now_ms())?;
            let c = convs::get(ctx.conn, id)?;
            let creator = UserRef::from(&me);
            members::add(
                ctx,
                &live,
                &c,
                &creator,
                MemberRole::Owner,
                Arrival::Created,
            )?;
            for member in new.members.iter().filter(|m| **m != me.id) {
                let member = active_user(ctx, *member)?;
                let founding = Arrival::Founding { by: &creator };
                members::add(ctx, &live, &c, &member, MemberRole::Member, founding)?;
            }
            Ok(c)
        })
        .await
}

/// The direct conversation between `user` and `other`, created on first use.
pub async fn direct(chat: &Chat, user: &User, other: UserId) -> Result<Conversation> {
    if other == user.id {
        return Err(Error::invalid("a direct conversation needs someone else"));
    }
    chat.limits.spend(Budget::Create, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let key = convs::direct_key(me.id, other);
            if let Some(id) = convs::direct(ctx.conn, &key)? {
                return convs::get(ctx.conn, id);
            }
            let them = active_user(ctx, other).map_err(|_| Error::NotFound)?;
            let id = convs::insert(
                ctx.conn,
                Kind::Direct,
                "",
                "",
                Some(&key),
                Some(me.id),
                now_ms(),
            )?;
            let c = convs::get(ctx.conn, id)?;
            let creator = UserRef::from(&me);
            members::add(
                ctx,
                &live,
                &c,
                &creator,
                MemberRole::Member,
                Arrival::Created,
            )?;
            let founding = Arrival::Founding { by: &creator };
            members::add(ctx, &live, &c, &them, MemberRole::Member, founding)?;
            Ok(c)
        })
        .await
}

/// What may change about a conversation.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Changes {
    pub name: Option<String>,
    pub topic: Option<String>,
    pub archived: Option<bool>,
}

/// Renames, sets the topic or (un)archives. Names and archiving: owners and admins;
/// topics: any member. Directs have neither name nor topic.
pub async fn update(
    chat: &Chat,
    user: &User,
    id: ConversationId,
    changes: Changes,
) -> Result<Conversation> {
    if changes.name.is_none() && changes.topic.is_none() && changes.archived.is_none() {
        return Err(Error::invalid(
            "nothing to change: give name, topic or archived",
        ));
    }
    let name = changes
        .name
        .as_deref()
        .map(chat::conversation_name)
        .transpose()?;
    let topic = changes.topic.as_deref().map(chat::topic).transpose()?;
    chat.limits.spend(Budget::Update, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, role) = managed(ctx.conn, &me, id)?;
            if role.is_none() && !me.is_admin() {
                return Err(Error::NotFound);
            }
            support::refuse_changes(ctx, id)?;
            if c.kind == Kind::Direct && (name.is_some() || topic.is_some()) {
                return Err(Error::invalid("direct conversations have no name or topic"));
            }
            if (name.is_some() || changes.archived.is_some()) && !may_manage(&me, role) {
                return Err(Error::Forbidden(
                    "only owners and admins may rename or archive".into(),
                ));
            }
            if changes.archived != Some(false) {
                writable(&c)?;
            }
            if let Some(name) = &name {
                if c.kind == Kind::Channel
                    && convs::channel_by_name(ctx.conn, name)?.is_some_and(|other| other != id)
                {
                    return Err(Error::Conflict(format!(
                        "a channel named {name:?} already exists"
                    )));
                }
                convs::set_name(ctx.conn, id, name)?;
            }
            if let Some(topic) = &topic {
                convs::set_topic(ctx.conn, id, topic)?;
            }
            if let Some(archived) = changes.archived {
                convs::set_archived(ctx.conn, id, archived)?;
            }
            let by = UserRef::from(&me);
            let notice = notices::changes(&c, name.as_deref(), topic.as_deref(), changes.archived);
            let line = match notice {
                Some(notice) => Some(notices::write(ctx, &live, id, &by, &notice)?),
                None => None,
            };
            let c = convs::get(ctx.conn, id)?;
            let data = ConversationUpdated {
                conversation: views::conversation(&c),
                by: &by,
                line: line.as_ref().map(Line::new),
            };
            emit(
                ctx,
                &live,
                Audience::Conversation(id),
                "conversation.updated",
                Some(id),
                data,
            )?;
            Ok(c)
        })
        .await
}

/// Joins a channel (anyone may); groups and directs are not joinable.
pub async fn join(chat: &Chat, user: &User, id: ConversationId) -> Result<Conversation> {
    chat.limits.spend(Budget::Membership, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, _) = visible(ctx.conn, &me, id)?;
            if c.kind != Kind::Channel {
                return Err(Error::invalid(
                    "only channels can be joined; ask an owner to add you",
                ));
            }
            writable(&c)?;
            members::add(
                ctx,
                &live,
                &c,
                &UserRef::from(&me),
                MemberRole::Member,
                Arrival::Joined,
            )?;
            Ok(c)
        })
        .await
}

/// Leaves a channel or group.
pub async fn leave(chat: &Chat, user: &User, id: ConversationId) -> Result<()> {
    chat.limits.spend(Budget::Membership, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, _) = membership(ctx.conn, &me, id)?;
            if c.kind == Kind::Direct {
                return Err(Error::invalid("a direct conversation cannot be left"));
            }
            support::refuse_changes(ctx, id)?;
            let me = UserRef::from(&me);
            members::remove(ctx, &live, &c, &me, &me)
        })
        .await
}

/// Adds someone: to a group, owners and admins; to a channel, any member.
pub async fn add(chat: &Chat, user: &User, id: ConversationId, target: UserId) -> Result<()> {
    chat.limits.spend(Budget::Membership, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, role) = visible(ctx.conn, &me, id)?;
            match c.kind {
                Kind::Direct => {
                    return Err(Error::invalid(
                        "a direct conversation has exactly two people",
                    ));
                }
                Kind::Group if !may_manage(&me, role) => {
                    return Err(Error::Forbidden(
                        "only owners and admins may add people".into(),
                    ));
                }
                Kind::Channel if role.is_none() && !me.is_admin() => return Err(Error::NotFound),
                _ => {}
            }
            support::refuse_changes(ctx, id)?;
            writable(&c)?;
            let them = active_user(ctx, target)?;
            let added = Arrival::Added {
                by: &UserRef::from(&me),
            };
            if !members::add(ctx, &live, &c, &them, MemberRole::Member, added)? {
                return Err(Error::Conflict(format!(
                    "{} is already a member",
                    them.username
                )));
            }
            Ok(())
        })
        .await
}

/// Removes someone (owners and admins); removing yourself is leaving.
pub async fn remove(chat: &Chat, user: &User, id: ConversationId, target: UserId) -> Result<()> {
    if target == user.id {
        return leave(chat, user, id).await;
    }
    chat.limits.spend(Budget::Membership, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, role) = managed(ctx.conn, &me, id)?;
            if role.is_none() && !me.is_admin() {
                return Err(Error::NotFound);
            }
            if c.kind == Kind::Direct {
                return Err(Error::invalid(
                    "a direct conversation has exactly two people",
                ));
            }
            support::refuse_changes(ctx, id)?;
            if !may_manage(&me, role) {
                return Err(Error::Forbidden(
                    "only owners and admins may remove people".into(),
                ));
            }
            let them = UserRef::from(&users::get(ctx.conn, target)?);
            members::remove(ctx, &live, &c, &them, &UserRef::from(&me))?;
            if role != Some(MemberRole::Owner) {
                // An admin's moderation, not an owner's housekeeping: kept in the audit log.
                let detail = serde_json::json!({ "conversation": id }).to_string();
                crate::store::audit::record_detail(
                    ctx.conn,
                    &me.username,
                    "conversation.remove_member",
                    &them.username,
                    &detail,
                )?;
            }
            Ok(())
        })
        .await
}

/// The user's conversations, newest activity first.
pub async fn list(chat: &Chat, user: &User) -> Result<Vec<Summary>> {
    let id = user.id;
    let mut list = chat.db.read(move |conn| reads::summaries(conn, id)).await?;
    support::name_summaries(chat, &mut list);
    Ok(list)
}

/// One conversation as `user` sees it, with its members.
pub async fn get(
    chat: &Chat,
    user: &User,
    id: ConversationId,
) -> Result<(Conversation, Option<MemberRole>, Vec<Member>)> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            let (c, role) = visible(conn, &me, id)?;
            if role.is_none() && !me.is_admin() {
                return Err(Error::NotFound);
            }
            Ok((c, role, memberships::members(conn, id)?))
        })
        .await
}

/// Every channel with its member count and whether `user` is in it.
pub async fn channels(chat: &Chat, user: &User) -> Result<Vec<(Conversation, i64, bool)>> {
    let id = user.id;
    chat.db
        .read(move |conn| {
            convs::channels(conn)?
                .into_iter()
                .map(|(c, n)| Ok((c.clone(), n, memberships::role(conn, c.id, id)?.is_some())))
                .collect()
        })
        .await
}
