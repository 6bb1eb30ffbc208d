//! Small reads the web pages need that no `chat` action offers (yet).

use rusqlite::Connection;

use super::{memberships, messages};
use crate::domain::UserId;
use crate::domain::chat::{Message, MessageId};
use crate::error::{Error, Result};

/// A message, if `user` is a member of its conversation; `NotFound` otherwise (no existence leak).
pub fn message_for_member(conn: &Connection, user: UserId, id: MessageId) -> Result<Message> {
    let message = messages::get(conn, id)?;
    match memberships::role(conn, message.conversation_id, user)? {
        Some(_) => Ok(message),
        None => Err(Error::NotFound),
    }
}
