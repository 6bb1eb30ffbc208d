//! Files: uploads (streamed to disk, sniffed, thumbnailed off the writer), who may download
//! them, a conversation's files, and collecting what no row needs any more.

use futures_util::Stream;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

use super::auth::still_active;
use super::limits::Budget;
use super::{Chat, membership};
use crate::blobs::{Blobs, Location, Received, too_large};
use crate::domain::chat::{ConversationId, MessageId};
use crate::domain::files::{Attachment, AttachmentId, Picture};
use crate::domain::{User, now_ms};
use crate::error::{Error, Result};
use crate::media;
use crate::store::{attachments as store, link_previews, messages};

/// The longest side of a thumbnail: a timeline image is at most 360 CSS pixels wide, so this
/// is sharp on a screen of two device pixels per CSS pixel.
pub const THUMB_SIDE: u32 = 720;
/// The most files one message may carry.
pub const MAX_PER_MESSAGE: usize = 10;
/// How long an upload waits to be sent before it expires.
pub const PENDING_MS: i64 = 24 * 3600 * 1000;
/// How many images are decoded at once, each on a blocking thread (decoding takes memory in
/// proportion to the pixels: the limit bounds it).
const THUMBNAILERS: usize = 2;
/// A blob younger than this is never collected: it may be waiting for the write that
/// records it.
const BLOB_GRACE: Duration = Duration::from_secs(3600);

/// What files need beside the database: where blobs live and the thumbnailers' permits.
#[derive(Clone)]
pub struct Files {
    pub blobs: Blobs,
    thumbnailers: Arc<Semaphore>,
    /// Wakes the outbox worker when a write queues a job.
    pub wake: Arc<tokio::sync::Notify>,
}

impl Files {
    pub fn new(data_dir: &std::path::Path) -> Files {
        Files {
            blobs: Blobs::new(data_dir),
            thumbnailers: Arc::new(Semaphore::new(THUMBNAILERS)),
            wake: Arc::default(),
        }
    }

    /// The same, with blobs where the config puts them (see `Blobs::connect`).
    pub fn with_blobs(mut self, blobs: Blobs) -> Files {
        self.blobs = blobs;
        self
    }
}

impl Files {
    /// A turn at decoding an image; `None` once the server is stopping.
    pub async fn thumbnail_permit(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.thumbnailers.acquire().await.ok()
    }
}

/// An upload as it arrives: the name the client gave, the length it declared, the bytes.
pub struct Upload<S> {
    pub name: String,
    pub declared: Option<u64>,
    pub body: S,
}

/// Stores an upload of `user`, waiting to be sent (it expires after a day). An image is
/// measured and thumbnailed before the answer, so the message that carries it shows at once.
pub async fn upload<S, B, E>(chat: &Chat, user: &User, upload: Upload<S>) -> Result<Attachment>
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let limit = chat.config.max_upload_bytes();
    if upload.declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    chat.limits.spend(Budget::Upload, user.id)?;
    check_quota(chat, user, upload.declared.unwrap_or(0)).await?;
    let name = media::safe_name(&upload.name);
    let received = chat.files.blobs.receive(upload.body, limit).await?;
    if received.size == 0 {
        return Err(Error::invalid("the file is empty"));
    }
    check_quota(chat, user, received.size).await?;
    let sniffed = media::sniff(&received.head);
    let (received, image) = if sniffed.inline {
        let _permit = chat
            .files
            .thumbnailers
            .acquire()
            .await
            .map_err(|_| Error::Internal("thumbnailers closed".into()))?;
        let (received, (width, height, thumb)) = tokio::task::spawn_blocking(move || {
            let measured = measure(&received)?;
            Ok::<_, Error>((received, measured))
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
        let picture = Picture {
            sha256: chat.files.blobs.put(thumb.bytes).await?,
            mime: thumb.mime.to_owned(),
            width: i64::from(thumb.width),
            height: i64::from(thumb.height),
        };
        (received, Some((width, height, picture)))
    } else {
        (received, None)
    };
    let (sha256, size) = (received.sha256.clone(), received.size as i64);
    chat.files.blobs.keep(received).await?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (width, height, thumb) = match &image {
                Some((w, h, thumb)) => (Some(*w), Some(*h), Some(thumb)),
                None => (None, None, None),
            };
            store::insert_upload(
                ctx.conn,
                &store::NewUpload {
                    uploader: me.id,
                    sha256: &sha256,
                    size,
                    mime: sniffed.mime,
                    kind: sniffed.kind.as_str(),
                    name: &name,
                    width,
                    height,
                    thumb,
                    now: now_ms(),
                },
            )
        })
        .await
}

/// An image's displayed size and its thumbnail; a clear error for one that cannot be shown
/// (too large, damaged).
fn measure(received: &Received) -> Result<(i64, i64, media::Thumb)> {
    let cannot = |e: media::MediaError| Error::invalid(format!("this image cannot be shown: {e}"));
    let info = media::probe(&received.temp)
        .map_err(cannot)?
        .ok_or_else(|| Error::invalid("this image cannot be shown: its format is not readable"))?;
    let thumb = media::thumbnail(&received.temp, THUMB_SIDE).map_err(cannot)?;
    Ok((i64::from(info.width), i64::from(info.height), thumb))
}

async fn check_quota(chat: &Chat, user: &User, adding: u64) -> Result<()> {
    let quota = chat.config.upload_quota_mb * 1024 * 1024;
    if quota == 0 {
        return Ok(());
    }
    let me = user.id;
    let used = chat.db.read(move |conn| store::bytes_of(conn, me)).await? as u64;
    if used + adding > quota {
        return Err(Error::TooLarge(format!(
            "this file would take you past your storage quota of {} MB ({} MB used)",
            chat.config.upload_quota_mb,
            used.div_ceil(1024 * 1024)
        )));
    }
    Ok(())
}

/// Which of a file's blobs to serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

/// A file `user` may download: sent into a conversation they are a member of, or their own
/// upload not yet sent. Anything else, a deleted message's file included, is `NotFound`.
pub async fn open(
    chat: &Chat,
    user: &User,
    id: AttachmentId,
    variant: Variant,
) -> Result<(Attachment, Location)> {
    let me = user.clone();
    let attachment = chat
        .db
        .read_short(move |conn| {
            let (attachment, access) = store::access(conn, id)?.ok_or(Error::NotFound)?;
            if access.deleted {
                return Err(Error::NotFound);
            }
            match access.conversation {
                Some(c) => {
                    membership(conn, &me, c)?;
                }
                None if access.uploader == me.id => {}
                None => return Err(Error::NotFound),
            }
            Ok(attachment)
        })
        .await?;
    let sha256 = match variant {
        Variant::Original => attachment.sha256.clone(),
        Variant::Thumbnail => attachment
            .thumb
            .as_ref()
            .ok_or(Error::NotFound)?
            .sha256
            .clone(),
    };
    Ok((attachment, chat.files.blobs.location(&sha256)))
}

/// The stored image of a message's link card, for a member of its conversation.
pub async fn preview_image(
    chat: &Chat,
    user: &User,
    message: MessageId,
) -> Result<(Picture, Location)> {
    let me = user.clone();
    let picture = chat
        .db
        .read_short(move |conn| {
            let m = messages::get(conn, message)?;
            membership(conn, &me, m.conversation_id)?;
            link_previews::image(conn, message)?.ok_or(Error::NotFound)
        })
        .await?;
    let location = chat.files.blobs.location(&picture.sha256);
    Ok((picture, location))
}

/// A file in a conversation's list: who sent it, when, in which message.
#[derive(Debug, Clone)]
pub struct Shared {
    pub attachment: Attachment,
    pub message: MessageId,
    pub at: i64,
    pub by: String,
}

/// A page of a conversation's files, newest first, and the cursor of the next page.
pub async fn list(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    images_only: bool,
    before: Option<AttachmentId>,
    limit: usize,
) -> Result<(Vec<Shared>, Option<AttachmentId>)> {
    if !(1..=100).contains(&limit) {
        return Err(Error::invalid("limit must be between 1 and 100"));
    }
    let me = user.clone();
    chat.db
        .read(move |conn| {
            membership(conn, &me, conversation)?;
            let mut rows =
                store::of_conversation(conn, conversation, images_only, before, limit + 1)?;
            let more = rows.len() > limit;
            rows.truncate(limit);
            let next = more.then(|| rows.last().map(|r| r.0.id)).flatten();
            let shared = rows
                .into_iter()
                .map(|(attachment, message, at, by)| Shared {
                    attachment,
                    message,
                    at,
                    by,
                })
                .collect();
            Ok((shared, next))
        })
        .await
}

/// Takes away what no one needs: uploads never sent within a day, the files of messages
/// deleted longer ago than the retention time, then every blob no row names. Answers (rows,
/// blobs, bytes) removed.
pub async fn collect(chat: &Chat) -> Result<(usize, usize, u64)> {
    collect_with(chat, BLOB_GRACE).await
}

/// The same, sparing only blobs younger than `grace` (tests: object storage cannot be aged).
pub async fn collect_with(chat: &Chat, grace: Duration) -> Result<(usize, usize, u64)> {
    let now = now_ms();
    let keep_ms = i64::from(chat.config.deleted_files_keep_days) * 24 * 3600 * 1000;
    let rows = chat
        .db
        .write(move |ctx| store::collect_rows(ctx.conn, now - PENDING_MS, now - keep_ms))
        .await?;
    let blobs = chat.files.blobs.clone();
    let (removed, freed) = if blobs.is_remote() {
        collect_remote(chat, &blobs, grace).await?
    } else {
        chat.db
            .read(move |conn| blobs.collect(grace, |sha| store::blob_in_use(conn, sha)))
            .await?
    };
    if rows + removed > 0 {
        tracing::info!(
            rows,
            blobs = removed,
            bytes = freed,
            "collected unused files"
        );
    }
    Ok((rows, removed, freed))
}

/// Collects a bucket: lists what is old enough, asks the rows in one read, deletes the rest.
/// A blob that cannot be deleted now is tried again next time.
async fn collect_remote(chat: &Chat, blobs: &Blobs, grace: Duration) -> Result<(usize, u64)> {
    let candidates = blobs.remote_candidates(grace).await?;
    let unused = chat
        .db
        .read(move |conn| {
            let mut unused = Vec::new();
            for blob in candidates {
                if !store::blob_in_use(conn, &blob.sha256)? {
                    unused.push(blob);
                }
            }
            Ok(unused)
        })
        .await?;
    let (mut removed, mut freed) = (0, 0);
    for blob in unused {
        match blobs.delete(&blob.sha256).await {
            Ok(()) => {
                removed += 1;
                freed += blob.size;
            }
            Err(e) => {
                tracing::warn!(blob = %blob.sha256, error = %e, "an unused blob could not be removed")
            }
        }
    }
    Ok((removed, freed))
}
