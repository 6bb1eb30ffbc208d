//! Email addresses: each person's one address, the link that verifies it (only its token's
//! hash), whether notifications are emailed, and how far they have been.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::notify::member_from;
use crate::domain::UserId;
use crate::domain::chat::MessageId;
use crate::error::Result;
use crate::notify::Member;

/// A person's address as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub user_id: UserId,
    pub address: String,
    pub verified_at: Option<i64>,
    /// When the verification link stops working, while there is one.
    pub token_expires_at: Option<i64>,
    /// Whether notifications are emailed (once verified).
    pub notify: bool,
    pub last_sent_at: Option<i64>,
}

const COLUMNS: &str = "user_id, address, verified_at, token_expires_at, notify, last_sent_at";

fn from_row(r: &Row) -> rusqlite::Result<Address> {
    Ok(Address {
        user_id: r.get(0)?,
        address: r.get(1)?,
        verified_at: r.get(2)?,
        token_expires_at: r.get(3)?,
        notify: r.get(4)?,
        last_sent_at: r.get(5)?,
    })
}

/// A person's address, if they gave one.
pub fn get(conn: &Connection, user: UserId) -> Result<Option<Address>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM email_addresses WHERE user_id = ?1"
        ))?
        .query_row([user], from_row)
        .optional()?)
}

/// Gives a person a new, unverified address with the link that verifies it; whatever they
/// had before (verified or not) is replaced, and notifications are on again once verified.
pub fn set(
    conn: &Connection,
    user: UserId,
    address: &str,
    token_hash: &[u8],
    expires_at: i64,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO email_addresses (user_id, address, token_hash, token_expires_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (user_id) DO UPDATE SET address = excluded.address, verified_at = NULL,
             token_hash = excluded.token_hash, token_expires_at = excluded.token_expires_at,
             notify = 1, emailed_through = 0, sending = NULL, created_at = excluded.created_at",
    )?
    .execute(params![user, address, token_hash, expires_at, now])?;
    drop_pending(conn, user, MessageId::MAX)
}

/// A new verification link for a person's unverified address (the old one stops working).
pub fn renew_token(
    conn: &Connection,
    user: UserId,
    token_hash: &[u8],
    expires_at: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE email_addresses SET token_hash = ?2, token_expires_at = ?3
             WHERE user_id = ?1 AND verified_at IS NULL",
        )?
        .execute(params![user, token_hash, expires_at])?
        == 1)
}

/// Whether someone other than `user` has verified `address` (compared without case).
pub fn taken(conn: &Connection, address: &str, user: UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM email_addresses
                 WHERE address = ?1 AND verified_at IS NOT NULL AND user_id != ?2)",
        )?
        .query_row(params![address, user], |r| r.get(0))?)
}

/// The person and expiry of a verification token's hash.
pub fn by_token(conn: &Connection, token_hash: &[u8]) -> Result<Option<(UserId, i64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, token_expires_at FROM email_addresses
             WHERE token_hash = ?1 AND verified_at IS NULL",
        )?
        .query_row([token_hash], |r| r.get(0).and_then(|u| Ok((u, r.get(1)?))))
        .optional()?)
}

/// Marks a person's address verified at `now`, if the token is still theirs and unexpired;
/// nothing before message `through` is emailed. False when the link no longer works. A
/// unique violation: someone else verified the same address first.
pub fn verify(conn: &Connection, token_hash: &[u8], now: i64, through: MessageId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE email_addresses SET verified_at = ?2, token_hash = NULL,
                 token_expires_at = NULL, notify = 1, emailed_through = max(emailed_through, ?3)
             WHERE token_hash = ?1 AND verified_at IS NULL AND token_expires_at > ?2",
        )?
        .execute(params![token_hash, now, through])?
        == 1)
}

/// Forgets a person's address.
pub fn remove(conn: &Connection, user: UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM email_addresses WHERE user_id = ?1")?
        .execute([user])?
        == 1)
}

/// Turns notification emails on or off; turned on, nothing before message `through` goes.
/// False when the person has no address.
pub fn set_notify(conn: &Connection, user: UserId, on: bool, through: MessageId) -> Result<bool> {
    if !on {
        drop_pending(conn, user, MessageId::MAX)?;
    }
    Ok(conn
        .prepare_cached(
            "UPDATE email_addresses SET notify = ?2,
                 emailed_through = CASE WHEN ?2 AND notify = 0
                     THEN max(emailed_through, ?3) ELSE emailed_through END
             WHERE user_id = ?1",
        )?
        .execute(params![user, on, through])?
        == 1)
}

/// The newest message id (0 when none).
pub fn newest_message(conn: &Connection) -> Result<MessageId> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM messages")?
        .query_row([], |r| r.get(0))?)
}

/// The active person who verified `address`, if any.
pub fn verified_owner(conn: &Connection, address: &str) -> Result<Option<UserId>> {
    Ok(conn
        .prepare_cached(
            "SELECT e.user_id FROM email_addresses e JOIN users u ON u.id = e.user_id
             WHERE e.address = ?1 AND e.verified_at IS NOT NULL AND u.deactivated = 0",
        )?
        .query_row([address], |r| r.get(0))
        .optional()?)
}

pub(super) const LISTENERS: &str = "
    SELECT m.user_id, m.notify, m.muted, u.quiet_until,
           EXISTS (SELECT 1 FROM mentions n WHERE n.message_id = x.id AND n.user_id = m.user_id)
    FROM messages x
    JOIN memberships m ON m.conversation_id = x.conversation_id
    JOIN email_addresses e ON e.user_id = m.user_id
    JOIN users u ON u.id = m.user_id
    WHERE x.id = ?1 AND m.user_id != x.sender_id AND e.verified_at IS NOT NULL
      AND e.notify = 1 AND u.deactivated = 0";

/// The members of a message's conversation, other than its sender, who get notification
/// emails (verified address, emails on, active account), as the notification decision needs
/// them.
pub fn listeners_of(conn: &Connection, message: MessageId) -> Result<Vec<Member>> {
    let mut stmt = conn.prepare_cached(LISTENERS)?;
    let rows = stmt
        .query_map([message], member_from)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Where a person's notification emails go, with how far they have been: `None` unless they
/// have a verified address with notifications on and an active account.
pub fn listener(conn: &Connection, user: UserId) -> Result<Option<(String, MessageId)>> {
    Ok(conn
        .prepare_cached(
            "SELECT e.address, e.emailed_through FROM email_addresses e
             JOIN users u ON u.id = e.user_id
             WHERE e.user_id = ?1 AND e.verified_at IS NOT NULL AND e.notify = 1
               AND u.deactivated = 0",
        )?
        .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Notes that `message` notified `user`, for their next email: only while they get
/// notification emails, and only past their emailed mark (a job run twice adds nothing).
pub fn note_pending(conn: &Connection, user: UserId, message: MessageId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO email_pending (user_id, message_id)
             SELECT user_id, ?2 FROM email_addresses
             WHERE user_id = ?1 AND verified_at IS NOT NULL AND notify = 1
               AND emailed_through < ?2
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![user, message])?
        == 1)
}

pub(super) const PENDING: &str = "
    SELECT p.message_id FROM email_pending p
    JOIN messages x ON x.id = p.message_id
    JOIN memberships m ON m.conversation_id = x.conversation_id AND m.user_id = p.user_id
    WHERE p.user_id = ?1 AND p.message_id > ?2 AND x.deleted_at IS NULL
      AND x.id > max(m.last_read_message_id, m.unread_after_message_id)
    ORDER BY p.message_id LIMIT ?3";

/// Up to `limit` of a person's noted messages past `after` that are still unread and not
/// deleted, oldest first.
pub fn pending(
    conn: &Connection,
    user: UserId,
    after: MessageId,
    limit: usize,
) -> Result<Vec<MessageId>> {
    let mut stmt = conn.prepare_cached(PENDING)?;
    let rows = stmt
        .query_map(params![user, after, limit as i64], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The newest message noted for a person, read or not.
pub fn last_pending(conn: &Connection, user: UserId) -> Result<Option<MessageId>> {
    Ok(conn
        .prepare_cached("SELECT max(message_id) FROM email_pending WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))?)
}

/// Forgets a person's noted messages up to `through`.
pub fn drop_pending(conn: &Connection, user: UserId, through: MessageId) -> Result<()> {
    conn.prepare_cached("DELETE FROM email_pending WHERE user_id = ?1 AND message_id <= ?2")?
        .execute(params![user, through])?;
    Ok(())
}

/// Moves a person's emailed mark from `from` to `to`; false when it is no longer at `from`.
pub fn advance(conn: &Connection, user: UserId, from: MessageId, to: MessageId) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE email_addresses SET emailed_through = ?3
             WHERE user_id = ?1 AND emailed_through = ?2",
        )?
        .execute(params![user, from, to])?
        == 1)
}

/// The outbox key of the email being handed to the SMTP server for `user`, if one is.
pub fn sending(conn: &Connection, user: UserId) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT sending FROM email_addresses WHERE user_id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Notes that the email of `key` is being handed over (`Some`), or that it no longer is.
pub fn set_sending(conn: &Connection, user: UserId, key: Option<&str>) -> Result<()> {
    conn.prepare_cached("UPDATE email_addresses SET sending = ?2 WHERE user_id = ?1")?
        .execute(params![user, key])?;
    Ok(())
}

/// Notes that a notification email went at `now`.
pub fn sent(conn: &Connection, user: UserId, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE email_addresses SET sending = NULL, last_sent_at = ?2 WHERE user_id = ?1",
    )?
    .execute(params![user, now])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_verifies_until_it_expires_and_an_address_is_verified_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::Db::open(dir.path(), crate::config::Synchronous::Normal).unwrap();
        db.write_blocking(|ctx| {
            let c = ctx.conn;
            for name in ["ada", "bob"] {
                c.execute(
                    "INSERT INTO users (username, display_name, password_hash, created_at)
                     VALUES (?1, ?1, 'x', 0)",
                    [name],
                )?;
            }
            set(c, 1, "Ada@Example.org", b"t1", 1000, 0)?;
            set(c, 2, "ada@example.org", b"t2", 1000, 0)?;
            // Exactly at its expiry, a link no longer works; a millisecond before, it does.
            assert!(!verify(c, b"t1", 1000, 0)?);
            assert!(verify(c, b"t1", 999, 7)?);
            assert!(!verify(c, b"t1", 999, 7)?, "a link works once");
            let a = get(c, 1)?.unwrap();
            assert_eq!(a.verified_at, Some(999));
            assert!(a.notify && a.token_expires_at.is_none());
            assert_eq!(listener(c, 1)?, Some(("Ada@Example.org".into(), 7)));
            assert!(taken(c, "ADA@example.ORG", 2)?);
            assert!(!taken(c, "ada@example.org", 1)?);
            assert_eq!(verified_owner(c, "ada@EXAMPLE.org")?, Some(1));
            // The same address verified by another: a unique violation.
            let twice = verify(c, b"t2", 999, 0);
            assert!(matches!(twice, Err(crate::Error::Conflict(_))), "{twice:?}");
            // Turned off and on: nothing older than the newest message then goes.
            assert!(set_notify(c, 1, false, 50)?);
            assert_eq!(listener(c, 1)?, None);
            assert!(set_notify(c, 1, true, 50)?);
            assert_eq!(listener(c, 1)?, Some(("Ada@Example.org".into(), 50)));
            assert!(set_notify(c, 1, true, 60)?, "already on: the mark stays");
            assert_eq!(listener(c, 1)?.unwrap().1, 50);
            assert!(!advance(c, 1, 49, 70)?);
            assert!(advance(c, 1, 50, 70)?);
            // Noted past the mark only, once; not while emails are off.
            c.execute(
                "INSERT INTO conversations (kind, created_at, last_activity_at) VALUES ('channel', 0, 0)",
                [],
            )?;
            for id in [70, 71, 72] {
                c.execute(
                    "INSERT INTO messages (id, conversation_id, sender_id, body, html, created_at)
                     VALUES (?1, 1, 2, 'x', 'x', 0)",
                    [id],
                )?;
            }
            c.execute(
                "INSERT INTO memberships (conversation_id, user_id, role, joined_at) VALUES (1, 1, 'member', 0)",
                [],
            )?;
            assert!(!note_pending(c, 1, 70)?, "at the mark");
            assert!(note_pending(c, 1, 71)? && note_pending(c, 1, 72)?);
            assert!(!note_pending(c, 1, 72)?, "once");
            assert!(!note_pending(c, 2, 72)?, "unverified");
            assert_eq!(pending(c, 1, 70, 10)?, vec![71, 72]);
            assert_eq!(pending(c, 1, 71, 10)?, vec![72]);
            assert_eq!(pending(c, 1, 70, 1)?, vec![71]);
            assert_eq!(last_pending(c, 1)?, Some(72));
            drop_pending(c, 1, 71)?;
            assert_eq!(pending(c, 1, 0, 10)?, vec![72]);
            assert!(set_notify(c, 1, false, 0)?);
            assert_eq!(last_pending(c, 1)?, None);
            // A new address: unverified again, the mark reset.
            set(c, 1, "ada@elsewhere.org", b"t3", 2000, 5)?;
            let a = get(c, 1)?.unwrap();
            assert_eq!((a.verified_at, a.address.as_str()), (None, "ada@elsewhere.org"));
            assert_eq!(verified_owner(c, "ada@example.org")?, None);
            Ok(())
        })
        .unwrap();
        db.writer().shutdown();
    }
}
