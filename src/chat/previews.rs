//! What someone not in a channel sees of it through a link: enough to decide to join.

use super::Chat;
use crate::domain::User;
use crate::domain::chat::{Conversation, ConversationId, Kind, Message, MessageId};
use crate::error::{Error, Result};
use crate::store::messages::{self, Cursor};
use crate::store::{conversations as convs, memberships};

/// A channel as someone not in it sees it.
pub struct Preview {
    pub conversation: Conversation,
    pub member_count: usize,
    /// Its newest messages, oldest first.
    pub messages: Vec<Message>,
}

/// How many of a channel's newest messages its preview shows.
pub const PREVIEW_MESSAGES: usize = 20;

/// A channel's preview for someone not in it, its newest messages or, with `at` (a search
/// result, a link to a message), the ones around that message. A member has nothing to
/// preview (`Ok(None)`); a group or direct one is not in does not exist for them (`NotFound`).
pub async fn preview(
    chat: &Chat,
    user: &User,
    id: ConversationId,
    at: Option<MessageId>,
) -> Result<Option<Preview>> {
    let me = user.id;
    chat.db
        .read(move |conn| {
            let c = convs::get(conn, id)?;
            if memberships::role(conn, id, me)?.is_some() {
                return Ok(None);
            }
            if c.kind != Kind::Channel {
                return Err(Error::NotFound);
            }
            let member_count = memberships::members(conn, id)?.len();
            let messages = match at {
                Some(at) if messages::exists_in(conn, id, at)? => {
                    let half = PREVIEW_MESSAGES / 2;
                    let (mut older, _) = messages::page(conn, id, Cursor::Before(at), half)?;
                    let (newer, _) = messages::page(conn, id, Cursor::After(at - 1), half)?;
                    older.extend(newer);
                    older
                }
                _ => messages::page(conn, id, Cursor::Latest, PREVIEW_MESSAGES)?.0,
            };
            Ok(Some(Preview {
                conversation: c,
                member_count,
                messages,
            }))
        })
        .await
}
