//! The installable app: the web app manifest, built from the instance settings, and the
//! service worker served at the root scope (offline copies of pages, notifications).

mod manifest;
mod worker;

pub use manifest::{manifest, short_name};
pub use worker::script;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::App;
use super::html::PageError;
use crate::chat::pictures;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/manifest.webmanifest", get(serve_manifest))
        .route("/sw.js", get(serve_worker))
}

/// GET /manifest.webmanifest: for anyone (browsers fetch it without cookies). Asked again
/// each time, since an admin may rename the community or change its colour or logo.
async fn serve_manifest(State(app): State<App>) -> Result<Response, PageError> {
    let settings = app.chat.instance();
    let logo = pictures::logo_icon(&app.chat).await?;
    let body = manifest(&settings, &app.assets, logo.as_ref());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/manifest+json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body.to_string(),
    )
        .into_response())
}

/// GET /sw.js: the service worker. Its bytes change with the build, which makes browsers
/// install the new one; `no-cache` makes them ask, and the ETag keeps the asking cheap.
async fn serve_worker(State(app): State<App>, headers: HeaderMap) -> Response {
    let etag = HeaderValue::from_str(&format!("\"sw-{}\"", app.assets.build())).expect("hex etag");
    let cache = (header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag), cache]).into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            ),
            (header::ETAG, etag),
            cache,
        ],
        script(&app.assets),
    )
        .into_response()
}
