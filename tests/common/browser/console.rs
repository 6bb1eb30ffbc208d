//! The browser's console as a test reads it: messages, failed loads and CSP refusals.

use reqwest::Method;
use serde_json::json;

use super::Browser;

/// A message from the browser's console (or its network and security layers).
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    /// `console-api`, `network`, `security`, `javascript`, …
    pub source: String,
    pub message: String,
}

impl LogEntry {
    pub fn is_error(&self) -> bool {
        self.level == "SEVERE"
    }

    /// A Content-Security-Policy refusal ("Refused to load / execute / apply …").
    pub fn is_csp_violation(&self) -> bool {
        self.message.contains("Refused to") || self.message.contains("Content Security Policy")
    }
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} {}] {}", self.level, self.source, self.message)
    }
}

impl Browser {
    /// Every browser log entry since the browser started (console messages, failed loads,
    /// CSP refusals).
    pub async fn console_logs(&self) -> Vec<LogEntry> {
        let fresh = self
            .must(
                "reading the browser log",
                Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        let mut logs = self.logs.lock().expect("log lock");
        for entry in fresh.as_array().into_iter().flatten() {
            logs.push(LogEntry {
                level: entry["level"].as_str().unwrap_or_default().to_owned(),
                source: entry["source"].as_str().unwrap_or_default().to_owned(),
                message: entry["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        logs.clone()
    }

    /// The SEVERE entries since the browser started: console errors, uncaught exceptions,
    /// failed loads and Content-Security-Policy violations ("Refused to …").
    pub async fn console_errors(&self) -> Vec<LogEntry> {
        self.console_logs()
            .await
            .into_iter()
            .filter(LogEntry::is_error)
            .collect()
    }

    /// The CSP violations since the browser started, whatever their level.
    pub async fn csp_violations(&self) -> Vec<LogEntry> {
        let logs = self.console_logs().await;
        logs.into_iter()
            .filter(LogEntry::is_csp_violation)
            .collect()
    }

    /// Panics listing them when any console error or CSP violation was logged so far.
    pub async fn assert_no_console_errors(&self, context: &str) {
        self.assert_no_console_errors_except(context, &[]).await;
    }

    /// Like `assert_no_console_errors`, but excuses the errors (never CSP violations) whose
    /// message contains one of `expected`, e.g. the failed load of a page answered with 401.
    pub async fn assert_no_console_errors_except(&self, context: &str, expected: &[&str]) {
        let bad: Vec<String> = self
            .console_logs()
            .await
            .iter()
            .filter(|e| {
                e.is_csp_violation()
                    || (e.is_error() && !expected.iter().any(|x| e.message.contains(x)))
            })
            .map(ToString::to_string)
            .collect();
        assert!(
            bad.is_empty(),
            "console errors or CSP violations ({context}):\n  {}",
            bad.join("\n  ")
        );
    }

    /// Forgets the log entries read so far (e.g. after an expected error).
    pub async fn clear_console(&self) {
        self.console_logs().await;
        self.logs.lock().expect("log lock").clear();
    }
}
