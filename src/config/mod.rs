//! Typed configuration: defaults, then the TOML file, then `HEARTH_*` variables, then flags.

use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

mod env;
mod smtp;
mod storage;

use env::from_env;

pub use smtp::{SmtpConfig, SmtpTls};
pub use storage::S3Config;

/// How hard SQLite works to survive power loss (see docs/operations.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Full,
    Normal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// The whole configuration of one Hearth instance.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// The public URL (`https://chat.example.org`); empty means "whatever Host says".
    pub base_url: String,
    pub trusted_proxies: Vec<IpAddr>,
    pub synchronous: Synchronous,
    pub log_format: LogFormat,
    pub session_idle_days: u32,
    pub session_max_days: u32,
    /// Days the audit log keeps a row; 0 keeps every row.
    pub audit_keep_days: u32,
    pub max_message_chars: usize,
    pub send_per_minute: u32,
    pub max_sockets_per_user: usize,
    /// How many password hashes may be computed at once; 0: one per core.
    pub password_hash_threads: usize,
    /// How many sign-ins may wait for a hashing thread before more are refused with 503.
    pub password_hash_queue: usize,
    /// Seconds a client has to send a request's head, once its connection is ready for one.
    pub request_timeout_secs: u64,
    /// Seconds an idle connection stays open waiting for its next request.
    pub keep_alive_secs: u64,
    /// The most connections open at once (lowered to what the open-file limit allows).
    pub max_connections: usize,
    /// The largest request body, in bytes; a larger declared length is refused at once.
    pub max_request_bytes: usize,
    /// The Bearer token that reads `/metrics`; empty: `/metrics` answers 404.
    pub metrics_token: String,
    /// Whether anyone who can reach the server may make an account at `/signup`.
    pub open_signup: bool,
    /// The largest file one upload may hold, in MiB.
    pub max_upload_mb: u64,
    /// How many MiB of files one person may have stored; 0: no quota.
    pub upload_quota_mb: u64,
    /// Days the files of a deleted message are kept before they are collected.
    pub deleted_files_keep_days: u32,
    /// Whether the server reads the first link of a message and adds a card.
    pub link_previews: bool,
    /// Networks (`192.168.1.0/24`) the server may fetch from although they are not public:
    /// link previews of an intranet's pages.
    pub fetch_allow_networks: Vec<String>,
    /// Who runs this server, for push services (VAPID `sub`): a `mailto:` or `https:` URL.
    /// Empty: `base_url` when it is https; otherwise Web Push is off.
    pub push_subject: String,
    /// Seconds none of a person's pages has been in view before pushes reach their devices.
    pub push_idle_secs: u64,
    /// How long a person has had no page open before their unread mentions and direct
    /// messages are emailed (`email_idle_minutes`); what arrives meanwhile joins the same email.
    pub email_idle: Duration,
    /// The SMTP server email goes out through (the `[smtp]` table); no host: no email.
    pub smtp: SmtpConfig,
    pub backup: BackupConfig,
    /// Where attachment blobs live: empty for `attachments/` in the data dir, or
    /// `s3://bucket/prefix` for object storage reached with `s3`.
    pub attachments: String,
    pub s3: S3Config,
}

/// Scheduled backups made by `serve` (the `[backup]` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupConfig {
    /// How often; `None` makes none.
    pub interval: Option<Duration>,
    /// How many scheduled backups stay; older ones are deleted.
    pub keep: usize,
    /// Where they go; a relative path is inside the data dir.
    pub dir: PathBuf,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            interval: None,
            keep: 7,
            dir: PathBuf::from("backups"),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./hearth-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            base_url: String::new(),
            trusted_proxies: Vec::new(),
            synchronous: Synchronous::Full,
            log_format: LogFormat::Text,
            session_idle_days: 14,
            session_max_days: 90,
            audit_keep_days: 365,
            max_message_chars: 4000,
            send_per_minute: 120,
            max_sockets_per_user: 16,
            password_hash_threads: 0,
            password_hash_queue: 64,
            request_timeout_secs: 10,
            keep_alive_secs: 60,
            max_connections: 16_384,
            max_request_bytes: 64 * 1024,
            metrics_token: String::new(),
            open_signup: false,
            max_upload_mb: 25,
            upload_quota_mb: 0,
            deleted_files_keep_days: 7,
            link_previews: true,
            fetch_allow_networks: Vec::new(),
            push_subject: String::new(),
            push_idle_secs: 60,
            email_idle: Duration::from_secs(15 * 60),
            smtp: SmtpConfig::default(),
            backup: BackupConfig::default(),
            attachments: String::new(),
            s3: S3Config::default(),
        }
    }
}

/// The keys a config file may hold; any other key is an error that names it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    base_url: Option<String>,
    trusted_proxies: Option<Vec<String>>,
    synchronous: Option<Synchronous>,
    log_format: Option<LogFormat>,
    session_idle_days: Option<u32>,
    session_max_days: Option<u32>,
    audit_keep_days: Option<u32>,
    max_message_chars: Option<usize>,
    send_per_minute: Option<u32>,
    max_sockets_per_user: Option<usize>,
    password_hash_threads: Option<usize>,
    password_hash_queue: Option<usize>,
    request_timeout_secs: Option<u64>,
    keep_alive_secs: Option<u64>,
    max_connections: Option<usize>,
    max_request_bytes: Option<usize>,
    metrics_token: Option<String>,
    open_signup: Option<bool>,
    max_upload_mb: Option<u64>,
    upload_quota_mb: Option<u64>,
    deleted_files_keep_days: Option<u32>,
    link_previews: Option<bool>,
    fetch_allow_networks: Option<Vec<String>>,
    push_subject: Option<String>,
    push_idle_secs: Option<u64>,
    email_idle_minutes: Option<u64>,
    smtp: Option<smtp::FileSmtp>,
    backup: Option<FileBackup>,
    attachments: Option<String>,
    s3: Option<storage::FileS3>,
}

/// The `[backup]` table of a config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackup {
    interval: Option<String>,
    keep: Option<usize>,
    dir: Option<PathBuf>,
}

/// Values given on the command line; `None` leaves the lower layers' value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub log_format: Option<LogFormat>,
}

impl Config {
    /// Builds the configuration from every layer: defaults < file < env < flags.
    pub fn load(
        file: Option<&Path>,
        env: &[(String, String)],
        flags: &Overrides,
    ) -> Result<Config> {
        let mut config = Config::default();
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                Error::invalid(format!("cannot read config file {}: {e}", path.display()))
            })?;
            let parsed: FileConfig = toml::from_str(&text).map_err(|e| {
                Error::invalid(format!(
                    "config file {}: {}",
                    path.display(),
                    e.message().trim()
                ))
            })?;
            config.apply(parsed)?;
        }
        config.apply(from_env(env)?)?;
        if let Some(dir) = &flags.data_dir {
            config.data_dir = dir.clone();
        }
        if let Some(listen) = &flags.listen {
            config.listen = parse_listen(listen)?;
        }
        if let Some(format) = flags.log_format {
            config.log_format = format;
        }
        config.validate()?;
        Ok(config)
    }

    fn apply(&mut self, f: FileConfig) -> Result<()> {
        if let Some(v) = f.data_dir {
            self.data_dir = v;
        }
        if let Some(v) = f.listen {
            self.listen = parse_listen(&v)?;
        }
        if let Some(v) = f.base_url {
            self.base_url = v.trim_end_matches('/').to_owned();
        }
        if let Some(v) = f.trusted_proxies {
            self.trusted_proxies = v
                .iter()
                .map(|p| {
                    p.trim().parse().map_err(|_| {
                        Error::invalid(format!("trusted_proxies: {p:?} is not an IP address"))
                    })
                })
                .collect::<Result<_>>()?;
        }
        macro_rules! take {
            ($($field:ident),*) => { $( if let Some(v) = f.$field { self.$field = v; } )* };
        }
        take!(
            synchronous,
            log_format,
            session_idle_days,
            session_max_days,
            audit_keep_days,
            max_message_chars,
            send_per_minute,
            max_sockets_per_user,
            password_hash_threads,
            password_hash_queue,
            request_timeout_secs,
            keep_alive_secs,
            max_connections,
            max_request_bytes,
            metrics_token,
            open_signup,
            max_upload_mb,
            upload_quota_mb,
            deleted_files_keep_days,
            link_previews,
            fetch_allow_networks,
            push_subject,
            push_idle_secs
        );
        if let Some(v) = f.attachments {
            self.attachments = v.trim().to_owned();
        }
        if let Some(s) = f.s3 {
            s.apply(&mut self.s3);
        }
        if let Some(v) = f.email_idle_minutes {
            if !(1..=1440).contains(&v) {
                return Err(Error::invalid(
                    "email_idle_minutes must be between 1 and 1440",
                ));
            }
            self.email_idle = Duration::from_secs(v * 60);
        }
        if let Some(s) = f.smtp {
            s.apply(&mut self.smtp);
        }
        if let Some(b) = f.backup {
            if let Some(v) = b.interval {
                self.backup.interval = parse_interval(&v)?;
            }
            if let Some(v) = b.keep {
                self.backup.keep = v;
            }
            if let Some(v) = b.dir {
                self.backup.dir = v;
            }
        }
        Ok(())
    }

    /// Checks values that each parse but make no sense.
    pub fn validate(&self) -> Result<()> {
        if !(self.base_url.is_empty()
            || self.base_url.starts_with("http://")
            || self.base_url.starts_with("https://"))
        {
            return Err(Error::invalid(
                "base_url must start with http:// or https://",
            ));
        }
        if self.session_idle_days == 0 || self.session_max_days < self.session_idle_days {
            return Err(Error::invalid(
                "session_idle_days must be at least 1 and no more than session_max_days",
            ));
        }
        if !(1..=100_000).contains(&self.max_message_chars) {
            return Err(Error::invalid(
                "max_message_chars must be between 1 and 100000",
            ));
        }
        if self.send_per_minute == 0 || self.max_sockets_per_user == 0 {
            return Err(Error::invalid(
                "send_per_minute and max_sockets_per_user must be at least 1",
            ));
        }
        if self.password_hash_threads > 256 {
            return Err(Error::invalid("password_hash_threads must be at most 256"));
        }
        if !(1..=3600).contains(&self.request_timeout_secs)
            || !(1..=3600).contains(&self.keep_alive_secs)
        {
            return Err(Error::invalid(
                "request_timeout_secs and keep_alive_secs must be between 1 and 3600",
            ));
        }
        if self.max_connections == 0 {
            return Err(Error::invalid("max_connections must be at least 1"));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.max_request_bytes) {
            return Err(Error::invalid(
                "max_request_bytes must be between 1024 and 67108864",
            ));
        }
        if !(1..=4096).contains(&self.max_upload_mb) {
            return Err(Error::invalid("max_upload_mb must be between 1 and 4096"));
        }
        if self.upload_quota_mb != 0 && self.upload_quota_mb < self.max_upload_mb {
            return Err(Error::invalid(
                "upload_quota_mb must be 0 (no quota) or at least max_upload_mb",
            ));
        }
        if let Err(err) = crate::net::parse_networks(&self.fetch_allow_networks) {
            return Err(Error::invalid(format!("fetch_allow_networks: {err}")));
        }
        if !self.push_subject.is_empty()
            && let Err(why) = crate::notify::subject(&self.push_subject)
        {
            return Err(Error::invalid(format!("push_subject: {why}")));
        }
        if !(1..=86_400).contains(&self.push_idle_secs) {
            return Err(Error::invalid("push_idle_secs must be between 1 and 86400"));
        }
        self.smtp
            .validate(&self.base_url, &self.fetch_allow_networks)?;
        storage::validate(&self.attachments, &self.s3)?;
        if self.backup.keep == 0 {
            return Err(Error::invalid("backup.keep must be at least 1"));
        }
        if !self.metrics_token.is_empty() && self.metrics_token.len() < 16 {
            return Err(Error::invalid(
                "metrics_token must be at least 16 characters (e.g. `openssl rand -hex 32`)",
            ));
        }
        Ok(())
    }

    /// The VAPID subject pushes carry: `push_subject`, else an https `base_url`; `None`: no
    /// Web Push.
    pub fn push_subject(&self) -> Option<&str> {
        if !self.push_subject.is_empty() {
            Some(&self.push_subject)
        } else if self.base_url.starts_with("https://") {
            Some(&self.base_url)
        } else {
            None
        }
    }

    /// The largest upload, in bytes.
    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb * 1024 * 1024
    }

    /// Whether cookies must carry `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("hearth.db")
    }

    /// The folder of scheduled backups (a relative `backup.dir` is inside the data dir).
    pub fn backup_dir(&self) -> PathBuf {
        self.data_dir.join(&self.backup.dir)
    }
}

/// `"30m"`, `"6h"`, `"1d"`, `"1h30m"`, `"90s"`; `"off"` (or empty, or `"0"`) is none.
fn parse_interval(raw: &str) -> Result<Option<Duration>> {
    let text = raw.trim().to_ascii_lowercase();
    if matches!(text.as_str(), "" | "off" | "0") {
        return Ok(None);
    }
    let bad = || {
        Error::invalid(format!(
            "backup.interval {raw:?} is not a duration like \"30m\", \"6h\" or \"1d\" (or \"off\")"
        ))
    };
    let (mut total, mut digits) = (0u64, String::new());
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
        digits.clear();
    }
    if !digits.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(Some(Duration::from_secs(total)))
}

fn parse_listen(raw: &str) -> Result<SocketAddr> {
    raw.trim().parse().map_err(|_| {
        Error::invalid(format!(
            "listen address {raw:?} is not of the form IP:PORT (e.g. 127.0.0.1:8080)"
        ))
    })
}

#[cfg(test)]
mod tests;
