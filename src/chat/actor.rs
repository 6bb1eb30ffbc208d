//! Who does an administrative action: a signed-in person, or the command line.

use crate::domain::{User, UserId};

/// The doer of an action, as the audit log names them.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    User(&'a User),
    /// `hearth …` on the server's machine: may do what an admin may.
    Cli,
}

impl Actor<'_> {
    /// The name written in the audit log.
    pub fn name(&self) -> String {
        match self {
            Actor::User(u) => u.username.clone(),
            Actor::Cli => "cli".to_owned(),
        }
    }

    pub fn is_admin(&self) -> bool {
        match self {
            Actor::User(u) => u.is_admin(),
            Actor::Cli => true,
        }
    }

    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(u) => Some(u.id),
            Actor::Cli => None,
        }
    }
}
