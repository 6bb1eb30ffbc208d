//! Link cards: a message's first http(s) link is queued in the outbox in the same write as the
//! message; a worker reads the page through the one outbound client, stores the card and its
//! image, and tells the conversation with `message.updated`. The author may take a card away.

use linkify::{LinkFinder, LinkKind};

use super::auth::still_active;
use super::messages::emit_message;
use super::{Chat, membership};
use crate::db::WriteCtx;
use crate::domain::chat::{Message, MessageId};
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::store::{link_previews, messages, outbox};

/// The outbox kind of a card job.
pub const JOB: &str = "preview";

/// The first http(s) link of a message body, as written.
pub fn first_link(body: &str) -> Option<&str> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    finder
        .links(body)
        .map(|l| l.as_str())
        .find(|u| u.starts_with("http://") || u.starts_with("https://"))
}

/// Queues the card of a new message's first link, when previews are on (inside its write).
pub(super) fn queue(ctx: &mut WriteCtx, chat: &Chat, message: MessageId, body: &str) -> Result<()> {
    if !chat.config.link_previews {
        return Ok(());
    }
    let Some(url) = first_link(body) else {
        return Ok(());
    };
    let payload = serde_json::json!({"message": message, "url": url}).to_string();
    outbox::enqueue(ctx.conn, JOB, &format!("{JOB}:{message}"), &payload, now_ms())?;
    let wake = chat.files.wake.clone();
    ctx.after_commit(move || wake.notify_one());
    Ok(())
}

/// Takes a message's card away, for good: only its author may.
pub async fn remove(chat: &Chat, user: &User, id: MessageId) -> Result<Message> {
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let message = messages::get(ctx.conn, id)?;
            membership(ctx.conn, &me, message.conversation_id)?;
            if message.notice.is_some() {
                return Err(Error::NotFound);
            }
            if message.sender.id != me.id {
                return Err(Error::Forbidden(
                    "only the author may remove a link preview".into(),
                ));
            }
            let had = message.preview.is_some();
            link_previews::remove(ctx.conn, id, now_ms())?;
            let message = messages::get(ctx.conn, id)?;
            if had {
                emit_message(ctx, &live, "message.updated", &message)?;
            }
            Ok(message)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_web_link_is_the_one_read() {
        assert_eq!(
            first_link("see https://example.org/a?b=1 and http://x.test"),
            Some("https://example.org/a?b=1")
        );
        assert_eq!(first_link("mail me@example.org or ftp://x.test"), None);
        assert_eq!(first_link("(http://example.org/x)."), Some("http://example.org/x"));
        assert_eq!(first_link("no links here"), None);
    }
}
