//! Why an outbound fetch was refused or failed, in words fit for a log line.

use std::error::Error as _;
use std::net::IpAddr;

/// Why a fetch gave nothing back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// A URL (or a redirect's `Location`) that cannot be read.
    #[error("bad URL: {0}")]
    BadUrl(String),
    /// Only http and https are fetched.
    #[error("unsupported scheme {0:?}: only http and https are fetched")]
    Scheme(String),
    /// The host is, or resolves to, an address outside the public internet and the
    /// allow-list.
    #[error("blocked address {0}")]
    Blocked(IpAddr),
    /// The host name has no usable address.
    #[error("cannot resolve {host}: {reason}")]
    Lookup { host: String, reason: String },
    #[error("too many redirects")]
    TooManyRedirects,
    /// A redirect without a `Location` to follow.
    #[error("redirect without a location")]
    BadRedirect,
    /// The server answered something other than success or a redirect.
    #[error("the server answered {0}")]
    Status(u16),
    /// A content type the caller did not ask for; `what` names what it asked for.
    #[error("not {what} ({found})")]
    Unwanted { what: &'static str, found: String },
    #[error("timed out")]
    TimedOut,
    #[error("too large (over {limit} bytes)")]
    TooLarge { limit: usize },
    /// The page has nothing to make a link card with.
    #[error("no title on the page")]
    NoCard,
    /// The connection failed or broke.
    #[error("connection failed: {0}")]
    Transport(String),
    /// The HTTP client could not be set up (its TLS roots, say).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

impl FetchError {
    /// The error reqwest carries: a refusal from our resolver comes back as itself, wrapped
    /// in connection errors; anything else is told with its innermost cause.
    pub(super) fn from_reqwest(err: reqwest::Error) -> Self {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = err.source();
        let mut innermost = None;
        while let Some(e) = cause {
            if let Some(ours) = e.downcast_ref::<FetchError>() {
                return ours.clone();
            }
            innermost = Some(e);
            cause = e.source();
        }
        if err.is_timeout() {
            return FetchError::TimedOut;
        }
        FetchError::Transport(match innermost {
            Some(e) => e.to_string(),
            None => err.to_string(),
        })
    }
}
