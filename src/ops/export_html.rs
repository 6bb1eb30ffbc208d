//! The HTML export: one self-contained file a person can open and read years later. Written
//! in pieces as the messages stream by. Its CSS is inline because the file stands alone (it is
//! a download, never served), and its Content-Security-Policy forbids every script.

use maud::{Markup, PreEscaped, html};
use std::io::Write;

use super::export::{Plan, title};
use crate::domain::chat::{Conversation, ConversationId, Member, Message};
use crate::error::Result;
use crate::fragments::{clock, day, day_number, iso, notice_words};

const CSS: &str = "
:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fff; --muted: #6b6b73; --line: #e3e3e8; --accent: #b4531f; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececf0; --bg: #17171a; --muted: #9a9aa3; --line: #2e2e35; --accent: #f0a26b; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 48rem; padding: 2rem 1rem 4rem; font: 16px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin: 3rem 0 .25rem; font-size: 1.3rem; border-bottom: 2px solid var(--accent); padding-bottom: .25rem; }
h3 { margin: 1.5rem 0 .5rem; font-size: .85rem; font-weight: 600; color: var(--muted); text-align: center; }
a { color: var(--accent); }
.meta, .topic, .members { color: var(--muted); margin: .25rem 0; font-size: .9rem; }
nav ul { padding-left: 1.2rem; }
.msg { padding: .4rem 0; border-top: 1px solid var(--line); }
.msg header { font-size: .9rem; }
.who { font-weight: 600; }
.handle, time, .edited { color: var(--muted); }
.body p { margin: .2rem 0; }
.body pre { overflow-x: auto; padding: .5rem; background: color-mix(in srgb, var(--line) 50%, transparent); }
.body img, figure.file img { max-width: 100%; height: auto; }
figure.file { margin: .4rem 0; } figure.file figcaption, p.file, p.card { font-size: .85rem; color: var(--muted); }
.reply { display: block; font-size: .85rem; color: var(--muted); margin: .2rem 0; }
.deleted { font-style: italic; color: var(--muted); margin: .2rem 0; }
.reactions span { display: inline-block; margin-right: .5rem; font-size: .85rem; border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; }
.empty { color: var(--muted); font-style: italic; }
.notice { padding: .3rem 0; border-top: 1px solid var(--line); color: var(--muted); font-size: .9rem; }
";

/// Per-conversation drawing state: the day of the last message, for date headings.
#[derive(Default)]
pub struct ConversationState {
    last_day: Option<i64>,
    messages: u64,
    /// The blobs, to inline images' thumbnails; none: files are listed by name.
    files: Option<crate::blobs::Blobs>,
}

impl ConversationState {
    pub fn with_files(files: Option<crate::blobs::Blobs>) -> Self {
        ConversationState {
            files,
            ..Default::default()
        }
    }
}

/// An image's thumbnail as a `data:` URL, so the export needs no other file.
fn inline_image(
    files: Option<&crate::blobs::Blobs>,
    picture: &crate::domain::files::Picture,
) -> Option<String> {
    use base64::Engine;
    let bytes = super::stored::wait(files?.read_all(&picture.sha256)).ok()?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Some(format!("data:{};base64,{data}", picture.mime))
}

/// "1 message", "3 messages".
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn put(out: &mut dyn Write, markup: Markup) -> Result<()> {
    out.write_all(markup.into_string().as_bytes())?;
    Ok(())
}

/// The document head, the title block and the table of contents.
pub fn begin(
    out: &mut dyn Write,
    plan: &Plan,
    exported_at: i64,
    toc: &[(ConversationId, String)],
) -> Result<()> {
    out.write_all(b"<!DOCTYPE html>\n<html lang=\"en\">\n")?;
    put(
        out,
        html! {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:";
                title { "Hearth export — " (plan.description) }
                style { (PreEscaped(CSS)) }
            }
        },
    )?;
    out.write_all(b"\n<body>\n")?;
    put(
        out,
        html! {
            header {
                h1 { "Hearth export" }
                p.meta {
                    (plan.description) " · " (count(plan.conversations.len() as u64, "conversation")) " · "
                    (count(plan.messages, "message")) " · exported " (day(exported_at)) ", " (clock(exported_at)) " UTC"
                }
                @if !toc.is_empty() {
                    nav { ul { @for (id, name) in toc { li { a href=(format!("#c{id}")) { (name) } } } } }
                }
            }
        },
    )?;
    out.write_all(b"\n<main>\n")?;
    Ok(())
}

pub fn begin_conversation(out: &mut dyn Write, c: &Conversation, members: &[Member]) -> Result<()> {
    write!(out, "<section id=\"c{}\">", c.id)?;
    put(
        out,
        html! {
            h2 { (title(c, members)) }
            @if !c.topic.is_empty() { p.topic { (c.topic) } }
            p.members {
                (c.kind.as_str()) " · started " (day(c.created_at))
                @if c.archived { " · archived" }
                " · members: "
                @for (i, m) in members.iter().enumerate() {
                    @if i > 0 { ", " }
                    (m.user.display_name) " (@" (m.user.username) ")"
                }
            }
        },
    )
}

pub fn message(out: &mut dyn Write, state: &mut ConversationState, m: &Message) -> Result<()> {
    let today = day_number(m.created_at);
    let new_day = state.last_day != Some(today);
    state.last_day = Some(today);
    if let Some(notice) = &m.notice {
        return put(
            out,
            html! {
                @if new_day { h3 { (day(m.created_at)) } }
                p.notice id=(format!("m{}", m.id)) {
                    span.who { (m.sender.display_name) } " " (notice_words(notice)) " · "
                    time datetime=(iso(m.created_at)) { (clock(m.created_at)) " UTC" }
                }
            },
        );
    }
    state.messages += 1;
    put(
        out,
        html! {
            @if new_day { h3 { (day(m.created_at)) } }
            article.msg id=(format!("m{}", m.id)) {
                header {
                    span.who { (m.sender.display_name) } " "
                    span.handle { "@" (m.sender.username) } " "
                    time datetime=(iso(m.created_at)) { (clock(m.created_at)) " UTC" }
                    @if m.edited_at.is_some() && !m.deleted { " " span.edited { "(edited)" } }
                }
                @if let Some(reply) = &m.reply {
                    a.reply href=(format!("#m{}", reply.id)) {
                        "↪ " (reply.sender.display_name) ": "
                        @if reply.deleted { "(deleted)" } @else { (reply.excerpt) }
                    }
                }
                @if m.deleted {
                    p.deleted { "This message was deleted." }
                } @else {
                    // The stored HTML is the sanitized rendering the web UI shows (markdown, then ammonia).
                    div.body { (PreEscaped(&m.html)) }
                    @for a in &m.attachments {
                        @let shown = a.thumb.as_ref().and_then(|t| inline_image(state.files.as_ref(), t).map(|src| (src, t)));
                        @if let Some((src, t)) = shown {
                            figure.file {
                                img src=(src) width=(t.width) height=(t.height) alt=(a.name);
                                figcaption { (a.name) " · " (crate::fragments::human_size(a.size)) }
                            }
                        } @else {
                            p.file { "📎 " (a.name) " · " (crate::fragments::human_size(a.size)) }
                        }
                    }
                    @if let Some(card) = &m.preview {
                        p.card { "🔗 " a href=(card.url) { (card.title) } @if !card.site.is_empty() { " · " (card.site) } }
                    }
                }
                @if !m.reactions.is_empty() {
                    p.reactions { @for r in &m.reactions { span { (r.emoji) " " (r.count) } } }
                }
            }
        },
    )
}

pub fn end_conversation(out: &mut dyn Write, state: &ConversationState) -> Result<()> {
    if state.messages == 0 {
        put(out, html! { p.empty { "No messages." } })?;
    }
    out.write_all(b"</section>\n")?;
    Ok(())
}

pub fn end(out: &mut dyn Write) -> Result<()> {
    out.write_all(b"</main>\n</body>\n</html>\n")?;
    Ok(())
}
