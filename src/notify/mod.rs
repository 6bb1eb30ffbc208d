//! Who hears about a message, and how: the one decision the page, Web Push and email share.

pub mod webpush;

use std::time::Duration;

use crate::domain::UserId;
use crate::domain::notify::{Level, Setting};

/// Checks a VAPID subject: a `mailto:` with an address, or an `https:` URL with a host.
pub fn subject(raw: &str) -> Result<(), String> {
    if let Some(address) = raw.strip_prefix("mailto:") {
        let ok = address.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.contains('@')
        });
        return match ok && !address.contains(char::is_whitespace) {
            true => Ok(()),
            false => Err(format!("{raw:?} is not a mailto: with an email address")),
        };
    }
    match url::Url::parse(raw) {
        Ok(u) if u.scheme() == "https" && u.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        _ => Err(format!(
            "{raw:?} must be a mailto: address or an https: URL (mailto:admin@example.org)"
        )),
    }
}

/// A member of the conversation a message was written in, as the decision needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub user: UserId,
    pub setting: Setting,
    /// Do not disturb until this time (unix ms).
    pub quiet_until: Option<i64>,
    /// Whether the message mentions them.
    pub mentioned: bool,
}

/// Whether a message from `sender` notifies `member` at `now`: never their own, never while
/// they asked not to be disturbed; then as their level says, a mute leaving only mentions.
pub fn notifies(member: &Member, sender: UserId, now: i64) -> bool {
    if member.user == sender || member.quiet_until.is_some_and(|until| until > now) {
        return false;
    }
    let level = match member.setting {
        Setting {
            muted: true,
            level: Level::All,
        } => Level::Mentions,
        Setting { level, .. } => level,
    };
    match level {
        Level::All => true,
        Level::Mentions => member.mentioned,
        Level::None => false,
    }
}

/// Where a person is, as their open sockets tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attention {
    /// Some socket of theirs is open (a page may show the notification itself).
    pub connected: bool,
    /// Some open page of theirs is in view: they see the message where they are.
    pub looking: bool,
    /// How long since a page of theirs was last in view; `None`: not since the server started.
    pub away_for: Option<Duration>,
}

/// How one person hears about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Tell their open pages, which show a notification when hidden or elsewhere.
    pub page: bool,
    /// Push to their devices after this long (zero: now), if they have not looked by then.
    pub push_after: Option<Duration>,
}

/// The routes a message that notifies a person takes: their open pages at once, and a push once
/// none of their pages has been in view for `idle` (so one who just closed the tab still hears).
pub fn deliver(attention: Attention, idle: Duration) -> Delivery {
    let push_after = match attention {
        Attention { looking: true, .. } => None,
        Attention {
            away_for: Some(away),
            ..
        } => Some(idle.saturating_sub(away)),
        Attention { away_for: None, .. } => Some(Duration::ZERO),
    };
    Delivery {
        page: attention.connected,
        push_after,
    }
}

#[cfg(test)]
mod tests;
