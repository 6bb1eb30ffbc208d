//! HTML fragments shared by pages and live events: pure maud views of domain values.
//! A message renders to the same bytes for every viewer; per-viewer touches (own
//! messages, own reactions) are applied by data attributes, CSS and the page script.
//! A line about the conversation ("Bob added Ada") is a row of the timeline too, and
//! renders through the same entry points.

use maud::{Markup, PreEscaped, html};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::domain::chat::{Message, Notice};
use crate::domain::pictures;

mod files;
pub use files::{attachment, human_size, link_card};

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

/// A person's disc: their picture when they have one, else initials on one of a few colours
/// chosen by id (no inline style under the CSP). Either way their name is written beside it,
/// so the disc itself says nothing to a screen reader.
pub fn avatar(id: i64, name: &str, picture: Option<&str>) -> Markup {
    match picture {
        Some(sha256) => html! {
            img.avatar src=(pictures::url(sha256)) alt="" width="36" height="36" loading="lazy";
        },
        None => html! {
            span.avatar.{ "hue-" (id.rem_euclid(HUES)) } aria-hidden="true" { (initials(name)) }
        },
    }
}

/// A channel's or group's picture, in the place of its sign (`#`, the lock); the name beside it
/// says what it is.
pub fn conversation_picture(sha256: &str) -> Markup {
    html! { img.conv-picture src=(pictures::url(sha256)) alt="" width="24" height="24"; }
}

/// The line that starts a new day in the conversation view.
pub fn day_separator(ms: i64) -> Markup {
    html! {
        div.day-sep role="separator" data-day=(day_number(ms)) data-ms=(ms) {
            span { (day(ms)) }
        }
    }
}

/// One message (or line about the conversation) as the conversation view shows it, and as
/// live events carry it.
pub fn message(m: &Message) -> Markup {
    message_in_run(m, false)
}

/// One message, marked as continuing the run of the one before it (same sender, a few
/// minutes apart), so the stylesheet can leave out the repeated name and avatar.
/// A line about the conversation is never part of a run.
pub fn message_in_run(m: &Message, continued: bool) -> Markup {
    match &m.notice {
        Some(notice) => notice_line(m, notice),
        None => article(m, continued),
    }
}

/// A line about the conversation: who did what, and when. No actions: it is not a message.
fn notice_line(m: &Message, notice: &Notice) -> Markup {
    html! {
        div.notice id={ "m-" (m.id) } data-id=(m.id) data-sender=(m.sender.id) data-ms=(m.created_at)
            data-notice=(notice.action()) {
            p.notice-text {
                a.notice-who href={ "/people/" (m.sender.username) } title={ "@" (m.sender.username) } {
                    (m.sender.display_name)
                }
                " " (notice_words(notice)) " "
                time.notice-time datetime=(iso(m.created_at)) data-ms=(m.created_at) { (clock(m.created_at)) }
            }
        }
    }
}

/// What a line says after the name of the person who did it: "added **Ada Lovelace**".
pub fn notice_words(notice: &Notice) -> Markup {
    match notice {
        Notice::Joined { .. } => html! { "joined" },
        Notice::AdminJoined { .. } => html! { "joined as an admin (recorded in the audit log)" },
        Notice::Left { .. } => html! { "left" },
        Notice::Added { user } => html! { "added " strong { (user.display_name) } },
        Notice::Removed { user } => html! { "removed " strong { (user.display_name) } },
        Notice::Updated {
            name,
            old_name,
            topic,
            archived,
        } => {
            let mut parts = Vec::new();
            if let Some(name) = name {
                parts.push(match old_name {
                    Some(old) => html! { "renamed " strong { (old) } " to " strong { (name) } },
                    None => html! { "renamed the conversation to " strong { (name) } },
                });
            }
            match topic.as_deref() {
                Some("") => parts.push(html! { "cleared the topic" }),
                Some(topic) => parts.push(html! { "set the topic to " q { (topic) } }),
                None => {}
            }
            match archived {
                Some(true) => parts.push(html! { "archived the conversation" }),
                Some(false) => parts.push(html! { "unarchived the conversation" }),
                None => {}
            }
            if parts.is_empty() {
                return html! { "changed the conversation" };
            }
            let last = parts.len() - 1;
            html! {
                @for (i, part) in parts.into_iter().enumerate() {
                    @if i > 0 && i == last { " and " } @else if i > 0 { ", " }
                    (part)
                }
            }
        }
    }
}

fn article(m: &Message, continued: bool) -> Markup {
    html! {
        article.msg.cont[continued] id={ "m-" (m.id) } data-id=(m.id) data-sender=(m.sender.id)
            data-as=[m.posted_as.as_deref()]
            data-ms=(m.created_at) data-deleted[m.deleted] data-edited[m.edited_at.is_some()]
            aria-labelledby={ "m-" (m.id) "-who" } {
            div.msg-gutter { (avatar(m.sender.id, &m.sender.display_name, m.sender.avatar.as_deref())) }
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
                        title={ "@" (m.sender.username) } {
                        (m.posted_as.as_deref().unwrap_or(&m.sender.display_name))
                    }
                    @if m.sender.bot { " " span.bot-badge title="A bot: it acts through a token or a webhook" { "bot" } }
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
                    @if !m.attachments.is_empty() {
                        div.msg-files {
                            @for a in &m.attachments { (attachment(a)) }
                        }
                    }
                    @if let Some(card) = &m.preview { (link_card(m.id, card)) }
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
                    a.js-only href={ "/c/" (m.conversation_id) "?at=" (m.id) "#m-" (m.id) } data-action="link"
                        aria-label="Copy link to message" title="Copy link to message" { "🔗" }
                    button.js-only.own-only type="button" data-action="edit" aria-label="Edit" title="Edit" { "✎" }
                    button.js-only.own-only type="button" data-action="delete" aria-label="Delete" title="Delete" { "🗑" }
                    a.others-only href={ "/m/" (m.id) "#report" } aria-label="Report" title="Report to the admins" { "⚑" }
                    a.more href={ "/m/" (m.id) } aria-label="More actions" title="More actions" { "⋯" }
                }
            }
        }
    }
}

/// The body of a report's line in the reporter's support conversation: a link to the
/// reported message and the reason, as Hearth writes it (the reason is text, escaped).
pub fn report(message: i64, reason: &str) -> Markup {
    html! {
        p { "Reported " a href={ "/m/" (message) } { "message " (message) } "." }
        @if !reason.is_empty() { p { "Reason: " (reason) } }
    }
}

/// An internal note of the admins in a support conversation: clearly not a message, and
/// shown to the admins alone.
pub fn note(n: &crate::domain::support::Note) -> Markup {
    html! {
        article.note id={ "note-" (n.id) } data-id=(n.id) data-ms=(n.created_at)
            aria-labelledby={ "note-" (n.id) "-who" } {
            header.note-head {
                span.tag { "Internal note" }
                " "
                a.note-author id={ "note-" (n.id) "-who" } href={ "/people/" (n.author.username) } {
                    (n.author.display_name)
                }
                " "
                time datetime=(iso(n.created_at)) data-ms=(n.created_at) { (clock(n.created_at)) " UTC" }
            }
            // The body was rendered by `render::body_html`: markdown then ammonia.
            div.note-body { (PreEscaped(&n.html)) }
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
                avatar: None,
                bot: false,
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
            notice: None,
            attachments: Vec::new(),
            preview: None,
            posted_as: None,
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
                avatar: None,
                bot: false,
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

    fn line(notice: Notice) -> Message {
        let bob = UserRef {
            id: 3,
            username: "bob".into(),
            display_name: "Bob <i>K</i>".into(),
            avatar: None,
            bot: false,
        };
        Message {
            created_at: 1_763_631_000_000,
            notice: Some(notice),
            body: String::new(),
            html: String::new(),
            ..Message::sample(12, 1, bob)
        }
    }

    fn text(markup: Markup) -> String {
        let html = markup.into_string();
        let mut out = String::new();
        let mut in_tag = false;
        for c in html.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn a_line_about_the_conversation_says_who_did_what_without_message_actions() {
        let ada = UserRef {
            id: 2,
            username: "ada".into(),
            display_name: "Ada <b>L</b>".into(),
            avatar: None,
            bot: false,
        };
        let html = message(&line(Notice::Added { user: ada.clone() })).into_string();
        assert!(
            html.starts_with(
                r#"<div class="notice" id="m-12" data-id="12" data-sender="3" data-ms="1763631000000" data-notice="added">"#
            ),
            "{html}"
        );
        assert!(
            html.contains(
                "Bob &lt;i&gt;K&lt;/i&gt;</a> added <strong>Ada &lt;b&gt;L&lt;/b&gt;</strong>"
            ),
            "{html}"
        );
        assert!(html.contains(r#"<time class="notice-time" datetime="2025-11-20T09:30:00Z" data-ms="1763631000000">09:30</time>"#), "{html}");
        assert!(
            !html.contains("<article") && !html.contains("data-action"),
            "{html}"
        );
        assert!(
            !html.contains("/m/12"),
            "a line has no message page: {html}"
        );
        // In a run or not, a line is a line.
        assert_eq!(
            message_in_run(&line(Notice::Left { user: ada.clone() }), true).into_string(),
            message(&line(Notice::Left { user: ada })).into_string()
        );
    }

    #[test]
    fn each_kind_of_line_reads_as_a_sentence() {
        let cat = UserRef {
            id: 4,
            username: "cat".into(),
            display_name: "Cat".into(),
            avatar: None,
            bot: false,
        };
        let words = |n: Notice| text(notice_words(&n));
        assert_eq!(words(Notice::Joined { user: cat.clone() }), "joined");
        assert_eq!(words(Notice::Left { user: cat.clone() }), "left");
        assert_eq!(words(Notice::Removed { user: cat }), "removed Cat");
        let updated =
            |name: Option<&str>, topic: Option<&str>, archived: Option<bool>| Notice::Updated {
                name: name.map(str::to_owned),
                old_name: name.map(|_| "old <one>".to_owned()),
                topic: topic.map(str::to_owned),
                archived,
            };
        assert_eq!(
            words(updated(Some("new"), None, None)),
            "renamed old &lt;one&gt; to new"
        );
        assert_eq!(
            words(updated(None, Some("Q4"), None)),
            "set the topic to Q4"
        );
        assert_eq!(words(updated(None, Some(""), None)), "cleared the topic");
        assert_eq!(
            words(updated(None, None, Some(true))),
            "archived the conversation"
        );
        assert_eq!(
            words(updated(Some("b"), Some("t"), Some(false))),
            "renamed old &lt;one&gt; to b, set the topic to t and unarchived the conversation"
        );
        assert_eq!(
            words(updated(Some("b"), None, Some(true))),
            "renamed old &lt;one&gt; to b and archived the conversation"
        );
    }

    #[test]
    fn avatars_show_initials() {
        assert_eq!(initials("Ada Lovelace"), "AL");
        assert_eq!(initials("grace"), "G");
        assert_eq!(initials("Jean-Luc de la Picard"), "JP");
        assert_eq!(initials("  "), "");
        assert!(avatar(11, "Bo", None).into_string().contains("hue-3"));
        let sha = "0f".repeat(32);
        let pictured = avatar(11, "Bo", Some(&sha)).into_string();
        assert!(pictured.starts_with(r#"<img class="avatar" src="/pictures/0f0f"#));
        assert!(pictured.contains(r#"alt="""#) && !pictured.contains("hue-"));
    }
}
