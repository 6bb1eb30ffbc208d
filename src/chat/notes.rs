//! Internal notes of the admins in a support conversation. Stored apart from messages and
//! delivered to each admin alone, so no path that shows messages can show one to the member.

use serde::Serialize;

use super::auth::still_active;
use super::limits::Budget;
use super::support::{admins_of, managed};
use super::{Chat, emit};
use crate::domain::User;
use crate::domain::chat::{self, ConversationId};
use crate::domain::now_ms;
use crate::domain::support::Note;
use crate::error::Result;
use crate::fragments;
use crate::render;
use crate::store::events::Audience;
use crate::store::support as store;

/// The data of a `note.created` event: the note and its HTML fragment.
#[derive(Serialize)]
struct Created<'a> {
    note: &'a Note,
    html: String,
}

/// Leaves a note in a support conversation (admins of it; anyone else finds nothing).
pub async fn add(chat: &Chat, user: &User, id: ConversationId, body: &str) -> Result<Note> {
    let body = chat::message_body(body, chat.config.max_message_chars)?;
    chat.limits.spend(Budget::Message, user.id)?;
    let (live, me) = (chat.clone(), user.clone());
    chat.db
        .write(move |ctx| {
            still_active(ctx.conn, &live.hub, &me)?;
            let thread = managed(ctx.conn, &me, id)?;
            let html = render::body_html(&body, &|_| None);
            let now = now_ms();
            let note = store::insert_note(ctx.conn, id, me.id, &body, &html, now)?;
            store::touch(ctx.conn, id, now)?;
            for admin in admins_of(ctx, id, thread.member.id)? {
                let data = Created {
                    note: &note,
                    html: fragments::note(&note).into_string(),
                };
                emit(
                    ctx,
                    &live,
                    Audience::User(admin),
                    "note.created",
                    Some(id),
                    data,
                )?;
            }
            Ok(note)
        })
        .await
}

/// The notes of a support conversation, oldest first (admins of it; anyone else finds nothing).
pub async fn list(chat: &Chat, user: &User, id: ConversationId) -> Result<Vec<Note>> {
    let me = user.clone();
    chat.db
        .read(move |conn| {
            managed(conn, &me, id)?;
            store::notes(conn, id)
        })
        .await
}
