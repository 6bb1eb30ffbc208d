//! A parsed query as FTS5 expressions: every term a quoted string (its quotes doubled), joined
//! with `AND`, `OR` and `NOT` here, so nothing typed is ever read as the index's own syntax;
//! and the check that a candidate found by trigrams really holds the terms.

use super::fold::fold;
use super::query::{Query, Term, TermKind};

/// FTS5 string literal: the text in double quotes, its own quotes doubled.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The word index expression: every term, none of the exclusions.
pub fn words_expr(q: &Query) -> Option<String> {
    let term = |t: &Term| match t.kind {
        TermKind::Prefix => format!("{} *", quoted(&t.text)),
        _ => quoted(&t.text),
    };
    let all: Vec<String> = q.terms.iter().map(term).collect();
    if all.is_empty() {
        return None;
    }
    let mut expr = format!("({})", all.join(" AND "));
    if !q.excluded.is_empty() {
        let none: Vec<String> = q.excluded.iter().map(term).collect();
        expr = format!("{expr} NOT ({})", none.join(" OR "));
    }
    Some(expr)
}

/// The exclusions alone, for a query of filters.
pub fn excluded_expr(q: &Query) -> Option<String> {
    (!q.excluded.is_empty()).then(|| {
        let none: Vec<String> = q.excluded.iter().map(|t| quoted(&t.text)).collect();
        none.join(" OR ")
    })
}

/// The trigram expression that every text containing all the terms matches (a superset:
/// candidates are checked). None when no term is long enough to look up.
pub fn trigram_expr(q: &Query) -> Option<String> {
    let mut parts = Vec::new();
    for t in &q.terms {
        let chars: Vec<char> = fold(&t.text).chars().collect();
        match chars.len() {
            // Shorter than a trigram: only the check against the text can find it.
            0..=2 => {}
            n => {
                // At most eight trigrams, spread over the term, the last one included.
                let count = (n - 2).min(8);
                let mut starts: Vec<usize> = (0..count)
                    .map(|i| i * (n - 3) / count.max(2).saturating_sub(1).max(1))
                    .collect();
                starts.push(n - 3);
                starts.sort_unstable();
                starts.dedup();
                for s in starts {
                    parts.push(quoted(&chars[s..s + 3].iter().collect::<String>()));
                }
            }
        }
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// Whether a candidate's text holds every term and no exclusion, folded.
pub fn holds(text: &str, terms: &[String], excluded: &[String]) -> bool {
    let text = fold(text);
    terms.iter().all(|t| text.contains(t.as_str()))
        && !excluded.iter().any(|t| text.contains(t.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::parse;

    #[test]
    fn expressions_are_quoted() {
        let q = parse(r#"ab"c heat* -"x y""#).unwrap();
        assert_eq!(
            words_expr(&q).unwrap(),
            r#"("ab""c" AND "heat" *) NOT ("x y")"#
        );
        let q = parse("東京で会議").unwrap();
        assert_eq!(
            trigram_expr(&q).unwrap(),
            r#""東京で" AND "京で会" AND "で会議""#
        );
        assert_eq!(trigram_expr(&parse("東京").unwrap()), None);
        assert_eq!(
            trigram_expr(&parse("東京 abc").unwrap()).unwrap(),
            r#""abc""#
        );
        assert_eq!(trigram_expr(&parse("東").unwrap()), None);
        let long = trigram_expr(&parse(&"abcdefghij".repeat(3)).unwrap()).unwrap();
        assert!(long.matches(" AND ").count() <= 8, "{long}");
        assert!(long.ends_with(r#""hij""#), "{long}");
    }

    #[test]
    fn a_candidate_holds_every_term_and_no_exclusion() {
        let terms = vec!["cafe".to_string(), "会議".to_string()];
        assert!(holds("Le Café: 会議です", &terms, &[]));
        assert!(!holds("Le Café seulement", &terms, &[]));
        assert!(!holds("Le Café: 会議です", &terms, &["です".to_string()]));
    }
}
