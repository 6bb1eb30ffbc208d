//! HTML fragments shared by pages and live events: pure maud views of domain values.
//! A message renders to the same bytes for every viewer; per-viewer touches (own
//! messages, own reactions) are applied by data attributes, CSS and the page script.

use maud::{Markup, PreEscaped, html};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::domain::chat::Message;

/// `HH:MM` (UTC) for a message time; the page script shows local time from `data-ms`.
pub fn clock(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(format_description!("[hour]:[minute]")).ok())
        .unwrap_or_default()
}

/// `2026-11-20T09:30:00Z`, for `datetime` attributes.
pub fn iso(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `Friday, 20 November 2026` (UTC), for date separators.
pub fn day(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[weekday], [day padding:none] [month repr:long] [year]"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// The days since the epoch (UTC), to tell when a date separator is due.
pub fn day_number(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

/// One message as the conversation view shows it.
pub fn message(m: &Message) -> Markup {
    html! {
        article.msg id={ "m-" (m.id) } data-id=(m.id) data-sender=(m.sender.id)
            data-ms=(m.created_at) data-deleted[m.deleted] data-edited[m.edited_at.is_some()]
            aria-labelledby={ "m-" (m.id) "-who" } {
            @if let Some(reply) = &m.reply {
                a.msg-reply href={ "#m-" (reply.id) } data-jump=(reply.id) {
                    span.visually-hidden { "In reply to " }
                    strong { (reply.sender.display_name) }
                    " "
                    @if reply.deleted { em { "message deleted" } } @else { span { (reply.excerpt) } }
                }
            }
            header.msg-head {
                span.msg-author id={ "m-" (m.id) "-who" } title={ "@" (m.sender.username) } { (m.sender.display_name) }
                " "
                time.msg-time datetime=(iso(m.created_at)) data-ms=(m.created_at) { (clock(m.created_at)) }
                @if m.edited_at.is_some() && !m.deleted { " " span.msg-edited { "(edited)" } }
            }
            @if m.deleted {
                p.msg-body.msg-gone { em { "message deleted" } }
            } @else {
                // The body was rendered by `render::body_html`: markdown then ammonia.
                div.msg-body data-body=(m.body) { (PreEscaped(&m.html)) }
                @if !m.reactions.is_empty() {
                    div.msg-reactions {
                        @for r in &m.reactions {
                            @let users = r.user_ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                            button.reaction type="button" data-emoji=(r.emoji) data-users=(users)
                                aria-label={ (r.emoji) " " (r.count) } {
                                (r.emoji) " " span.count { (r.count) }
                            }
                        }
                    }
                }
                div.msg-actions role="toolbar" aria-label="Message actions" {
                    button type="button" data-action="reply" aria-label="Reply" title="Reply" { "↩" }
                    button type="button" data-action="react" aria-label="Add reaction" title="Add reaction" { "☺" }
                    button.own-only type="button" data-action="edit" aria-label="Edit" title="Edit" { "✎" }
                    button.own-only type="button" data-action="delete" aria-label="Delete" title="Delete" { "🗑" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{Reaction, UserRef};

    fn sample() -> Message {
        Message {
            id: 7,
            conversation_id: 1,
            sender: UserRef {
                id: 2,
                username: "ada".into(),
                display_name: "Ada <b>L</b>".into(),
            },
            body: "hi <there>".into(),
            html: "<p>hi &lt;there&gt;</p>".into(),
            created_at: 1_763_631_000_000,
            edited_at: Some(1),
            deleted: false,
            reply_to: None,
            reply: None,
            reactions: vec![Reaction {
                emoji: "👍".into(),
                count: 2,
                user_ids: vec![2, 3],
            }],
            client_id: None,
        }
    }

    #[test]
    fn a_message_renders_escaped_names_and_its_safe_body() {
        let html = message(&sample()).into_string();
        assert!(html.contains("Ada &lt;b&gt;L&lt;/b&gt;"), "{html}");
        assert!(html.contains("<p>hi &lt;there&gt;</p>"));
        assert!(html.contains("data-users=\"2,3\""));
        assert!(html.contains("(edited)"));
        assert_eq!(clock(1_763_631_000_000), "09:30");
        assert_eq!(day(1_763_631_000_000), "Thursday, 20 November 2025");
    }

    #[test]
    fn a_deleted_message_shows_nothing_of_its_text() {
        let mut m = sample();
        m.deleted = true;
        m.body.clear();
        m.html.clear();
        let html = message(&m).into_string();
        assert!(html.contains("message deleted") && !html.contains("there"));
        assert!(!html.contains("data-action=\"edit\""));
    }
}
