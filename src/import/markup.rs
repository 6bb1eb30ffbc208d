//! Slack's message markup ("mrkdwn") to the Markdown Hearth's messages are written in.
//!
//! Pure text to text. Slack escapes `&`, `<` and `>` in what people typed, so every `<…>` is
//! markup: a person (`<@U…>`), a channel (`<#C…|name>`), a special mention (`<!here>`) or a
//! link (`<url|text>`). Emphasis is one character on each side (`*bold*`, `_italic_`,
//! `~strike~`) at word boundaries, on one line; code spans and blocks are kept as they are.
//! Characters Markdown would read as markup where Slack did not are escaped, so a message
//! reads as it did on Slack.

/// Names for the ids the markup refers to.
pub trait Names {
    /// The username a Slack user id became, if the export knows that person.
    fn user(&self, id: &str) -> Option<String>;
    /// The name of a channel by its Slack id, if the export has it.
    fn channel(&self, id: &str) -> Option<String>;
}

/// Converts the `text` of a Slack message to Markdown.
pub fn to_markdown(text: &str, names: &dyn Names) -> String {
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text.as_str();
    while !rest.is_empty() {
        let Some(tick) = rest.find('`') else {
            plain(rest, names, &mut out);
            break;
        };
        let after = &rest[tick..];
        if let Some(body) = after.strip_prefix("```")
            && let Some(end) = body.find("```")
        {
            plain(&rest[..tick], names, &mut out);
            code_block(&body[..end], &mut out);
            rest = body[end + 3..]
                .strip_prefix('\n')
                .unwrap_or(&body[end + 3..]);
            continue;
        }
        let body = &after[1..];
        match body.find(['`', '\n']) {
            Some(end) if end > 0 && body[end..].starts_with('`') => {
                plain(&rest[..tick], names, &mut out);
                out.push('`');
                out.push_str(&decode(&body[..end]));
                out.push('`');
                rest = &body[end + 1..];
            }
            // A lone backtick (or an empty pair) is just a character.
            _ => {
                plain(&rest[..=tick], names, &mut out);
                rest = body;
            }
        }
    }
    out.trim_end().to_owned()
}

/// A file shared with a message, as a line of its body: the name linking to where it was.
pub fn file_line(name: &str, url: Option<&str>) -> String {
    let name = escape_label(name.trim());
    match url {
        Some(url) if !url.is_empty() => format!("📎 [{name}]({})", destination(url)),
        _ => format!("📎 {name} (not in the export)"),
    }
}

/// A fenced block on lines of its own, its text as it was.
fn code_block(code: &str, out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    let code = decode(code);
    let code = code.strip_prefix('\n').unwrap_or(&code);
    let code = code.strip_suffix('\n').unwrap_or(code);
    out.push_str("```\n");
    out.push_str(code);
    out.push_str("\n```\n");
}

/// One character of plain text (an entity decoded: `&amp;` is one `&`), or markup already
/// made Markdown.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Char(char),
    /// A person, channel or link, already in Markdown; a word for emphasis boundaries.
    Atom(String),
}

/// Text outside code: `<…>` and entities first, then emphasis.
fn plain(text: &str, names: &dyn Names, out: &mut String) {
    let mut pieces = Vec::with_capacity(text.len());
    let mut rest = text;
    // Once no `>` follows, none will: the text is not searched again for each `<`.
    let mut closes = true;
    while let Some(c) = rest.chars().next() {
        if c == '<' && closes {
            match rest.find('>') {
                Some(end) => {
                    pieces.push(Piece::Atom(angle(&rest[1..end], names)));
                    rest = &rest[end + 1..];
                    continue;
                }
                None => closes = false,
            }
        }
        if c == '&'
            && let Some((decoded, len)) = entity(rest)
        {
            pieces.push(Piece::Char(decoded));
            rest = &rest[len..];
            continue;
        }
        pieces.push(Piece::Char(c));
        rest = &rest[c.len_utf8()..];
    }
    let text = Text::new(pieces);
    text.emit(0, text.pieces.len(), out);
}

/// The three entities Slack writes, at the start of `s`: the character and the length.
fn entity(s: &str) -> Option<(char, usize)> {
    [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')]
        .into_iter()
        .find(|(name, _)| s.starts_with(name))
        .map(|(name, c)| (c, name.len()))
}

/// Text with Slack's entities decoded (code, link targets and labels).
fn decode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        match entity(&rest[at..]) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[at + len..];
            }
            None => {
                out.push('&');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What `<inner>` stands for, in Markdown.
fn angle(inner: &str, names: &dyn Names) -> String {
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(decode(l))),
        None => (inner, None),
    };
    let label = label.filter(|l| !l.is_empty());
    if let Some(id) = target.strip_prefix('@') {
        return match names.user(id) {
            Some(name) => format!("@{name}"),
            None => format!("@{id}"),
        };
    }
    if let Some(id) = target.strip_prefix('#') {
        let name = names.channel(id).or(label).unwrap_or_else(|| id.to_owned());
        return format!("#{}", escape_label(&name));
    }
    if let Some(special) = target.strip_prefix('!') {
        let word = special.split('^').next().unwrap_or(special);
        return match (word, label) {
            ("here" | "channel" | "everyone", _) => format!("@{word}"),
            (_, Some(label)) => escape_label(&label),
            (_, None) => format!("@{}", escape_label(word)),
        };
    }
    let url = decode(target);
    match label {
        Some(label) => format!("[{}]({})", escape_label(&label), destination(&url)),
        None if is_web(&url) && !url.contains([' ', '<', '>']) => format!("<{url}>"),
        None => escape_label(&url),
    }
}

/// Whether Markdown makes an autolink of `<url>`.
fn is_web(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

/// A link destination Markdown reads whole, whatever it holds.
fn destination(url: &str) -> String {
    if url.contains([' ', '(', ')', '<', '>']) {
        format!("<{}>", url.replace('<', "%3C").replace('>', "%3E"))
    } else {
        url.to_owned()
    }
}

/// Text inside a link label (or a name) that Markdown must not read as markup.
fn escape_label(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']' | '*' | '_' | '~' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn char_at(pieces: &[Piece], i: usize) -> Option<char> {
    match pieces.get(i) {
        Some(Piece::Char(c)) => Some(*c),
        _ => None,
    }
}

/// A letter, digit or markup made into a word: what emphasis may not touch from outside.
fn is_word(pieces: &[Piece], i: Option<usize>) -> bool {
    match i.and_then(|i| pieces.get(i)) {
        Some(Piece::Atom(_)) => true,
        Some(Piece::Char(c)) => c.is_alphanumeric(),
        None => false,
    }
}

fn is_space(pieces: &[Piece], i: usize) -> bool {
    char_at(pieces, i).is_some_and(char::is_whitespace)
}

/// The emphasis marker at `i`, if a `*`, `_` or `~` is there (an entity is never one).
fn marker(pieces: &[Piece], i: usize) -> Option<char> {
    char_at(pieces, i).filter(|c| MARKERS.contains(c))
}

/// Plain text as pieces, with what emphasis needs to know found once: every place a marker
/// can close, and the line of each piece.
struct Text {
    pieces: Vec<Piece>,
    /// Per marker (`*`, `_`, `~`), in order, the pieces that can close it: after no space,
    /// before no word.
    closers: [Vec<usize>; 3],
    /// How many line breaks come before each piece.
    lines: Vec<usize>,
}

const MARKERS: [char; 3] = ['*', '_', '~'];

impl Text {
    fn new(pieces: Vec<Piece>) -> Text {
        let mut closers: [Vec<usize>; 3] = Default::default();
        let mut lines = Vec::with_capacity(pieces.len());
        let mut line = 0;
        for i in 0..pieces.len() {
            lines.push(line);
            if char_at(&pieces, i) == Some('\n') {
                line += 1;
            }
            if let Some(m) = marker(&pieces, i)
                && i > 0
                && !is_space(&pieces, i - 1)
                && !is_word(&pieces, Some(i + 1))
            {
                let k = MARKERS.iter().position(|x| *x == m).expect("a marker");
                closers[k].push(i);
            }
        }
        Text {
            pieces,
            closers,
            lines,
        }
    }

    /// Where the emphasis opened at `open` closes, before `end` and on the same line.
    fn closer(&self, open: usize, end: usize) -> Option<usize> {
        let p = &self.pieces;
        let m = marker(p, open)?;
        // Whether the closer found lies before `end` is checked last.
        let starts_word = !is_space(p, open + 1)
            && marker(p, open + 1) != Some(m)
            && !is_word(p, open.checked_sub(1));
        if !starts_word {
            return None;
        }
        let k = MARKERS.iter().position(|x| *x == m).expect("a marker");
        let closers = &self.closers[k];
        let first = closers[closers.partition_point(|&j| j < open + 2)..].first()?;
        (*first < end && self.lines[*first] == self.lines[open]).then_some(*first)
    }

    /// Writes `pieces[start..end]` as Markdown.
    fn emit(&self, start: usize, end: usize, out: &mut String) {
        let p = &self.pieces;
        let mut i = start;
        while i < end {
            if let Some(close) = self.closer(i, end) {
                let mark = match marker(p, i) {
                    Some('*') => "**",
                    Some('_') => "*",
                    _ => "~~",
                };
                out.push_str(mark);
                self.emit(i + 1, close, out);
                out.push_str(mark);
                i = close + 1;
                continue;
            }
            match &p[i] {
                Piece::Atom(md) => out.push_str(md),
                Piece::Char(c) => {
                    if needs_escape(p, i) {
                        out.push('\\');
                    }
                    out.push(*c);
                }
            }
            i += 1;
        }
    }
}

/// Whether the character at `i`, left as it is, would be Markdown markup.
fn needs_escape(pieces: &[Piece], i: usize) -> bool {
    let Some(c) = char_at(pieces, i) else {
        return false;
    };
    let next = char_at(pieces, i + 1);
    match c {
        // Backticks here opened no code on Slack.
        '*' | '~' | '`' => true,
        // Inside a word an underscore is only a character to Markdown too.
        '_' => !(is_word(pieces, i.checked_sub(1)) && is_word(pieces, Some(i + 1))),
        '\\' => next.is_some_and(|n| n.is_ascii_punctuation()),
        // A heading is `#`s then a space: `#hashtag` stays as it is.
        '#' => {
            at_line_start(pieces, i) && next.is_none_or(|n| matches!(n, ' ' | '\t' | '\n' | '#'))
        }
        '&' => looks_like_entity(pieces, i + 1),
        _ => false,
    }
}

fn at_line_start(pieces: &[Piece], i: usize) -> bool {
    i.checked_sub(1)
        .is_none_or(|prev| char_at(pieces, prev) == Some('\n'))
}

/// Whether `&` followed by the pieces from `from` would read as a character reference.
fn looks_like_entity(pieces: &[Piece], from: usize) -> bool {
    let mut len = 0;
    for i in from.. {
        match char_at(pieces, i) {
            Some(';') => return len > 0,
            Some(c) if c.is_ascii_alphanumeric() || c == '#' => len += 1,
            _ => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests;
