//! Notification settings: each member's level and mute, a person's quiet time, and the members
//! a new message may notify.

use rusqlite::{Connection, OptionalExtension, params};

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId};
use crate::domain::notify::{Level, Setting};
use crate::error::Result;
use crate::notify::Member;

pub(super) fn setting_from(level: String, muted: bool) -> rusqlite::Result<Setting> {
    let level = Level::parse(&level).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(Setting { level, muted })
}

/// A member as the decision needs them, from columns user, notify, muted, quiet_until,
/// mentioned (in that order, from the first).
pub(super) fn member_from(r: &rusqlite::Row) -> rusqlite::Result<Member> {
    Ok(Member {
        user: r.get(0)?,
        setting: setting_from(r.get(1)?, r.get(2)?)?,
        quiet_until: r.get(3)?,
        mentioned: r.get(4)?,
    })
}

/// A member's setting for one conversation; `None` when not a member.
pub fn setting(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<Setting>> {
    Ok(conn
        .prepare_cached(
            "SELECT notify, muted FROM memberships WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .query_row(params![conversation, user], |r| {
            setting_from(r.get(0)?, r.get(1)?)
        })
        .optional()?)
}

/// Changes a member's setting; false when not a member.
pub fn set_setting(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
    setting: Setting,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE memberships SET notify = ?3, muted = ?4
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .execute(params![
            conversation,
            user,
            setting.level.as_str(),
            setting.muted
        ])?
        == 1)
}

/// Every setting of a user, by conversation.
pub fn settings_of(conn: &Connection, user: UserId) -> Result<Vec<(ConversationId, Setting)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT conversation_id, notify, muted FROM memberships WHERE user_id = ?1",
    )?;
    let rows = stmt
        .query_map([user], |r| {
            Ok((r.get(0)?, setting_from(r.get(1)?, r.get(2)?)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Until when a person asked not to be disturbed (unix ms), if they did.
pub fn quiet_until(conn: &Connection, user: UserId) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT quiet_until FROM users WHERE id = ?1")?
        .query_row([user], |r| r.get(0))?)
}

/// Sets (or clears, with `None`) a person's do-not-disturb time.
pub fn set_quiet_until(conn: &Connection, user: UserId, until: Option<i64>) -> Result<()> {
    conn.prepare_cached("UPDATE users SET quiet_until = ?2 WHERE id = ?1")?
        .execute(params![user, until])?;
    Ok(())
}

/// The active members of a message's conversation other than its sender, with what the
/// decision needs, and how many push devices each has.
pub fn candidates(conn: &Connection, message: MessageId) -> Result<Vec<(Member, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.user_id, m.notify, m.muted, u.quiet_until,
                EXISTS (SELECT 1 FROM mentions n WHERE n.message_id = x.id AND n.user_id = m.user_id),
                (SELECT count(*) FROM push_subscriptions p WHERE p.user_id = m.user_id)
         FROM messages x
         JOIN memberships m ON m.conversation_id = x.conversation_id
         JOIN users u ON u.id = m.user_id
         WHERE x.id = ?1 AND m.user_id != x.sender_id AND u.deactivated = 0
           AND x.deleted_at IS NULL AND x.notice IS NULL",
    )?;
    let rows = stmt
        .query_map([message], |r| Ok((member_from(r)?, r.get(5)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The active members of a conversation other than `sender` whose level lets a message reach
/// them at all: everything, or mentions when `mentioned` (a JSON array of ids) names them.
/// The decision itself ([`crate::notify::notifies`]) is made on what this returns.
pub fn may_notify(
    conn: &Connection,
    conversation: ConversationId,
    sender: UserId,
    mentioned: &str,
) -> Result<Vec<Member>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.user_id, m.notify, m.muted, u.quiet_until,
                m.user_id IN (SELECT value FROM json_each(?3))
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ?1 AND m.user_id != ?2 AND u.deactivated = 0
           AND (m.notify = 'all'
                OR (m.notify = 'mentions' AND m.user_id IN (SELECT value FROM json_each(?3))))",
    )?;
    let rows = stmt
        .query_map(params![conversation, sender, mentioned], member_from)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Whether `user` has not yet read `message` (a push for a message already read is not sent).
pub fn unread_by(conn: &Connection, message: MessageId, user: UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM messages x
                 JOIN memberships m ON m.conversation_id = x.conversation_id AND m.user_id = ?2
                 WHERE x.id = ?1 AND x.deleted_at IS NULL
                   AND x.id > max(m.last_read_message_id, m.unread_after_message_id))",
        )?
        .query_row(params![message, user], |r| r.get(0))?)
}

/// What a person's app badge counts: unread messages in directs plus unread mentions elsewhere,
/// in conversations not muted (a mention counts even there).
pub fn badge(conn: &Connection, user: UserId) -> Result<i64> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT coalesce(sum(CASE WHEN c.kind = 'direct' AND m.muted = 0 THEN {UNREAD}
                                     ELSE {MENTIONS} END), 0)
             FROM memberships m JOIN conversations c ON c.id = m.conversation_id
             WHERE m.user_id = ?1",
            UNREAD = super::reads::UNREAD,
            MENTIONS = super::reads::MENTIONS
        ))?
        .query_row([user], |r| r.get(0))?)
}
