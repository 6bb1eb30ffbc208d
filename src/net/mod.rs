//! Outbound HTTP: the one client every fetch the server makes goes through, which reaches
//! only public addresses (or an operator's allowed networks), and the link cards read with it.

mod address;
mod error;
mod fetch;
mod preview;
mod resolve;

pub use address::{BadNetwork, allowed, is_public, parse_networks};
pub use error::FetchError;
pub use fetch::{Answer, Client, Fetched, Oversize, Policy, USER_AGENT, Want};
pub use preview::{Card, DESCRIPTION_CHARS, SITE_CHARS, TITLE_CHARS, card, fetch_card, first_url};
pub use resolve::{Lookup, Resolver, SystemResolver};
