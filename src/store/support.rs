//! Support threads: each member's one conversation with the admin team, its state and
//! assignee, the inbox the admins read, and the admins' internal notes.

use rusqlite::{Connection, OptionalExtension, Row, params};

use super::reads::UNREAD;
use super::users::{maybe_user_ref, user_ref};
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, LastMessage, UserRef};
use crate::domain::support::{Filter, InboxEntry, Note, State, Thread};
use crate::error::Result;

const THREAD: &str = "SELECT st.conversation_id, st.state, st.updated_at,
        u.id, u.username, u.display_name, u.avatar_sha256,
        a.id, a.username, a.display_name, a.avatar_sha256
    FROM support_threads st
    JOIN users u ON u.id = st.member_id
    LEFT JOIN users a ON a.id = st.assignee_id";

fn thread(row: &Row) -> rusqlite::Result<Thread> {
    let state: String = row.get(1)?;
    Ok(Thread {
        conversation_id: row.get(0)?,
        state: State::parse(&state).unwrap_or(State::Open),
        updated_at: row.get(2)?,
        member: user_ref(row, 3)?,
        assignee: maybe_user_ref(row, 7)?,
    })
}

/// Marks a new group conversation as `member`'s support conversation.
pub fn insert(
    conn: &Connection,
    conversation: ConversationId,
    member: UserId,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO support_threads (conversation_id, member_id, updated_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![conversation, member, now])?;
    Ok(())
}

/// The support conversation of a member, if they have one.
pub fn of_member(conn: &Connection, member: UserId) -> Result<Option<ConversationId>> {
    Ok(conn
        .prepare_cached("SELECT conversation_id FROM support_threads WHERE member_id = ?1")?
        .query_row([member], |r| r.get(0))
        .optional()?)
}

/// The thread of a conversation, when it is a support conversation.
pub fn get(conn: &Connection, conversation: ConversationId) -> Result<Option<Thread>> {
    Ok(conn
        .prepare_cached(&format!("{THREAD} WHERE st.conversation_id = ?1"))?
        .query_row([conversation], thread)
        .optional()?)
}

/// Every support conversation with its member.
pub fn all(conn: &Connection) -> Result<Vec<(ConversationId, UserId)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT conversation_id, member_id FROM support_threads ORDER BY conversation_id",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn set_state(
    conn: &Connection,
    conversation: ConversationId,
    state: State,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE support_threads SET state = ?2, updated_at = ?3 WHERE conversation_id = ?1",
    )?
    .execute(params![conversation, state.as_str(), now])?;
    Ok(())
}

pub fn set_assignee(
    conn: &Connection,
    conversation: ConversationId,
    assignee: Option<UserId>,
    now: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE support_threads SET assignee_id = ?2, updated_at = ?3 WHERE conversation_id = ?1",
    )?
    .execute(params![conversation, assignee, now])?;
    Ok(())
}

/// Records activity in a thread (a message, a note).
pub fn touch(conn: &Connection, conversation: ConversationId, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE support_threads SET updated_at = ?2 WHERE conversation_id = ?1")?
        .execute(params![conversation, now])?;
    Ok(())
}

/// The inbox of `admin`: the threads they are a member of (every one, for an active admin),
/// newest activity first, each with their own unread count and the newest message.
pub fn inbox(conn: &Connection, admin: UserId, filter: Filter) -> Result<Vec<InboxEntry>> {
    let sql = format!(
        "SELECT st.conversation_id, st.state, st.updated_at,
                u.id, u.username, u.display_name, u.avatar_sha256,
                a.id, a.username, a.display_name, a.avatar_sha256,
                {UNREAD}, lm.id, lm.body, lm.created_at,
                lu.id, lu.username, lu.display_name, lu.avatar_sha256
         FROM support_threads st
         JOIN memberships m ON m.conversation_id = st.conversation_id AND m.user_id = ?1
         JOIN conversations c ON c.id = st.conversation_id
         JOIN users u ON u.id = st.member_id
         LEFT JOIN users a ON a.id = st.assignee_id
         LEFT JOIN messages lm ON lm.id = c.last_message_id
         LEFT JOIN users lu ON lu.id = lm.sender_id
         WHERE ?2 = 'all' OR (?2 IN ('open', 'resolved') AND st.state = ?2)
               OR (?2 = 'mine' AND st.assignee_id = ?1)
         ORDER BY c.last_activity_at DESC, c.id DESC"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params![admin, filter.as_str()], |r| {
            let last_message = match r.get::<_, Option<i64>>(12)? {
                Some(id) => {
                    let body: String = r.get(13)?;
                    Some(LastMessage {
                        id,
                        excerpt: crate::render::plain_text(&body).chars().take(100).collect(),
                        created_at: r.get(14)?,
                        sender: user_ref(r, 15)?,
                    })
                }
                None => None,
            };
            Ok(InboxEntry {
                thread: thread(r)?,
                unread: r.get(11)?,
                last_message,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

fn note(row: &Row) -> rusqlite::Result<Note> {
    Ok(Note {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        body: row.get(2)?,
        html: row.get(3)?,
        created_at: row.get(4)?,
        author: user_ref(row, 5)?,
    })
}

const NOTE: &str = "SELECT n.id, n.conversation_id, n.body, n.html, n.created_at,
        u.id, u.username, u.display_name, u.avatar_sha256
    FROM support_notes n JOIN users u ON u.id = n.author_id";

pub fn insert_note(
    conn: &Connection,
    conversation: ConversationId,
    author: UserId,
    body: &str,
    html: &str,
    now: i64,
) -> Result<Note> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO support_notes (conversation_id, author_id, body, html, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )?
        .query_row(params![conversation, author, body, html, now], |r| r.get(0))?;
    Ok(conn
        .prepare_cached(&format!("{NOTE} WHERE n.id = ?1"))?
        .query_row([id], note)?)
}

/// The notes of a support conversation, oldest first.
pub fn notes(conn: &Connection, conversation: ConversationId) -> Result<Vec<Note>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{NOTE} WHERE n.conversation_id = ?1 ORDER BY n.id"
    ))?;
    let rows = stmt
        .query_map([conversation], note)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The active admins, who are the members of every support conversation.
pub fn admins(conn: &Connection) -> Result<Vec<UserRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, display_name, avatar_sha256 FROM users
         WHERE role = 'admin' AND deactivated = 0 ORDER BY display_name COLLATE NOCASE",
    )?;
    let rows = stmt
        .query_map([], |r| user_ref(r, 0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
