//! API tokens: what a token may do (its scope) and how long it lasts.

use serde::{Deserialize, Serialize};

use super::Role;
use crate::error::{Error, Result};

/// What an API token may do, each scope including the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read: `GET` requests and the socket's read-only operations.
    Read,
    /// Everything a member does: send, edit, react, join, read markers.
    Write,
    /// Everything the owner may do, administration included (admins only).
    Admin,
}

impl Scope {
    pub fn parse(raw: &str) -> Result<Scope> {
        match raw.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            other => Err(Error::invalid(format!(
                "scope {other:?} is not one of read, write, admin"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// The widest scope a person of `role` may give a token.
    pub fn widest_for(role: Role) -> Scope {
        match role {
            Role::Admin => Scope::Admin,
            Role::Member => Scope::Write,
        }
    }

    /// The role a request made with this token acts with: an admin's token without the
    /// admin scope acts as a member.
    pub fn acting_role(self, role: Role) -> Role {
        if self == Scope::Admin {
            role
        } else {
            Role::Member
        }
    }
}

/// How long a new token lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lifetime {
    Days(u32),
    /// Until revoked (admins only).
    #[default]
    Default,
    Never,
}

/// A token's lifetime when none is asked for.
pub const DEFAULT_DAYS: u32 = 90;
/// The longest lifetime in days short of "never".
pub const MAX_DAYS: u32 = 3650;

impl Lifetime {
    /// `90d` (a number of days, 1 to 3650), `never`, or empty for the default (90 days).
    pub fn parse(raw: &str) -> Result<Lifetime> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(Lifetime::Default);
        }
        if raw == "never" {
            return Ok(Lifetime::Never);
        }
        let days = raw.strip_suffix('d').unwrap_or(raw);
        match days.parse::<u32>() {
            Ok(n) if (1..=MAX_DAYS).contains(&n) => Ok(Lifetime::Days(n)),
            _ => Err(Error::invalid(format!(
                "expiry {raw:?} is not a number of days from 1 to {MAX_DAYS} (like 90d) or never"
            ))),
        }
    }

    /// When a token made at `now` (unix ms) stops working; `None`: never.
    pub fn expires_at(self, now: i64) -> Option<i64> {
        let days = match self {
            Lifetime::Days(n) => n,
            Lifetime::Default => DEFAULT_DAYS,
            Lifetime::Never => return None,
        };
        Some(now + i64::from(days) * 86_400_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_order() {
        assert_eq!(Scope::parse("read").unwrap(), Scope::Read);
        assert_eq!(Scope::parse(" write ").unwrap(), Scope::Write);
        assert_eq!(Scope::parse("admin").unwrap(), Scope::Admin);
        assert!(Scope::parse("root").is_err());
        assert!(Scope::Read < Scope::Write && Scope::Write < Scope::Admin);
        assert_eq!(Scope::widest_for(Role::Member), Scope::Write);
        assert_eq!(Scope::widest_for(Role::Admin), Scope::Admin);
        assert_eq!(Scope::Write.acting_role(Role::Admin), Role::Member);
        assert_eq!(Scope::Admin.acting_role(Role::Admin), Role::Admin);
        assert_eq!(Scope::Admin.acting_role(Role::Member), Role::Member);
        for s in [Scope::Read, Scope::Write, Scope::Admin] {
            assert_eq!(Scope::parse(s.as_str()).unwrap(), s);
        }
    }

    #[test]
    fn lifetimes_parse_at_their_limits() {
        assert_eq!(Lifetime::parse("").unwrap(), Lifetime::Default);
        assert_eq!(Lifetime::parse("never").unwrap(), Lifetime::Never);
        assert_eq!(Lifetime::parse("1d").unwrap(), Lifetime::Days(1));
        assert_eq!(Lifetime::parse("30").unwrap(), Lifetime::Days(30));
        assert_eq!(Lifetime::parse("3650d").unwrap(), Lifetime::Days(3650));
        assert!(Lifetime::parse("3651d").is_err());
        assert!(Lifetime::parse("0d").is_err());
        assert!(Lifetime::parse("-1d").is_err());
        assert!(Lifetime::parse("soon").is_err());
        assert_eq!(Lifetime::Default.expires_at(0), Some(90 * 86_400_000));
        assert_eq!(Lifetime::Days(2).expires_at(5), Some(5 + 2 * 86_400_000));
        assert_eq!(Lifetime::Never.expires_at(5), None);
    }
}
