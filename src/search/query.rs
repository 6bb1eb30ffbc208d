//! The query language: words (all must match), `"exact phrase"`, `prefix*`, `-excluded`, and
//! the filters `from:@name`, `in:#channel`, `in:@person`, `has:file|image|link`,
//! `is:mention`, `before:`, `after:`, `on:` (dates as YYYY-MM-DD). Whatever is typed becomes
//! plain terms and checked filters; nothing typed ever reaches the index as its own syntax.

use time::{Date, Month};

/// The longest query, in characters.
pub const MAX_CHARS: usize = 500;
/// The most terms (words, phrases, exclusions) in one query.
pub const MAX_TERMS: usize = 16;
const FILTERS: &str = "from:, in:, has:, is:, before:, after:, on:";

/// How a term matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// A whole word (or, beyond words, a run of text).
    Word,
    /// Words in this order, side by side.
    Phrase,
    /// Words that start with the text.
    Prefix,
}

/// A word, phrase or prefix as typed (trimmed, never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub text: String,
    pub kind: TermKind,
}

/// Where `in:` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// `in:#name`: a channel or group by name.
    Named(String),
    /// `in:@username`: the direct conversation with that person.
    Direct(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    File,
    Image,
    Link,
}

/// A parsed query. Dates are days since 1970-01-01; `before` and `after` are exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub terms: Vec<Term>,
    pub excluded: Vec<Term>,
    pub from: Option<String>,
    pub place: Option<Place>,
    pub has: Vec<Has>,
    pub mention: bool,
    pub before: Option<i64>,
    pub after: Option<i64>,
}

impl Query {
    /// Nothing to look for: no term and no filter.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.from.is_none()
            && self.place.is_none()
            && self.has.is_empty()
            && !self.mention
            && self.before.is_none()
            && self.after.is_none()
    }
}

/// Parses what a person typed. The error says which filter is wrong and why.
pub fn parse(input: &str) -> Result<Query, String> {
    if input.chars().count() > MAX_CHARS {
        return Err(format!("a search is at most {MAX_CHARS} characters"));
    }
    let mut q = Query::default();
    for token in tokens(input) {
        match token {
            Token::Text {
                text,
                quoted,
                negated,
            } => {
                let Some(term) = term(&text, quoted) else {
                    continue;
                };
                if negated {
                    q.excluded.push(term);
                } else {
                    q.terms.push(term);
                }
            }
            Token::Filter { key, value } => filter(&mut q, &key, &value)?,
        }
    }
    if q.terms.len() + q.excluded.len() > MAX_TERMS {
        return Err(format!(
            "a search has at most {MAX_TERMS} words and phrases"
        ));
    }
    if q.terms.is_empty() && !q.excluded.is_empty() && q.is_empty() {
        return Err("say what to look for, not only what to leave out".into());
    }
    if let (Some(after), Some(before)) = (q.after, q.before)
        && after + 1 >= before
    {
        return Err("no day is both after: and before: those dates".into());
    }
    Ok(q)
}

enum Token {
    Text {
        text: String,
        quoted: bool,
        negated: bool,
    },
    Filter {
        key: String,
        value: String,
    },
}

/// Splits on white space; `"…"` keeps spaces (an unclosed quote runs to the end); a leading
/// `-` excludes; `key:value` with a known-looking key is a filter.
fn tokens(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = input.chars().filter(|c| *c != '\0').peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        let negated = first == '-' && {
            chars.next();
            matches!(chars.peek(), Some(c) if !c.is_whitespace())
        };
        if chars.next_if_eq(&'"').is_some() {
            let text: String = chars.by_ref().take_while(|c| *c != '"').collect();
            out.push(Token::Text {
                text,
                quoted: true,
                negated,
            });
            continue;
        }
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            word.push(c);
        }
        match split_filter(&word) {
            Some((key, value)) if !negated => out.push(Token::Filter { key, value }),
            _ => out.push(Token::Text {
                text: word,
                quoted: false,
                negated,
            }),
        }
    }
    out
}

/// `key:value` where the key is letters and the value is not empty nor a URL's `//`.
fn split_filter(word: &str) -> Option<(String, String)> {
    let (key, value) = word.split_once(':')?;
    let looks_like_key = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphabetic());
    (looks_like_key && !value.is_empty() && !value.starts_with("//"))
        .then(|| (key.to_ascii_lowercase(), value.to_string()))
}

/// The term a piece of text makes, or none when it holds no letter or digit.
fn term(text: &str, quoted: bool) -> Option<Term> {
    let prefix = !quoted && text.ends_with('*');
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return None;
    }
    // What is kept is the text between its first and last letter or digit: punctuation
    // inside (e.g. "e-mail", "10:30") stays, so a run of text can still be found whole.
    let start = text.find(|c: char| c.is_alphanumeric())?;
    let end = text
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_alphanumeric())
        .map(|(i, c)| i + c.len_utf8())?;
    let kept = text[start..end].to_string();
    let kind = if prefix {
        TermKind::Prefix
    } else if words.len() > 1 {
        TermKind::Phrase
    } else {
        TermKind::Word
    };
    Some(Term { text: kept, kind })
}

fn filter(q: &mut Query, key: &str, value: &str) -> Result<(), String> {
    match key {
        "from" => {
            let name = value.strip_prefix('@').unwrap_or(value);
            once(q.from.is_some(), "from:")?;
            q.from = Some(username(name, "from:")?);
        }
        "in" => {
            once(q.place.is_some(), "in:")?;
            q.place = Some(if let Some(person) = value.strip_prefix('@') {
                Place::Direct(username(person, "in:@")?)
            } else {
                let name = value.strip_prefix('#').unwrap_or(value);
                if name.is_empty() {
                    return Err("in: needs a #channel or an @person".into());
                }
                Place::Named(name.to_string())
            });
        }
        "has" => {
            let has = match value.to_ascii_lowercase().as_str() {
                "file" | "files" => Has::File,
                "image" | "images" => Has::Image,
                "link" | "links" => Has::Link,
                other => {
                    return Err(format!(
                        "has:{other} is not a filter: use has:file, has:image or has:link"
                    ));
                }
            };
            if !q.has.contains(&has) {
                q.has.push(has);
            }
        }
        "is" => match value.to_ascii_lowercase().as_str() {
            "mention" | "mentions" => q.mention = true,
            other => return Err(format!("is:{other} is not a filter: use is:mention")),
        },
        "before" | "after" | "on" => {
            let day = date(value).ok_or_else(|| {
                format!(
                    "{key}:{value} is not a date: write it as YYYY-MM-DD, e.g. {key}:2026-03-31"
                )
            })?;
            let (after, before) = match key {
                "before" => (None, Some(day)),
                "after" => (Some(day), None),
                _ => (Some(day - 1), Some(day + 1)),
            };
            if let Some(a) = after {
                q.after = Some(q.after.map_or(a, |old| old.max(a)));
            }
            if let Some(b) = before {
                q.before = Some(q.before.map_or(b, |old| old.min(b)));
            }
        }
        other => {
            return Err(format!(
                "{other}: is not a filter (filters: {FILTERS}); to search for the text, put it in \
                 quotes: \"{other}:{value}\""
            ));
        }
    }
    Ok(())
}

fn once(already: bool, what: &str) -> Result<(), String> {
    if already {
        Err(format!("give {what} once"))
    } else {
        Ok(())
    }
}

fn username(name: &str, what: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(format!("{what} needs a username, e.g. {what}ada"))
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01.
fn date(value: &str) -> Option<i64> {
    let mut parts = value.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some((date - Date::from_calendar_date(1970, Month::January, 1).ok()?).whole_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(t: &str) -> Term {
        Term {
            text: t.into(),
            kind: TermKind::Word,
        }
    }

    #[test]
    fn words_phrases_prefixes_and_exclusions() {
        let q = parse(r#"deploy "release notes" heat* -flaky"#).unwrap();
        assert_eq!(
            q.terms,
            vec![
                word("deploy"),
                Term {
                    text: "release notes".into(),
                    kind: TermKind::Phrase
                },
                Term {
                    text: "heat".into(),
                    kind: TermKind::Prefix
                },
            ]
        );
        assert_eq!(q.excluded, vec![word("flaky")]);
    }

    #[test]
    fn filters() {
        let q =
            parse("from:@Ada in:#general has:image has:link is:mention after:2026-01-31").unwrap();
        assert_eq!(q.from.as_deref(), Some("ada"));
        assert_eq!(q.place, Some(Place::Named("general".into())));
        assert_eq!(q.has, vec![Has::Image, Has::Link]);
        assert!(q.mention);
        assert_eq!(q.after, Some(date("2026-01-31").unwrap()));
        assert_eq!(
            parse("in:@bob").unwrap().place,
            Some(Place::Direct("bob".into()))
        );
        let on = parse("on:1970-01-02").unwrap();
        assert_eq!((on.after, on.before), (Some(0), Some(2)));
        assert_eq!(parse("before:1970-01-01").unwrap().before, Some(0));
    }

    #[test]
    fn fts_syntax_is_only_text() {
        for smuggled in [
            r#"""#,
            "*",
            "NEAR(a b)",
            "^start",
            "col:",
            "a AND OR b",
            r#""unbalanced"#,
            "{a b}",
            "a:b:c",
            "(",
            "+",
            "-",
        ] {
            let q = parse(smuggled);
            assert!(q.is_ok() || smuggled == "a:b:c", "{smuggled}: {q:?}");
        }
        let q = parse("NEAR(a b)").unwrap();
        assert_eq!(q.terms[0].text, "NEAR(a");
        assert_eq!(q.terms[0].kind, TermKind::Phrase);
        assert_eq!(q.terms[1], word("b"));
        assert!(parse("*").unwrap().is_empty());
        assert!(parse("^ ( ) + ").unwrap().is_empty());
        assert_eq!(parse("col:").unwrap().terms, vec![word("col")]);
        assert_eq!(parse(r#""open ended"#).unwrap().terms[0].text, "open ended");
        assert_eq!(parse("a\0b").unwrap().terms, vec![word("ab")]);
        assert_eq!(parse("https://example.com/x").unwrap().terms.len(), 1);
        assert_eq!(parse("10:30").unwrap().terms[0].kind, TermKind::Phrase);
    }

    #[test]
    fn bad_filters_say_which_and_why() {
        let err = |s: &str| parse(s).unwrap_err();
        assert!(err("form:@bob").contains("form: is not a filter"));
        assert!(err("has:video").contains("has:video is not a filter"));
        assert!(err("is:starred").contains("is:starred"));
        assert!(err("before:2026-02-30").contains("is not a date"));
        assert!(err("after:yesterday").contains("YYYY-MM-DD"));
        assert!(err("from:@").contains("needs a username"));
        assert!(err("from:@a from:@b").contains("once"));
        assert!(err("after:2026-01-02 before:2026-01-03").contains("no day"));
        assert!(parse("after:2026-01-01 before:2026-01-03").is_ok());
        assert!(err("-flaky").contains("not only what to leave out"));
        assert!(parse("-flaky from:@ada").is_ok());
    }

    #[test]
    fn limits_at_the_limit_and_one_past() {
        assert!(parse(&"a".repeat(MAX_CHARS)).is_ok());
        assert!(
            parse(&"a".repeat(MAX_CHARS + 1))
                .unwrap_err()
                .contains("at most 500")
        );
        let terms = |n: usize| vec!["w"; n].join(" ");
        assert!(parse(&terms(MAX_TERMS)).is_ok());
        assert!(
            parse(&terms(MAX_TERMS + 1))
                .unwrap_err()
                .contains("at most 16")
        );
    }
}
