//! HTML fragments shared by pages and live events: pure maud views of domain values.
//! A message renders to the same bytes for every viewer; per-viewer touches (own
//! messages, own reactions) are applied by data attributes, CSS and the page script.

use maud::{Markup, PreEscaped, html};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::domain::chat::Message;

/// How many avatar colours the stylesheet defines (`.hue-0` … `.hue-7`).
const HUES: i64 = 8;

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

/// Up to two initials of a name, for the avatar disc.
pub fn initials(name: &str) -> String {
    let mut words = name
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()));
    let first = words.next();
    let last = words.next_back();
    first
        .into_iter()
        .chain(last)
        .flat_map(char::to_uppercase)
        .collect()
}

/// A person's disc: initials on one of a few colours chosen by id (no inline style under the CSP).
pub fn avatar(id: i64, name: &str) -> Markup {
    html! { span.avatar.{ "hue-" (id.rem_euclid(HUES)) } aria-hidden="true" { (initials(name)) } }
}

/// The line that starts a new day in the conversation view.
pub fn day_separator(ms: i64) -> Markup {
    html! {
        div.day-sep role="separator" data-day=(day_number(ms)) data-ms=(ms) {
            span { (day(ms)) }
        }
    }
}

/// One message as the conversation view shows it (and as live events carry it).
pub fn message(m: &Message) -> Markup {
    article(m, false)
}

/// One message, marked as continuing the run of the one before it (same sender, a few
/// minutes apart), so the stylesheet can leave out the repeated name and avatar.
pub fn message_in_run(m: &Message, continued: bool) -> Markup {
    article(m, continued)
}

fn article(m: &Message, continued: bool) -> Markup {
    html! {
        article.msg.cont[continued] id={ "m-" (m.id) } data-id=(m.id) data-sender=(m.sender.id)
            data-ms=(m.created_at) data-deleted[m.deleted] data-edited[m.edited_at.is_some()]
            aria-labelledby={ "m-" (m.id) "-who" } {
            div.msg-gutter { (avatar(m.sender.id, &m.sender.display_name)) }
            div.msg-main {
                @if let Some(reply) = &m.reply {
                    a.msg-reply href={ "/c/" (m.conversation_id) "?at=" (reply.id) "#m-" (reply.id) }
                        data-jump=(reply.id) {
                        span.visually-hidden { "In reply to " }
                        strong { (reply.sender.display_name) }
                        " "
                        @if reply.deleted { em { "message deleted" } } @else { span { (reply.excerpt) } }
                    }
                }
                header.msg-head {
                    a.msg-author id={ "m-" (m.id) "-who" } href={ "/people/" (m.sender.username) }
                        title={ "@" (m.sender.username) } { (m.sender.display_name) }
                    " "
                    a.msg-time href={ "/m/" (m.id) } {
                        // Shown as is without script; the page script writes the reader's local time.
                        time datetime=(iso(m.created_at)) data-ms=(m.created_at) { (clock(m.created_at)) " UTC" }
                    }
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
                                @let label = format!("{} {}, toggle your reaction", r.emoji, r.count);
                                button.reaction type="button" data-emoji=(r.emoji) data-users=(users)
                                    aria-label=(label) {
                                    span.emoji { (r.emoji) } " " span.count { (r.count) }
                                }
                            }
                        }
                    }
                }
            }
            @if !m.deleted {
                div.msg-actions role="toolbar" aria-label="Message actions" {
                    button.js-only type="button" data-action="reply" aria-label="Reply" title="Reply" { "↩" }
                    button.js-only type="button" data-action="react" aria-label="Add reaction" title="Add reaction" { "☺" }
                    button.js-only.own-only type="button" data-action="edit" aria-label="Edit" title="Edit" { "✎" }
                    button.js-only.own-only type="button" data-action="delete" aria-label="Delete" title="Delete" { "🗑" }
                    a.more href={ "/m/" (m.id) } aria-label="More actions" title="More actions" { "⋯" }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::chat::{Reaction, ReplyPreview, UserRef};

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
        assert!(
            html.contains("href=\"/m/7\""),
            "a link to the message's options page: {html}"
        );
        assert!(
            !html.contains("cont"),
            "a lone message is not a continuation"
        );
        assert!(
            html.contains(
                r#"<time datetime="2025-11-20T09:30:00Z" data-ms="1763631000000">09:30 UTC</time>"#
            ),
            "a machine-readable time, readable without script too: {html}"
        );
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

    #[test]
    fn a_reply_links_to_the_original_even_when_it_is_not_on_the_page() {
        let mut m = sample();
        m.reply_to = Some(3);
        m.reply = Some(ReplyPreview {
            id: 3,
            sender: UserRef {
                id: 3,
                username: "bo".into(),
                display_name: "Bo".into(),
            },
            excerpt: "earlier <words>".into(),
            deleted: false,
        });
        let html = message_in_run(&m, true).into_string();
        assert!(
            html.contains(r#"href="/c/1?at=3#m-3" data-jump="3""#),
            "{html}"
        );
        assert!(html.contains("earlier &lt;words&gt;"));
        assert!(html.starts_with(r#"<article class="msg cont""#), "{html}");
    }

    #[test]
    fn avatars_show_initials() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("grace"), "G");
        assert_eq!(initials("Jean-Luc de la Picard"), "JP");
        assert_eq!(initials("  "), "");
        assert!(avatar(11, "Bo").into_string().contains("hue-3"));
    }
}
