//! Plain values of the support inbox: a member's support conversation with the admin team,
//! its state, the admins' internal notes.

use serde::Serialize;

use super::chat::{ConversationId, LastMessage, MessageId, UserRef};
use crate::error::{Error, Result};

/// The longest reason a report may give, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// Whether the admins still have something to do in a support conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Open,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Resolved => "resolved",
        }
    }

    pub fn parse(raw: &str) -> Result<State> {
        match raw.trim() {
            "open" => Ok(State::Open),
            "resolved" => Ok(State::Resolved),
            other => Err(Error::invalid(format!(
                "state must be open or resolved, not {other:?}"
            ))),
        }
    }
}

/// A member's support conversation as the admins track it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Thread {
    pub conversation_id: ConversationId,
    pub member: UserRef,
    pub state: State,
    pub assignee: Option<UserRef>,
    pub updated_at: i64,
}

/// One line of the inbox: a thread with one admin's unread count and the newest message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxEntry {
    #[serde(flatten)]
    pub thread: Thread,
    pub unread: i64,
    pub last_message: Option<LastMessage>,
}

/// Which threads the inbox shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    Open,
    Resolved,
    /// Assigned to the admin looking.
    Mine,
}

impl Filter {
    pub fn parse(raw: &str) -> Result<Filter> {
        match raw.trim() {
            "" | "all" => Ok(Filter::All),
            "open" => Ok(Filter::Open),
            "resolved" => Ok(Filter::Resolved),
            "mine" => Ok(Filter::Mine),
            other => Err(Error::invalid(format!(
                "show must be all, open, resolved or mine, not {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Filter::All => "all",
            Filter::Open => "open",
            Filter::Resolved => "resolved",
            Filter::Mine => "mine",
        }
    }
}

/// A note the admins leave in a support conversation; never a message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Note {
    pub id: i64,
    pub conversation_id: ConversationId,
    pub author: UserRef,
    pub body: String,
    pub html: String,
    pub created_at: i64,
}

/// What marks a conversation in a list as a support conversation, and what to call it there:
/// the admin team's name for its member, the member's name for the admins.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupportTag {
    pub member: UserRef,
    /// The viewer is the member whose conversation it is.
    pub mine: bool,
    pub title: String,
}

/// A report's reason: at most [`MAX_REASON_CHARS`], trimmed; empty is allowed.
pub fn reason(raw: &str) -> Result<String> {
    let reason = raw.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(Error::invalid(format!(
            "a reason is at most {MAX_REASON_CHARS} characters"
        )));
    }
    Ok(reason.to_owned())
}

/// The text of the line a report writes into the reporter's support conversation (its HTML,
/// with the link, is `fragments::report`).
pub fn report_body(message: MessageId, reason: &str) -> String {
    if reason.is_empty() {
        format!("Reported message {message}.")
    } else {
        format!("Reported message {message}. Reason: {reason}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_trimmed_and_at_most_500_characters() {
        assert_eq!(reason("  spam  ").unwrap(), "spam");
        assert_eq!(reason("").unwrap(), "");
        assert!(
            reason(&"é".repeat(MAX_REASON_CHARS)).is_ok(),
            "characters, not bytes"
        );
        assert!(reason(&"x".repeat(MAX_REASON_CHARS + 1)).is_err());
    }

    #[test]
    fn states_and_filters_read_only_their_words() {
        assert_eq!(State::parse("resolved").unwrap(), State::Resolved);
        assert!(State::parse("closed").is_err());
        for f in [Filter::All, Filter::Open, Filter::Resolved, Filter::Mine] {
            assert_eq!(Filter::parse(f.as_str()).unwrap(), f);
        }
        assert_eq!(Filter::parse("").unwrap(), Filter::All);
        assert!(Filter::parse("everything").is_err());
    }

    #[test]
    fn a_report_says_which_message_and_why() {
        assert_eq!(report_body(7, ""), "Reported message 7.");
        assert_eq!(report_body(7, "rude"), "Reported message 7. Reason: rude");
    }
}
