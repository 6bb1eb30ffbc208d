//! Message actions: send (idempotent by client id), edit, delete, react, and reading history.

use std::sync::Arc;

use super::auth::still_active;
use super::limits::Budget;
use super::recent::{self, Latest, Messages};
use super::{Chat, emit, files, json as views, membership, writable};
use crate::db::WriteCtx;
use crate::domain::chat::{self, ConversationId, Message, MessageId};
use crate::domain::files::AttachmentId;
use crate::domain::{User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::fragments;
use crate::render;
use crate::store::events::Audience;
use crate::store::messages::{self as store, Cursor};
use crate::store::{attachments, conversations as convs, memberships, reactions, reads, users};

/// The most distinct emoji one message may carry.
pub const MAX_EMOJI_PER_MESSAGE: i64 = 20;

/// A message to send.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct Draft {
    pub body: String,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub reply_to: Option<MessageId>,
    /// Uploads of the sender to send with it (the body is then their caption, and may be
    /// empty).
    #[serde(default)]
    pub attachments: Vec<AttachmentId>,
}

/// Renders a body, resolving @mentions among the conversation's active members; returns the
/// HTML and who is mentioned. Imports render through here too.
pub(crate) fn render_body(
    ctx: &WriteCtx,
    conversation: ConversationId,
    body: &str,
) -> Result<(String, Vec<UserId>)> {
    let mut mentioned = Vec::new();
    for name in render::mentioned_names(body) {
        if let Ok(user) = users::by_name(ctx.conn, &name)
            && !user.deactivated
            && memberships::role(ctx.conn, conversation, user.id)?.is_some()
        {
            mentioned.push((name, user.id));
        }
    }
    let html = render::body_html(body, &|name: &str| {
        let name = name.to_lowercase();
        mentioned
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, id)| *id)
    });
    Ok((html, mentioned.into_iter().map(|(_, id)| id).collect()))
}

/// Appends a message event with the message JSON and its one shared HTML fragment. Once it
/// commits, the conversation's kept newest messages are forgotten, before the event is out.
pub(super) fn emit_message(
    ctx: &mut WriteCtx,
    chat: &Chat,
    kind: &'static str,
    m: &Message,
) -> Result<i64> {
    let (recent, conversation) = (chat.recent.clone(), m.conversation_id);
    ctx.after_commit(move || recent.forget(conversation));
    #[derive(serde::Serialize)]
    struct Data<'a> {
        message: views::MessageView<'a>,
        html: String,
    }
    let data = Data {
        message: views::MessageView::new(m, None),
        html: fragments::message(m).into_string(),
    };
    emit(
        ctx,
        chat,
        Audience::Conversation(m.conversation_id),
        kind,
        Some(m.conversation_id),
        data,
    )
}

/// Sends a message. A retry with the same `client_id` returns the first message unchanged.
pub async fn send(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    draft: Draft,
) -> Result<Message> {
    send_as(chat, user, conversation, draft, None).await
}

/// [`send`], under the name `posted_as` when given (an incoming webhook's `username`).
pub async fn send_as(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    draft: Draft,
    posted_as: Option<String>,
) -> Result<Message> {
    let body = if draft.body.trim().is_empty() && !draft.attachments.is_empty() {
        String::new()
    } else {
        chat::message_body(&draft.body, chat.config.max_message_chars)?
    };
    let files = file_ids(&draft.attachments)?;
    let client_id = draft
        .client_id
        .as_deref()
        .map(chat::client_id)
        .transpose()?;
    if let Err(limited) = chat.limits.spend(Budget::Message, user.id) {
        // A retry of a message already stored is not a new send: answer it, limit or not.
        if let Some(cid) = client_id.clone() {
            let (me, conversation) = (user.id, conversation);
            let stored = chat
                .db
                .read(move |conn| store::by_client_id(conn, me, &cid))
                .await?;
            if let Some(id) = stored {
                let first = get(chat, user, id).await?;
                if first.conversation_id == conversation {
                    return Ok(first);
                }
            }
        }
        return Err(limited);
    }
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let (c, _) = membership(ctx.conn, &me, conversation)?;
            if let Some(cid) = &client_id
                && let Some(id) = store::by_client_id(ctx.conn, me.id, cid)?
            {
                let first = store::get(ctx.conn, id)?;
                if first.conversation_id == conversation {
                    return Ok(first);
                }
                return Err(Error::Conflict(
                    "client_id already used for another conversation".into(),
                ));
            }
            let new = Outgoing {
                body: &body,
                html: None,
                client_id: client_id.as_deref(),
                reply_to: draft.reply_to,
                attachments: &files,
                posted_as: posted_as.as_deref(),
            };
            write_message(ctx, &live, &me, &c, new)
        })
        .await
}

/// A message about to be written.
pub(super) struct Outgoing<'a> {
    pub body: &'a str,
    /// HTML made by Hearth itself (a report's line, with its link to the reported message);
    /// `None`: the body's markdown.
    pub html: Option<String>,
    pub client_id: Option<&'a str>,
    pub reply_to: Option<MessageId>,
    /// Uploads of the sender, bound to the message in the same write.
    pub attachments: &'a [AttachmentId],
    /// The name a webhook posts it under (`None`: the sender's own).
    pub posted_as: Option<&'a str>,
}

/// The upload ids of a send: at most [`files::MAX_PER_MESSAGE`], each once.
fn file_ids(ids: &[AttachmentId]) -> Result<Vec<AttachmentId>> {
    if ids.len() > files::MAX_PER_MESSAGE {
        return Err(Error::invalid(format!(
            "a message carries at most {} files",
            files::MAX_PER_MESSAGE
        )));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = ids.iter().find(|id| !seen.insert(**id)) {
        return Err(Error::invalid(format!("upload {twice} is listed twice")));
    }
    Ok(ids.to_vec())
}

/// Writes a message of `me` into `c` (a conversation they are a member of) and tells its
/// members: the one way a message is stored, for sends and for reports.
pub(super) fn write_message(
    ctx: &mut WriteCtx,
    chat: &Chat,
    me: &User,
    c: &crate::domain::chat::Conversation,
    new: Outgoing,
) -> Result<Message> {
    let Outgoing {
        body,
        html,
        client_id,
        reply_to,
        attachments: files_sent,
        posted_as,
    } = new;
    writable(c)?;
    let conversation = c.id;
    let pending_since = now_ms() - files::PENDING_MS;
    for id in files_sent {
        if let Some(why) = attachments::unusable(ctx.conn, *id, me.id, pending_since)? {
            return Err(Error::invalid(why));
        }
    }
    if let Some(reply) = reply_to
        && !store::is_message_in(ctx.conn, conversation, reply)?
    {
        return Err(Error::invalid(format!(
            "no message {reply} in this conversation to reply to"
        )));
    }
    let (html, mentioned) = match html {
        Some(html) => (html, Vec::new()),
        None => render_body(ctx, conversation, body)?,
    };
    let now = now_ms();
    let new = store::NewMessage {
        conversation_id: conversation,
        sender_id: me.id,
        body,
        html: &html,
        reply_to,
        client_id,
        posted_as,
        now,
    };
    let id = store::insert(ctx.conn, &new)?;
    attachments::bind(ctx.conn, files_sent, id, conversation)?;
    super::cards::queue(ctx, chat, id, body)?;
    super::outgoing::queue(ctx, chat, me, conversation, id, body, &mentioned)?;
    store::add_mentions(ctx.conn, id, conversation, &mentioned)?;
    convs::touch(ctx.conn, conversation, id, now)?;
    reads::mark_read(ctx.conn, conversation, me.id, id)?;
    let message = store::get_new(ctx.conn, id, !files_sent.is_empty())?;
    emit_message(ctx, chat, "message.created", &message)?;
    super::notify::after_message(ctx, chat, &message, c, &mentioned)?;
    super::support::after_message(ctx, chat, conversation, me.id, now)?;
    Ok(message)
}

/// A message `user` may see (a member of its conversation), with the conversation writable check left to callers.
fn visible_message(ctx: &WriteCtx, user: &User, id: MessageId) -> Result<Message> {
    let message = store::get(ctx.conn, id)?;
    membership(ctx.conn, user, message.conversation_id)?;
    if message.notice.is_some() {
        return Err(Error::invalid(
            "a line about the conversation cannot be edited, deleted or reacted to",
        ));
    }
    Ok(message)
}

/// Edits one's own message.
pub async fn edit(chat: &Chat, user: &User, id: MessageId, body: &str) -> Result<Message> {
    let body = chat::message_body(body, chat.config.max_message_chars)?;
    chat.limits.spend(Budget::Message, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let old = visible_message(ctx, &me, id)?;
            if old.sender.id != me.id {
                return Err(Error::Forbidden(
                    "you can only edit your own messages".into(),
                ));
            }
            if old.deleted {
                return Err(Error::invalid("a deleted message cannot be edited"));
            }
            writable(&convs::get(ctx.conn, old.conversation_id)?)?;
            if old.body == body {
                return Ok(old);
            }
            let (html, mentioned) = render_body(ctx, old.conversation_id, &body)?;
            store::edit(ctx.conn, id, &body, &html, now_ms())?;
            store::set_mentions(ctx.conn, id, old.conversation_id, &mentioned)?;
            let message = store::get(ctx.conn, id)?;
            emit_message(ctx, &live, "message.updated", &message)?;
            Ok(message)
        })
        .await
}

/// Deletes a message: one's own, or any as an admin. The text is gone for everyone.
pub async fn delete(chat: &Chat, user: &User, id: MessageId) -> Result<Message> {
    chat.limits.spend(Budget::Message, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let old = visible_message(ctx, &me, id)?;
            if old.sender.id != me.id && !me.is_admin() {
                return Err(Error::Forbidden(
                    "you can only delete your own messages".into(),
                ));
            }
            if old.deleted {
                return Ok(old);
            }
            writable(&convs::get(ctx.conn, old.conversation_id)?)?;
            store::soft_delete(ctx.conn, id, now_ms())?;
            attachments::mark_deleted(ctx.conn, id, now_ms())?;
            if old.sender.id != me.id {
                let detail = serde_json::json!({
                    "message": id,
                    "conversation": old.conversation_id
                })
                .to_string();
                crate::store::audit::record_detail(
                    ctx.conn,
                    &me.username,
                    "message.delete",
                    &old.sender.username,
                    &detail,
                )?;
            }
            let message = store::get(ctx.conn, id)?;
            emit_message(ctx, &live, "message.deleted", &message)?;
            Ok(message)
        })
        .await
}

/// Adds (`on`) or removes a reaction of `user`.
pub async fn react(
    chat: &Chat,
    user: &User,
    id: MessageId,
    emoji: &str,
    on: bool,
) -> Result<Message> {
    let emoji = chat::emoji(emoji)?;
    chat.limits.spend(Budget::Message, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let message = visible_message(ctx, &me, id)?;
            if message.deleted {
                return Err(Error::invalid("a deleted message cannot be reacted to"));
            }
            writable(&convs::get(ctx.conn, message.conversation_id)?)?;
            let changed = if on {
                if !message.reactions.iter().any(|r| r.emoji == emoji)
                    && reactions::distinct_count(ctx.conn, id)? >= MAX_EMOJI_PER_MESSAGE
                {
                    return Err(Error::invalid(
                        "this message has as many different reactions as it can hold",
                    ));
                }
                reactions::add(ctx.conn, id, &emoji, me.id, now_ms())?
            } else {
                reactions::remove(ctx.conn, id, &emoji, me.id)?
            };
            let message = store::get(ctx.conn, id)?;
            if changed {
                emit_message(ctx, &live, "reaction.changed", &message)?;
            }
            Ok(message)
        })
        .await
}

/// One message, for a member of its conversation, or an admin once someone reported it
/// (`NotFound` for anyone else, and for a line about the conversation, which is no message).
pub async fn get(chat: &Chat, user: &User, id: MessageId) -> Result<Message> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            let message = store::get(conn, id)?;
            if membership(conn, &me, message.conversation_id).is_err()
                && !(me.is_admin() && crate::store::reports::is_reported(conn, id)?)
            {
                return Err(Error::NotFound);
            }
            if message.notice.is_some() {
                return Err(Error::NotFound);
            }
            Ok(message)
        })
        .await
}

/// A page of history for a member. `limit` is 1–100.
pub async fn history(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    cursor: Cursor,
    limit: usize,
) -> Result<(Messages, bool)> {
    if !(1..=100).contains(&limit) {
        return Err(Error::invalid("limit must be between 1 and 100"));
    }
    let me = user.id;
    let member = move |conn: &rusqlite::Connection| match memberships::role(conn, conversation, me)?
    {
        Some(_) => Ok(()),
        None => Err(Error::NotFound),
    };
    // Only the membership check is a short read. A page's cost grows with the reactions on its
    // messages (up to every member, per emoji), so pages are read off the async workers.
    if let Cursor::Latest = cursor {
        if let Some(latest) = chat.recent.get(conversation) {
            chat.db.read_short(member).await?;
            return Ok(latest.newest(limit));
        }
        let stamp = chat.recent.stamp(conversation);
        let latest = chat
            .db
            .read(move |conn| {
                member(conn)?;
                let (messages, has_more) = store::page(conn, conversation, cursor, recent::KEEP)?;
                Ok(Arc::new(Latest { messages, has_more }))
            })
            .await?;
        chat.recent.put(conversation, stamp, latest.clone());
        return Ok(latest.newest(limit));
    }
    chat.db
        .read(move |conn| {
            member(conn)?;
            if let Cursor::Before(id) | Cursor::After(id) = cursor
                && !store::exists_in(conn, conversation, id)?
            {
                return Err(Error::invalid(format!(
                    "no message {id} in this conversation"
                )));
            }
            let (list, has_more) = store::page(conn, conversation, cursor, limit)?;
            Ok((Messages::Owned(list), has_more))
        })
        .await
}

/// A page around one message, for a link to it: up to `limit` messages, the one asked for
/// among them with about as many older ones as newer; (page oldest first, older exist, newer
/// exist). A message not in this conversation, or a conversation the person is not in, is
/// not found.
pub async fn around(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    id: MessageId,
    limit: usize,
) -> Result<(Vec<Message>, bool, bool)> {
    if !(1..=100).contains(&limit) {
        return Err(Error::invalid("limit must be between 1 and 100"));
    }
    let me = user.id;
    chat.db
        .read(move |conn| {
            if memberships::role(conn, conversation, me)?.is_none()
                || !store::exists_in(conn, conversation, id)?
            {
                return Err(Error::NotFound);
            }
            let older_wanted = (limit - 1) / 2;
            let (mut page, has_older) = if older_wanted == 0 {
                let (older, _) = store::page(conn, conversation, Cursor::Before(id), 1)?;
                (Vec::new(), !older.is_empty())
            } else {
                store::page(conn, conversation, Cursor::Before(id), older_wanted)?
            };
            let (newer, has_newer) = store::page(
                conn,
                conversation,
                Cursor::After(id - 1),
                limit - page.len(),
            )?;
            page.extend(newer);
            Ok((page, has_older, has_newer))
        })
        .await
}
