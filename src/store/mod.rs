//! Storage: one module per aggregate; functions take `&Connection` so they compose in one transaction.

pub mod audit;
pub mod sessions;
pub mod users;
