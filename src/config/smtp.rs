//! The `[smtp]` table: the server email goes out through, and its checks. Email is on only
//! when `host` is set.

use serde::Deserialize;
use std::net::{IpAddr, ToSocketAddrs};
use std::time::Duration;

use crate::error::{Error, Result};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain at first, then upgraded; refused if the server does not offer it (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a server on this machine or on an allowed network (port 25).
    None,
}

impl SmtpTls {
    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }
}

/// The SMTP server and the sender address.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    /// Empty: no email.
    pub host: String,
    /// `None`: the usual port for `tls`.
    pub port: Option<u16>,
    pub tls: SmtpTls,
    /// Empty: no authentication.
    pub user: String,
    pub password: String,
    /// `Hearth <chat@example.org>` or a bare address.
    pub from: String,
    /// How long one email may take to hand over, connection included.
    pub timeout: Duration,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: None,
            tls: SmtpTls::Starttls,
            user: String::new(),
            password: String::new(),
            from: String::new(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// The password never reaches a log line.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("password", &(!self.password.is_empty()).then_some("…"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SmtpConfig {
    /// Whether this server sends email.
    pub fn enabled(&self) -> bool {
        !self.host.is_empty()
    }

    /// The port connected to.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        })
    }

    /// Checks the table when email is on; each error names its setting.
    pub fn validate(&self, base_url: &str, allow_networks: &[String]) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let bad = |msg: String| Err(Error::invalid(msg));
        if self.host.len() > 253
            || !self
                .host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]_".contains(c))
        {
            return bad(format!(
                "smtp.host {:?} is not a host name or address",
                self.host
            ));
        }
        if self.port == Some(0) {
            return bad("smtp.port must be between 1 and 65535".into());
        }
        if self.from.trim().is_empty() {
            return bad("smtp.from must be set (the address emails come from)".into());
        }
        if let Err(e) = self.from.parse::<lettre::message::Mailbox>() {
            return bad(format!(
                "smtp.from {:?} is not an email address ({e}); e.g. \"Hearth <chat@example.org>\"",
                self.from
            ));
        }
        if self.user.is_empty() != self.password.is_empty() {
            return bad("smtp.user and smtp.password are set together or not at all".into());
        }
        if !(1..=300).contains(&self.timeout.as_secs()) {
            return bad("smtp.timeout_secs must be between 1 and 300".into());
        }
        if base_url.is_empty() {
            return bad(
                "smtp.host is set, so base_url must be too: emails link to this server".into(),
            );
        }
        if self.tls == SmtpTls::None {
            self.local_only(allow_networks)?;
        }
        Ok(())
    }

    /// `tls = "none"` sends passwords and messages in the clear: only to this machine or to a
    /// network the operator allows.
    fn local_only(&self, allow_networks: &[String]) -> Result<()> {
        let allow = crate::net::parse_networks(allow_networks).unwrap_or_default();
        let ok = |ip: IpAddr| {
            ip.is_loopback() || ip.to_canonical().is_loopback() || {
                allow
                    .iter()
                    .any(|net| net.contains(&ip) || net.contains(&ip.to_canonical()))
            }
        };
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let found: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => (host, self.port())
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a| a.ip()).collect())
                .map_err(|e| {
                    Error::invalid(format!(
                        "smtp.host {host:?} cannot be looked up to check that it is local \
                         (smtp.tls = \"none\"): {e}"
                    ))
                })?,
        };
        if found.is_empty() || !found.into_iter().all(ok) {
            return Err(Error::invalid(format!(
                "smtp.tls = \"none\" sends email unencrypted: smtp.host {host:?} must be on this \
                 machine (loopback) or on a network in fetch_allow_networks; otherwise use \
                 \"starttls\" or \"tls\""
            )));
        }
        Ok(())
    }
}

/// The `[smtp]` table of a config file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileSmtp {
    host: Option<String>,
    port: Option<u16>,
    tls: Option<SmtpTls>,
    user: Option<String>,
    password: Option<String>,
    from: Option<String>,
    timeout_secs: Option<u64>,
}

impl FileSmtp {
    pub(super) fn apply(self, to: &mut SmtpConfig) {
        if let Some(v) = self.host {
            to.host = v.trim().to_owned();
        }
        if let Some(v) = self.port {
            to.port = Some(v);
        }
        if let Some(v) = self.tls {
            to.tls = v;
        }
        if let Some(v) = self.user {
            to.user = v;
        }
        if let Some(v) = self.password {
            to.password = v;
        }
        if let Some(v) = self.from {
            to.from = v.trim().to_owned();
        }
        if let Some(v) = self.timeout_secs {
            to.timeout = Duration::from_secs(v);
        }
    }
}

/// A `HEARTH_SMTP_<FIELD>` variable as the TOML value of its key; `None`: not an smtp key.
pub(super) fn env_value(key: &str, field: &str, value: &str) -> Result<Option<toml::Value>> {
    Ok(Some(match field {
        "host" | "tls" | "user" | "password" | "from" => toml::Value::String(value.to_owned()),
        "port" | "timeout_secs" => {
            toml::Value::Integer(value.trim().parse().map_err(|_| {
                Error::invalid(format!("{key} must be a whole number, not {value:?}"))
            })?)
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> SmtpConfig {
        SmtpConfig {
            host: "smtp.example.org".into(),
            from: "Hearth <chat@example.org>".into(),
            ..SmtpConfig::default()
        }
    }

    const BASE: &str = "https://chat.example.org";

    fn refused(c: &SmtpConfig, allow: &[&str], says: &str) {
        let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
        let err = c.validate(BASE, &allow).unwrap_err().to_string();
        assert!(err.contains(says), "{err}");
    }

    #[test]
    fn off_until_a_host_is_set() {
        assert!(!SmtpConfig::default().enabled());
        SmtpConfig::default().validate("", &[]).unwrap();
        assert!(on().enabled());
        on().validate(BASE, &[]).unwrap();
        assert_eq!(on().port(), 587);
    }

    #[test]
    fn each_error_names_its_setting() {
        refused(
            &SmtpConfig {
                from: String::new(),
                ..on()
            },
            &[],
            "smtp.from",
        );
        refused(
            &SmtpConfig {
                from: "not an address".into(),
                ..on()
            },
            &[],
            "smtp.from",
        );
        refused(
            &SmtpConfig {
                user: "me".into(),
                ..on()
            },
            &[],
            "smtp.user and smtp.password",
        );
        refused(
            &SmtpConfig {
                port: Some(0),
                ..on()
            },
            &[],
            "smtp.port",
        );
        refused(
            &SmtpConfig {
                host: "smtp example".into(),
                ..on()
            },
            &[],
            "smtp.host",
        );
        refused(
            &SmtpConfig {
                timeout: Duration::from_secs(301),
                ..on()
            },
            &[],
            "smtp.timeout_secs",
        );
        SmtpConfig {
            timeout: Duration::from_secs(300),
            ..on()
        }
        .validate(BASE, &[])
        .unwrap();
        let err = on().validate("", &[]).unwrap_err().to_string();
        assert!(err.contains("base_url"), "{err}");
    }

    #[test]
    fn plain_text_only_to_this_machine_or_an_allowed_network() {
        let plain = |host: &str| SmtpConfig {
            host: host.into(),
            tls: SmtpTls::None,
            ..on()
        };
        plain("127.0.0.1").validate(BASE, &[]).unwrap();
        plain("[::1]").validate(BASE, &[]).unwrap();
        plain("localhost").validate(BASE, &[]).unwrap();
        assert_eq!(plain("127.0.0.1").port(), 25);
        refused(&plain("192.168.1.5"), &[], "fetch_allow_networks");
        refused(&plain("8.8.8.8"), &[], "smtp.tls");
        plain("192.168.1.5")
            .validate(BASE, &["192.168.1.0/24".into()])
            .unwrap();
        refused(&plain("192.168.2.5"), &["192.168.1.0/24"], "smtp.tls");
    }
}
