//! The piece of a found message shown in results: a window of its text around the first
//! match, every match marked. Matching here is folded like the index, so what the index
//! found is what gets marked.

use super::fold::folded;
use super::query::{Term, TermKind};

/// About how many characters a snippet shows.
pub const WINDOW: usize = 180;

/// A run of snippet text, marked when it matched.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[schema(as = SnippetPiece)]
pub struct Piece {
    pub text: String,
    pub hit: bool,
}

/// Whether the terms matched whole words (the word index) or anywhere (the substring one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matching {
    Words,
    Anywhere,
}

/// The byte ranges of `text` that match `terms`, sorted and merged.
pub fn hits(text: &str, terms: &[Term], matching: Matching) -> Vec<(usize, usize)> {
    let (f, map) = folded(text);
    let mut ranges = Vec::new();
    for term in terms {
        let needle = super::fold::fold(&term.text);
        if needle.is_empty() {
            continue;
        }
        let mut from = 0;
        while let Some(i) = f[from..].find(&needle) {
            let start = from + i;
            let end = start + needle.len();
            from = start + needle.chars().next().map_or(1, char::len_utf8);
            if matching == Matching::Words && !at_word(&f, start, end, term.kind) {
                continue;
            }
            let end = if term.kind == TermKind::Prefix && matching == Matching::Words {
                word_end(&f, end)
            } else {
                end
            };
            ranges.push((map[start], map[end]));
        }
    }
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in ranges {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
}

fn at_word(f: &str, start: usize, end: usize, kind: TermKind) -> bool {
    let before_ok = f[..start]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric());
    let after_ok =
        kind == TermKind::Prefix || f[end..].chars().next().is_none_or(|c| !c.is_alphanumeric());
    before_ok && after_ok
}

fn word_end(f: &str, from: usize) -> usize {
    f[from..]
        .char_indices()
        .find(|(_, c)| !c.is_alphanumeric())
        .map_or(f.len(), |(i, _)| from + i)
}

/// A window of `text` around its first hit (or its start), hits marked, "…" where cut.
pub fn snippet(text: &str, terms: &[Term], matching: Matching) -> Vec<Piece> {
    let text = text.trim();
    let hits = hits(text, terms, matching);
    let first = hits.first().map_or(0, |h| h.0);
    // Start a little before the first hit, on a character boundary, at a space if near.
    let lead = WINDOW / 4;
    let mut start = text[..first]
        .char_indices()
        .rev()
        .nth(lead)
        .map_or(0, |(i, _)| i);
    if start > 0
        && let Some(space) = text[start..first].find(char::is_whitespace)
    {
        start += space + 1;
    }
    let end = text[start..]
        .char_indices()
        .nth(WINDOW)
        .map_or(text.len(), |(i, _)| start + i);
    let mut pieces = Vec::new();
    let mut push = |s: &str, hit: bool| {
        if !s.is_empty() {
            pieces.push(Piece {
                text: s.to_string(),
                hit,
            });
        }
    };
    if start > 0 {
        push("…", false);
    }
    let mut at = start;
    for (s, e) in hits {
        let (s, e) = (s.max(start), e.min(end));
        if s >= e {
            continue;
        }
        push(&text[at..s], false);
        push(&text[s..e], true);
        at = e;
    }
    push(&text[at..end], false);
    if end < text.len() {
        push("…", false);
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str, kind: TermKind) -> Term {
        Term {
            text: text.into(),
            kind,
        }
    }

    fn marked(pieces: &[Piece]) -> Vec<&str> {
        pieces
            .iter()
            .filter(|p| p.hit)
            .map(|p| p.text.as_str())
            .collect()
    }

    #[test]
    fn marks_whole_words_folded() {
        let p = snippet(
            "The Café is open; cafes too",
            &[t("cafe", TermKind::Word)],
            Matching::Words,
        );
        assert_eq!(marked(&p), vec!["Café"]);
        let p = snippet(
            "heating and heater",
            &[t("heat", TermKind::Prefix)],
            Matching::Words,
        );
        assert_eq!(marked(&p), vec!["heating", "heater"]);
        let p = snippet(
            "the keys to the shed",
            &[t("keys to", TermKind::Phrase)],
            Matching::Words,
        );
        assert_eq!(marked(&p), vec!["keys to"]);
    }

    #[test]
    fn marks_anywhere_for_substrings() {
        let p = snippet(
            "東京で会議があります",
            &[t("会議", TermKind::Word)],
            Matching::Anywhere,
        );
        assert_eq!(marked(&p), vec!["会議"]);
        let p = snippet(
            "preheating",
            &[t("eat", TermKind::Word)],
            Matching::Anywhere,
        );
        assert_eq!(marked(&p), vec!["eat"]);
    }

    #[test]
    fn long_text_is_cut_around_the_first_hit() {
        let text = format!("{} needle {}", "hay ".repeat(200), "stack ".repeat(200));
        let p = snippet(&text, &[t("needle", TermKind::Word)], Matching::Words);
        assert_eq!(p.first().unwrap().text, "…");
        assert_eq!(p.last().unwrap().text, "…");
        assert_eq!(marked(&p), vec!["needle"]);
        let shown: usize = p.iter().map(|p| p.text.chars().count()).sum();
        assert!(shown <= WINDOW + 2, "{shown}");
        let short = snippet("just this", &[], Matching::Words);
        assert_eq!(
            short,
            vec![Piece {
                text: "just this".into(),
                hit: false
            }]
        );
    }
}
