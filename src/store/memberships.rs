//! Memberships: who is in which conversation, with what role.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Member, MemberRole, MessageId};
use crate::error::Result;

/// The role of `user` in `conversation`, if a member.
pub fn role(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<MemberRole>> {
    Ok(conn
        .prepare_cached("SELECT role FROM memberships WHERE conversation_id = ?1 AND user_id = ?2")?
        .query_row(params![conversation, user], |r| r.get::<_, String>(0))
        .optional()?
        .map(|r| {
            if r == "owner" {
                MemberRole::Owner
            } else {
                MemberRole::Member
            }
        }))
}

/// Adds a member (or leaves an existing one as is); true when newly added.
/// A new member has read nothing; messages up to `unread_after` never count as unread for them.
/// Their notifications start at the conversation kind's default level.
pub fn add(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
    role: MemberRole,
    unread_after: MessageId,
    now: i64,
) -> Result<bool> {
    let role = match role {
        MemberRole::Owner => "owner",
        MemberRole::Member => "member",
    };
    Ok(conn
        .prepare_cached(
            "INSERT INTO memberships
                (conversation_id, user_id, role, unread_after_message_id, joined_at, notify)
             SELECT ?1, ?2, ?3, ?4, ?5,
                    CASE kind WHEN 'channel' THEN 'mentions' ELSE 'all' END
             FROM conversations WHERE id = ?1
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![conversation, user, role, unread_after, now])?
        == 1)
}

/// Makes messages up to `upto` never count as unread for any member (an imported history is
/// not news); a member whose mark is already further keeps it.
pub fn set_unread_after_all(
    conn: &Connection,
    conversation: ConversationId,
    upto: MessageId,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE memberships SET unread_after_message_id = max(unread_after_message_id, ?2)
         WHERE conversation_id = ?1",
    )?
    .execute(params![conversation, upto])?;
    Ok(())
}

/// Removes a member; true when they were one.
pub fn remove(conn: &Connection, conversation: ConversationId, user: UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM memberships WHERE conversation_id = ?1 AND user_id = ?2")?
        .execute(params![conversation, user])?
        == 1)
}

/// Member ids, for fan-out.
pub fn member_ids(conn: &Connection, conversation: ConversationId) -> Result<Vec<UserId>> {
    let mut stmt =
        conn.prepare_cached("SELECT user_id FROM memberships WHERE conversation_id = ?1")?;
    let ids = stmt
        .query_map([conversation], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// Members with names, owners first, for the settings page and read receipts.
pub fn members(conn: &Connection, conversation: ConversationId) -> Result<Vec<Member>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, u.avatar_sha256, m.role, m.last_read_message_id,
                u.bot
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ?1 AND u.deactivated = 0
         ORDER BY m.role = 'member', u.display_name COLLATE NOCASE",
    )?;
    let members = stmt
        .query_map([conversation], |r| {
            let role: String = r.get(4)?;
            Ok(Member {
                user: super::users::bot_ref(r, 0, 6)?,
                role: if role == "owner" {
                    MemberRole::Owner
                } else {
                    MemberRole::Member
                },
                last_read_message_id: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(members)
}

/// How many owners a conversation has.
pub fn owner_count(conn: &Connection, conversation: ConversationId) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM memberships WHERE conversation_id = ?1 AND role = 'owner'",
        )?
        .query_row([conversation], |r| r.get(0))?)
}

/// People who share a group or direct with `user`: who cares about their presence.
pub fn contacts(conn: &Connection, user: UserId) -> Result<Vec<UserId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT other.user_id FROM memberships mine
         JOIN conversations c ON c.id = mine.conversation_id AND c.kind != 'channel'
         JOIN memberships other ON other.conversation_id = mine.conversation_id
         WHERE mine.user_id = ?1 AND other.user_id != ?1",
    )?;
    let ids = stmt
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// The conversations a user is a member of.
pub fn conversations_of(conn: &Connection, user: UserId) -> Result<Vec<ConversationId>> {
    let mut stmt =
        conn.prepare_cached("SELECT conversation_id FROM memberships WHERE user_id = ?1")?;
    let ids = stmt
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}
