//! How much a conversation may tell a person: its level, and whether it is muted.

use serde::{Deserialize, Serialize};

use super::chat::Kind;
use crate::error::{Error, Result};

/// What in a conversation notifies a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Every message from someone else.
    All,
    /// Only messages that mention them.
    Mentions,
    /// Nothing.
    None,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::All => "all",
            Level::Mentions => "mentions",
            Level::None => "none",
        }
    }

    pub fn parse(raw: &str) -> Result<Level> {
        match raw {
            "all" => Ok(Level::All),
            "mentions" => Ok(Level::Mentions),
            "none" => Ok(Level::None),
            other => Err(Error::invalid(format!(
                "notify must be all, mentions or none, not {other:?}"
            ))),
        }
    }

    /// A new member's level: directs and groups tell of everything, busy channels of mentions.
    pub fn default_for(kind: Kind) -> Level {
        match kind {
            Kind::Channel => Level::Mentions,
            Kind::Group | Kind::Direct => Level::All,
        }
    }

    /// What the settings page calls it.
    pub fn label(self) -> &'static str {
        match self {
            Level::All => "Every message",
            Level::Mentions => "Mentions only",
            Level::None => "Nothing",
        }
    }
}

/// A member's notification settings for one conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Setting {
    pub level: Level,
    /// No unread badge, and nothing but mentions notify.
    pub muted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_read_back_and_refuse_others() {
        for level in [Level::All, Level::Mentions, Level::None] {
            assert_eq!(Level::parse(level.as_str()).unwrap(), level);
        }
        let err = Level::parse("loud").unwrap_err().to_string();
        assert!(err.contains("all, mentions or none"), "{err}");
        assert!(Level::parse("").is_err());
        assert!(Level::parse("All").is_err());
    }

    #[test]
    fn channels_default_to_mentions_others_to_everything() {
        assert_eq!(Level::default_for(Kind::Channel), Level::Mentions);
        assert_eq!(Level::default_for(Kind::Group), Level::All);
        assert_eq!(Level::default_for(Kind::Direct), Level::All);
    }
}
