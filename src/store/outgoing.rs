//! Outgoing webhooks: the hooks of a conversation (URL, secret, trigger, the bot that answers)
//! and the log of each attempt to deliver a message to one.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::domain::UserId;
use crate::domain::chat::{ConversationId, MessageId, UserRef};
use crate::error::Result;

/// Which new messages a hook is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = OutgoingTrigger)]
pub enum Trigger {
    /// Every message.
    All,
    /// Messages that mention the hook's bot.
    Mention,
    /// Messages whose first word is one of the hook's words.
    Word,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::All => "all",
            Trigger::Mention => "mention",
            Trigger::Word => "word",
        }
    }

    pub fn parse(raw: &str) -> Option<Trigger> {
        match raw {
            "all" => Some(Trigger::All),
            "mention" => Some(Trigger::Mention),
            "word" => Some(Trigger::Word),
            _ => None,
        }
    }
}

/// An outgoing webhook as its admins see it (with its secret: they set it on the receiver).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = OutgoingWebhook)]
pub struct Hook {
    pub id: i64,
    pub conversation_id: ConversationId,
    /// The hook's name: its bot's display name.
    pub name: String,
    /// The bot its answers are posted as.
    pub bot: UserRef,
    pub url: String,
    pub secret: String,
    pub trigger: Trigger,
    /// The trigger words, lowercase (empty unless the trigger is `word`).
    pub words: Vec<String>,
    pub allow_private: bool,
    pub created_by: Option<UserId>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "h.id, h.conversation_id, h.url, h.secret, h.trigger, h.words, \
     h.allow_private, h.created_by, h.created_at, h.revoked_at, \
     b.id, b.username, b.display_name, b.avatar_sha256";

const FROM: &str = "webhooks_out h JOIN users b ON b.id = h.bot_id";

fn from_row(r: &Row) -> rusqlite::Result<Hook> {
    let trigger: String = r.get(4)?;
    let words: String = r.get(5)?;
    let display_name: String = r.get(12)?;
    Ok(Hook {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        name: display_name.clone(),
        bot: UserRef {
            id: r.get(10)?,
            username: r.get(11)?,
            display_name,
            avatar: r.get(13)?,
            bot: true,
        },
        url: r.get(2)?,
        secret: r.get(3)?,
        trigger: Trigger::parse(&trigger).unwrap_or(Trigger::All),
        words: words.split_whitespace().map(str::to_owned).collect(),
        allow_private: r.get(6)?,
        created_by: r.get(7)?,
        created_at: r.get(8)?,
        revoked_at: r.get(9)?,
    })
}

/// A hook about to be written.
pub struct NewHook<'a> {
    pub conversation_id: ConversationId,
    pub bot_id: UserId,
    pub url: &'a str,
    pub secret: &'a str,
    pub trigger: Trigger,
    pub words: &'a [String],
    pub allow_private: bool,
    pub created_by: UserId,
    pub now: i64,
}

pub fn insert(conn: &Connection, h: &NewHook) -> Result<Hook> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO webhooks_out (conversation_id, bot_id, url, secret, trigger, words,
                                       allow_private, created_by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        )?
        .query_row(
            params![
                h.conversation_id,
                h.bot_id,
                h.url,
                h.secret,
                h.trigger.as_str(),
                h.words.join(" "),
                h.allow_private,
                h.created_by,
                h.now
            ],
            |r| r.get(0),
        )?;
    get(conn, id)
}

pub fn get(conn: &Connection, id: i64) -> Result<Hook> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM {FROM} WHERE h.id = ?1"))?
        .query_row([id], from_row)?)
}

/// The hooks of a conversation, working ones first, then newest first.
pub fn of_conversation(conn: &Connection, conversation: ConversationId) -> Result<Vec<Hook>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE h.conversation_id = ?1
         ORDER BY h.revoked_at IS NOT NULL, h.id DESC"
    ))?;
    let hooks = stmt
        .query_map([conversation], from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(hooks)
}

/// How many hooks of a conversation work.
pub fn live_count(conn: &Connection, conversation: ConversationId) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM webhooks_out WHERE conversation_id = ?1 AND revoked_at IS NULL",
        )?
        .query_row([conversation], |r| r.get(0))?)
}

/// What a new message is checked against: a working hook whose bot is still a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub id: i64,
    pub bot_id: UserId,
    pub trigger: Trigger,
    pub words: Vec<String>,
}

/// The SQL of [`listeners`], for its plan check.
pub(crate) const LISTENERS: &str = "SELECT h.id, h.bot_id, h.trigger, h.words
     FROM webhooks_out h
     JOIN memberships m ON m.conversation_id = h.conversation_id AND m.user_id = h.bot_id
     JOIN users b ON b.id = h.bot_id
     WHERE h.conversation_id = ?1 AND h.revoked_at IS NULL AND b.deactivated = 0
     ORDER BY h.id";

/// The working hooks of a conversation whose bot is an active member of it (a bot removed by
/// the conversation's owners hears nothing more). Read in a message's write.
pub fn listeners(conn: &Connection, conversation: ConversationId) -> Result<Vec<Listener>> {
    let mut stmt = conn.prepare_cached(LISTENERS)?;
    let found = stmt
        .query_map([conversation], |r| {
            let trigger: String = r.get(2)?;
            let words: String = r.get(3)?;
            Ok(Listener {
                id: r.get(0)?,
                bot_id: r.get(1)?,
                trigger: Trigger::parse(&trigger).unwrap_or(Trigger::All),
                words: words.split_whitespace().map(str::to_owned).collect(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(found)
}

/// Replaces a hook's secret.
pub fn set_secret(conn: &Connection, id: i64, secret: &str) -> Result<()> {
    conn.prepare_cached("UPDATE webhooks_out SET secret = ?2 WHERE id = ?1")?
        .execute(params![id, secret])?;
    Ok(())
}

/// Stops a hook; true when it was working.
pub fn revoke(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE webhooks_out SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![id, now])?
        == 1)
}

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = DeliveryOutcome)]
pub enum Outcome {
    /// The receiver took it (2xx) and had nothing to say.
    Delivered,
    /// The receiver took it and its answer was posted as the bot's reply.
    Replied,
    /// It did not go through; another attempt is planned.
    Retrying,
    /// It did not go through and will not be tried again.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Replied => "replied",
            Outcome::Retrying => "retrying",
            Outcome::Failed => "failed",
        }
    }

    fn parse(raw: &str) -> Outcome {
        match raw {
            "delivered" => Outcome::Delivered,
            "replied" => Outcome::Replied,
            "retrying" => Outcome::Retrying,
            _ => Outcome::Failed,
        }
    }
}

/// One attempt to deliver a message to a hook.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: i64,
    pub hook_id: i64,
    pub message_id: MessageId,
    /// 1 for the first try.
    pub attempt: i64,
    pub at: i64,
    /// The receiver's HTTP status; `None` when there was no answer.
    pub status: Option<u16>,
    pub outcome: Outcome,
    /// What went wrong, or what was noted (an answer cut to length); empty when nothing.
    pub error: String,
    pub duration_ms: i64,
}

/// An attempt about to be logged.
pub struct NewDelivery<'a> {
    pub hook_id: i64,
    pub message_id: MessageId,
    pub attempt: i64,
    pub at: i64,
    pub status: Option<u16>,
    pub outcome: Outcome,
    pub error: &'a str,
    pub duration_ms: i64,
}

/// Logs an attempt, keeping only the newest `keep` of the hook's.
pub fn log(conn: &Connection, d: &NewDelivery, keep: usize) -> Result<i64> {
    let id: i64 = conn
        .prepare_cached(
            "INSERT INTO webhook_deliveries (hook_id, message_id, attempt, at, status, outcome,
                                             error, duration_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
        )?
        .query_row(
            params![
                d.hook_id,
                d.message_id,
                d.attempt,
                d.at,
                d.status,
                d.outcome.as_str(),
                d.error,
                d.duration_ms
            ],
            |r| r.get(0),
        )?;
    conn.prepare_cached(TRIM)?
        .execute(params![d.hook_id, keep as i64])?;
    Ok(id)
}

/// The SQL that drops a hook's attempts beyond the newest `?2`, for its plan check.
pub(crate) const TRIM: &str = "DELETE FROM webhook_deliveries WHERE hook_id = ?1 AND id <= (
         SELECT id FROM webhook_deliveries WHERE hook_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)";

/// The SQL of [`deliveries`], for its plan check.
pub(crate) const DELIVERIES: &str = "SELECT id, hook_id, message_id, attempt, at, status, outcome,
         error, duration_ms
     FROM webhook_deliveries WHERE hook_id = ?1 ORDER BY id DESC LIMIT ?2";

/// The newest `limit` attempts of a hook, newest first.
pub fn deliveries(conn: &Connection, hook: i64, limit: usize) -> Result<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(DELIVERIES)?;
    let rows = stmt
        .query_map(params![hook, limit as i64], |r| {
            let outcome: String = r.get(6)?;
            Ok(Delivery {
                id: r.get(0)?,
                hook_id: r.get(1)?,
                message_id: r.get(2)?,
                attempt: r.get(3)?,
                at: r.get(4)?,
                status: r.get(5)?,
                outcome: Outcome::parse(&outcome),
                error: r.get(7)?,
                duration_ms: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The conversation a hook belongs to, if the hook exists.
pub fn conversation_of(conn: &Connection, hook: i64) -> Result<Option<ConversationId>> {
    Ok(conn
        .prepare_cached("SELECT conversation_id FROM webhooks_out WHERE id = ?1")?
        .query_row([hook], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(conn: &Connection, sql: &str) -> String {
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let params: Vec<i64> = vec![1; stmt.parameter_count()];
        stmt.query_map(rusqlite::params_from_iter(params), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .map(Result::unwrap)
        .collect::<Vec<_>>()
        .join("\n")
    }

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::db::migrate(&mut conn).unwrap();
        crate::db::stable_plans(&conn).unwrap();
        conn
    }

    #[test]
    fn a_message_write_and_the_log_use_their_indexes() {
        let conn = db();
        let p = plan(&conn, LISTENERS);
        assert!(p.contains("webhooks_out_by_conversation"), "{p}");
        assert!(!p.lines().any(|l| l.starts_with("SCAN")), "{p}");
        for sql in [TRIM, DELIVERIES] {
            let p = plan(&conn, sql);
            assert!(p.contains("webhook_deliveries_by_hook"), "{p}");
            assert!(!p.contains("TEMP B-TREE"), "{p}");
            assert!(
                !p.lines()
                    .any(|l| l.starts_with("SCAN webhook_deliveries") && !l.contains("USING")),
                "{p}"
            );
        }
    }

    #[test]
    fn the_log_keeps_the_newest_attempts_of_each_hook() {
        let conn = db();
        conn.execute_batch(
            "INSERT INTO users (id, username, display_name, password_hash, role, created_at)
                 VALUES (1, 'ann', 'Ann', 'x', 'admin', 0), (2, 'hook-bot', 'Hook', '!bot', 'member', 0);
             INSERT INTO conversations (id, kind, name, created_at, last_activity_at)
                 VALUES (1, 'channel', 'c', 0, 0);",
        )
        .unwrap();
        fn new(words: &[String]) -> NewHook<'_> {
            NewHook {
                conversation_id: 1,
                bot_id: 2,
                url: "https://example.org/hook",
                secret: "s",
                trigger: Trigger::Word,
                words,
                allow_private: false,
                created_by: 1,
                now: 0,
            }
        }
        let (w1, w2) = (["!w1".to_owned()], ["!w2".to_owned()]);
        let (a, b) = (
            insert(&conn, &new(&w1)).unwrap(),
            insert(&conn, &new(&w2)).unwrap(),
        );
        assert_eq!(a.words, ["!w1"]);
        assert_eq!(a.bot.username, "hook-bot");
        for attempt in 1..=7 {
            for hook in [a.id, b.id] {
                let d = NewDelivery {
                    hook_id: hook,
                    message_id: 9,
                    attempt,
                    at: attempt,
                    status: Some(500),
                    outcome: Outcome::Retrying,
                    error: "",
                    duration_ms: 3,
                };
                log(&conn, &d, 5).unwrap();
            }
        }
        let kept = deliveries(&conn, a.id, 50).unwrap();
        let attempts: Vec<i64> = kept.iter().map(|d| d.attempt).collect();
        assert_eq!(attempts, [7, 6, 5, 4, 3]);
        assert_eq!(deliveries(&conn, b.id, 2).unwrap().len(), 2);
        assert_eq!(deliveries(&conn, b.id, 50).unwrap().len(), 5);
        assert!(revoke(&conn, a.id, 5).unwrap());
        assert!(!revoke(&conn, a.id, 6).unwrap());
        let listed = of_conversation(&conn, 1).unwrap();
        assert_eq!(
            listed.iter().map(|h| h.id).collect::<Vec<_>>(),
            [b.id, a.id]
        );
        assert_eq!(live_count(&conn, 1).unwrap(), 1);
    }
}
