//! Conversations, memberships, messages and reactions as plain values, with their validation.

use serde::{Deserialize, Serialize};

use super::{User, UserId};
use crate::error::{Error, Result};

pub type ConversationId = i64;
pub type MessageId = i64;

/// What kind of place a conversation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Open: every member of the instance may find and join it.
    Channel,
    /// Private: owners add members; anyone may leave.
    Group,
    /// Exactly two people, one per pair.
    Direct,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::Group => "group",
            Kind::Direct => "direct",
        }
    }

    pub fn parse(raw: &str) -> Result<Kind> {
        match raw {
            "channel" => Ok(Kind::Channel),
            "group" => Ok(Kind::Group),
            "direct" => Ok(Kind::Direct),
            other => Err(Error::invalid(format!(
                "kind must be channel or group, not {other:?}"
            ))),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: Kind,
    pub name: String,
    pub topic: String,
    pub archived: bool,
    pub created_at: i64,
    pub last_message_id: MessageId,
    pub last_activity_at: i64,
    /// Its picture's SHA-256; travels as `picture_url`.
    #[serde(
        rename = "picture_url",
        serialize_with = "super::pictures::as_url::serialize"
    )]
    pub picture: Option<String>,
}

/// A person as shown beside what they did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UserRef {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// Their picture's SHA-256; travels as `avatar_url`.
    #[serde(rename = "avatar_url", with = "super::pictures::as_url", default)]
    pub avatar: Option<String>,
    /// A bot account (acts through tokens and hooks); travels only when true.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

impl From<&User> for UserRef {
    fn from(u: &User) -> Self {
        UserRef {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            avatar: u.avatar.clone(),
            bot: u.bot,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    Owner,
    Member,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Member {
    #[serde(flatten)]
    pub user: UserRef,
    pub role: MemberRole,
    pub last_read_message_id: MessageId,
}

/// What a reply shows of the message it answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReplyPreview {
    pub id: MessageId,
    pub sender: UserRef,
    /// The first characters of the body; empty when that message was deleted.
    pub excerpt: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Reaction {
    pub emoji: String,
    pub count: usize,
    pub user_ids: Vec<UserId>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    pub sender: UserRef,
    pub body: String,
    /// The body as safe HTML.
    pub html: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted: bool,
    pub reply_to: Option<MessageId>,
    pub reply: Option<ReplyPreview>,
    pub reactions: Vec<Reaction>,
    pub client_id: Option<String>,
    /// The name an incoming webhook posted it under (its `username`), shown instead of the
    /// sender's; travels only when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posted_as: Option<String>,
    /// Set when this is a line about the conversation, not something someone wrote.
    pub notice: Option<Notice>,
    /// The files sent with it, in the order they were given.
    #[serde(skip)]
    pub attachments: Vec<super::files::Attachment>,
    /// The card of its first link, once the server has read it.
    #[serde(skip)]
    pub preview: Option<super::files::LinkCard>,
}

/// A line in a conversation's timeline about the conversation itself: who came, who went,
/// what changed. It is kept among the messages (ordered and paged with them) and its `sender`
/// is the person who did it. Serialized with its `action` as the tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Notice {
    /// `user` joined a channel (or was put into `general` with a new account).
    Joined { user: UserRef },
    /// `user` was added by the sender.
    Added { user: UserRef },
    /// `user` left.
    Left { user: UserRef },
    /// `user` was removed by the sender.
    Removed { user: UserRef },
    /// `user`, an admin, joined this private group through the admin console (audited).
    #[serde(rename = "admin_joined")]
    AdminJoined { user: UserRef },
    /// The sender changed the conversation; only what changed is present.
    Updated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The name before, when `name` is present.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        old_name: Option<String>,
        /// The new topic (`""`: cleared).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        archived: Option<bool>,
    },
}

impl Notice {
    /// The `action` it is tagged with.
    pub fn action(&self) -> &'static str {
        match self {
            Notice::Joined { .. } => "joined",
            Notice::Added { .. } => "added",
            Notice::Left { .. } => "left",
            Notice::Removed { .. } => "removed",
            Notice::AdminJoined { .. } => "admin_joined",
            Notice::Updated { .. } => "updated",
        }
    }

    /// The notice as it is kept among the messages: its person without their picture, which
    /// they may change or remove long after (a kept URL would name a picture that is gone).
    pub fn to_store(&self) -> Notice {
        let mut kept = self.clone();
        match &mut kept {
            Notice::Joined { user }
            | Notice::Added { user }
            | Notice::Left { user }
            | Notice::Removed { user }
            | Notice::AdminJoined { user } => user.avatar = None,
            Notice::Updated { .. } => {}
        }
        kept
    }
}

#[cfg(test)]
impl Message {
    /// A plain message for unit tests: body `message {id}`, sent at `created_at` = `id`.
    pub fn sample(id: MessageId, conversation_id: ConversationId, sender: UserRef) -> Message {
        Message {
            id,
            conversation_id,
            sender,
            body: format!("message {id}"),
            html: format!("<p>message {id}</p>"),
            created_at: id,
            edited_at: None,
            deleted: false,
            reply_to: None,
            reply: None,
            reactions: Vec::new(),
            client_id: None,
            notice: None,
            attachments: Vec::new(),
            preview: None,
            posted_as: None,
        }
    }
}

/// A conversation as one member sees it in their list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Summary {
    #[serde(flatten)]
    pub conversation: Conversation,
    pub role: MemberRole,
    pub unread: i64,
    pub mentions: i64,
    /// The newest message this member has read (0: none).
    pub last_read_message_id: MessageId,
    /// Messages up to this one never count as unread: a channel's history when they joined.
    pub unread_after_message_id: MessageId,
    /// For a direct: the other person.
    pub other: Option<UserRef>,
    pub last_message: Option<LastMessage>,
    /// Set when this is a member's support conversation.
    pub support: Option<super::support::SupportTag>,
    /// How the conversation notifies this member.
    pub notify: super::notify::Setting,
}

/// The newest message of a conversation, as a one-line preview.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastMessage {
    pub id: MessageId,
    pub sender: UserRef,
    pub excerpt: String,
    pub created_at: i64,
}

impl Summary {
    /// Where unread begins: messages after this one (from others, not deleted) are unread.
    pub fn read_position(&self) -> MessageId {
        self.last_read_message_id.max(self.unread_after_message_id)
    }

    /// What to call the conversation in lists: a direct is named after the other person.
    pub fn title(&self) -> &str {
        if let Some(support) = &self.support {
            return &support.title;
        }
        match (&self.other, self.conversation.kind) {
            (Some(other), Kind::Direct) => &other.display_name,
            _ => &self.conversation.name,
        }
    }
}

/// A conversation name: 1–80 characters, no control characters.
pub fn conversation_name(raw: &str) -> Result<String> {
    let name = raw.trim().trim_start_matches('#').trim();
    if name.is_empty() {
        return Err(Error::invalid("name must not be empty"));
    }
    if name.chars().count() > 80 {
        return Err(Error::invalid("name must be at most 80 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid("name must not hold control characters"));
    }
    Ok(name.to_owned())
}

/// A topic: up to 250 characters, no control characters.
pub fn topic(raw: &str) -> Result<String> {
    let topic = raw.trim();
    if topic.chars().count() > 250 {
        return Err(Error::invalid("topic must be at most 250 characters"));
    }
    if topic.chars().any(char::is_control) {
        return Err(Error::invalid("topic must not hold control characters"));
    }
    Ok(topic.to_owned())
}

/// A message body: not blank, at most `max_chars` characters; trailing white space trimmed.
pub fn message_body(raw: &str, max_chars: usize) -> Result<String> {
    let body = raw.trim_end();
    if body.trim().is_empty() {
        return Err(Error::invalid("message must not be empty"));
    }
    let len = body.chars().count();
    if len > max_chars {
        return Err(Error::invalid(format!(
            "message is {len} characters; the limit is {max_chars}"
        )));
    }
    if body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(Error::invalid("message must not hold control characters"));
    }
    Ok(body.replace("\r\n", "\n"))
}

/// A client-chosen id for idempotent sends: 1–64 visible ASCII characters.
pub fn client_id(raw: &str) -> Result<String> {
    if raw.is_empty() || raw.len() > 64 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(
            "client_id must be 1–64 visible ASCII characters",
        ));
    }
    Ok(raw.to_owned())
}

/// A reaction must be exactly one emoji (one grapheme that is pictographic).
pub fn emoji(raw: &str) -> Result<String> {
    let e = raw.trim();
    let ok = !e.is_empty()
        && e.len() <= 32
        && unicode_segmentation::UnicodeSegmentation::graphemes(e, true).count() == 1
        && e.chars().any(is_pictographic);
    if !ok {
        return Err(Error::invalid("a reaction must be a single emoji"));
    }
    Ok(e.to_owned())
}

fn is_pictographic(c: char) -> bool {
    matches!(c as u32,
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2300..=0x23FF | 0x2B00..=0x2BFF
        | 0x2190..=0x21FF | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x00A9 | 0x00AE | 0x203C
        | 0x2049 | 0x2122 | 0x2139 | 0x24C2 | 0x25AA..=0x25FE | 0x2934 | 0x2935)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked() {
        assert!(message_body("", 10).is_err());
        assert!(message_body(" \n\t ", 10).is_err());
        assert_eq!(message_body("hi  \n", 10).unwrap(), "hi");
        assert!(message_body(&"x".repeat(11), 10).is_err());
        assert!(message_body("bell\u{7}", 10).is_err());
        assert_eq!(message_body("a\r\nb", 10).unwrap(), "a\nb");
    }

    #[test]
    fn reactions_are_single_emoji() {
        for ok in ["👍", "❤️", "👨‍👩‍👧", "🇳🇱", "👍🏽", "✅"] {
            assert!(emoji(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "👍👍", ":+1:", "ab", "1", "<script>"] {
            assert!(emoji(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_and_client_ids_are_checked() {
        assert_eq!(conversation_name(" #general ").unwrap(), "general");
        assert!(conversation_name("  ").is_err());
        assert!(conversation_name(&"x".repeat(81)).is_err());
        assert!(client_id("abc-123").is_ok());
        assert!(client_id("has space").is_err());
        assert!(client_id(&"x".repeat(65)).is_err());
    }
}
