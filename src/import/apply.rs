//! Writing a plan, all of it inside the one write job it is given: a failure anywhere rolls
//! back everything before it. Bodies are rendered and mentions recorded the way a sent
//! message's are; the search index follows by its triggers; live clients of a running server
//! learn of what concerns them through the event log.

use std::collections::HashMap;

use super::plan::{Parent, Plan, PlannedConversation, Target, Who};
use crate::chat::Chat;
use crate::chat::actor::Actor;
use crate::chat::{imports as live, links};
use crate::db::WriteCtx;
use crate::domain::chat::{ConversationId, MessageId, UserRef};
use crate::domain::{Role, User, UserId, Username, now_ms};
use crate::error::{Error, Result};
use crate::store::imports::{self, Kind as Imported};
use crate::store::messages::{self, NewMessage};
use crate::store::{audit, conversations as convs, memberships, reactions, users};

/// A person who can sign in and the token of the link where they choose a password.
#[derive(Debug, Clone)]
pub struct Link {
    pub username: String,
    pub token: String,
}

/// Writes `plan`; `hash` is the password hash every new account gets (of a password nobody
/// knows); `tick` is told of each message written. Returns the password links made.
pub fn apply(
    ctx: &mut WriteCtx,
    chat: &Chat,
    plan: &Plan,
    hash: &str,
    tick: &dyn Fn(),
) -> Result<Vec<Link>> {
    let conn = ctx.conn;
    let actor = Actor::Cli.name();
    let mut made: Vec<User> = Vec::with_capacity(plan.people.len());
    let mut links = Vec::new();
    for p in &plan.people {
        let username = Username::parse(&p.username)?;
        let user = users::insert(conn, &username, &p.display_name, hash, Role::Member)?;
        if p.deactivated {
            users::set_deactivated(conn, user.id, true)?;
        }
        if p.bot {
            users::set_bot(conn, user.id, true)?;
        }
        imports::record(conn, &plan.source, Imported::User, &p.external, user.id)?;
        if p.gets_link() {
            links.push(Link {
                username: user.username.clone(),
                token: links::welcome(conn, user.id, &actor)?,
            });
        }
        made.push(user);
    }
    for (external, id) in &plan.matched {
        imports::record(conn, &plan.source, Imported::User, external, *id)?;
    }
    let people = People { made: &made };
    for c in &plan.conversations {
        conversation(ctx, chat, plan, c, &people, tick)?;
    }
    let s = &plan.summary;
    let detail = serde_json::json!({
        "people": s.people.imported,
        "conversations": s.conversations.imported,
        "messages": s.messages.imported,
        "reactions": s.reactions.imported,
    });
    audit::record_detail(
        conn,
        &actor,
        "import.slack",
        &plan.source,
        &detail.to_string(),
    )?;
    Ok(links)
}

/// The accounts the plan's people are.
struct People<'a> {
    made: &'a [User],
}

impl People<'_> {
    fn id(&self, who: Who) -> UserId {
        match who {
            Who::Local(id) => id,
            Who::New(i) => self.made[i].id,
        }
    }
}

fn conversation(
    ctx: &mut WriteCtx,
    chat: &Chat,
    plan: &Plan,
    c: &PlannedConversation,
    people: &People,
    tick: &dyn Fn(),
) -> Result<()> {
    let conn = ctx.conn;
    let record =
        |id: i64| imports::record(conn, &plan.source, Imported::Conversation, &c.external, id);
    let (id, created, archived) = match &c.target {
        Target::New {
            kind,
            name,
            topic,
            created_at,
            created_by,
            archived,
            direct,
        } => {
            let key = direct.map(|(a, b)| convs::direct_key(people.id(a), people.id(b)));
            // Two Slack directs can be one pair here (both with people users.json lacks).
            let existing = match &key {
                Some(key) => convs::direct(conn, key)?,
                None => None,
            };
            let id = match existing {
                Some(id) => id,
                None => convs::insert(
                    conn,
                    *kind,
                    name,
                    topic,
                    key.as_deref(),
                    created_by.map(|w| people.id(w)),
                    *created_at,
                )?,
            };
            record(id)?;
            (id, existing.is_none(), *archived)
        }
        Target::Existing { id, merged } => {
            if *merged {
                record(*id)?;
            }
            (*id, false, false)
        }
    };
    let joined = members(ctx, chat, id, c, people)?;
    let conn = ctx.conn;
    let mut written: HashMap<&str, MessageId> = HashMap::new();
    let mut last = None;
    for m in &c.messages {
        let (message, at) = match (&m.content, m.local) {
            (Some(content), _) => {
                let reply_to = match &content.reply_to {
                    Some(Parent::Local(parent)) => Some(*parent)
                        .filter(|p| messages::is_message_in(conn, id, *p).unwrap_or(false)),
                    Some(Parent::External(parent)) => written.get(parent.as_str()).copied(),
                    None => None,
                };
                let (html, mentioned) = crate::chat::messages::render_body(ctx, id, &content.body)?;
                let message = messages::insert(
                    conn,
                    &NewMessage {
                        conversation_id: id,
                        sender_id: people.id(content.sender),
                        body: &content.body,
                        html: &html,
                        reply_to,
                        client_id: None,
                        posted_as: None,
                        now: content.created_at,
                    },
                )?;
                if let Some(at) = content.edited_at {
                    messages::set_edited_at(conn, message, at)?;
                }
                messages::add_mentions(conn, message, id, &mentioned)?;
                if content.deleted {
                    messages::soft_delete(conn, message, content.created_at)?;
                }
                imports::record(conn, &plan.source, Imported::Message, &m.external, message)?;
                written.insert(&m.external, message);
                last = Some((message, content.created_at));
                tick();
                (message, content.created_at)
            }
            (None, Some(local)) => (local, now_ms()),
            (None, None) => {
                return Err(Error::Internal(format!(
                    "the plan has neither content nor id for {}",
                    m.external
                )));
            }
        };
        for r in &m.reactions {
            reactions::add(conn, message, &r.emoji, people.id(r.who), at)?;
            imports::record(conn, &plan.source, Imported::Reaction, &r.external, message)?;
        }
    }
    if let Some((message, at)) = last {
        convs::touch_at(conn, id, message, at)?;
        // An imported history is not news to anyone.
        memberships::set_unread_after_all(conn, id, message)?;
    }
    if created && archived {
        convs::set_archived(conn, id, true)?;
    }
    if !created && (written.len() + joined) > 0 {
        let row = convs::get(conn, id)?;
        live::conversation_imported(ctx, chat, &row, written.len(), joined)?;
    }
    Ok(())
}

/// Makes the planned members members; returns how many were not before. People who were
/// here before the import are told (their sidebar gains the conversation).
fn members(
    ctx: &mut WriteCtx,
    chat: &Chat,
    id: ConversationId,
    c: &PlannedConversation,
    people: &People,
) -> Result<usize> {
    let conn = ctx.conn;
    let row = convs::get(conn, id)?;
    let creator = match &c.target {
        Target::New {
            created_by: Some(w),
            ..
        } => Some(UserRef::from(&users::get(conn, people.id(*w))?)),
        _ => None,
    };
    let mut joined = 0;
    for (who, role) in &c.members {
        let user = people.id(*who);
        let added = match who {
            Who::Local(_) => {
                let me = UserRef::from(&users::get(conn, user)?);
                let by = creator.as_ref().unwrap_or(&me);
                live::add_member(ctx, chat, &row, &me, *role, by)?
            }
            Who::New(_) => memberships::add(conn, id, user, *role, 0, now_ms())?,
        };
        joined += usize::from(added);
    }
    Ok(joined)
}
