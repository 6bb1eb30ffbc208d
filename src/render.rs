//! Message formatting: a markdown body to the safe HTML fragment the web UI shows, and the @mentions it holds.
//!
//! One pass over pulldown-cmark's events decides everything (raw HTML becomes text, unsafe links
//! lose their href, bare URLs and known @names are marked up); ammonia then cleans the result
//! against an allowlist of exactly the tags and attributes this module emits, so a mistake here
//! still cannot let script through.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ammonia::UrlRelative;
use linkify::LinkFinder;
use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// The longest username, in characters (see `domain::Username`).
const MAX_NAME_CHARS: usize = 32;

/// Renders a message body (markdown) to safe HTML for the web UI.
/// `mention` resolves a username (without '@', any letter case) to a user id if that user exists and may be mentioned.
pub fn body_html(body: &str, mention: &dyn Fn(&str) -> Option<i64>) -> String {
    let html = sanitize(Walker::run(body, Sink::Html(mention)).out);
    if has_visible_text(&html) {
        return html;
    }
    // Markdown that renders to nothing (a lone link definition, an empty code fence, an image
    // with an unsafe source): show what was typed rather than an empty bubble.
    let mut events = vec![Event::Start(Tag::Paragraph)];
    for (i, line) in body.trim().lines().enumerate() {
        if i > 0 {
            events.push(Event::HardBreak);
        }
        events.push(Event::Text(line.into()));
    }
    events.push(Event::End(TagEnd::Paragraph));
    sanitize(events)
}

/// The distinct usernames written as @name in the body, outside code spans/blocks and links, in order of first appearance, lowercased.
///
/// Trailing dots are taken as punctuation (`@bob.` gives `bob`), matching what [`body_html`]
/// does when `bob` resolves; so a resolver built from these names renders consistently.
pub fn mentioned_names(body: &str) -> Vec<String> {
    match Walker::run(body, Sink::Names(Vec::new())).sink {
        Sink::Names(names) => names,
        Sink::Html(_) => unreachable!("the walker keeps the sink it was given"),
    }
}

/// What the walk is for: HTML with resolved mentions, or just the names.
enum Sink<'r> {
    Html(&'r dyn Fn(&str) -> Option<i64>),
    Names(Vec<String>),
}

/// Rewrites the parser's events into the small dialect chat messages allow.
struct Walker<'a, 'r> {
    out: Vec<Event<'a>>,
    sink: Sink<'r>,
    finder: LinkFinder,
    /// Text not yet pushed, so that text split by the parser is scanned as one piece.
    pending: String,
    /// Whether `pending` lies outside code and links (and so may hold autolinks and mentions).
    pending_plain: bool,
    link_depth: usize,
    code_depth: usize,
    /// Per open link or image: its destination if it is rendered as a link.
    links: Vec<Option<CowStr<'a>>>,
    /// Line breaks seen in a raw HTML block and not yet emitted.
    html_breaks: usize,
}

impl<'a, 'r> Walker<'a, 'r> {
    fn run(body: &'a str, sink: Sink<'r>) -> Self {
        let mut finder = LinkFinder::new();
        finder
            .kinds(&[linkify::LinkKind::Url])
            .url_must_have_scheme(false);
        let mut w = Walker {
            out: Vec::new(),
            sink,
            finder,
            pending: String::new(),
            pending_plain: true,
            link_depth: 0,
            code_depth: 0,
            links: Vec::new(),
            html_breaks: 0,
        };
        let parser = Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH);
        for (event, range) in parser.into_offset_iter() {
            match event {
                Event::Start(tag) => w.start(tag),
                Event::End(end) => w.end(end),
                Event::Text(text) => w.text(&text),
                Event::Code(code) => w.push(Event::Code(code)),
                Event::Html(html) => w.html_block_text(&html),
                Event::InlineHtml(html) => w.raw_html(&html),
                Event::SoftBreak | Event::HardBreak => w.push(Event::HardBreak),
                Event::Rule => {
                    w.push(Event::Start(Tag::Paragraph));
                    w.text(body[range].trim());
                    w.push(Event::End(TagEnd::Paragraph));
                }
                // Math, footnotes and task lists are not enabled; should one appear, show its source.
                _ => w.text(&body[range]),
            }
        }
        w.flush();
        w
    }

    fn start(&mut self, tag: Tag<'a>) {
        match tag {
            Tag::Paragraph
            | Tag::List(_)
            | Tag::Item
            | Tag::Emphasis
            | Tag::Strong
            | Tag::Strikethrough => self.push(Event::Start(tag)),
            Tag::BlockQuote(_) => self.push(Event::Start(Tag::BlockQuote(None))),
            // Chat messages should not shout: a heading is a bold paragraph.
            Tag::Heading { .. } => {
                self.push(Event::Start(Tag::Paragraph));
                self.push(Event::Start(Tag::Strong));
            }
            // No language class: ammonia would strip it, and the UI does no highlighting.
            Tag::CodeBlock(_) => {
                self.code_depth += 1;
                self.push(Event::Start(Tag::CodeBlock(CodeBlockKind::Indented)));
            }
            Tag::HtmlBlock => {
                self.html_breaks = 0;
                self.push(Event::Start(Tag::Paragraph));
            }
            Tag::Link {
                link_type,
                dest_url,
                ..
            } => self.open_link(link_type, dest_url),
            // An image becomes a link to it, labelled by its alt text.
            Tag::Image { dest_url, .. } => self.open_link(LinkType::Inline, dest_url),
            // Tables, footnotes, definition lists, metadata, super/subscript are not enabled.
            _ => {}
        }
    }

    fn end(&mut self, end: TagEnd) {
        match end {
            TagEnd::Paragraph
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::Emphasis
            | TagEnd::Strong
            | TagEnd::Strikethrough => self.push(Event::End(end)),
            TagEnd::BlockQuote(_) => self.push(Event::End(TagEnd::BlockQuote(None))),
            TagEnd::Heading(_) => {
                self.push(Event::End(TagEnd::Strong));
                self.push(Event::End(TagEnd::Paragraph));
            }
            TagEnd::CodeBlock => {
                self.push(Event::End(TagEnd::CodeBlock));
                self.code_depth -= 1;
            }
            TagEnd::HtmlBlock => self.push(Event::End(TagEnd::Paragraph)),
            TagEnd::Link | TagEnd::Image => self.close_link(),
            _ => {}
        }
    }

    /// Links nested in a link (an image inside one) and unsafe destinations keep only their text.
    fn open_link(&mut self, link_type: LinkType, dest: CowStr<'a>) {
        let keep = self.link_depth == 0 && safe_destination(link_type, &dest);
        self.link_depth += 1;
        if keep {
            // Email autolinks keep their type: the HTML writer adds the `mailto:`.
            let link_type = match link_type {
                LinkType::Email => LinkType::Email,
                _ => LinkType::Inline,
            };
            self.push(Event::Start(Tag::Link {
                link_type,
                dest_url: dest.clone(),
                title: "".into(),
                id: "".into(),
            }));
            self.links.push(Some(dest));
        } else {
            self.links.push(None);
        }
    }

    fn close_link(&mut self) {
        self.link_depth -= 1;
        if let Some(Some(dest)) = self.links.pop() {
            self.flush();
            if matches!(self.out.last(), Some(Event::Start(Tag::Link { .. }))) {
                self.out.push(Event::Text(dest));
            }
            self.out.push(Event::End(TagEnd::Link));
        }
    }

    /// Raw HTML is shown as the text it is; its lines stay lines.
    fn html_block_text(&mut self, html: &str) {
        for (i, line) in html.split('\n').enumerate() {
            if i > 0 {
                self.html_breaks += 1;
            }
            if !line.is_empty() {
                for _ in 0..std::mem::take(&mut self.html_breaks) {
                    self.push(Event::HardBreak);
                }
                self.raw_html(line);
            }
        }
    }

    /// Raw HTML as text: the tags stay literal (no autolinks inside attributes), while the
    /// words between them are ordinary text, so `<b>@ann</b>` still mentions.
    fn raw_html(&mut self, html: &str) {
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            self.text(&rest[..open]);
            let close = rest[open..].find('>').map_or(rest.len(), |i| open + i + 1);
            self.append(&rest[open..close], false);
            rest = &rest[close..];
        }
        self.text(rest);
    }

    fn text(&mut self, text: &str) {
        self.append(text, self.link_depth == 0 && self.code_depth == 0);
    }

    /// Adds text; `plain` text lies outside code and links, so it may hold autolinks and mentions.
    fn append(&mut self, text: &str, plain: bool) {
        if text.is_empty() {
            return;
        }
        if plain != self.pending_plain {
            self.flush();
        }
        self.pending_plain = plain;
        self.pending.push_str(text);
    }

    fn push(&mut self, event: Event<'a>) {
        self.flush();
        self.out.push(event);
    }

    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.pending);
        if self.pending_plain {
            self.decorate(&text);
        } else {
            self.out.push(Event::Text(text.into()));
        }
    }

    /// Marks up bare URLs and @mentions in text that lies outside code and links.
    fn decorate(&mut self, text: &str) {
        let mut done = 0;
        let links: Vec<_> = self.finder.links(text).collect();
        for link in links {
            let Some(href) = autolink_href(link.as_str()) else {
                continue;
            };
            self.mentions(text, done, link.start());
            self.out.push(Event::Start(Tag::Link {
                link_type: LinkType::Inline,
                dest_url: href.into(),
                title: "".into(),
                id: "".into(),
            }));
            self.out.push(Event::Text(link.as_str().to_owned().into()));
            self.out.push(Event::End(TagEnd::Link));
            done = link.end();
        }
        self.mentions(text, done, text.len());
    }

    /// Handles `text[from..to]`, which holds no link.
    fn mentions(&mut self, text: &str, from: usize, to: usize) {
        let mut done = from;
        for (at, run) in mention_candidates(text, from, to) {
            let resolve = match &mut self.sink {
                Sink::Html(resolve) => *resolve,
                Sink::Names(names) => {
                    if let Some((name, ())) = pick_name(run, |_| Some(())) {
                        let name = name.to_lowercase();
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                    continue;
                }
            };
            if let Some((name, id)) = pick_name(run, resolve) {
                self.plain_text(&text[done..at]);
                let span = format!(r#"<span class="mention" data-user-id="{id}">"#);
                self.out.push(Event::InlineHtml(span.into()));
                self.out.push(Event::Text(format!("@{name}").into()));
                self.out.push(Event::InlineHtml("</span>".into()));
                done = at + 1 + name.len();
            }
        }
        self.plain_text(&text[done..to]);
    }

    fn plain_text(&mut self, text: &str) {
        if !text.is_empty() {
            self.out.push(Event::Text(text.to_owned().into()));
        }
    }
}

/// Only web and mail links survive; relative, protocol-relative and every other scheme do not.
fn safe_destination(link_type: LinkType, dest: &str) -> bool {
    if link_type == LinkType::Email {
        return true;
    }
    let dest = dest.as_bytes();
    ["http://", "https://", "mailto:"].iter().any(|scheme| {
        dest.len() > scheme.len() && dest[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
    })
}

/// The href for a URL found in text, if it is one we link: http(s) or a `www.` host.
fn autolink_href(found: &str) -> Option<String> {
    let starts = |prefix: &str| {
        found.len() > prefix.len()
            && found.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    if starts("http://") || starts("https://") {
        Some(found.to_owned())
    } else if starts("www.") {
        Some(format!("https://{found}"))
    } else {
        None
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// Each `@` in `text[from..to]` that starts a word, with the run of name characters after it.
fn mention_candidates(text: &str, from: usize, to: usize) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let mut prev = text[..from].chars().next_back();
    for (i, c) in text[from..to].char_indices().map(|(i, c)| (i + from, c)) {
        if c == '@' && !prev.is_some_and(is_word_char) {
            let rest = &text[i + 1..to];
            let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
            if len > 0 {
                found.push((i, &rest[..len]));
            }
        }
        prev = Some(c);
    }
    found
}

/// The name a run of name characters mentions: without trailing dots if that resolves, else whole.
fn pick_name<T>(run: &str, resolve: impl Fn(&str) -> Option<T>) -> Option<(&str, T)> {
    let bare = run.trim_end_matches('.');
    [bare, run]
        .into_iter()
        .filter(|name| !name.is_empty() && name.chars().count() <= MAX_NAME_CHARS)
        .find_map(|name| resolve(name).map(|id| (name, id)))
}

/// Writes the events as HTML and cleans it against exactly what this module emits.
fn sanitize(events: Vec<Event<'_>>) -> String {
    let mut raw = String::new();
    pulldown_cmark::html::push_html(&mut raw, events.into_iter());
    let mut cleaner = ammonia::Builder::empty();
    cleaner
        .tags(HashSet::from([
            "p",
            "br",
            "strong",
            "em",
            "del",
            "code",
            "pre",
            "blockquote",
            "ul",
            "ol",
            "li",
            "a",
            "span",
        ]))
        .clean_content_tags(HashSet::from(["script", "style"]))
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("span", HashSet::from(["data-user-id"])),
            ("ol", HashSet::from(["start"])),
        ]))
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::from([(
            "a",
            HashMap::from([("target", "_blank")]),
        )]))
        .generic_attributes(HashSet::new())
        .allowed_classes(HashMap::from([("span", HashSet::from(["mention"]))]))
        .attribute_filter(|_element, attribute, value| match attribute {
            "data-user-id" if value.parse::<i64>().is_err() => None,
            _ => Some(Cow::Borrowed(value)),
        })
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .strip_comments(true)
        .id_prefix(None);
    cleaner.clean(&raw).to_string().trim_end().to_owned()
}

/// Whether the HTML shows any text. In cleaned output every `<` opens a tag (text's are escaped)
/// and attribute values are double-quoted.
fn has_visible_text(html: &str) -> bool {
    let (mut in_tag, mut in_value) = (false, false);
    html.chars().any(|c| {
        match c {
            '"' if in_tag => in_value = !in_value,
            '<' if !in_tag => in_tag = true,
            '>' if in_tag && !in_value => in_tag = false,
            c if !in_tag && !c.is_whitespace() => return true,
            _ => {}
        }
        false
    })
}

/// The words of a body without its Markdown marks, on one line: for previews and quotes.
pub fn plain_text(body: &str) -> String {
    let mut out = String::new();
    for event in Parser::new_ext(body, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => {
                out.push_str(&t)
            }
            Event::SoftBreak
            | Event::HardBreak
            | Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::BlockQuote(_)
                | TagEnd::CodeBlock
                | TagEnd::Heading(_),
            ) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests;
