//! Notifications: each member's level and mute, a person's quiet time, and the notices a new
//! message sends to its members' open pages. Pushes to devices are in [`super::push`].

use serde::Serialize;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::mpsc;

use super::auth::still_active;
use super::{Chat, emit, membership};
use crate::db::WriteCtx;
use crate::domain::chat::{Conversation, ConversationId, Kind, Message, MessageId};
use crate::domain::notify::{Level, Setting};
use crate::domain::{User, UserId, now_ms};
use crate::error::{Error, Result};
use crate::hub::Outgoing;
use crate::notify::{self as decide, Member};
use crate::store::events::Audience;
use crate::store::{conversations as convs, messages, notify as store};

/// New messages waiting for their page notices; past this many, notices are dropped (the
/// messages themselves reach every page as events; only the pop-up is lost).
const QUEUE: usize = 10_000;
/// The longest do-not-disturb: a year.
pub const MAX_QUIET_MS: i64 = 366 * 24 * 3600 * 1000;
/// Characters of a message a page notice carries.
const PAGE_BODY_CHARS: usize = 200;

/// The queue from the writer (after commit) to the task that sends page notices.
pub struct Alerts {
    tx: mpsc::Sender<Alert>,
    rx: Mutex<Option<mpsc::Receiver<Alert>>>,
}

/// What a new message's page notices need, taken in its write from what the write has at
/// hand; the notice itself is made by the task, and only when someone is to be told.
pub struct Alert {
    sender: UserId,
    mentioned: Vec<UserId>,
    message: Message,
    kind: Kind,
    name: String,
}

impl Default for Alerts {
    fn default() -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        Alerts {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

/// A member's notification setting in a conversation they are in.
pub async fn setting(chat: &Chat, user: &User, conversation: ConversationId) -> Result<Setting> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            membership(conn, &me, conversation)?;
            store::setting(conn, conversation, me.id)?.ok_or(Error::NotFound)
        })
        .await
}

/// A change to a setting: what is given changes, the rest stays.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NotifyChange)]
pub struct Change {
    pub level: Option<Level>,
    pub muted: Option<bool>,
}

#[derive(Serialize)]
struct Changed {
    conversation: ConversationId,
    #[serde(flatten)]
    setting: Setting,
}

/// Changes how a conversation notifies `user`; their other pages hear of it.
pub async fn set_setting(
    chat: &Chat,
    user: &User,
    conversation: ConversationId,
    change: Change,
) -> Result<Setting> {
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            membership(ctx.conn, &me, conversation)?;
            let before = store::setting(ctx.conn, conversation, me.id)?.ok_or(Error::NotFound)?;
            let after = Setting {
                level: change.level.unwrap_or(before.level),
                muted: change.muted.unwrap_or(before.muted),
            };
            if after != before {
                store::set_setting(ctx.conn, conversation, me.id, after)?;
                let data = Changed {
                    conversation,
                    setting: after,
                };
                emit(
                    ctx,
                    &live,
                    Audience::User(me.id),
                    "notify.updated",
                    Some(conversation),
                    data,
                )?;
            }
            Ok(after)
        })
        .await
}

/// Until when `user` is not to be disturbed, if they asked (`None` once that time passed).
pub async fn quiet_until(chat: &Chat, user: &User) -> Result<Option<i64>> {
    let me = user.id;
    let until = chat
        .db
        .read(move |conn| store::quiet_until(conn, me))
        .await?;
    Ok(until.filter(|t| *t > now_ms()))
}

/// Asks for quiet until `until` (unix ms, within a year), or ends it with `None`.
pub async fn set_quiet_until(chat: &Chat, user: &User, until: Option<i64>) -> Result<Option<i64>> {
    let now = now_ms();
    if let Some(t) = until {
        if t <= now {
            return Err(Error::invalid("do not disturb must end in the future"));
        }
        if t > now + MAX_QUIET_MS {
            return Err(Error::invalid("do not disturb lasts at most a year"));
        }
    }
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            store::set_quiet_until(ctx.conn, me.id, until)?;
            emit(
                ctx,
                &live,
                Audience::User(me.id),
                "quiet.updated",
                None,
                serde_json::json!({ "until": until }),
            )
        })
        .await?;
    Ok(until)
}

/// Called in the write of a new message: once it commits, its members' pages hear of it, and
/// its pushes and emails are queued in the same write (see [`super::push`] and
/// [`super::email::queue`]).
pub(super) fn after_message(
    ctx: &mut WriteCtx,
    chat: &Chat,
    message: &Message,
    conversation: &Conversation,
    mentioned: &[UserId],
) -> Result<()> {
    if message.notice.is_some() {
        return Ok(());
    }
    super::push::queue(ctx, chat, message)?;
    // Before the early return below: emails matter most when nobody is connected.
    super::email::queue(ctx, chat, message)?;
    if chat.hub.stats().sockets.load(Ordering::Relaxed) == 0 {
        return Ok(());
    }
    let alert = Alert {
        sender: message.sender.id,
        mentioned: mentioned.to_vec(),
        message: message.clone(),
        kind: conversation.kind,
        name: conversation.name.clone(),
    };
    let tx = chat.alerts.tx.clone();
    ctx.after_commit(move || {
        if tx.try_send(alert).is_err() {
            tracing::debug!("page notices are behind; one is skipped");
        }
    });
    Ok(())
}

/// What a notification says, the same on a page and in a push.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub message_id: MessageId,
    pub conversation: ConversationId,
    pub title: String,
    pub body: String,
    /// Where clicking it leads: the conversation, around the message.
    pub url: String,
    /// Notices with the same tag replace each other: one per conversation.
    pub tag: String,
    /// Whether it mentions the person (a page may make a sound for these only).
    pub mention: bool,
}

/// The notice of `message` for a member, its body cut to `chars` characters.
pub fn notice(message: &Message, kind: Kind, name: &str, mention: bool, chars: usize) -> Notice {
    let text = crate::render::plain_text(&message.body);
    let text = match text.trim() {
        "" if !message.attachments.is_empty() => "sent a file".to_string(),
        t => t.to_string(),
    };
    let text = cut(&text, chars);
    let sender = &message.sender.display_name;
    let (title, body) = match kind {
        Kind::Direct => (sender.clone(), text),
        Kind::Channel => (format!("#{name}"), format!("{sender}: {text}")),
        Kind::Group => (name.to_string(), format!("{sender}: {text}")),
    };
    let (c, m) = (message.conversation_id, message.id);
    Notice {
        message_id: m,
        conversation: c,
        title,
        body,
        url: format!("/c/{c}?at={m}#m-{m}"),
        tag: format!("c{c}"),
        mention,
    }
}

/// At most `chars` characters, an ellipsis marking a cut.
pub fn cut(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        None => text.to_string(),
        Some(_) => {
            let keep: String = text.chars().take(chars.saturating_sub(1)).collect();
            let mut cut = keep.trim_end().to_string();
            cut.push('…');
            cut
        }
    }
}

/// The members a message notifies, as the one decision says.
pub async fn audience(
    chat: &Chat,
    message: MessageId,
) -> Result<(Message, Kind, String, Vec<(Member, i64)>)> {
    chat.db
        .read(move |conn| {
            let m = messages::get(conn, message)?;
            let c = convs::get(conn, m.conversation_id)?;
            let now = now_ms();
            let members = store::candidates(conn, message)?
                .into_iter()
                .filter(|(member, _)| decide::notifies(member, m.sender.id, now))
                .collect();
            Ok((m, c.kind, c.name, members))
        })
        .await
}

/// Sends page notices for new messages until the server stops: to each member the message
/// notifies who has a page open (the page shows it when hidden or elsewhere).
pub async fn alert_pages(chat: Chat) {
    let Some(mut rx) = chat.alerts.rx.lock().expect("alerts lock").take() else {
        return;
    };
    while let Some(alert) = rx.recv().await {
        if let Err(err) = alert_one(&chat, alert).await {
            tracing::debug!(error = %err, "no page notice");
        }
    }
}

async fn alert_one(chat: &Chat, alert: Alert) -> Result<()> {
    let (conversation, sender) = (alert.message.conversation_id, alert.sender);
    let mentioned = serde_json::to_string(&alert.mentioned).expect("ids serialize");
    let members = chat
        .db
        .read(move |conn| store::may_notify(conn, conversation, sender, &mentioned))
        .await?;
    let now = now_ms();
    let mut made: Option<Notice> = None;
    for member in members {
        if !decide::notifies(&member, sender, now) || !chat.hub.attention(member.user).connected {
            continue;
        }
        let base = made.get_or_insert_with(|| {
            notice(
                &alert.message,
                alert.kind,
                &alert.name,
                false,
                PAGE_BODY_CHARS,
            )
        });
        let n = Notice {
            mention: member.mentioned,
            ..base.clone()
        };
        let frame = serde_json::json!({"type": "notify", "notice": n}).to_string();
        chat.hub.deliver_to_user(
            member.user,
            &Outgoing {
                seq: 0,
                frame: frame.into(),
            },
        );
    }
    Ok(())
}

/// How long a person is away before pushes reach them, from the config.
pub fn idle(chat: &Chat) -> Duration {
    Duration::from_secs(chat.config.push_idle_secs)
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn cuts_at_characters_with_an_ellipsis() {
        assert_eq!(cut("hello", 5), "hello");
        assert_eq!(cut("hello", 10), "hello");
        assert_eq!(cut("hello world", 6), "hello…");
        assert_eq!(cut("ééééé", 4), "ééé…");
        assert_eq!(cut("", 3), "");
    }
}
