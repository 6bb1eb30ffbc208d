//! Read state: how far each member has read, unread and mention counts, and the member's list.

use rusqlite::{Connection, Row, params};

use super::users::{maybe_user_ref, user_ref};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, LastMessage, MessageId, Summary};
use crate::domain::support::SupportTag;
use crate::error::Result;

/// Counts stop here: "999+" is all a badge needs, and it bounds the work.
pub const COUNT_CAP: i64 = 1000;

/// Moves a member's read marker forward (never back); true when it moved.
pub fn mark_read(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
    up_to: MessageId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE memberships SET last_read_message_id = ?3
             WHERE conversation_id = ?1 AND user_id = ?2 AND last_read_message_id < ?3",
        )?
        .execute(params![conversation, user, up_to])?
        == 1)
}

/// Unread: messages past both what the member read and where their unread count starts, from
/// others, not deleted, and not lines about the conversation.
pub(crate) const UNREAD: &str = "(SELECT count(*) FROM (SELECT 1 FROM messages x
        WHERE x.conversation_id = m.conversation_id
          AND x.id > max(m.last_read_message_id, m.unread_after_message_id)
          AND x.sender_id != m.user_id AND x.deleted_at IS NULL AND x.notice IS NULL LIMIT 1000))";
pub(crate) const MENTIONS: &str = "(SELECT count(*) FROM mentions n
        WHERE n.user_id = m.user_id AND n.conversation_id = m.conversation_id
          AND n.message_id > max(m.last_read_message_id, m.unread_after_message_id))";

/// Unread and mention counts of every conversation of a user.
pub fn unread(conn: &Connection, user: UserId) -> Result<Vec<(ConversationId, i64, i64)>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT m.conversation_id, {UNREAD}, {MENTIONS} FROM memberships m WHERE m.user_id = ?1"
    ))?;
    let rows = stmt
        .query_map([user], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn summary(row: &Row) -> rusqlite::Result<Summary> {
    let role: String = row.get(9)?;
    let last_message = match row.get::<_, Option<MessageId>>(17)? {
        Some(id) => {
            let body: String = row.get(18)?;
            Some(LastMessage {
                id,
                excerpt: crate::render::plain_text(&body).chars().take(100).collect(),
                created_at: row.get(19)?,
                sender: user_ref(row, 20)?,
            })
        }
        None => None,
    };
    Ok(Summary {
        conversation: super::conversations::from_row(row)?,
        role: if role == "owner" {
            crate::domain::chat::MemberRole::Owner
        } else {
            crate::domain::chat::MemberRole::Member
        },
        last_read_message_id: row.get(10)?,
        unread_after_message_id: row.get(24)?,
        unread: row.get(11)?,
        mentions: row.get(12)?,
        other: maybe_user_ref(row, 13)?,
        last_message,
        support: match maybe_user_ref(row, 25)? {
            Some(member) => {
                // The member's own is named by the admin team's name, which `chat` knows.
                let mine = member.id == row.get::<_, UserId>(29)?;
                let title = if mine {
                    String::new()
                } else {
                    member.display_name.clone()
                };
                Some(SupportTag {
                    member,
                    mine,
                    title,
                })
            }
            None => None,
        },
        notify: crate::domain::notify::Setting {
            level: crate::domain::notify::Level::parse(&row.get::<_, String>(30)?).map_err(
                |e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        30,
                        rusqlite::types::Type::Text,
                        e.into(),
                    )
                },
            )?,
            muted: row.get(31)?,
        },
    })
}

const SUMMARY: &str = "SELECT c.id, c.kind, c.name, c.topic, c.archived, c.created_at,
        c.last_message_id, c.last_activity_at, c.picture_sha256, m.role, m.last_read_message_id,
        {UNREAD}, {MENTIONS},
        o.id, o.username, o.display_name, o.avatar_sha256,
        lm.id, lm.body, lm.created_at, lu.id, lu.username, lu.display_name, lu.avatar_sha256,
        m.unread_after_message_id,
        su.id, su.username, su.display_name, su.avatar_sha256, m.user_id, m.notify, m.muted
    FROM memberships m
    JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN memberships om ON c.kind = 'direct' AND om.conversation_id = c.id AND om.user_id != m.user_id
    LEFT JOIN users o ON o.id = om.user_id
    LEFT JOIN messages lm ON lm.id = c.last_message_id
    LEFT JOIN users lu ON lu.id = lm.sender_id
    LEFT JOIN support_threads st ON st.conversation_id = c.id
    LEFT JOIN users su ON su.id = st.member_id
    WHERE m.user_id = ?1";

/// A user's conversations, newest activity first, with counts and the last message.
pub fn summaries(conn: &Connection, user: UserId) -> Result<Vec<Summary>> {
    let sql = SUMMARY
        .replace("{UNREAD}", UNREAD)
        .replace("{MENTIONS}", MENTIONS)
        + " ORDER BY c.last_activity_at DESC, c.id DESC";
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([user], summary)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// One conversation as `user` sees it in their list.
pub fn summary_of(
    conn: &Connection,
    user: UserId,
    conversation: ConversationId,
) -> Result<Summary> {
    let sql = SUMMARY
        .replace("{UNREAD}", UNREAD)
        .replace("{MENTIONS}", MENTIONS)
        + " AND c.id = ?2";
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![user, conversation], summary)?)
}
