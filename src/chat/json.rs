//! The JSON shapes of the wire contract for messages and conversations.
//!
//! Messages serialize straight from the domain structs through borrowing views (no
//! `serde_json::Value` tree): history pages and event frames are the hot paths.

use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::UserId;
use crate::domain::chat::{
    Conversation, ConversationId, Member, Message, MessageId, Notice, Reaction, ReplyPreview,
    Summary, UserRef,
};
use crate::domain::files::{Attachment, AttachmentId, LinkCard, preview_image_url};

/// A message as the API and events show it. With a viewer, reactions say `me`.
/// A line about the conversation has the same shape, with `notice` set (`null` otherwise).
#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageView<'a> {
    id: MessageId,
    conversation_id: ConversationId,
    sender: &'a UserRef,
    body: &'a str,
    html: &'a str,
    created_at: i64,
    edited_at: Option<i64>,
    deleted: bool,
    reply_to: Option<MessageId>,
    reply: Option<&'a ReplyPreview>,
    reactions: Vec<ReactionView<'a>>,
    client_id: Option<&'a str>,
    /// The name a webhook posted it under; only when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    posted_as: Option<&'a str>,
    notice: Option<&'a Notice>,
    attachments: Vec<AttachmentView<'a>>,
    preview: Option<PreviewView<'a>>,
}

/// A file as a message carries it: `url` downloads it (or shows it, for a safe image),
/// `thumb_url` is its thumbnail (images only).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AttachmentView<'a> {
    id: AttachmentId,
    name: &'a str,
    size: i64,
    mime: &'a str,
    kind: &'a str,
    width: Option<i64>,
    height: Option<i64>,
    url: String,
    thumb_url: Option<String>,
}

impl<'a> AttachmentView<'a> {
    pub fn new(a: &'a Attachment) -> Self {
        AttachmentView {
            id: a.id,
            name: &a.name,
            size: a.size,
            mime: &a.mime,
            kind: &a.kind,
            width: a.width,
            height: a.height,
            url: a.url(),
            thumb_url: a.thumb_url(),
        }
    }
}

/// The card of a message's first link; its image is stored by the server (`image_url`).
#[derive(Serialize, utoipa::ToSchema)]
struct PreviewView<'a> {
    url: &'a str,
    title: &'a str,
    description: &'a str,
    site: &'a str,
    image_url: Option<String>,
    image_width: Option<i64>,
    image_height: Option<i64>,
}

impl<'a> PreviewView<'a> {
    fn new(message: MessageId, card: &'a LinkCard) -> Self {
        PreviewView {
            url: &card.url,
            title: &card.title,
            description: &card.description,
            site: &card.site,
            image_url: card.image.as_ref().map(|_| preview_image_url(message)),
            image_width: card.image.as_ref().map(|p| p.width),
            image_height: card.image.as_ref().map(|p| p.height),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReactionView<'a> {
    emoji: &'a str,
    count: usize,
    user_ids: &'a [UserId],
    #[serde(skip_serializing_if = "Option::is_none")]
    me: Option<bool>,
}

impl<'a> MessageView<'a> {
    pub fn new(m: &'a Message, viewer: Option<UserId>) -> Self {
        let reaction = |r: &'a Reaction| ReactionView {
            emoji: &r.emoji,
            count: r.count,
            user_ids: &r.user_ids,
            me: viewer.map(|me| r.user_ids.contains(&me)),
        };
        MessageView {
            id: m.id,
            conversation_id: m.conversation_id,
            sender: &m.sender,
            body: &m.body,
            html: &m.html,
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted: m.deleted,
            reply_to: m.reply_to,
            reply: m.reply.as_ref(),
            reactions: m.reactions.iter().map(reaction).collect(),
            client_id: m.client_id.as_deref(),
            posted_as: m.posted_as.as_deref(),
            notice: m.notice.as_ref(),
            attachments: m.attachments.iter().map(AttachmentView::new).collect(),
            preview: m.preview.as_ref().map(|c| PreviewView::new(m.id, c)),
        }
    }
}

/// A page of history: `{"messages": [...], "has_more": bool}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryPage<'a> {
    messages: Vec<MessageView<'a>>,
    has_more: bool,
    /// A page `around` a message: newer messages exist (older ones are `has_more`).
    #[serde(skip_serializing_if = "Option::is_none")]
    has_newer: Option<bool>,
}

impl<'a> HistoryPage<'a> {
    pub fn new(messages: &'a [Message], has_more: bool, viewer: Option<UserId>) -> Self {
        HistoryPage {
            messages: messages
                .iter()
                .map(|m| MessageView::new(m, viewer))
                .collect(),
            has_more,
            has_newer: None,
        }
    }

    /// The page is around a message: says whether newer ones exist.
    pub fn with_newer(mut self, has_newer: bool) -> Self {
        self.has_newer = Some(has_newer);
        self
    }

    /// About how many bytes the JSON takes (text grows a little when escaped).
    pub fn size_hint(&self) -> usize {
        let text: usize = self
            .messages
            .iter()
            .map(|m| m.body.len() + m.html.len())
            .sum();
        64 + text + text / 8 + 320 * self.messages.len()
    }
}

/// A conversation as one member's list shows it: the summary with its `title`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SummaryView<'a> {
    #[serde(flatten)]
    summary: &'a Summary,
    /// What to call it: the name, the other person of a direct, or a support title.
    title: &'a str,
}

impl<'a> SummaryView<'a> {
    pub fn new(summary: &'a Summary) -> Self {
        SummaryView {
            summary,
            title: summary.title(),
        }
    }
}

/// A conversation with its members.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ConversationDetail<'a> {
    #[serde(flatten)]
    conversation: &'a Conversation,
    members: &'a [Member],
}

impl<'a> ConversationDetail<'a> {
    pub fn new(conversation: &'a Conversation, members: &'a [Member]) -> Self {
        ConversationDetail {
            conversation,
            members,
        }
    }
}

/// A channel as the channel browser lists it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ChannelEntry<'a> {
    #[serde(flatten)]
    conversation: &'a Conversation,
    member_count: i64,
    /// Whether the viewer is a member.
    joined: bool,
}

impl<'a> ChannelEntry<'a> {
    pub fn new(conversation: &'a Conversation, member_count: i64, joined: bool) -> Self {
        ChannelEntry {
            conversation,
            member_count,
            joined,
        }
    }
}

/// A message as a JSON value, for replies that add fields to it.
pub fn message(m: &Message, viewer: Option<UserId>) -> Value {
    serde_json::to_value(MessageView::new(m, viewer)).expect("a message serializes")
}

pub fn conversation(c: &Conversation) -> Value {
    json!(c)
}

pub fn conversation_with_members(c: &Conversation, members: &[Member]) -> Value {
    json!(ConversationDetail::new(c, members))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Message {
        let alice = UserRef {
            id: 1,
            username: "alice".into(),
            display_name: "Alice".into(),
            avatar: None,
            bot: false,
        };
        Message {
            id: 7,
            conversation_id: 3,
            sender: alice.clone(),
            body: "hi *there*".into(),
            html: "<p>hi <em>there</em></p>".into(),
            created_at: 1_700_000_000_000,
            edited_at: None,
            deleted: false,
            reply_to: Some(5),
            reply: Some(ReplyPreview {
                id: 5,
                sender: alice,
                excerpt: "before".into(),
                deleted: false,
            }),
            reactions: vec![Reaction {
                emoji: "👍".into(),
                count: 2,
                user_ids: vec![1, 2],
            }],
            client_id: Some("c-1".into()),
            notice: None,
            attachments: Vec::new(),
            preview: None,
            posted_as: None,
        }
    }

    #[test]
    fn a_message_has_every_field_of_the_wire_contract() {
        let v = message(&sample(), Some(2));
        assert_eq!(v["id"], 7);
        assert_eq!(v["conversation_id"], 3);
        assert_eq!(v["sender"]["username"], "alice");
        assert_eq!(v["body"], "hi *there*");
        assert_eq!(v["html"], "<p>hi <em>there</em></p>");
        assert_eq!(v["created_at"], 1_700_000_000_000i64);
        assert_eq!(v["edited_at"], Value::Null);
        assert_eq!(v["deleted"], false);
        assert_eq!(v["reply_to"], 5);
        assert_eq!(v["reply"]["excerpt"], "before");
        assert_eq!(v["reply"]["sender"]["id"], 1);
        assert_eq!(v["client_id"], "c-1");
        assert_eq!(
            v["reactions"],
            json!([{"emoji": "👍", "count": 2, "user_ids": [1, 2], "me": true}])
        );
        assert_eq!(v["notice"], Value::Null);
        assert_eq!(v["attachments"], json!([]));
        assert_eq!(v["preview"], Value::Null);
        assert_eq!(v.as_object().unwrap().len(), 15);
    }

    #[test]
    fn files_and_a_link_card_keep_the_contracts_shape() {
        use crate::domain::files::{Attachment, LinkCard, Picture};
        let mut m = sample();
        let thumb = Picture {
            sha256: "ab".repeat(32),
            mime: "image/jpeg".into(),
            width: 720,
            height: 405,
        };
        m.attachments = vec![Attachment {
            id: 12,
            name: "garden photo.jpg".into(),
            size: 505_117,
            mime: "image/jpeg".into(),
            kind: "image".into(),
            width: Some(1600),
            height: Some(900),
            sha256: "cd".repeat(32),
            thumb: Some(thumb.clone()),
        }];
        m.preview = Some(LinkCard {
            url: "https://example.org/a".into(),
            title: "A".into(),
            description: "B".into(),
            site: "Example".into(),
            image: Some(thumb),
        });
        let v = message(&m, None);
        assert_eq!(
            v["attachments"],
            json!([{"id": 12, "name": "garden photo.jpg", "size": 505_117, "mime": "image/jpeg",
                    "kind": "image", "width": 1600, "height": 900,
                    "url": "/files/12/garden%20photo.jpg", "thumb_url": "/thumbs/12"}])
        );
        assert_eq!(
            v["preview"],
            json!({"url": "https://example.org/a", "title": "A", "description": "B",
                   "site": "Example", "image_url": "/previews/7/image",
                   "image_width": 720, "image_height": 405})
        );
    }

    #[test]
    fn a_line_about_the_conversation_is_a_message_with_a_notice() {
        let mut line = sample();
        line.body.clear();
        line.html = "<p>added <strong>Bo</strong></p>".into();
        line.reply_to = None;
        line.reply = None;
        line.reactions.clear();
        line.client_id = None;
        line.notice = Some(Notice::Added {
            user: UserRef {
                id: 2,
                username: "bo".into(),
                display_name: "Bo".into(),
                avatar: None,
                bot: false,
            },
        });
        let v = message(&line, Some(1));
        assert_eq!(
            v["notice"],
            json!({"action": "added", "user": {"id": 2, "username": "bo", "display_name": "Bo", "avatar_url": null}})
        );
        assert_eq!(v["sender"]["username"], "alice", "the sender is who did it");
        assert_eq!(v["body"], "");
        assert_eq!(v.as_object().unwrap().len(), 15);
    }

    #[test]
    fn without_a_viewer_reactions_do_not_say_me() {
        let v = message(&sample(), None);
        assert!(v["reactions"][0].get("me").is_none());
        assert_eq!(message(&sample(), Some(9))["reactions"][0]["me"], false);
    }

    #[test]
    fn a_history_page_is_messages_and_has_more() {
        let list = [sample()];
        let text = serde_json::to_string(&HistoryPage::new(&list, true, Some(1))).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["has_more"], true);
        assert_eq!(v["messages"][0], message(&list[0], Some(1)));
    }
}
