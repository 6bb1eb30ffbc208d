//! `hearth export`: conversations and their messages as JSON Lines (for programs) or as one
//! self-contained HTML file (for people). Read in one transaction from a read-only connection,
//! a page of messages at a time, so a large export neither blocks the server nor fills memory.

use rusqlite::Connection;
use serde_json::json;
use std::io::Write;

use super::Progress;
use super::export_html as html;
use crate::chat::json as views;
use crate::domain::chat::{Conversation, ConversationId, Member, Message};
use crate::domain::now_ms;
use crate::error::{Error, Result};
use crate::store::messages::{self as store_messages, Cursor};
use crate::store::{conversations as convs, memberships, users};

/// Messages read per query.
const PAGE: usize = 500;

/// What to export.
#[derive(Debug, Clone)]
pub enum Scope {
    All,
    Conversation(ConversationId),
    /// The conversations this user is a member of.
    User(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Html,
}

/// What an export will hold, worked out (and validated) before anything is written.
#[derive(Debug)]
pub struct Plan {
    pub conversations: Vec<ConversationId>,
    pub messages: u64,
    /// How the scope reads in the file's header, e.g. "conversations of ada".
    pub description: String,
    /// The blobs, when the HTML export should show images (their thumbnails, inlined).
    pub files: Option<crate::blobs::Blobs>,
}

/// Resolves the scope. An unknown conversation or user is an error, and nothing is written.
pub fn plan(conn: &Connection, scope: &Scope) -> Result<Plan> {
    let (conversations, description) = match scope {
        Scope::All => (
            ids(conn, "SELECT id FROM conversations ORDER BY id", [])?,
            "all conversations".to_owned(),
        ),
        Scope::Conversation(id) => {
            let c = convs::get(conn, *id).map_err(|e| match e {
                Error::NotFound => Error::invalid(format!("there is no conversation with id {id}")),
                other => other,
            })?;
            (vec![c.id], format!("conversation {id}"))
        }
        Scope::User(name) => {
            let user = users::by_name(conn, name).map_err(|e| match e {
                Error::NotFound => Error::NoSuchUser(name.clone()),
                other => other,
            })?;
            let sql = "SELECT conversation_id FROM memberships WHERE user_id = ?1 ORDER BY conversation_id";
            (
                ids(conn, sql, [user.id])?,
                format!("the conversations of {}", user.username),
            )
        }
    };
    let mut messages = 0u64;
    let mut count = conn.prepare_cached(
        "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND notice IS NULL",
    )?;
    for id in &conversations {
        messages += count.query_row([id], |r| r.get::<_, i64>(0))?.max(0) as u64;
    }
    Ok(Plan {
        conversations,
        messages,
        description,
        files: None,
    })
}

fn ids<P: rusqlite::Params>(conn: &Connection, sql: &str, params: P) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(sql)?;
    let ids = stmt
        .query_map(params, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// How many conversations and messages were written.
#[derive(Debug, Default)]
pub struct Summary {
    pub conversations: usize,
    pub messages: u64,
}

/// Writes the planned export. Call inside the same read transaction as [`plan`].
pub fn write(
    conn: &Connection,
    plan: &Plan,
    format: Format,
    out: &mut dyn Write,
    progress: Progress,
) -> Result<Summary> {
    let bar = progress.items(plan.messages, "export");
    let exported_at = now_ms();
    match format {
        Format::Jsonl => {
            let header = json!({
                "type": "export",
                "hearth_version": env!("CARGO_PKG_VERSION"),
                "exported_at": exported_at,
                "scope": plan.description,
                "conversations": plan.conversations.len(),
                "messages": plan.messages,
            });
            writeln!(out, "{header}")?;
        }
        Format::Html => {
            let mut toc = Vec::with_capacity(plan.conversations.len());
            for &id in &plan.conversations {
                toc.push((
                    id,
                    title(&convs::get(conn, id)?, &memberships::members(conn, id)?),
                ));
            }
            html::begin(out, plan, exported_at, &toc)?;
        }
    }
    let mut summary = Summary::default();
    for &id in &plan.conversations {
        let conversation = convs::get(conn, id)?;
        let members = memberships::members(conn, id)?;
        match format {
            Format::Jsonl => {
                let mut line = views::conversation_with_members(&conversation, &members);
                line["type"] = json!("conversation");
                writeln!(out, "{line}")?;
            }
            Format::Html => html::begin_conversation(out, &conversation, &members)?,
        }
        let mut state = html::ConversationState::with_files(plan.files.clone());
        each_message(conn, id, |m| {
            match format {
                Format::Jsonl => {
                    // A line about the conversation has the message shape (with `notice`) but
                    // its own type, so a reader that knows only messages passes it by.
                    let mut line = views::message(m, None);
                    line["type"] = json!(if m.notice.is_some() {
                        "notice"
                    } else {
                        "message"
                    });
                    writeln!(out, "{line}")?;
                }
                Format::Html => html::message(out, &mut state, m)?,
            }
            if m.notice.is_none() {
                summary.messages += 1;
                bar.inc(1);
            }
            Ok(())
        })?;
        if format == Format::Html {
            html::end_conversation(out, &state)?;
        }
        summary.conversations += 1;
    }
    if format == Format::Html {
        html::end(out)?;
    }
    out.flush()?;
    bar.finish_and_clear();
    Ok(summary)
}

/// Calls `f` with every message (and line about the conversation) of a conversation, oldest
/// first, a page at a time.
fn each_message(
    conn: &Connection,
    id: ConversationId,
    mut f: impl FnMut(&Message) -> Result<()>,
) -> Result<()> {
    let mut after = 0;
    loop {
        let (page, more) = store_messages::page(conn, id, Cursor::After(after), PAGE)?;
        for m in &page {
            f(m)?;
        }
        match page.last() {
            Some(last) if more => after = last.id,
            _ => return Ok(()),
        }
    }
}

/// What a conversation is called in an export: `#name`, the group's name, or its two people.
pub fn title(c: &Conversation, members: &[Member]) -> String {
    use crate::domain::chat::Kind;
    match c.kind {
        Kind::Channel => format!("#{}", c.name),
        Kind::Group => c.name.clone(),
        Kind::Direct => {
            let names: Vec<&str> = members
                .iter()
                .map(|m| m.user.display_name.as_str())
                .collect();
            if names.is_empty() {
                format!("Direct conversation {}", c.id)
            } else {
                names.join(" & ")
            }
        }
    }
}
