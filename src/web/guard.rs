//! Request guards: the same-origin rule for unsafe methods, and the security headers.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;
use crate::error::Error;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Refuses unsafe requests that a browser says come from another site: 403, nothing runs.
/// Requests with neither `Sec-Fetch-Site` nor `Origin` are not from a browser page and pass.
pub async fn same_origin(State(app): State<App>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // An API token is never sent by a browser on its own, so a bearer request cannot be
    // forged by another site (one with a cookie too is refused by the session check).
    let bearer =
        req.uri().path().starts_with("/api/") && req.headers().contains_key(header::AUTHORIZATION);
    // A webhook's URL is its own credential (no cookie is read): other sites post to it.
    let path = req.uri().path();
    let hook = path == "/hooks" || path.starts_with("/hooks/");
    if safe || bearer || hook || is_same_origin(req.headers(), &app.config.base_url) {
        return next.run(req).await;
    }
    let err = Error::Forbidden("cross-origin request refused".into());
    if req.uri().path().starts_with("/api/") {
        super::api::ApiError(err).into_response()
    } else {
        super::html::PageError(err).into_response()
    }
}

/// Refuses at once, with 413, a request whose declared `Content-Length` is over
/// `max_request_bytes` (an upload's limit for a file or a picture), before any of its body is
/// read (the body limit alone would wait for bytes that may never come).
pub async fn declared_length(State(app): State<App>, req: Request, next: Next) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let path = req.uri().path();
    let (upload, limit) = if path == super::files::UPLOAD_PATH {
        (true, app.config.max_upload_bytes())
    } else if super::pictures::takes_picture(path) {
        // A picture's form sends its token beside the file.
        let form = app.config.max_request_bytes as u64;
        (true, app.config.max_upload_bytes() + form)
    } else {
        (false, app.config.max_request_bytes as u64)
    };
    match declared {
        Some(length) if length > limit => {
            let err = if upload {
                crate::blobs::too_large(app.config.max_upload_bytes())
            } else {
                Error::TooLarge(format!("request body over {limit} bytes"))
            };
            let mut res = if req.uri().path().starts_with("/api/") {
                super::api::ApiError(err).into_response()
            } else {
                super::html::PageError(err).into_response()
            };
            // The rest of the body is never read: the connection cannot be reused.
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            res
        }
        _ => next.run(req).await,
    }
}

/// Whether the request was made by a page of this site (or by no browser at all).
pub fn is_same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if !base_url.is_empty() && origin.eq_ignore_ascii_case(base_url) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

/// Adds the security headers to every response (a handler may set a stricter CSP of its own).
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ),
    ];
    for (name, value) in defaults {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origins_are_judged() {
        assert!(is_same_origin(&headers(&[]), ""));
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            ""
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            ""
        ));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "same-site")]),
            ""
        ));
        let ok = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(is_same_origin(&ok, ""));
        let evil = headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(!is_same_origin(&evil, ""));
        assert!(!is_same_origin(
            &headers(&[("origin", "null"), ("host", "a")]),
            ""
        ));
        let proxied = headers(&[
            ("origin", "https://chat.example.org"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(is_same_origin(&proxied, "https://chat.example.org"));
    }
}
