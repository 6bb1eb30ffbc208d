//! What can happen: each action authorizes, writes through the writer, then publishes.
//! The one way in for pages, the JSON API, WebSocket ops and the CLI.

pub mod accounts;
pub mod auth;
pub mod secrets;
pub mod throttle;
