//! Search on the web: the results page (`/search`) and the JSON API (`/api/v1/search`), thin
//! over `chat::search`. The box in the top bar sends its form here.

mod api;
mod pages;

use axum::Router;
use axum::routing::get;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::App;
use crate::chat::search::Request;
use crate::error::{Error, Result};

pub fn routes() -> Router<App> {
    Router::new().route("/search", get(pages::results))
}

/// The search JSON route, documented.
pub fn api() -> OpenApiRouter<App> {
    OpenApiRouter::new().routes(routes!(api::search))
}

/// What both ask, as given in the query string.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct Params {
    #[serde(default)]
    pub q: String,
    pub cursor: Option<String>,
    pub limit: Option<String>,
    /// `1`/`true`: channels not joined too.
    pub public: Option<String>,
    /// `newest` (the default) or `best`.
    pub sort: Option<String>,
    /// Minutes east of UTC.
    pub tz: Option<String>,
}

impl Params {
    pub fn request(&self, default_limit: usize) -> Result<Request> {
        let flag = |v: &Option<String>, what: &str| match v.as_deref() {
            None | Some("" | "0" | "false") => Ok(false),
            Some("1" | "true" | "on") => Ok(true),
            Some(_) => Err(Error::invalid(format!("{what} must be true or false"))),
        };
        let limit = match self.limit.as_deref() {
            None | Some("") => default_limit,
            Some(raw) => raw
                .parse()
                .map_err(|_| Error::invalid("limit must be a number"))?,
        };
        let best = match self.sort.as_deref() {
            None | Some("" | "newest") => false,
            Some("best") => true,
            Some(_) => return Err(Error::invalid("sort must be newest or best")),
        };
        let tz_minutes = match self.tz.as_deref() {
            None | Some("") => 0,
            Some(raw) => raw
                .parse()
                .map_err(|_| Error::invalid("tz must be minutes east of UTC"))?,
        };
        Ok(Request {
            q: self.q.clone(),
            cursor: self.cursor.clone(),
            limit,
            public: flag(&self.public, "public")?,
            best,
            tz_minutes,
        })
    }
}
