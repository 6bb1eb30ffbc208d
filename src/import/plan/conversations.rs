//! Where each Slack conversation goes: already imported, already here (a channel of the same
//! name, a direct of the same pair), or new; with its members, its owner and its topic.

use super::{Builder, PlannedConversation, PlannedMessage, Target, Who};
use crate::domain::chat::{Kind, MemberRole};
use crate::domain::now_ms;
use crate::error::{Error, Result};
use crate::import::slack;
use crate::store::conversations as convs;

impl Builder<'_> {
    pub(super) fn conversation(&mut self, c: &slack::Conversation) -> Result<()> {
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
        if earlier.is_some() {
            // Its members were made by the earlier run and are the admins' business since:
            // only people with messages new in this run are made members (again).
            members.clear();
        }
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
    pub(super) fn target(
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
                let mut unique = name.clone();
                for n in 2.. {
                    if !self.channel_names.contains(&unique.to_lowercase())
                        && convs::channel_by_name(self.conn, &unique)?.is_none()
                    {
                        break;
                    }
                    let suffix = format!("-{n}");
                    let base: String = name.chars().take(80 - suffix.len()).collect();
                    unique = format!("{base}{suffix}");
                }
                if unique != name {
                    self.plan.summary.notes.push(format!(
                        "The export has two channels named #{name}: {} is #{unique}.",
                        c.channel.id
                    ));
                }
                self.channel_names.insert(unique.to_lowercase());
                (Kind::Channel, unique)
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
        if let [(a, _), (b, _)] = members
            && kind == Kind::Direct
            && !self.directs.insert(((*a).min(*b), (*a).max(*b)))
        {
            // Both with people users.json lacks: one pair here. The first one's conversation
            // is found by its pair when written.
            self.plan.summary.conversations.already += 1;
            let names = format!("{} and {}", self.username_of(*a), self.username_of(*b));
            self.plan
                .summary
                .merged
                .push(format!("the direct of {names}"));
        } else {
            self.plan.summary.conversations.imported += 1;
        }
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

    pub(super) fn username_of(&self, who: Who) -> &str {
        self.names_here.get(&who).map_or("someone", String::as_str)
    }

    /// A topic as Hearth keeps it: the markup converted, on one line, at most 250 characters.
    pub(super) fn topic(&self, raw: &str) -> String {
        let markdown = crate::import::markup::to_markdown(raw, &self.names());
        let line = markdown.split_whitespace().collect::<Vec<_>>().join(" ");
        let topic: String = line.chars().take(250).collect();
        crate::domain::chat::topic(&topic).unwrap_or_default()
    }
}

/// A channel's name here: Slack's, within Hearth's rules; its id if it has none.
pub(super) fn channel_name(c: &slack::Channel) -> String {
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
