//! What an import will write, decided from the export and the database before anything is
//! written: who each Slack person is here (already imported, already here by username, or
//! new), each conversation (already imported, already here by name, or new), each message and
//! reaction with its converted body, and every skip with its reason. A dry run stops here.

mod conversations;
mod messages;
mod people;

use rusqlite::Connection;
use std::collections::{HashMap, HashSet};

use super::slack::{self, Export};
use super::summary::Summary;
use crate::domain::UserId;
use crate::domain::chat::{ConversationId, Kind, MemberRole, MessageId};
use crate::error::Result;
use crate::store::imports::{self, Kind as Imported};

/// Who a Slack person is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Who {
    /// An account that exists before the import.
    Local(UserId),
    /// The `n`th of [`Plan::people`], made by the import.
    New(usize),
}

/// An account the import makes.
#[derive(Debug, Clone)]
pub struct NewPerson {
    /// The Slack user id (or [`PLACEHOLDER`]).
    pub external: String,
    pub username: String,
    pub display_name: String,
    pub deactivated: bool,
    pub bot: bool,
}

impl NewPerson {
    /// Whether the person gets a link to choose a password: people who can sign in.
    pub fn gets_link(&self) -> bool {
        !self.deactivated && !self.bot
    }
}

/// Where a Slack conversation goes.
#[derive(Debug, Clone)]
pub enum Target {
    New {
        kind: Kind,
        name: String,
        topic: String,
        created_at: i64,
        created_by: Option<Who>,
        archived: bool,
        /// The two people of a direct.
        direct: Option<(Who, Who)>,
    },
    /// A conversation here already: imported by an earlier run (`merged` false) or here by
    /// the same name or pair (`merged` true).
    Existing { id: ConversationId, merged: bool },
}

#[derive(Debug, Clone)]
pub struct PlannedConversation {
    pub external: String,
    pub target: Target,
    pub members: Vec<(Who, MemberRole)>,
    pub messages: Vec<PlannedMessage>,
}

#[derive(Debug, Clone)]
pub struct PlannedMessage {
    /// `<conversation id>:<ts>`.
    pub external: String,
    /// What to write; `None` when an earlier run wrote it (`local`).
    pub content: Option<Content>,
    pub local: Option<MessageId>,
    pub reactions: Vec<PlannedReaction>,
}

#[derive(Debug, Clone)]
pub struct Content {
    pub sender: Who,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub reply_to: Option<Parent>,
    /// Deleted on Slack but kept for its replies (a "tombstone").
    pub deleted: bool,
}

/// The message a reply answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parent {
    /// Imported by an earlier run.
    Local(MessageId),
    /// Written earlier in this run (its external id).
    External(String),
}

#[derive(Debug, Clone)]
pub struct PlannedReaction {
    /// `<conversation id>:<ts>:<name>:<user id>`.
    pub external: String,
    pub emoji: String,
    pub who: Who,
}

/// Everything an import will write.
#[derive(Debug, Clone)]
pub struct Plan {
    pub source: String,
    pub people: Vec<NewPerson>,
    /// Slack people taken to be accounts already here (by username), to be noted as imported.
    pub matched: Vec<(String, UserId)>,
    pub conversations: Vec<PlannedConversation>,
    pub summary: Summary,
}

impl Plan {
    /// How many messages the import writes.
    pub fn new_messages(&self) -> usize {
        self.conversations
            .iter()
            .flat_map(|c| &c.messages)
            .filter(|m| m.content.is_some())
            .count()
    }
}

/// The external id of the account messages of unknown people go to.
pub const PLACEHOLDER: &str = "unknown";

/// Decides what importing `export` into the database `conn` reads will write.
pub fn build(conn: &Connection, export: &Export) -> Result<Plan> {
    let source = source_id(export);
    let mut b = Builder {
        conn,
        imported_users: imports::all(conn, &source, Imported::User)?,
        imported_conversations: imports::all(conn, &source, Imported::Conversation)?,
        imported_messages: imports::all(conn, &source, Imported::Message)?,
        imported_reactions: imports::all(conn, &source, Imported::Reaction)?,
        plan: Plan {
            source: source.clone(),
            people: Vec::new(),
            matched: Vec::new(),
            conversations: Vec::new(),
            summary: Summary {
                source,
                ..Summary::default()
            },
        },
        users: HashMap::new(),
        usernames: HashMap::new(),
        names_here: HashMap::new(),
        bots: HashMap::new(),
        channels: HashMap::new(),
        taken: HashSet::new(),
        placeholder: None,
        channel_names: HashSet::new(),
        directs: HashSet::new(),
    };
    b.people(export)?;
    for c in &export.conversations {
        if matches!(c.kind, slack::Kind::Public | slack::Kind::Private) {
            let name = conversations::channel_name(&c.channel);
            b.channels.insert(c.channel.id.clone(), name);
        }
    }
    for c in &export.conversations {
        b.conversation(c)?;
    }
    if !export.unlisted_folders.is_empty() {
        b.plan.summary.notes.push(format!(
            "Folders no list names were not read: {}",
            export.unlisted_folders.join(", ")
        ));
    }
    Ok(b.plan)
}

/// `slack:<team id>`: the team most of the people belong to, or the hash of `users.json`.
pub fn source_id(export: &Export) -> String {
    let mut teams: HashMap<&str, usize> = HashMap::new();
    for u in &export.users {
        if !u.team_id.is_empty() {
            *teams.entry(&u.team_id).or_default() += 1;
        }
    }
    let team = teams
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
        .map(|(team, _)| team);
    match team {
        Some(team) => format!("slack:{team}"),
        None => format!("slack:users-{}", &export.users_hash[..16]),
    }
}

struct Builder<'c> {
    conn: &'c Connection,
    imported_users: HashMap<String, i64>,
    imported_conversations: HashMap<String, i64>,
    imported_messages: HashMap<String, i64>,
    imported_reactions: HashMap<String, i64>,
    plan: Plan,
    /// Slack user id to who they are here.
    users: HashMap<String, Who>,
    /// Slack user id to their username here (for `<@U…>`).
    usernames: HashMap<String, String>,
    /// Who to their username here.
    names_here: HashMap<Who, String>,
    /// A bot's `bot_id` to its Slack user id.
    bots: HashMap<String, String>,
    /// Slack conversation id to its name here (for `<#C…>`).
    channels: HashMap<String, String>,
    /// Usernames (lowercase) the plan gives new accounts.
    taken: HashSet<String>,
    placeholder: Option<Who>,
    /// Names (lowercase) of channels the plan makes.
    channel_names: HashSet<String>,
    /// The pairs of the directs the plan makes.
    directs: HashSet<(Who, Who)>,
}
