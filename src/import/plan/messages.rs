//! The messages and reactions of one conversation: who wrote each, its body in Markdown,
//! its times, the thread it answers, and which reactions come with it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use super::{Builder, Content, Parent, PlannedMessage, PlannedReaction, Who};
use crate::chat::messages::MAX_EMOJI_PER_MESSAGE;
use crate::error::Result;
use crate::import::markup::{self, Names};
use crate::import::slack;

/// Subtypes that are lines about the conversation (joins, leaves, renames, topics, pins),
/// not messages someone wrote: Hearth writes its own such lines.
const LINES: &[&str] = &[
    "channel_join",
    "channel_leave",
    "channel_topic",
    "channel_purpose",
    "channel_name",
    "channel_archive",
    "channel_unarchive",
    "channel_convert_to_private",
    "channel_convert_to_public",
    "group_join",
    "group_leave",
    "group_topic",
    "group_purpose",
    "group_name",
    "group_archive",
    "group_unarchive",
    "pinned_item",
    "unpinned_item",
    "bot_add",
    "bot_remove",
    "reminder_add",
];

const LINE_REASON: &str = "joins, leaves, topic changes and other lines about the channel";
const TWICE: &str = "the same message twice in the export";
const EMPTY: &str = "empty: no text and no file";
const NOT_IMPORTED: &str = "on a message that was not imported";
/// Slack's own limit is 40,000; longer is no message a person wrote.
const MAX_TEXT_CHARS: usize = 100_000;
const TOO_LONG: &str = "longer than 100,000 characters";

/// The names markup refers to, noting ids nobody has.
pub(super) struct Lookup<'a> {
    usernames: &'a HashMap<String, String>,
    channels: &'a HashMap<String, String>,
    missed: RefCell<Vec<String>>,
}

impl Names for Lookup<'_> {
    fn user(&self, id: &str) -> Option<String> {
        let found = self.usernames.get(id).cloned();
        if found.is_none() {
            self.missed.borrow_mut().push(id.to_owned());
        }
        found
    }

    fn channel(&self, id: &str) -> Option<String> {
        self.channels.get(id).cloned()
    }
}

impl Builder<'_> {
    pub(super) fn names(&self) -> Lookup<'_> {
        Lookup {
            usernames: &self.usernames,
            channels: &self.channels,
            missed: RefCell::new(Vec::new()),
        }
    }

    /// The messages of `c`, oldest first.
    pub(super) fn messages(&mut self, c: &slack::Conversation) -> Result<Vec<PlannedMessage>> {
        let mut sorted: Vec<&slack::Message> = c.messages.iter().collect();
        sorted.sort_by(|a, b| a.ts.cmp(&b.ts));
        let mut seen = HashSet::new();
        let mut planned: Vec<PlannedMessage> = Vec::new();
        // Messages of this conversation met so far: the local id of those written earlier.
        let mut here: HashMap<String, Option<i64>> = HashMap::new();
        let mut orphans = 0;
        for m in sorted {
            let external = format!("{}:{}", c.channel.id, m.ts);
            let reactions_total = m.reactions.iter().map(|r| r.users.len()).sum();
            let skip = |b: &mut Self, reason: &str| {
                b.plan.summary.messages.skip(reason, 1);
                b.plan.summary.reactions.skip(NOT_IMPORTED, reactions_total);
            };
            if !seen.insert(m.ts.clone()) {
                skip(self, TWICE);
                continue;
            }
            if LINES.contains(&m.subtype.as_str()) {
                skip(self, LINE_REASON);
                continue;
            }
            if let Some(&local) = self.imported_messages.get(&external) {
                self.plan.summary.messages.already += 1;
                let reactions = self.reactions(&external, m);
                here.insert(external.clone(), Some(local));
                planned.push(PlannedMessage {
                    external,
                    content: None,
                    local: Some(local),
                    reactions,
                });
                continue;
            }
            if m.text.len() > MAX_TEXT_CHARS && m.text.chars().count() > MAX_TEXT_CHARS {
                skip(self, TOO_LONG);
                continue;
            }
            let body = self.body(m);
            let deleted = m.subtype == "tombstone";
            if body.is_empty() && !deleted {
                skip(self, EMPTY);
                continue;
            }
            let sender = self.sender(m)?;
            let reply_to = match &m.thread_ts {
                Some(thread) if *thread != m.ts => {
                    let parent = format!("{}:{thread}", c.channel.id);
                    match (here.get(&parent), self.imported_messages.get(&parent)) {
                        (Some(Some(id)), _) | (None, Some(id)) => Some(Parent::Local(*id)),
                        (Some(None), _) => Some(Parent::External(parent)),
                        (None, None) => {
                            orphans += 1;
                            None
                        }
                    }
                }
                _ => None,
            };
            let created_at = m.ts.ms();
            let edited_at = m
                .edited
                .as_ref()
                .and_then(|e| e.ts.as_ref())
                .map(|ts| ts.ms())
                .filter(|at| *at > created_at);
            self.plan.summary.messages.imported += 1;
            let reactions = self.reactions(&external, m);
            here.insert(external.clone(), None);
            planned.push(PlannedMessage {
                external,
                content: Some(Content {
                    sender,
                    body: if deleted {
                        "(deleted on Slack)".into()
                    } else {
                        body
                    },
                    created_at,
                    edited_at,
                    reply_to,
                    deleted,
                }),
                local: None,
                reactions,
            });
        }
        if orphans > 0 {
            let place = match c.kind {
                slack::Kind::Public | slack::Kind::Private if !c.channel.name.is_empty() => {
                    format!("#{}", c.channel.name)
                }
                _ => c.channel.id.clone(),
            };
            let (replies, answer) = if orphans == 1 {
                ("reply", "answers")
            } else {
                ("replies", "answer")
            };
            self.plan.summary.notes.push(format!(
                "{orphans} {replies} in {place} {answer} a message that is not in the export: \
                 kept as plain messages."
            ));
        }
        Ok(planned)
    }

    /// The body in Markdown: the text (or, when it has none, what an integration attached),
    /// then one line per file.
    fn body(&mut self, m: &slack::Message) -> String {
        let text = if m.text.trim().is_empty() {
            m.attachments
                .iter()
                .flat_map(|a| {
                    let main = if a.text.trim().is_empty() {
                        &a.fallback
                    } else {
                        &a.text
                    };
                    [&a.pretext, main]
                })
                .filter(|t| !t.trim().is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            m.text.clone()
        };
        let names = self.names();
        let mut body = markup::to_markdown(&text, &names);
        for missed in names.missed.take() {
            self.unknown(&missed);
        }
        for f in &m.files {
            let name = [&f.name, &f.title]
                .into_iter()
                .find(|n| !n.trim().is_empty())
                .map_or("file", |n| n.as_str());
            let url = [&f.url_private, &f.permalink]
                .into_iter()
                .find(|u| !u.is_empty())
                .map(String::as_str);
            if !body.is_empty() {
                body.push('\n');
            }
            body.push_str(&markup::file_line(name, url));
        }
        body.trim().to_owned()
    }

    /// Who wrote a message: its user, the bot user of its `bot_id`, or the placeholder.
    fn sender(&mut self, m: &slack::Message) -> Result<Who> {
        if !m.user.is_empty() {
            if let Some(who) = self.users.get(&m.user) {
                return Ok(*who);
            }
            self.unknown(&m.user.clone());
            return self.placeholder();
        }
        if !m.bot_id.is_empty() {
            if let Some(who) = self.bots.get(&m.bot_id).and_then(|id| self.users.get(id)) {
                return Ok(*who);
            }
            self.unknown(&format!("bot {}", m.bot_id));
            return self.placeholder();
        }
        self.unknown("(no author)");
        self.placeholder()
    }

    /// The reactions of a message that come in: Unicode emoji by people the export knows,
    /// each person's emoji once, at most as many different ones as a message may carry.
    fn reactions(&mut self, message: &str, m: &slack::Message) -> Vec<PlannedReaction> {
        let mut planned = Vec::new();
        let mut distinct: Vec<String> = Vec::new();
        let mut pairs = HashSet::new();
        for r in &m.reactions {
            let Some(emoji) = slack::emoji(&r.name) else {
                self.plan.summary.custom_emoji.insert(r.name.clone());
                self.plan
                    .summary
                    .reactions
                    .skip("a custom emoji (no Unicode character)", r.users.len());
                continue;
            };
            for user in &r.users {
                let external = format!("{message}:{}:{user}", r.name);
                let tally = &mut self.plan.summary.reactions;
                let Some(&who) = self.users.get(user) else {
                    tally.skip("by someone not in users.json", 1);
                    self.unknown(user);
                    continue;
                };
                if !distinct.contains(&emoji) {
                    if distinct.len() as i64 >= MAX_EMOJI_PER_MESSAGE {
                        tally.skip("more different emoji on one message than Hearth keeps", 1);
                        continue;
                    }
                    distinct.push(emoji.clone());
                }
                if !pairs.insert((emoji.clone(), who)) {
                    tally.skip("the same emoji twice from one person", 1);
                    continue;
                }
                if self.imported_reactions.contains_key(&external) {
                    tally.already += 1;
                    continue;
                }
                tally.imported += 1;
                planned.push(PlannedReaction {
                    external,
                    emoji: emoji.clone(),
                    who,
                });
            }
        }
        planned
    }
}
