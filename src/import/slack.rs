//! A Slack export as Slack writes it: `users.json`, `channels.json` and, when the export has
//! them, `groups.json` (private channels), `dms.json` and `mpims.json`, then one folder per
//! conversation with one JSON file of messages per day. Only the fields an import uses are
//! read; a file that is not JSON, or not of the shape Slack writes, is named with where.

use serde::{Deserialize, Deserializer};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::{Read, Seek};

use super::archive::Archive;
use crate::error::{Error, Result};

/// A Slack time: seconds and a fraction, as text ("1503435956.000247"). It is also the id of a
/// message within its conversation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts {
    secs: i64,
    micros: u32,
    raw: String,
}

impl Ts {
    pub fn parse(raw: &str) -> Option<Ts> {
        let (secs, frac) = raw.split_once('.').unwrap_or((raw, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if secs.is_empty() || secs.len() > 11 || !digits(secs) || !digits(frac) {
            return None;
        }
        let micros: String = frac.chars().chain("000000".chars()).take(6).collect();
        Some(Ts {
            secs: secs.parse().ok()?,
            micros: micros.parse().ok()?,
            raw: raw.to_owned(),
        })
    }

    /// Unix milliseconds.
    pub fn ms(&self) -> i64 {
        self.secs * 1000 + i64::from(self.micros / 1000)
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Ts, D::Error> {
        let raw = String::deserialize(d)?;
        Ts::parse(&raw).ok_or_else(|| {
            serde::de::Error::custom(format!("{raw:?} is not a Slack time (seconds.fraction)"))
        })
    }
}

/// `null` read as the default (Slack writes both a missing field and `null`).
fn nullable<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub team_id: String,
    /// The username.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub real_name: String,
    /// Deactivated.
    #[serde(default, deserialize_with = "nullable")]
    pub deleted: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub is_bot: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub is_app_user: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub profile: Profile,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Profile {
    #[serde(default, deserialize_with = "nullable")]
    pub display_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub real_name: String,
    /// For a bot user: the id its messages carry as `bot_id`.
    #[serde(default, deserialize_with = "nullable")]
    pub bot_id: String,
}

/// A channel, private channel, direct or group direct, as its list file describes it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Channel {
    pub id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Unix seconds.
    #[serde(default, deserialize_with = "nullable")]
    pub created: i64,
    #[serde(default, deserialize_with = "nullable")]
    pub creator: String,
    #[serde(default, deserialize_with = "nullable")]
    pub is_archived: bool,
    #[serde(default, deserialize_with = "nullable")]
    pub members: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub topic: Value,
    #[serde(default, deserialize_with = "nullable")]
    pub purpose: Value,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Value {
    #[serde(default, deserialize_with = "nullable")]
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    pub ts: Ts,
    #[serde(default, deserialize_with = "nullable")]
    pub subtype: String,
    #[serde(default, deserialize_with = "nullable")]
    pub user: String,
    #[serde(default, deserialize_with = "nullable")]
    pub bot_id: String,
    #[serde(default, deserialize_with = "nullable")]
    pub text: String,
    #[serde(default)]
    pub thread_ts: Option<Ts>,
    #[serde(default)]
    pub edited: Option<Edited>,
    #[serde(default, deserialize_with = "nullable")]
    pub reactions: Vec<Reaction>,
    #[serde(default, deserialize_with = "nullable")]
    pub files: Vec<File>,
    /// What integrations post (and link unfurls): read only when the text is empty.
    #[serde(default, deserialize_with = "nullable")]
    pub attachments: Vec<Attachment>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Edited {
    #[serde(default)]
    pub ts: Option<Ts>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Reaction {
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub users: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct File {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub title: String,
    #[serde(default, deserialize_with = "nullable")]
    pub url_private: String,
    #[serde(default, deserialize_with = "nullable")]
    pub permalink: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Attachment {
    #[serde(default, deserialize_with = "nullable")]
    pub pretext: String,
    #[serde(default, deserialize_with = "nullable")]
    pub text: String,
    #[serde(default, deserialize_with = "nullable")]
    pub fallback: String,
}

/// Which list a conversation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `channels.json`
    Public,
    /// `groups.json`
    Private,
    /// `dms.json`
    Direct,
    /// `mpims.json`
    Multi,
}

/// A conversation and every message its folder holds, in the order of the files.
#[derive(Debug, Clone)]
pub struct Conversation {
    pub kind: Kind,
    pub channel: Channel,
    pub messages: Vec<Message>,
}

/// Everything an import reads from an export.
#[derive(Debug, Clone)]
pub struct Export {
    pub users: Vec<User>,
    /// SHA-256 of `users.json`, hex: names the export when its users carry no team id.
    pub users_hash: String,
    pub conversations: Vec<Conversation>,
    /// Folders of the archive that no list names (their files are not read).
    pub unlisted_folders: Vec<String>,
}

/// Reads the export in `archive`; `read` is told each file's bytes as they are read.
pub fn read<R: Read + Seek>(archive: &mut Archive<R>, read: &dyn Fn(u64)) -> Result<Export> {
    let root = root(archive)?;
    let label = archive.label().to_owned();
    let mut file = |name: &str| -> Result<Option<Vec<u8>>> {
        let path = format!("{root}{name}");
        if !archive.has(&path) {
            return Ok(None);
        }
        let bytes = archive.read(&path)?;
        read(bytes.len() as u64);
        Ok(Some(bytes))
    };
    let users_json = file("users.json")?.expect("root() found users.json");
    let users: Vec<User> = parse(&label, &format!("{root}users.json"), &users_json)?;
    let users_hash = hex::encode(Sha256::digest(&users_json));
    drop(users_json);
    let mut conversations = Vec::new();
    for (list, kind, required) in [
        ("channels.json", Kind::Public, true),
        ("groups.json", Kind::Private, false),
        ("dms.json", Kind::Direct, false),
        ("mpims.json", Kind::Multi, false),
    ] {
        let bytes = match file(list)? {
            Some(bytes) => bytes,
            None if required => {
                return Err(Error::invalid(format!(
                    "{label}: {root}{list} is missing: is this the zip Slack's \"Export data\" \
                     makes? Nothing was imported"
                )));
            }
            None => continue,
        };
        let channels: Vec<Channel> = parse(&label, &format!("{root}{list}"), &bytes)?;
        for channel in channels {
            conversations.push(Conversation {
                kind,
                channel,
                messages: Vec::new(),
            });
        }
    }
    // Each folder's day files, found in one pass over the archive.
    let mut folders: HashMap<&str, Vec<String>> = HashMap::new();
    for name in archive.names() {
        if let Some((folder, file)) = name
            .strip_prefix(root.as_str())
            .and_then(|r| r.split_once('/'))
            && file.ends_with(".json")
            && !file.contains('/')
        {
            folders.entry(folder).or_default().push(name.to_owned());
        }
    }
    let mut folders: HashMap<String, Vec<String>> = folders
        .into_iter()
        .map(|(folder, files)| (folder.to_owned(), files))
        .collect();
    let mut listed = BTreeSet::new();
    for c in &mut conversations {
        let folder = match c.kind {
            Kind::Public | Kind::Private | Kind::Multi if !c.channel.name.is_empty() => {
                &c.channel.name
            }
            _ => &c.channel.id,
        };
        listed.insert(format!("{root}{folder}/"));
        let mut days = folders.remove(folder.as_str()).unwrap_or_default();
        days.sort();
        for day in days {
            let bytes = archive.read(&day)?;
            read(bytes.len() as u64);
            let messages: Vec<Message> = parse(&label, &day, &bytes)?;
            c.messages.extend(messages);
        }
    }
    let mut unlisted: BTreeSet<String> = archive
        .names()
        .filter_map(|n| n.strip_prefix(&root))
        .filter_map(|rest| rest.split_once('/'))
        .map(|(folder, _)| format!("{root}{folder}/"))
        .filter(|folder| !listed.contains(folder))
        .collect();
    unlisted.retain(|f| !f.starts_with("__MACOSX"));
    Ok(Export {
        users,
        users_hash,
        conversations,
        unlisted_folders: unlisted.into_iter().collect(),
    })
}

/// Where the export's files are: at the top, or in the one folder that holds `users.json`
/// (an export unpacked and zipped again).
fn root<R: Read + Seek>(archive: &Archive<R>) -> Result<String> {
    if archive.has("users.json") {
        return Ok(String::new());
    }
    let mut found: Vec<&str> = archive
        .names()
        .filter_map(|n| n.strip_suffix("users.json"))
        .filter(|prefix| prefix.ends_with('/') && prefix.matches('/').count() == 1)
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok((*one).to_owned()),
        _ => Err(Error::invalid(format!(
            "{}: users.json is missing: is this the zip Slack's \"Export data\" makes? Nothing \
             was imported",
            archive.label()
        ))),
    }
}

/// Parses one file of the export; an error says which file and where in it.
fn parse<T: serde::de::DeserializeOwned>(label: &str, name: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "is not what a Slack export holds there",
            _ => "is not valid JSON",
        };
        Error::invalid(format!("{label}: {name} {what}: {e}; nothing was imported"))
    })
}

/// The emoji a Slack reaction name stands for (`+1`, `heart`, `wave::skin-tone-3`); `None`
/// for a workspace's own images (`:partyparrot:`), which are no Unicode character.
pub fn emoji(name: &str) -> Option<String> {
    /// Names Slack uses that GitHub's list does not.
    const SLACK_ONLY: [(&str, &str); 2] = [("simple_smile", "🙂"), ("thumbsup_all", "👍")];
    let (base, tone) = match name.split_once("::") {
        Some((base, tone)) => (base, Some(tone)),
        None => (name, None),
    };
    let found = match SLACK_ONLY.iter().find(|(n, _)| *n == base) {
        Some((_, e)) => emojis::get(e),
        None => emojis::get_by_shortcode(base),
    }?;
    let tone = match tone {
        None => None,
        Some("skin-tone-2") => Some(emojis::SkinTone::Light),
        Some("skin-tone-3") => Some(emojis::SkinTone::MediumLight),
        Some("skin-tone-4") => Some(emojis::SkinTone::Medium),
        Some("skin-tone-5") => Some(emojis::SkinTone::MediumDark),
        Some("skin-tone-6") => Some(emojis::SkinTone::Dark),
        Some(_) => return None,
    };
    let toned = tone.and_then(|t| found.with_skin_tone(t)).unwrap_or(found);
    crate::domain::chat::emoji(toned.as_str()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reaction_names_become_emoji() {
        assert_eq!(emoji("+1").as_deref(), Some("👍"));
        assert_eq!(emoji("thumbsup").as_deref(), Some("👍"));
        assert_eq!(emoji("heart").as_deref(), Some("❤️"));
        assert_eq!(emoji("tada").as_deref(), Some("🎉"));
        assert_eq!(emoji("simple_smile").as_deref(), Some("🙂"));
        assert_eq!(emoji("wave::skin-tone-3").as_deref(), Some("👋🏼"));
        assert_eq!(emoji("+1::skin-tone-6").as_deref(), Some("👍🏿"));
        // A tone on an emoji that has none is dropped; an unknown tone is no emoji.
        assert_eq!(emoji("tada::skin-tone-2").as_deref(), Some("🎉"));
        assert_eq!(emoji("wave::skin-tone-9"), None);
        assert_eq!(emoji("partyparrot"), None);
        assert_eq!(emoji(""), None);
    }

    #[test]
    fn slack_times_order_and_convert_to_milliseconds() {
        let t = Ts::parse("1503435956.000247").unwrap();
        assert_eq!(t.ms(), 1_503_435_956_000);
        assert_eq!(t.as_str(), "1503435956.000247");
        assert_eq!(Ts::parse("1503435956.123").unwrap().ms(), 1_503_435_956_123);
        assert_eq!(
            Ts::parse("1503435956.9999999").unwrap().ms(),
            1_503_435_956_999
        );
        assert_eq!(Ts::parse("1503435956").unwrap().ms(), 1_503_435_956_000);
        assert!(Ts::parse("1503435956.000247") < Ts::parse("1503435956.000248"));
        assert!(Ts::parse("999.9") < Ts::parse("1000.0"));
        for bad in ["", ".5", "12a.5", "1.-5", "-1.5", "123456789012.0", "1.2.3"] {
            assert!(Ts::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn nulls_and_missing_fields_read_as_empty() {
        let m: Message = serde_json::from_str(
            r#"{"ts": "1.5", "user": null, "text": null, "reactions": null, "files": null}"#,
        )
        .unwrap();
        assert_eq!((m.user.as_str(), m.text.as_str()), ("", ""));
        assert!(m.reactions.is_empty() && m.files.is_empty() && m.thread_ts.is_none());
        let err = serde_json::from_str::<Message>(r#"{"ts": "yesterday"}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"yesterday\" is not a Slack time"),
            "{err}"
        );
    }
}
