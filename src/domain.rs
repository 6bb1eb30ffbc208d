//! Plain values of the domain, validated on construction: ids, usernames, roles, passwords.

pub mod chat;
pub mod files;
pub mod notify;
pub mod pictures;
pub mod support;
pub mod tokens;

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{Error, Result};

/// A user's id.
pub type UserId = i64;

/// A username: 1–32 letters, digits, `_`, `.` or `-`; unique regardless of letter case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Error::invalid("username must not be empty"));
        }
        if name.chars().count() > 32 {
            return Err(Error::invalid("username must be at most 32 characters"));
        }
        if let Some(bad) = name
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(Error::invalid(format!(
                "username may only hold letters, digits, '_', '.' and '-' (found {bad:?})"
            )));
        }
        Ok(Username(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name: 1–64 characters, no control characters, trimmed.
pub fn display_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Error::invalid("display name must not be empty"));
    }
    if name.chars().count() > 64 {
        return Err(Error::invalid("display name must be at most 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "display name must not hold control characters",
        ));
    }
    Ok(name.to_owned())
}

/// A new password: 8–1024 characters (the upper bound keeps hashing cheap to refuse).
pub fn new_password(raw: &str) -> Result<&str> {
    if raw.is_empty() {
        return Err(Error::invalid("password must not be empty"));
    }
    let len = raw.chars().count();
    if len < 8 {
        return Err(Error::invalid("password must be at least 8 characters"));
    }
    if len > 1024 {
        return Err(Error::invalid("password must be at most 1024 characters"));
    }
    Ok(raw)
}

/// What a user may do across the whole instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Result<Self> {
        match raw {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(Error::invalid(format!(
                "role must be admin or member, not {other:?}"
            ))),
        }
    }
}

/// A user as the rest of the system sees it (never the password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub deactivated: bool,
    pub created_at: i64,
    /// Their picture's SHA-256; travels as `avatar_url`.
    #[serde(rename = "avatar_url", serialize_with = "pictures::as_url::serialize")]
    pub avatar: Option<String>,
    /// A bot account: no password, never signs in, acts through tokens and hooks. Travels
    /// only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bot: bool,
}

impl User {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

/// Milliseconds since the unix epoch, UTC.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_rules() {
        assert_eq!(
            Username::parse("  ada.l_ov-e ").unwrap().as_str(),
            "ada.l_ov-e"
        );
        assert!(Username::parse("").is_err());
        assert!(Username::parse("has space").is_err());
        assert!(Username::parse("tab\there").is_err());
        assert!(Username::parse("nul\0").is_err());
        assert!(Username::parse("semi;colon").is_err());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("zoë").is_ok());
    }

    #[test]
    fn passwords_and_display_names_are_checked() {
        assert!(new_password("").is_err());
        assert!(new_password("short").is_err());
        assert!(new_password("long enough").is_ok());
        assert!(new_password(&"x".repeat(1025)).is_err());
        assert!(display_name("  Ada  ").unwrap() == "Ada");
        assert!(display_name("bell\u{7}").is_err());
        assert!(display_name("   ").is_err());
    }
}
