//! What the console's JSON API answers with.

use serde::Serialize;
use utoipa::ToSchema;

use crate::chat::admin::Shared;
use crate::chat::instance::Settings;
use crate::domain::User;
use crate::domain::chat::Conversation;
use crate::store::audit::Entry;
use crate::store::users::Person;

/// People found, by username (at most 200).
#[derive(Serialize, ToSchema)]
pub struct AdminPeople {
    pub people: Vec<Person>,
}

/// An account just added and its one-time welcome link.
#[derive(Serialize, ToSchema)]
pub struct AddedPerson {
    pub user: User,
    /// The link that lets its owner choose a password (`…/password/<token>`), shown this once.
    pub link: String,
}

/// A one-time link.
#[derive(Serialize, ToSchema)]
pub struct ResetLink {
    /// The link that lets its owner choose a new password, shown this once.
    pub link: String,
}

/// A person after a change.
#[derive(Serialize, ToSchema)]
pub struct PersonChanged {
    pub user: User,
    /// Messages deleted with the account (0 unless asked).
    pub messages_deleted: usize,
}

/// Sessions ended.
#[derive(Serialize, ToSchema)]
pub struct SessionsEnded {
    /// How many sessions were ended.
    pub ended: usize,
}

/// Every channel and group, channels first.
#[derive(Serialize, ToSchema)]
pub struct AdminConversations {
    pub conversations: Vec<Shared>,
}

/// A conversation after an admin's action.
#[derive(Serialize, ToSchema)]
pub struct AdminConversation {
    pub conversation: Conversation,
}

/// A page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    /// At most 50 rows.
    pub entries: Vec<Entry>,
    /// Whether older rows exist: ask again with `before` the last row's id.
    pub has_more: bool,
}

/// The instance's settings.
#[derive(Serialize, ToSchema)]
pub struct AdminSettings {
    pub settings: Settings,
}
