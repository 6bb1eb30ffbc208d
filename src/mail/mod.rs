//! Email out: the one SMTP client (rustls on ring, a time limit on every send), the message
//! an email becomes (plain text and HTML, one-click unsubscribe headers), and what each email
//! says ([`compose`]). It knows nothing of the database.

pub mod compose;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

use crate::config::{Config, SmtpTls};

/// One email, ready to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The one-click unsubscribe URL (RFC 8058), for notification emails.
    pub unsubscribe: Option<String>,
    /// A stable id, so that the same email is recognised as one wherever it lands.
    pub message_id: Option<String>,
}

/// Why an email did not go.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The recipient is not an address an email can go to.
    #[error("{0:?} is not an email address")]
    Address(String),
    /// The SMTP server answered with an error (a 4xx or 5xx code and its text).
    #[error("the SMTP server refused: {0}")]
    Refused(String),
    /// No answer within the time limit.
    #[error("the SMTP server did not answer within {0} s")]
    TimedOut(u64),
    /// The connection failed or was dropped, or TLS could not be set up.
    #[error("could not talk to the SMTP server: {0}")]
    Connection(String),
    /// The email itself could not be made.
    #[error("the email could not be made: {0}")]
    Build(String),
}

/// Where email goes out: the SMTP server of the config and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
    /// What the operator is told this is (`smtp.example.org:587 (starttls)`).
    pub describe: String,
}

impl Mailer {
    /// The mailer of a checked config; `None` when email is off.
    pub fn new(config: &Config) -> Result<Option<Mailer>, MailError> {
        let smtp = &config.smtp;
        if !smtp.enabled() {
            return Ok(None);
        }
        let from: Mailbox = smtp
            .from
            .parse()
            .map_err(|_| MailError::Address(smtp.from.clone()))?;
        let host = smtp.host.trim_start_matches('[').trim_end_matches(']');
        let tls = |wrap: bool| {
            TlsParameters::new(host.to_owned())
                .map(|p| {
                    if wrap {
                        Tls::Wrapper(p)
                    } else {
                        Tls::Required(p)
                    }
                })
                .map_err(|e| MailError::Connection(format!("TLS: {e}")))
        };
        let tls = match smtp.tls {
            SmtpTls::Starttls => tls(false)?,
            SmtpTls::Tls => tls(true)?,
            SmtpTls::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(smtp.port())
            .tls(tls)
            .timeout(Some(smtp.timeout));
        if let Some(name) = url::Url::parse(&config.base_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
        {
            builder = builder.hello_name(ClientId::Domain(name));
        }
        if !smtp.user.is_empty() {
            builder =
                builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            timeout: smtp.timeout,
            describe: format!("{}:{} ({})", smtp.host, smtp.port(), smtp.tls.as_str()),
        }))
    }

    /// The sender's address (for Message-IDs of its domain).
    pub fn from_domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Hands one email to the SMTP server, within the time limit.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = self.message(mail)?;
        match tokio::time::timeout(self.timeout, self.transport.send(message)).await {
            Err(_) => Err(MailError::TimedOut(self.timeout.as_secs())),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_timeout() => Err(MailError::TimedOut(self.timeout.as_secs())),
            Ok(Err(e)) => Err(match e.status() {
                Some(_) => MailError::Refused(clean(&e.to_string())),
                None => MailError::Connection(clean(&error_chain(&e))),
            }),
        }
    }

    /// The message an email becomes.
    fn message(&self, mail: &Mail) -> Result<Message, MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| MailError::Address(mail.to.clone()))?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .date_now()
            .header(AutoSubmitted);
        if let Some(id) = &mail.message_id {
            builder = builder.message_id(Some(id.clone()));
        }
        if let Some(url) = &mail.unsubscribe {
            builder = builder
                .header(ListUnsubscribe(url.clone()))
                .header(ListUnsubscribePost);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| MailError::Build(e.to_string()))
    }
}

/// An error with its causes, as one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

/// One line, without the control characters a server's answer may hold.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(
            s.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .into(),
        ))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): no auto-replies to these.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".into())
    }
}

/// Whether `raw` is an address Hearth keeps for a person: one mailbox, no display name, at
/// most 254 characters (RFC 5321), a domain with a dot.
pub fn valid_address(raw: &str) -> Result<String, String> {
    let address = raw.trim();
    if address.is_empty() {
        return Err("enter an email address".into());
    }
    if address.chars().count() > MAX_ADDRESS_CHARS {
        return Err(format!(
            "an email address has at most {MAX_ADDRESS_CHARS} characters"
        ));
    }
    let parsed: lettre::Address = address
        .parse()
        .map_err(|_| format!("{address:?} is not an email address"))?;
    let domain = parsed.domain();
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(format!("{address:?} is not an email address"));
    }
    Ok(address.to_owned())
}

/// The longest address kept (RFC 5321's limit on a path).
pub const MAX_ADDRESS_CHARS: usize = 254;

#[cfg(test)]
mod tests;
