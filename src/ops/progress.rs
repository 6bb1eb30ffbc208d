//! Progress bars for long operator commands: drawn on a terminal, silent everywhere else
//! (scripts, cron, systemd and scheduled backups inside `serve` see nothing).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Makes progress bars, or hidden ones when nobody is watching.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    visible: bool,
}

impl Progress {
    /// Bars on standard error when it is a terminal.
    pub fn terminal() -> Progress {
        Progress {
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// No bars at all.
    pub fn quiet() -> Progress {
        Progress { visible: false }
    }

    /// A bar over `total` bytes.
    pub fn bytes(&self, total: u64, message: &'static str) -> ProgressBar {
        self.make(
            Some(total),
            message,
            "{msg:12} [{bar:30}] {bytes}/{total_bytes} {eta}",
        )
    }

    /// A bar over `total` items (messages, files).
    pub fn items(&self, total: u64, message: &'static str) -> ProgressBar {
        self.make(
            Some(total),
            message,
            "{msg:12} [{bar:30}] {pos}/{len} {eta}",
        )
    }

    /// A spinner for a step of unknown length.
    pub fn spinner(&self, message: &'static str) -> ProgressBar {
        let bar = self.make(None, message, "{spinner} {msg} {elapsed}");
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    fn make(&self, len: Option<u64>, message: &'static str, template: &str) -> ProgressBar {
        if !self.visible {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.with_message(message)
    }
}
