//! What an import did (or, in a dry run, would do), counted and explained for the operator.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// One kind of thing: how many came in, how many were already here, and why others did not.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    pub imported: usize,
    pub already: usize,
    /// Reason to how many.
    pub skipped: BTreeMap<String, usize>,
}

impl Tally {
    pub fn skip(&mut self, reason: &str, n: usize) {
        if n > 0 {
            *self.skipped.entry(reason.to_owned()).or_default() += n;
        }
    }

    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// What the import is keyed by in the `imported` table (`slack:T…`).
    pub source: String,
    pub people: Tally,
    pub conversations: Tally,
    pub messages: Tally,
    pub reactions: Tally,
    /// Usernames of people here before, taken to be the Slack people of the same username.
    pub matched: Vec<String>,
    /// Conversations here before that received the Slack one's history (`#general`).
    pub merged: Vec<String>,
    /// Slack ids that `users.json` does not know, with how often each was met.
    pub unknown: BTreeMap<String, usize>,
    /// The deactivated account messages of unknown people were attributed to.
    pub placeholder: Option<String>,
    /// Reaction names that are a workspace's own images.
    pub custom_emoji: BTreeSet<String>,
    pub notes: Vec<String>,
}

impl Summary {
    /// The table and explanations printed at the end; `dry_run` says "would import".
    pub fn render(&self, dry_run: bool) -> String {
        let mut out = String::new();
        let done = if dry_run { "would import" } else { "imported" };
        let _ = writeln!(
            out,
            "{:<14} {done:>12} {:>14} {:>8}",
            "", "already there", "skipped"
        );
        for (name, t) in [
            ("people", &self.people),
            ("conversations", &self.conversations),
            ("messages", &self.messages),
            ("reactions", &self.reactions),
        ] {
            let _ = writeln!(
                out,
                "{name:<14} {:>12} {:>14} {:>8}",
                t.imported,
                t.already,
                t.skipped_total()
            );
        }
        for (name, t) in [
            ("people", &self.people),
            ("conversations", &self.conversations),
            ("messages", &self.messages),
            ("reactions", &self.reactions),
        ] {
            if t.skipped.is_empty() {
                continue;
            }
            let _ = writeln!(out, "Skipped {name}:");
            for (reason, n) in &t.skipped {
                let _ = writeln!(out, "  {n:>6}  {reason}");
            }
        }
        if !self.matched.is_empty() {
            let _ = writeln!(
                out,
                "Already here by username (their Slack history is theirs): {}",
                list(&self.matched)
            );
        }
        if !self.merged.is_empty() {
            let _ = writeln!(
                out,
                "Already here by name (the Slack history goes into them): {}",
                list(&self.merged)
            );
        }
        if !self.unknown.is_empty() {
            let ids: Vec<String> = self
                .unknown
                .iter()
                .map(|(id, n)| format!("{id} ({n})"))
                .collect();
            let _ = writeln!(
                out,
                "Slack ids not in users.json (times met): {}",
                list(&ids)
            );
        }
        if let Some(name) = &self.placeholder {
            let _ = writeln!(
                out,
                "Messages of people not in users.json are under the deactivated account {name:?}."
            );
        }
        if !self.custom_emoji.is_empty() {
            let names: Vec<String> = self.custom_emoji.iter().map(|n| format!(":{n}:")).collect();
            let _ = writeln!(out, "Custom emoji left out: {}", list(&names));
        }
        for note in &self.notes {
            let _ = writeln!(out, "{note}");
        }
        out
    }
}

/// The first few items of a list, then how many more.
fn list(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > SHOWN {
        let _ = write!(text, " and {} more", items.len() - SHOWN);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_counts_and_the_reasons_explain() {
        let mut s = Summary::default();
        s.people.imported = 3;
        s.messages.imported = 10;
        s.messages.already = 2;
        s.messages.skip("empty", 1);
        s.messages.skip("empty", 2);
        s.messages.skip("never", 0);
        s.unknown.insert("U9".into(), 4);
        s.custom_emoji.insert("partyparrot".into());
        let text = s.render(false);
        assert!(text.contains("imported"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["messages", "10", "2", "3"]),
            "{text}"
        );
        assert!(
            text.contains("Skipped messages:\n       3  empty\n"),
            "{text}"
        );
        assert!(!text.contains("never"), "{text}");
        assert!(
            text.contains("U9 (4)") && text.contains(":partyparrot:"),
            "{text}"
        );
        assert!(s.render(true).contains("would import"));
        let many: Vec<String> = (0..25).map(|i| i.to_string()).collect();
        assert!(list(&many).ends_with("19 and 5 more"));
    }
}
