//! Search: the query language people type, folding text the way the index does, and the
//! highlighted snippet of a result. Pure functions; the SQL lives in `store::search`.

pub mod expr;
pub mod fold;
pub mod query;
pub mod snippet;

pub use query::{Has, Place, Query, Term, TermKind, parse};
