//! The instance's settings an admin changes at runtime: the community's name, the welcome text
//! on the sign-in page, the accent colour, who may create channels and who may invite, and the
//! name of the admin team, and the logo (changed through `chat::pictures`). Stored in `settings`
//! under `instance.*`; read once, then kept in memory and replaced only after a change commits.

use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};

use super::Chat;
use crate::db::Db;
use crate::domain::{User, pictures};
use crate::error::{Error, Result};
use crate::store::pictures::LOGO;
use crate::store::{audit, settings as store};

/// The longest welcome text, in characters.
pub const WELCOME_MAX: usize = 2000;
/// The longest community or team name, in characters.
pub const NAME_MAX: usize = 64;

/// Who may do something that an admin may always do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Who {
    Admins,
    Members,
}

impl Who {
    pub fn as_str(self) -> &'static str {
        match self {
            Who::Admins => "admins",
            Who::Members => "members",
        }
    }

    fn parse(field: &str, raw: &str) -> Result<Who> {
        match raw.trim() {
            "admins" => Ok(Who::Admins),
            "members" => Ok(Who::Members),
            other => Err(Error::invalid(format!(
                "{field} must be \"admins\" or \"members\", not {other:?}"
            ))),
        }
    }

    fn allows(self, user: &User) -> bool {
        user.is_admin() || self == Who::Members
    }
}

/// The settings as they are now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = InstanceSettings)]
pub struct Settings {
    pub community_name: String,
    pub welcome_text: String,
    /// A colour as `#rrggbb`.
    pub accent: String,
    pub channel_creators: Who,
    pub inviters: Who,
    /// What members see the admin team called.
    pub support_name: String,
    /// The logo: kept as the SHA-256 of its square, sent as its URL (`logo_url`), `null`
    /// without one.
    #[serde(rename = "logo_url", serialize_with = "logo_url")]
    pub logo: Option<String>,
}

fn logo_url<S: serde::Serializer>(logo: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match logo {
        Some(sha256) => s.serialize_str(&pictures::logo_url(sha256)),
        None => s.serialize_none(),
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            community_name: "Hearth".into(),
            welcome_text: String::new(),
            accent: "#c2410c".into(),
            channel_creators: Who::Members,
            inviters: Who::Admins,
            support_name: "Admins".into(),
            logo: None,
        }
    }
}

impl Settings {
    pub fn may_create_channels(&self, user: &User) -> bool {
        self.channel_creators.allows(user)
    }

    pub fn may_invite(&self, user: &User) -> bool {
        self.inviters.allows(user)
    }
}

/// A change to some of the settings; fields left `None` stay as they are.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = SettingsChange)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// 1–64 characters, no control characters (surrounding spaces trimmed).
    pub community_name: Option<String>,
    /// Shown on the sign-in page: at most 2000 characters.
    pub welcome_text: Option<String>,
    /// A colour written `#rrggbb`.
    pub accent: Option<String>,
    /// Who may create channels.
    #[schema(value_type = Option<Who>)]
    pub channel_creators: Option<String>,
    /// Who may make invites.
    #[schema(value_type = Option<Who>)]
    pub inviters: Option<String>,
    /// What members see the admin team called: 1–64 characters, no control characters.
    pub support_name: Option<String>,
}

/// The kept copy of the settings, shared by every handle of `Chat`.
#[derive(Default)]
pub struct Kept(RwLock<Arc<Settings>>);

impl Kept {
    /// Reads the stored settings once, at start.
    pub fn load(db: &Db) -> Result<Kept> {
        let settings = db.read_blocking(read)?;
        Ok(Kept(RwLock::new(Arc::new(settings))))
    }

    pub fn get(&self) -> Arc<Settings> {
        self.0.read().expect("settings lock").clone()
    }

    pub(super) fn set(&self, settings: Settings) {
        *self.0.write().expect("settings lock") = Arc::new(settings);
    }
}

const KEYS: [&str; 6] = [
    "instance.community_name",
    "instance.welcome_text",
    "instance.accent",
    "instance.channel_creators",
    "instance.inviters",
    "instance.support_name",
];

/// The stored settings, with defaults for those never set.
pub fn read(conn: &rusqlite::Connection) -> Result<Settings> {
    let mut settings = Settings::default();
    for key in KEYS {
        let Some(raw) = store::get(conn, key)? else {
            continue;
        };
        let value = String::from_utf8_lossy(&raw).into_owned();
        let mut change = Change::default();
        *slot(&mut change, key) = Some(value);
        // A value that no longer passes the rules keeps the default rather than stopping Hearth.
        if let Ok(next) = apply(&settings, &change) {
            settings = next;
        }
    }
    settings.logo = store::get(conn, LOGO)?
        .map(|raw| String::from_utf8_lossy(&raw).into_owned())
        .filter(|sha| pictures::is_sha256(sha));
    Ok(settings)
}

fn slot<'a>(change: &'a mut Change, key: &str) -> &'a mut Option<String> {
    match key {
        "instance.community_name" => &mut change.community_name,
        "instance.welcome_text" => &mut change.welcome_text,
        "instance.accent" => &mut change.accent,
        "instance.channel_creators" => &mut change.channel_creators,
        "instance.inviters" => &mut change.inviters,
        _ => &mut change.support_name,
    }
}

/// `settings` with `change` applied, each value checked; the first bad value is the error.
pub fn apply(settings: &Settings, change: &Change) -> Result<Settings> {
    let mut next = settings.clone();
    if let Some(name) = &change.community_name {
        next.community_name = name_of("community name", name)?;
    }
    if let Some(text) = &change.welcome_text {
        let text = text.trim();
        if text.chars().count() > WELCOME_MAX {
            return Err(Error::invalid(format!(
                "the welcome text must be at most {WELCOME_MAX} characters"
            )));
        }
        next.welcome_text = text.replace("\r\n", "\n");
    }
    if let Some(accent) = &change.accent {
        next.accent = colour(accent)?;
    }
    if let Some(who) = &change.channel_creators {
        next.channel_creators = Who::parse("who may create channels", who)?;
    }
    if let Some(who) = &change.inviters {
        next.inviters = Who::parse("who may invite", who)?;
    }
    if let Some(name) = &change.support_name {
        next.support_name = name_of("the admin team's name", name)?;
    }
    Ok(next)
}

fn name_of(what: &str, raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid(format!("{what} must not be empty")));
    }
    if name.chars().count() > NAME_MAX {
        return Err(Error::invalid(format!(
            "{what} must be at most {NAME_MAX} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "{what} must not hold control characters"
        )));
    }
    Ok(name.to_owned())
}

/// A colour written `#rrggbb` (any letter case), kept in lower case.
fn colour(raw: &str) -> Result<String> {
    let c = raw.trim();
    let hex = c.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid(format!(
            "the accent colour must be written #rrggbb (like #c2410c), not {c:?}"
        )));
    }
    Ok(c.to_ascii_lowercase())
}

/// Changes the settings: each value checked first (a bad one changes nothing), each changed
/// one stored and audited in one write, the kept copy replaced after it commits.
pub async fn change(chat: &Chat, actor: &User, change: Change) -> Result<Arc<Settings>> {
    if !actor.is_admin() {
        return Err(Error::NotFound);
    }
    apply(&chat.instance(), &change)?;
    let (live, id, name) = (chat.clone(), actor.id, actor.username.clone());
    let next = chat
        .db
        .write(move |ctx| {
            super::accounts::still_admin(ctx.conn, id)?;
            let before = read(ctx.conn)?;
            let next = apply(&before, &change)?;
            for (key, old, new) in pairs(&before, &next) {
                if old != new {
                    store::put(ctx.conn, key, new.as_bytes())?;
                    let detail = serde_json::json!({ "from": old, "to": new }).to_string();
                    audit::record_detail(ctx.conn, &name, "setting.change", key, &detail)?;
                }
            }
            let kept = live.instance.clone();
            let settled = next.clone();
            ctx.after_commit(move || kept.set(settled));
            Ok(next)
        })
        .await?;
    Ok(Arc::new(next))
}

/// Each setting as (key, before, after), in text.
fn pairs<'a>(a: &'a Settings, b: &'a Settings) -> [(&'static str, String, String); 6] {
    [
        (KEYS[0], a.community_name.clone(), b.community_name.clone()),
        (KEYS[1], a.welcome_text.clone(), b.welcome_text.clone()),
        (KEYS[2], a.accent.clone(), b.accent.clone()),
        (
            KEYS[3],
            a.channel_creators.as_str().into(),
            b.channel_creators.as_str().into(),
        ),
        (
            KEYS[4],
            a.inviters.as_str().into(),
            b.inviters.as_str().into(),
        ),
        (KEYS[5], a.support_name.clone(), b.support_name.clone()),
    ]
}

#[cfg(test)]
mod tests;
