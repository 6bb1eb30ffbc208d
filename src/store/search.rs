//! Search over messages: the word index (`messages_fts`), the substring index
//! (`messages_trigram`), file names (`attachments_names`) and filters alone, each read newest
//! first from a cursor so a page stops as soon as it is full.

use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Message, MessageId};
use crate::error::Result;
use crate::store::attachments;
use crate::store::messages::SELECT;

/// Conditions every found message meets besides its text.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// The conversations searched (never empty when searching).
    pub scope: Vec<ConversationId>,
    pub me: UserId,
    pub sender: Option<UserId>,
    pub conversation: Option<ConversationId>,
    pub has_file: bool,
    pub has_image: bool,
    pub has_link: bool,
    pub mention: bool,
    /// Unix ms, inclusive.
    pub from_ms: Option<i64>,
    /// Unix ms, exclusive.
    pub until_ms: Option<i64>,
    /// Read no message below this id (a window of the newest, for scans no index drives).
    pub floor: Option<MessageId>,
    /// Candidates carry their body (to be checked against the terms); else it is empty.
    pub bodies: bool,
}

/// Where the candidates come from, newest first.
#[derive(Debug, Clone)]
pub enum Source {
    /// `messages_fts MATCH expr` (exclusions inside the expression).
    Words(String),
    /// `messages_trigram MATCH expr`: candidates the caller checks against the text.
    Trigrams(String),
    /// `attachments_names MATCH expr`: messages with a file whose name may match; with no
    /// expression (terms too short to look up), every message with a file.
    Names(Option<String>),
    /// The filters alone; `Some(expr)`: leave out messages matching it in the word index.
    Filters(Option<String>),
}

/// A candidate: the message id, its body, and for `Names` the file name that may match.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: MessageId,
    pub body: String,
    pub filename: Option<String>,
}

/// The statement for a source, its parameters bound from `?1` (the match expression or
/// nothing) on; `beyond` is the cursor (ids below it).
pub(crate) fn statement(source: &Source, f: &Filters, beyond: MessageId) -> (String, Vec<Value>) {
    let mut params: Vec<Value> = Vec::new();
    let (from, id, extra) = match source {
        Source::Words(expr) => {
            params.push(expr.clone().into());
            (
                "messages_fts s JOIN messages m ON m.id = s.rowid",
                "s.rowid",
                "messages_fts MATCH ?1".to_string(),
            )
        }
        Source::Trigrams(expr) => {
            params.push(expr.clone().into());
            (
                "messages_trigram s JOIN messages m ON m.id = s.rowid",
                "s.rowid",
                "messages_trigram MATCH ?1".to_string(),
            )
        }
        Source::Names(Some(expr)) => {
            params.push(expr.clone().into());
            (
                "attachments_names s JOIN attachments a ON a.id = s.rowid
                 JOIN messages m ON m.id = a.message_id",
                "a.message_id",
                "attachments_names MATCH ?1 AND a.deleted_at IS NULL".to_string(),
            )
        }
        Source::Names(None) => (
            "attachments a JOIN messages m ON m.id = a.message_id",
            "a.message_id",
            "a.deleted_at IS NULL".to_string(),
        ),
        Source::Filters(excluded) => {
            let extra = match excluded {
                Some(expr) => {
                    params.push(expr.clone().into());
                    "NOT EXISTS (SELECT 1 FROM messages_fts x WHERE messages_fts MATCH ?1
                                 AND x.rowid = m.id)"
                        .to_string()
                }
                None => "1".to_string(),
            };
            ("messages m", "m.id", extra)
        }
    };
    let mut bind = |v: Value| {
        params.push(v);
        format!("?{}", params.len())
    };
    // The scope is a check, never the index a scan walks (`+`): read newest first, a page
    // stops at its limit instead of gathering and sorting every message in scope.
    let mut sql = format!(
        "SELECT m.id, {body}, {name} FROM {from}
         WHERE {extra} AND {id} < {beyond} AND m.deleted_at IS NULL AND m.notice IS NULL
           AND +m.conversation_id IN (SELECT value FROM json_each({scope}))",
        body = if f.bodies { "m.body" } else { "''" },
        name = if matches!(source, Source::Names(_)) {
            "a.filename"
        } else {
            "NULL"
        },
        beyond = bind(beyond.into()),
        scope = bind(serde_json::to_string(&f.scope).expect("ids").into()),
    );
    if let Some(sender) = f.sender {
        sql += &format!(" AND m.sender_id = {}", bind(sender.into()));
    }
    if let Some(c) = f.conversation {
        sql += &format!(" AND m.conversation_id = {}", bind(c.into()));
    }
    if f.has_file || f.has_image {
        sql += " AND EXISTS (SELECT 1 FROM attachments f WHERE f.message_id = m.id
                             AND f.deleted_at IS NULL";
        sql += if f.has_image {
            " AND f.kind = 'image')"
        } else {
            ")"
        };
    }
    if f.has_link {
        sql += " AND (m.body LIKE '%http://%' OR m.body LIKE '%https://%' OR m.body LIKE '%www.%')";
    }
    if f.mention {
        sql += &format!(
            " AND EXISTS (SELECT 1 FROM mentions x WHERE x.user_id = {}
                          AND x.conversation_id = m.conversation_id AND x.message_id = m.id)",
            bind(f.me.into())
        );
    }
    if let Some(ms) = f.from_ms {
        sql += &format!(" AND m.created_at >= {}", bind(ms.into()));
    }
    if let Some(ms) = f.until_ms {
        sql += &format!(" AND m.created_at < {}", bind(ms.into()));
    }
    if let Some(floor) = f.floor {
        sql += &format!(" AND {id} >= {}", bind(floor.into()));
    }
    sql += &format!(" ORDER BY {id} DESC");
    (sql, params)
}

/// Reads candidates newest first below `beyond`, handing each to `take` until it answers
/// false or `budget` candidates were read. Returns how many were read and the last id read.
pub fn scan(
    conn: &Connection,
    source: &Source,
    filters: &Filters,
    beyond: MessageId,
    budget: usize,
    mut take: impl FnMut(Candidate) -> bool,
) -> Result<(usize, Option<MessageId>)> {
    let (sql, params) = statement(source, filters, beyond);
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(params))?;
    let (mut read, mut last) = (0, None);
    while read < budget {
        let Some(row) = rows.next()? else { break };
        let c = Candidate {
            id: row.get(0)?,
            body: row.get(1)?,
            filename: row.get(2)?,
        };
        read += 1;
        last = Some(c.id);
        if !take(c) {
            break;
        }
    }
    Ok((read, last))
}

/// The newest `limit` word matches ranked by bm25, weighted toward recent messages: (id,
/// score), best first. `now` in unix ms.
pub fn ranked(
    conn: &Connection,
    expr: &str,
    filters: &Filters,
    pool: usize,
    now: i64,
) -> Result<Vec<(MessageId, f64)>> {
    let (inner, mut params) = statement(&Source::Words(expr.into()), filters, MessageId::MAX);
    // The statement reads (id, body, name); rank its first `pool` rows.
    let inner = inner.replacen(
        "SELECT m.id, '', NULL FROM",
        "SELECT m.id, bm25(messages_fts) AS score, m.created_at AS at FROM",
        1,
    );
    params.push(Value::Integer(pool as i64));
    params.push(Value::Integer(now));
    let sql = format!(
        "SELECT id, score / (1.0 + max(0, ?{now} - at) / 2592000000.0) AS weighted
         FROM ({inner} LIMIT ?{pool}) ORDER BY weighted, id DESC",
        now = params.len(),
        pool = params.len() - 1,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(params_from_iter(params), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The messages with these ids (any order), with their senders and files.
pub fn messages(conn: &Connection, ids: &[MessageId]) -> Result<Vec<Message>> {
    let list = serde_json::to_string(ids).expect("ids");
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE m.id IN (SELECT value FROM json_each(?1))"
    ))?;
    let mut found: Vec<Message> = stmt
        .query_map([list], crate::store::messages::from_row)?
        .collect::<rusqlite::Result<_>>()?;
    attachments::attach(conn, &mut found)?;
    Ok(found)
}

/// What a result shows of its conversation: (kind, name, for a direct the other person's
/// display name).
pub fn place(
    conn: &Connection,
    conversation: ConversationId,
    me: UserId,
) -> Result<(String, String, Option<String>)> {
    Ok(conn
        .prepare_cached(
            "SELECT c.kind, c.name,
                    (SELECT u.display_name FROM memberships o JOIN users u ON u.id = o.user_id
                     WHERE c.kind = 'direct' AND o.conversation_id = c.id AND o.user_id != ?2
                     LIMIT 1)
             FROM conversations c WHERE c.id = ?1",
        )?
        .query_row(rusqlite::params![conversation, me], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?)
}

/// Public channels: what "include channels I have not joined" adds.
pub fn channels(conn: &Connection) -> Result<Vec<ConversationId>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM conversations WHERE kind = 'channel'")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// A channel or group among `scope` (or a channel anyone may read) by name, any case.
pub fn named(
    conn: &Connection,
    name: &str,
    scope: &[ConversationId],
) -> Result<Option<ConversationId>> {
    use rusqlite::OptionalExtension;
    let scope = serde_json::to_string(scope).expect("ids");
    Ok(conn
        .prepare_cached(
            "SELECT id FROM conversations
             WHERE kind != 'direct' AND name = ?1 COLLATE NOCASE
               AND (kind = 'channel' OR id IN (SELECT value FROM json_each(?2)))
             ORDER BY kind = 'channel' DESC, id LIMIT 1",
        )?
        .query_row(rusqlite::params![name, scope], |r| r.get(0))
        .optional()?)
}

/// The newest message id (0 when there is none).
pub fn newest_id(conn: &Connection) -> Result<MessageId> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(id), 0) FROM messages")?
        .query_row([], |r| r.get(0))?)
}
