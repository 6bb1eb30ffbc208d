//! Chat page handlers: the conversation view, forms that work without JavaScript, people and channels.

use axum::Router;
use axum::routing::get;

use super::{App, html};

pub fn routes() -> Router<App> {
    Router::new().route("/", get(html::home))
}
