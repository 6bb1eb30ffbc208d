//! What a receiver's answer comes to: delivered (with the text of the bot's reply, if it said
//! something), tried again later, or failed for good.

use std::time::Duration;

use super::deliver::{ANSWER_BYTES, ATTEMPTS, TIMEOUT};
use crate::net::{Answer, FetchError};
use crate::store::outgoing::Outcome;

/// The longest wait a receiver's `Retry-After` may ask for.
const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// What came of an attempt, before the reply (if any) is posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Verdict {
    pub status: Option<u16>,
    pub outcome: Outcome,
    /// What went wrong, or what is worth noting; empty when nothing.
    pub error: String,
    /// The text to post as the bot's reply.
    pub reply: Option<String>,
    /// The least wait before the next try, when the receiver asked for one.
    pub wait: Option<Duration>,
}

impl Verdict {
    fn failed(status: Option<u16>, error: String) -> Verdict {
        Verdict {
            status,
            outcome: Outcome::Failed,
            error,
            reply: None,
            wait: None,
        }
    }

    fn again(status: Option<u16>, error: String, wait: Option<Duration>) -> Verdict {
        Verdict {
            status,
            outcome: Outcome::Retrying,
            error,
            reply: None,
            wait: wait.map(|w| w.min(LONGEST_WAIT)),
        }
    }
}

/// Reads an attempt's result: 2xx delivered (with a reply when the answer has text); 408, 429,
/// 5xx, no answer in time or no connection tried again, unless this was the `last` try; any
/// other status, a redirect or an address refused failed for good.
pub(super) fn judge(
    answer: std::result::Result<Answer, FetchError>,
    max_chars: usize,
    last: bool,
) -> Verdict {
    let verdict = match answer {
        Ok(answer) => match answer.status {
            200..=299 => {
                let (reply, note) = reply_text(&answer, max_chars);
                Verdict {
                    status: Some(answer.status),
                    outcome: Outcome::Delivered,
                    error: note,
                    reply,
                    wait: None,
                }
            }
            300..=399 => Verdict::failed(
                Some(answer.status),
                format!(
                    "the receiver answered {} (a redirect to {}); webhooks do not follow \
                     redirects: set the hook's URL to where it should go",
                    answer.status,
                    answer.location.as_deref().unwrap_or("nowhere")
                ),
            ),
            408 | 429 | 500..=599 => Verdict::again(
                Some(answer.status),
                format!("the receiver answered {}", answer.status),
                answer.retry_after,
            ),
            status => Verdict::failed(Some(status), format!("the receiver answered {status}")),
        },
        Err(FetchError::TimedOut) => Verdict::again(
            None,
            format!("no answer within {} s", TIMEOUT.as_secs()),
            None,
        ),
        Err(err @ (FetchError::Transport(_) | FetchError::Lookup { .. })) => {
            Verdict::again(None, err.to_string(), None)
        }
        Err(FetchError::Blocked(ip)) => Verdict::failed(
            None,
            format!(
                "refused: {ip} is not a public address, and this hook does not allow private \
                 targets"
            ),
        ),
        Err(err) => Verdict::failed(None, err.to_string()),
    };
    if last && verdict.outcome == Outcome::Retrying {
        let error = format!("{}; gave up after {ATTEMPTS} attempts", verdict.error);
        return Verdict::failed(verdict.status, error);
    }
    verdict
}

/// The text of a 2xx answer that becomes the bot's reply: `text` of a JSON object, or a
/// `text/plain` body; cut to `max_chars`. With it, a note for the log (empty when none).
pub(super) fn reply_text(answer: &Answer, max_chars: usize) -> (Option<String>, String) {
    let text = match answer.content_type.as_str() {
        _ if answer.body.iter().all(u8::is_ascii_whitespace) => return (None, String::new()),
        "application/json" => match serde_json::from_slice::<serde_json::Value>(&answer.body) {
            Ok(value) => match value.get("text") {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(_) => return (None, "the answer's \"text\" is not a string".into()),
                None => return (None, String::new()),
            },
            Err(_) if answer.body.len() >= ANSWER_BYTES => {
                return (None, format!("the answer is over {ANSWER_BYTES} bytes"));
            }
            Err(e) => return (None, format!("the answer is not valid JSON ({e})")),
        },
        "text/plain" => match std::str::from_utf8(&answer.body) {
            Ok(text) => text.to_owned(),
            // A cut in the middle of a character at the byte limit: what came before stands.
            Err(e) if answer.body.len() >= ANSWER_BYTES => {
                String::from_utf8_lossy(&answer.body[..e.valid_up_to()]).into_owned()
            }
            Err(_) => return (None, "the answer is not UTF-8 text".into()),
        },
        other => {
            return (
                None,
                format!(
                    "an answer of type {} is not posted (answer application/json or text/plain)",
                    if other.is_empty() { "(none)" } else { other }
                ),
            );
        }
    };
    // What a message may not hold is dropped; what is left must say something.
    let text: String = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect();
    let text = text.trim();
    if text.is_empty() {
        return (None, String::new());
    }
    let count = text.chars().count();
    if count <= max_chars {
        return (Some(text.to_owned()), String::new());
    }
    let cut: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    let note = format!("the answer of {count} characters was cut to {max_chars}");
    (Some(format!("{}…", cut.trim_end())), note)
}

/// An answer as a receiver might give it (for the unit tests of the verdicts).
#[cfg(test)]
pub(super) fn answer(status: u16, content_type: &str, body: &[u8]) -> Answer {
    Answer {
        status,
        retry_after: None,
        content_type: content_type.to_owned(),
        location: None,
        body: body.to_vec(),
    }
}
