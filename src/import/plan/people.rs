//! Who each Slack person is here: already imported, already here by username, or a new
//! account; and the deactivated account that stands for the people `users.json` lacks.

use rusqlite::Connection;
use std::collections::HashSet;

use super::{Builder, NewPerson, PLACEHOLDER, Who};
use crate::domain::{User, Username};
use crate::error::{Error, Result};
use crate::import::slack::{self, Export};
use crate::store::users;

impl Builder<'_> {
    pub(super) fn people(&mut self, export: &Export) -> Result<()> {
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
    pub(super) fn earlier(&self, external: &str) -> Result<Option<User>> {
        match self.imported_users.get(external) {
            Some(&id) => match users::get(self.conn, id) {
                Ok(user) => Ok(Some(user)),
                Err(Error::NotFound) => Ok(None),
                Err(e) => Err(e),
            },
            None => Ok(None),
        }
    }

    pub(super) fn known(&mut self, external: &str, who: Who, username: &str) {
        self.users.insert(external.to_owned(), who);
        self.usernames
            .insert(external.to_owned(), username.to_owned());
        self.names_here.insert(who, username.to_owned());
    }

    pub(super) fn add_person(&mut self, person: NewPerson) -> Who {
        self.taken.insert(person.username.to_lowercase());
        let who = Who::New(self.plan.people.len());
        self.names_here.insert(who, person.username.clone());
        self.plan.people.push(person);
        self.plan.summary.people.imported += 1;
        who
    }

    /// `wanted`, or `wanted-2`, `-3`… : a username neither here nor planned.
    pub(super) fn unused(&self, wanted: &str) -> Result<String> {
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
    pub(super) fn placeholder(&mut self) -> Result<Who> {
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
    pub(super) fn unknown(&mut self, id: &str) {
        *self.plan.summary.unknown.entry(id.to_owned()).or_default() += 1;
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

fn find_user(conn: &Connection, name: &str) -> Result<Option<User>> {
    match users::by_name(conn, name) {
        Ok(user) => Ok(Some(user)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
