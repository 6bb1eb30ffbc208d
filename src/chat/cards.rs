//! Link cards: a message's first http(s) link is queued in the outbox in the same write as the
//! message; a worker reads the page through the one outbound client, stores the card and its
//! image, and tells the conversation with `message.updated`. The author may take a card away.

use linkify::{LinkFinder, LinkKind};

use super::auth::still_active;
use super::messages::emit_message;
use super::outbox::Failure;
use super::{Chat, membership};
use crate::db::WriteCtx;
use crate::domain::chat::{Message, MessageId};
use crate::domain::files::{LinkCard, Picture};
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::net;
use crate::store::{link_previews, messages, outbox};

/// A card job is tried this many times before it is given up.
pub(super) const ATTEMPTS: i64 = 3;
/// The longest side of a card's stored image.
const CARD_IMAGE_SIDE: u32 = 320;

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
    outbox::enqueue(
        ctx.conn,
        JOB,
        &format!("{JOB}:{message}"),
        &payload,
        now_ms(),
    )?;
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

#[derive(serde::Deserialize)]
struct CardJob {
    message: MessageId,
    url: String,
}

/// Reads a message's link, stores its card and image, and tells the conversation.
pub(super) async fn run(chat: &Chat, payload: &str) -> std::result::Result<(), Failure> {
    let job: CardJob = serde_json::from_str(payload)
        .map_err(|e| Failure::Permanent(format!("unreadable job: {e}")))?;
    let message = job.message;
    let wanted = chat
        .db
        .read(move |conn| {
            let m = messages::get(conn, message)?;
            Ok(!m.deleted && !link_previews::decided(conn, message)?)
        })
        .await?;
    if !wanted {
        return Ok(());
    }
    let url = url::Url::parse(&job.url).map_err(|e| Failure::Permanent(e.to_string()))?;
    let (card, image) = net::fetch_card(&chat.fetch, &url).await?;
    let image = match image {
        Some(bytes) => store_image(chat, bytes).await,
        None => None,
    };
    let card = LinkCard {
        url: card.url.to_string(),
        title: card.title,
        description: card.description.unwrap_or_default(),
        site: card.site,
        image,
    };
    let live = chat.clone();
    chat.db
        .write(move |ctx| {
            let m = messages::get(ctx.conn, message)?;
            if m.deleted || !link_previews::insert(ctx.conn, message, &card, now_ms())? {
                return Ok(());
            }
            let m = messages::get(ctx.conn, message)?;
            emit_message(ctx, &live, "message.updated", &m)?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// A card's image, checked by its content and stored as a small thumbnail; none when it is
/// not one of the images Hearth shows.
async fn store_image(chat: &Chat, bytes: Vec<u8>) -> Option<Picture> {
    if !crate::media::sniff(&bytes).inline {
        return None;
    }
    let blobs = chat.files.blobs.clone();
    let _permit = chat.files.thumbnail_permit().await?;
    let made = tokio::task::spawn_blocking(move || -> Result<crate::media::Thumb> {
        let mut temp = tempfile::NamedTempFile::new()?;
        std::io::Write::write_all(&mut temp, &bytes)?;
        crate::media::thumbnail(temp.path(), CARD_IMAGE_SIDE)
            .map_err(|e| Error::invalid(e.to_string()))
    })
    .await
    .ok()?;
    let stored = match made {
        Ok(thumb) => blobs.put(thumb.bytes.clone()).await.map(|sha256| Picture {
            sha256,
            mime: thumb.mime.to_owned(),
            width: i64::from(thumb.width),
            height: i64::from(thumb.height),
        }),
        Err(e) => Err(e),
    };
    stored
        .map_err(|e| tracing::debug!(error = %e, "a card's image cannot be shown"))
        .ok()
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
        assert_eq!(
            first_link("(http://example.org/x)."),
            Some("http://example.org/x")
        );
        assert_eq!(first_link("no links here"), None);
    }
}
