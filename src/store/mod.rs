//! Storage: one module per aggregate; functions take `&Connection` so they compose in one transaction.

pub mod attachments;
pub mod audit;
pub mod conversations;
pub mod email;
pub mod events;
pub mod imports;
pub mod invites;
pub mod link_previews;
pub mod memberships;
pub mod messages;
pub mod notify;
pub mod outbox;
pub mod outgoing;
pub mod password_links;
pub mod pictures;
pub mod push;
pub mod reactions;
pub mod reads;
pub mod reports;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod support;
pub mod tokens;
pub mod users;
pub mod webhooks;

#[cfg(test)]
mod plans;
