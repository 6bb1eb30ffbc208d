//! What an import will write, decided from the export and the database before anything is
//! written: who each Slack person is here (already imported, already here by username, or
//! new), each conversation (already imported, already here by name, or new), each message and
//! reaction with its converted body, and every skip with its reason. A dry run stops here.

mod messages;

use rusqlite::Connection;
use std::collections::{HashMap, HashSet};

use super::slack::{self, Export};
use super::summary::Summary;
use crate::domain::chat::{ConversationId, Kind, MemberRole, MessageId};
use crate::domain::{UserId, Username, now_ms};
use crate::error::{Error, Result};
use crate::store::imports::{self, Kind as Imported};
use crate::store::{conversations as convs, users};

/// Who a Slack person is here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    };
    b.people(export)?;
    for c in &export.conversations {
        if matches!(c.kind, slack::Kind::Public | slack::Kind::Private) {
            let name = channel_name(&c.channel);
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
}

impl Builder<'_> {
    fn people(&mut self, export: &Export) -> Result<()> {
        let mut people = export.users.clone();
        let slackbot = "USLACKBOT";
        let speaks = export
            .conversations
            .iter()
            .flat_map(|c| &c.messages)
            .any(|m| m.user == slackbot);
        if speaks && !people.iter().any(|u| u.id == slackbot) {
            people.push(slack::User {
                id: slackbot.into(),
                name: "slackbot".into(),
                real_name: "Slackbot".into(),
                is_bot: true,
                ..slack::User::default()
            });
        }
        let mut seen = HashSet::new();
        for u in &people {
            if !seen.insert(u.id.as_str()) {
                self.plan
                    .summary
                    .people
                    .skip("listed twice in users.json", 1);
                continue;
            }
            if !u.profile.bot_id.is_empty() {
                self.bots.insert(u.profile.bot_id.clone(), u.id.clone());
            }
            if let Some(user) = self.earlier(&u.id)? {
                self.known(&u.id, Who::Local(user.id), &user.username);
                self.plan.summary.people.already += 1;
                continue;
            }
            let wanted = username_for(&u.name, &u.id);
            if let Some(user) = find_user(self.conn, &wanted)? {
                self.known(&u.id, Who::Local(user.id), &user.username);
                self.plan.matched.push((u.id.clone(), user.id));
                self.plan.summary.matched.push(user.username);
                self.plan.summary.people.already += 1;
                continue;
            }
            let username = self.unused(&wanted)?;
            let display_name = display_name_for(u, &username);
            let who = self.add_person(NewPerson {
                external: u.id.clone(),
                username: username.clone(),
                display_name,
                deactivated: u.deleted,
                bot: u.is_bot || u.is_app_user,
            });
            self.known(&u.id, who, &username);
        }
        Ok(())
    }

    /// The account an earlier run made or matched for a Slack id, if it still exists.
    fn earlier(&self, external: &str) -> Result<Option<crate::domain::User>> {
        match self.imported_users.get(external) {
            Some(&id) => match users::get(self.conn, id) {
                Ok(user) => Ok(Some(user)),
                Err(Error::NotFound) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    fn known(&mut self, external: &str, who: Who, username: &str) {
        self.users.insert(external.to_owned(), who);
        self.usernames
            .insert(external.to_owned(), username.to_owned());
        self.names_here.insert(who, username.to_owned());
    }

    fn add_person(&mut self, person: NewPerson) -> Who {
        self.taken.insert(person.username.to_lowercase());
        let who = Who::New(self.plan.people.len());
        self.names_here.insert(who, person.username.clone());
        self.plan.people.push(person);
        self.plan.summary.people.imported += 1;
        who
    }

    /// `wanted`, or `wanted-2`, `-3`… : a username neither here nor planned.
    fn unused(&self, wanted: &str) -> Result<String> {
        for n in 1.. {
            let name = if n == 1 {
                wanted.to_owned()
            } else {
                let suffix = format!("-{n}");
                let base: String = wanted.chars().take(32 - suffix.len()).collect();
                format!("{base}{suffix}")
            };
            if !self.taken.contains(&name.to_lowercase()) && find_user(self.conn, &name)?.is_none()
            {
                return Ok(name);
            }
        }
        unreachable!("some suffix is free")
    }

    /// The deactivated account that stands for people `users.json` does not know.
    fn placeholder(&mut self) -> Result<Who> {
        if let Some(who) = self.placeholder {
            return Ok(who);
        }
        let who = match self.earlier(PLACEHOLDER)? {
            Some(user) => {
                self.names_here
                    .insert(Who::Local(user.id), user.username.clone());
                self.plan.summary.placeholder = Some(user.username);
                Who::Local(user.id)
            }
            None => {
                let username = self.unused("slack-unknown")?;
                self.plan.summary.placeholder = Some(username.clone());
                self.add_person(NewPerson {
                    external: PLACEHOLDER.into(),
                    username,
                    display_name: "Unknown Slack user".into(),
                    deactivated: true,
                    bot: false,
                })
            }
        };
        self.placeholder = Some(who);
        Ok(who)
    }

    /// Notes a Slack id that `users.json` does not have.
    fn unknown(&mut self, id: &str) {
        *self.plan.summary.unknown.entry(id.to_owned()).or_default() += 1;
    }

    fn conversation(&mut self, c: &slack::Conversation) -> Result<()> {
        let external = c.channel.id.clone();
        let skip_all = |b: &mut Self, reason: &str| {
            b.plan.summary.conversations.skip(reason, 1);
            b.plan.summary.messages.skip(reason, c.messages.len());
            let reactions = c
                .messages
                .iter()
                .flat_map(|m| &m.reactions)
                .map(|r| r.users.len())
                .sum();
            b.plan.summary.reactions.skip(reason, reactions);
        };
        let earlier = match self.imported_conversations.get(&external) {
            Some(&id) => match convs::get(self.conn, id) {
                Ok(_) => Some(id),
                Err(Error::NotFound) => {
                    skip_all(self, "deleted here after an earlier import");
                    return Ok(());
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let mut members: Vec<(Who, MemberRole)> = Vec::new();
        let direct = c.kind == slack::Kind::Direct;
        for id in &c.channel.members {
            let who = match self.users.get(id) {
                Some(who) => *who,
                None if direct => {
                    self.unknown(id);
                    self.placeholder()?
                }
                None => {
                    self.unknown(id);
                    continue;
                }
            };
            if !members.iter().any(|(w, _)| *w == who) {
                members.push((who, MemberRole::Member));
            }
        }
        if direct && members.len() != 2 {
            skip_all(
                self,
                "a direct conversation without two people (with oneself)",
            );
            return Ok(());
        }
        let messages = self.messages(c)?;
        if !direct {
            for m in &messages {
                if let Some(content) = &m.content
                    && !members.iter().any(|(w, _)| *w == content.sender)
                {
                    members.push((content.sender, MemberRole::Member));
                }
            }
            if let Some(creator) = self.users.get(&c.channel.creator)
                && let Some(member) = members.iter_mut().find(|(w, _)| w == creator)
            {
                member.1 = MemberRole::Owner;
            }
        }
        let target = match earlier {
            Some(id) => {
                self.plan.summary.conversations.already += 1;
                Target::Existing { id, merged: false }
            }
            None => self.target(c, &members, &messages)?,
        };
        self.plan.conversations.push(PlannedConversation {
            external,
            target,
            members,
            messages,
        });
        Ok(())
    }

    /// A conversation the export brings for the first time: new, or one here of the same
    /// name (a channel) or pair (a direct).
    fn target(
        &mut self,
        c: &slack::Conversation,
        members: &[(Who, MemberRole)],
        messages: &[PlannedMessage],
    ) -> Result<Target> {
        let (kind, name) = match c.kind {
            slack::Kind::Public => {
                let name = channel_name(&c.channel);
                if let Some(id) = convs::channel_by_name(self.conn, &name)? {
                    self.plan.summary.conversations.already += 1;
                    self.plan.summary.merged.push(format!("#{name}"));
                    return Ok(Target::Existing { id, merged: true });
                }
                if !self.channel_names.insert(name.to_lowercase()) {
                    return Err(Error::invalid(format!(
                        "the export has two channels named {name:?}; nothing was imported"
                    )));
                }
                (Kind::Channel, name)
            }
            slack::Kind::Private => (Kind::Group, channel_name(&c.channel)),
            slack::Kind::Multi => {
                let names: Vec<&str> = members
                    .iter()
                    .map(|(who, _)| self.username_of(*who))
                    .collect();
                (Kind::Group, group_name(&names))
            }
            slack::Kind::Direct => {
                if let [(Who::Local(a), _), (Who::Local(b), _)] = members
                    && let Some(id) = convs::direct(self.conn, &convs::direct_key(*a, *b))?
                {
                    self.plan.summary.conversations.already += 1;
                    let names = format!(
                        "{} and {}",
                        self.username_of(Who::Local(*a)),
                        self.username_of(Who::Local(*b))
                    );
                    self.plan
                        .summary
                        .merged
                        .push(format!("the direct of {names}"));
                    return Ok(Target::Existing { id, merged: true });
                }
                (Kind::Direct, String::new())
            }
        };
        self.plan.summary.conversations.imported += 1;
        let first = messages
            .iter()
            .filter_map(|m| m.content.as_ref())
            .map(|m| m.created_at)
            .next();
        let created_at = match c.channel.created {
            secs if secs > 0 => secs.saturating_mul(1000),
            _ => first.unwrap_or_else(now_ms),
        };
        let topic = match c.channel.topic.value.trim() {
            "" => &c.channel.purpose.value,
            topic => topic,
        };
        Ok(Target::New {
            kind,
            name,
            topic: self.topic(topic),
            created_at,
            created_by: self.users.get(&c.channel.creator).copied(),
            archived: c.channel.is_archived,
            direct: match members {
                [(a, _), (b, _)] if kind == Kind::Direct => Some((*a, *b)),
                _ => None,
            },
        })
    }

    fn username_of(&self, who: Who) -> &str {
        self.names_here.get(&who).map_or("someone", String::as_str)
    }

    /// A topic as Hearth keeps it: the markup converted, on one line, at most 250 characters.
    fn topic(&self, raw: &str) -> String {
        let markdown = super::markup::to_markdown(raw, &self.names());
        let line = markdown.split_whitespace().collect::<Vec<_>>().join(" ");
        let topic: String = line.chars().take(250).collect();
        crate::domain::chat::topic(&topic).unwrap_or_default()
    }
}

/// A username from Slack's: its characters that Hearth allows, at most 32; `slack-<id>` when
/// none is left.
pub fn username_for(name: &str, id: &str) -> String {
    let kept: String = name
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .take(32)
        .collect();
    match Username::parse(&kept) {
        Ok(name) => name.as_str().to_owned(),
        Err(_) => format!("slack-{}", id.to_lowercase())
            .chars()
            .take(32)
            .collect(),
    }
}

/// The name shown for a Slack person: the one they chose, else their real name, else their
/// username; at most 64 characters.
fn display_name_for(u: &slack::User, username: &str) -> String {
    [&u.profile.display_name, &u.profile.real_name, &u.real_name]
        .into_iter()
        .map(|name| {
            name.chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>()
        })
        .find_map(|name| crate::domain::display_name(&name).ok())
        .unwrap_or_else(|| username.to_owned())
}

/// A channel's name here: Slack's, within Hearth's rules; its id if it has none.
fn channel_name(c: &slack::Channel) -> String {
    let name: String = c
        .name
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    crate::domain::chat::conversation_name(&name).unwrap_or_else(|_| c.id.clone())
}

/// A group direct's name: its people, at most 80 characters.
fn group_name(usernames: &[&str]) -> String {
    let all = usernames.join(", ");
    if all.chars().count() <= 80 {
        return all;
    }
    let cut: String = all.chars().take(79).collect();
    format!("{cut}…")
}

fn find_user(conn: &Connection, name: &str) -> Result<Option<crate::domain::User>> {
    match users::by_name(conn, name) {
        Ok(user) => Ok(Some(user)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
