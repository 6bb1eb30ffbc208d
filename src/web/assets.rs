//! Embedded static assets, served under a build-hash path so they can be cached forever.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::Embed;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Embed)]
#[folder = "assets/"]
struct Files;

/// The embedded files' ETags and the hash of the whole set, computed once at start.
pub struct Assets {
    /// Short hash of every file together: the path prefix of cache-busted URLs.
    build: String,
    etags: HashMap<String, String>,
}

impl Assets {
    pub fn index() -> Assets {
        let mut all = Sha256::new();
        let mut etags = HashMap::new();
        let mut names: Vec<_> = Files::iter().collect();
        names.sort();
        for name in names {
            let file = Files::get(&name).expect("listed asset exists");
            let hash = hex::encode(&file.metadata.sha256_hash()[..8]);
            all.update(name.as_bytes());
            all.update(hash.as_bytes());
            etags.insert(name.to_string(), format!("\"{hash}\""));
        }
        Assets {
            build: hex::encode(&all.finalize()[..5]),
            etags,
        }
    }

    /// The cache-busted URL of an asset, e.g. `/assets/1a2b3c4d5e/hearth.css`.
    pub fn url(&self, name: &str) -> String {
        debug_assert!(self.etags.contains_key(name), "unknown asset {name}");
        format!("/assets/{}/{name}", self.build)
    }

    /// The hash of the whole set, as it appears in cache-busted URLs.
    pub fn build(&self) -> &str {
        &self.build
    }

    /// The names of every embedded file, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.etags.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The content of an embedded file.
    pub fn bytes(name: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
        Files::get(name).map(|f| f.data)
    }
}

/// GET /assets/{build}/{name} (immutable) or /assets/{name} (revalidated).
pub async fn serve(
    State(assets): State<Arc<Assets>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (name, immutable) = match path.split_once('/') {
        Some((build, rest)) if build == assets.build => (rest, true),
        _ => (path.as_str(), false),
    };
    let (Some(file), Some(etag)) = (Files::get(name), assets.etags.get(name)) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let cache = if immutable {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let etag = HeaderValue::from_str(etag).expect("hex etag");
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
            ],
        )
            .into_response();
    }
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_str(mime.as_ref()).expect("mime"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        file.data.into_owned(),
    )
        .into_response()
}
