//! The crate's error type: each variant knows which HTTP status and error code it becomes.

use axum::http::StatusCode;

/// Everything that can go wrong below the web and CLI layers.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that breaks a rule; the message names the rule.
    #[error("{0}")]
    Invalid(String),
    /// The thing does not exist, or the caller may not know that it does.
    #[error("not found")]
    NotFound,
    /// A username that no account has.
    #[error("no user named {0:?}")]
    NoSuchUser(String),
    /// The thing already exists (a unique value taken).
    #[error("{0}")]
    Conflict(String),
    /// The thing existed but is no longer usable (an expired or used-up link).
    #[error("{0}")]
    Gone(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// No valid session or wrong credentials.
    #[error("{0}")]
    Unauthorized(String),
    /// An API token that cannot be used as it was sent: its code says why.
    #[error("{}", .0.message())]
    Token(TokenRefusal),
    /// A request body over its size limit.
    #[error("{0}")]
    TooLarge(String),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests; try again in {retry_after} s")]
    RateLimited { retry_after: u64 },
    /// The server has more of this work than it takes on at once; try again after this many
    /// seconds (password checks beyond the hashing queue).
    #[error("the server is busy; try again in {retry_after} s")]
    Busy { retry_after: u64 },
    /// The database file cannot be used as it is (corrupt, foreign, too new).
    #[error("{0}")]
    Database(String),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
    #[error("database pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The writer thread is gone (the server is shutting down).
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an API token was refused; each has its own code on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No token has this value (or its owner's account is deactivated).
    Invalid,
    Expired,
    Revoked,
    /// The token may not do this (a read token writing, a member token administering).
    Scope,
    /// A bearer token and a session cookie on one request: which one is meant is not guessed.
    WithCookie,
}

impl TokenRefusal {
    pub fn code(self) -> &'static str {
        match self {
            TokenRefusal::Invalid => "token_invalid",
            TokenRefusal::Expired => "token_expired",
            TokenRefusal::Revoked => "token_revoked",
            TokenRefusal::Scope => "insufficient_scope",
            TokenRefusal::WithCookie => "token_with_cookie",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            TokenRefusal::Scope => StatusCode::FORBIDDEN,
            TokenRefusal::WithCookie => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            TokenRefusal::Invalid => "the API token is not valid",
            TokenRefusal::Expired => "the API token has expired",
            TokenRefusal::Revoked => "the API token was revoked",
            TokenRefusal::Scope => "the API token's scope does not allow this",
            TokenRefusal::WithCookie => "send either an API token or a session cookie, not both",
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        match err {
            rusqlite::Error::QueryReturnedNoRows => Error::NotFound,
            rusqlite::Error::SqliteFailure(e, ref msg)
                if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                Error::Conflict(msg.clone().unwrap_or_else(|| "already exists".into()))
            }
            other => Error::Sqlite(other),
        }
    }
}

impl Error {
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Invalid(_) => StatusCode::BAD_REQUEST,
            Error::NotFound | Error::NoSuchUser(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Gone(_) => StatusCode::GONE,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Token(why) => why.status(),
            Error::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::WriterGone | Error::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code of the wire contract.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Invalid(_) => "invalid",
            Error::NotFound | Error::NoSuchUser(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::Gone(_) => "gone",
            Error::Forbidden(_) => "forbidden",
            Error::Unauthorized(_) => "unauthorized",
            Error::Token(why) => why.code(),
            Error::TooLarge(_) => "too_large",
            Error::RateLimited { .. } => "rate_limited",
            Error::WriterGone => "unavailable",
            Error::Busy { .. } => "busy",
            _ => "internal",
        }
    }

    /// Seconds after which a retry may succeed, for a `Retry-After` header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Error::RateLimited { retry_after } | Error::Busy { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// What the client may be told: internals of 5xx errors stay in the log.
    pub fn public_message(&self) -> String {
        if let Error::Busy { .. } = self {
            self.to_string()
        } else if self.status().is_server_error() {
            "something went wrong on the server".into()
        } else {
            self.to_string()
        }
    }
}
