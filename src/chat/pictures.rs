//! Pictures: a person's avatar, a channel's or group's picture and the community's logo. An
//! upload is decoded under the media limits, cut to a square and stored as a blob; the row
//! that names it changes in one write. The upload itself is never kept, nor its metadata.

use futures_util::Stream;
use serde_json::json;
use std::sync::Arc;

use super::auth::still_active;
use super::files::Upload;
use super::instance::{self, Settings};
use super::limits::Budget;
use super::{Chat, emit, json as views, managed, writable};
use crate::domain::chat::{Conversation, ConversationId, Kind, MemberRole, UserRef};
use crate::domain::{User, pictures};
use crate::error::{Error, Result};
use crate::media::{self, MediaError};
use crate::store::events::Audience;
use crate::store::pictures::LOGO;
use crate::store::{audit, conversations as convs, memberships, settings, support, users};

/// The side of a stored picture, in pixels: the largest shows 80 CSS pixels wide (a profile),
/// so 256 stays sharp on screens of three device pixels per CSS pixel.
pub const SIDE: u32 = 256;

/// Reads an upload and stores its middle square. Not a picture Hearth shows, too large, or a
/// picture that declares more pixels than may be decoded: a clear error, nothing stored.
async fn square<S, B, E>(chat: &Chat, upload: Upload<S>) -> Result<String>
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let limit = chat.config.max_upload_bytes();
    if upload.declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let received = chat.files.blobs.receive(upload.body, limit).await?;
    if received.size == 0 {
        return Err(Error::invalid("choose a picture to upload"));
    }
    if !media::sniff(&received.head).inline {
        return Err(Error::invalid(
            "a picture must be a JPEG, PNG, GIF or WebP image",
        ));
    }
    let _permit = chat
        .files
        .thumbnail_permit()
        .await
        .ok_or_else(|| Error::Internal("thumbnailers closed".into()))?;
    let thumb =
        tokio::task::spawn_blocking(move || media::square(&received.temp, SIDE).map_err(unusable))
            .await
            .map_err(|e| Error::Internal(e.to_string()))??;
    chat.files.blobs.put(thumb.bytes).await
}

fn unusable(err: MediaError) -> Error {
    match err {
        MediaError::Io(e) => Error::Io(e),
        MediaError::Encode(e) => Error::Internal(format!("cannot encode a picture: {e}")),
        other => Error::invalid(format!("this picture cannot be used: {other}")),
    }
}

fn too_large(limit: u64) -> Error {
    Error::TooLarge(format!(
        "the picture is larger than the limit of {} MB",
        limit / (1024 * 1024)
    ))
}

/// Gives `user` the uploaded picture as their avatar; answers them as they are now.
pub async fn set_avatar<S, B, E>(chat: &Chat, user: &User, upload: Upload<S>) -> Result<User>
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    chat.limits.spend(Budget::Upload, user.id)?;
    let sha256 = square(chat, upload).await?;
    change_avatar(chat, user, Some(sha256)).await
}

/// Takes `user`'s avatar away: their initials show again.
pub async fn remove_avatar(chat: &Chat, user: &User) -> Result<User> {
    change_avatar(chat, user, None).await
}

/// Like a new display name: what is read from now on shows it, and the kept latest pages of
/// their conversations are dropped so that pages read afresh do too.
async fn change_avatar(chat: &Chat, user: &User, sha256: Option<String>) -> Result<User> {
    let (live, me) = (chat.clone(), user.clone());
    let (user, conversations) = chat
        .db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            users::set_avatar(ctx.conn, me.id, sha256.as_deref())?;
            Ok((
                users::get(ctx.conn, me.id)?,
                memberships::conversations_of(ctx.conn, me.id)?,
            ))
        })
        .await?;
    for c in conversations {
        chat.recent.forget(c);
    }
    Ok(user)
}

/// The conversation whose picture `user` may change: a channel or group they own, or any an
/// admin manages. Whoever may rename it may change its picture.
fn pictured(conn: &rusqlite::Connection, user: &User, id: ConversationId) -> Result<Conversation> {
    let (c, role) = managed(conn, user, id)?;
    if role.is_none() && !user.is_admin() {
        return Err(Error::NotFound);
    }
    if support::get(conn, id)?.is_some() {
        return Err(Error::Forbidden(
            "a support conversation has no picture".into(),
        ));
    }
    if c.kind == Kind::Direct {
        return Err(Error::invalid("direct conversations have no picture"));
    }
    if !user.is_admin() && role != Some(MemberRole::Owner) {
        return Err(Error::Forbidden(
            "only owners and admins may change the picture".into(),
        ));
    }
    writable(&c)?;
    Ok(c)
}

/// Gives a channel or group the uploaded picture. Who may not is refused before the upload is
/// read.
pub async fn set_conversation_picture<S, B, E>(
    chat: &Chat,
    user: &User,
    id: ConversationId,
    upload: Upload<S>,
) -> Result<Conversation>
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let me = user.clone();
    chat.db
        .read_short(move |conn| pictured(conn, &me, id).map(drop))
        .await?;
    chat.limits.spend(Budget::Upload, user.id)?;
    let sha256 = square(chat, upload).await?;
    change_picture(chat, user, id, Some(sha256)).await
}

/// Takes a channel's or group's picture away.
pub async fn remove_conversation_picture(
    chat: &Chat,
    user: &User,
    id: ConversationId,
) -> Result<Conversation> {
    change_picture(chat, user, id, None).await
}

/// Members hear `conversation.updated` (with no line in the timeline: a picture is no news).
async fn change_picture(
    chat: &Chat,
    user: &User,
    id: ConversationId,
    sha256: Option<String>,
) -> Result<Conversation> {
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            pictured(ctx.conn, &me, id)?;
            convs::set_picture(ctx.conn, id, sha256.as_deref())?;
            let c = convs::get(ctx.conn, id)?;
            let data = json!({"conversation": views::conversation(&c), "by": UserRef::from(&me)});
            emit(
                ctx,
                &live,
                Audience::Conversation(id),
                "conversation.updated",
                Some(id),
                data,
            )?;
            Ok(c)
        })
        .await
}

/// Makes the uploaded picture the community's logo (admins only; audited).
pub async fn set_logo<S, B, E>(
    chat: &Chat,
    actor: &User,
    upload: Upload<S>,
) -> Result<Arc<Settings>>
where
    S: Stream<Item = std::result::Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    if !actor.is_admin() {
        return Err(Error::NotFound);
    }
    chat.limits.spend(Budget::Upload, actor.id)?;
    let sha256 = square(chat, upload).await?;
    change_logo(chat, actor, Some(sha256)).await
}

/// Takes the logo away: the community's name stands alone again.
pub async fn remove_logo(chat: &Chat, actor: &User) -> Result<Arc<Settings>> {
    if !actor.is_admin() {
        return Err(Error::NotFound);
    }
    change_logo(chat, actor, None).await
}

/// Stored and audited as a setting is (`setting.change` with from and to); the kept settings
/// are replaced once it commits.
async fn change_logo(chat: &Chat, actor: &User, sha256: Option<String>) -> Result<Arc<Settings>> {
    let (live, id, name) = (chat.clone(), actor.id, actor.username.clone());
    let next = chat
        .db
        .write(move |ctx| {
            super::accounts::still_admin(ctx.conn, id)?;
            let before = instance::read(ctx.conn)?;
            if before.logo != sha256 {
                match &sha256 {
                    Some(sha) => settings::put(ctx.conn, LOGO, sha.as_bytes())?,
                    None => settings::delete(ctx.conn, LOGO)?,
                }
                let detail = json!({ "from": before.logo, "to": sha256 }).to_string();
                audit::record_detail(ctx.conn, &name, "setting.change", LOGO, &detail)?;
            }
            let next = Settings {
                logo: sha256,
                ..before
            };
            let (kept, settled) = (live.instance.clone(), next.clone());
            ctx.after_commit(move || kept.set(settled));
            Ok(next)
        })
        .await?;
    Ok(Arc::new(next))
}

/// A stored picture to serve, and the type its bytes are.
pub struct Served {
    /// Where the picture is stored.
    pub path: crate::blobs::Location,
    pub mime: &'static str,
}

/// The picture `sha256` for `user`: someone's avatar, the picture of a conversation they may
/// see, or the logo. Anything else, however well formed, is `NotFound`.
pub async fn open(chat: &Chat, user: &User, sha256: &str) -> Result<Served> {
    if !pictures::is_sha256(sha256) {
        return Err(Error::NotFound);
    }
    let (me, sha) = (user.id, sha256.to_owned());
    let seen = chat
        .db
        .read_short(move |conn| crate::store::pictures::visible_to(conn, me, &sha))
        .await?;
    if !seen {
        return Err(Error::NotFound);
    }
    served(chat, sha256).await
}

/// The community's logo, for anyone (the sign-in page shows it): its SHA-256 and bytes.
pub async fn logo(chat: &Chat) -> Result<(String, Served)> {
    let sha256 = chat.instance().logo.clone().ok_or(Error::NotFound)?;
    let served = served(chat, &sha256).await?;
    Ok((sha256, served))
}

/// The community's logo as an app icon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoIcon {
    pub url: String,
    pub mime: &'static str,
    /// Its side in pixels (at most [`SIDE`]; less when the upload was smaller).
    pub side: u32,
}

/// The logo as an app icon; `None` without a logo, or when its stored square cannot be read
/// (the app then keeps its own icons).
pub async fn logo_icon(chat: &Chat) -> Result<Option<LogoIcon>> {
    let (sha256, served) = match logo(chat).await {
        Ok(found) => found,
        Err(Error::NotFound) => return Ok(None),
        Err(err) => return Err(err),
    };
    let bytes = chat.files.blobs.read_all(&sha256).await?;
    let info = tokio::task::spawn_blocking(move || {
        let mut temp = tempfile::NamedTempFile::new()?;
        std::io::Write::write_all(&mut temp, &bytes)?;
        media::probe(temp.path())
    })
    .await
    .map_err(|e| Error::Internal(format!("probing the logo: {e}")))?;
    Ok(match info {
        Ok(Some(info)) if info.width == info.height => Some(LogoIcon {
            url: pictures::logo_url(&sha256),
            mime: served.mime,
            side: info.width,
        }),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "the stored logo cannot be read as an icon");
            None
        }
    })
}

/// Reads the type from the stored bytes: a square is a JPEG or a PNG, and nothing else is
/// served as a picture.
async fn served(chat: &Chat, sha256: &str) -> Result<Served> {
    let location = chat.files.blobs.location(sha256);
    let Some(opened) = location.open().await? else {
        tracing::warn!(blob = %location.describe(), "a stored picture is missing");
        return Err(Error::NotFound);
    };
    let wanted = opened.len.min(64);
    let mut head = Vec::new();
    if wanted > 0 {
        let mut stream = opened.stream(Some((0, wanted - 1))).await?;
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            head.extend_from_slice(&chunk?);
        }
    }
    let sniffed = media::sniff(&head);
    if !sniffed.inline {
        return Err(Error::NotFound);
    }
    Ok(Served {
        path: location,
        mime: sniffed.mime,
    })
}
