//! Serving a stored blob safely: inline only for the four image types, a download for anything
//! else; `nosniff` and a sandboxing CSP; an ETag of its hash, long private caching, and single
//! byte ranges (resumable downloads, seeking in a video).

use crate::blobs::Location;
use crate::domain::files::url_segment;
use crate::error::Error;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A file response's Content-Security-Policy: nothing runs, nothing loads, the document is
/// sandboxed, whatever a browser makes of the bytes.
pub const FILE_CSP: &str = "default-src 'none'; img-src 'self'; media-src 'self'; \
                            style-src 'unsafe-inline'; sandbox";

/// What to serve: where the blob is (a file, or an object in a bucket), the type to name,
/// whether to show it in place, its download name.
pub struct Blob<'a> {
    pub path: &'a Location,
    pub sha256: &'a str,
    pub mime: &'a str,
    pub inline: bool,
    pub name: &'a str,
}

/// The type a file is served as: the sniffed one for an inline image, audio, video and the
/// document types browsers only download; anything a browser could run or render as a page
/// (HTML, SVG, XML, script, text) goes out as bytes.
pub fn served_type(mime: &str, inline: bool) -> &str {
    let risky = mime.starts_with("text/")
        || mime.contains("html")
        || mime.contains("xml")
        || mime.contains("javascript")
        || mime.contains("svg");
    if inline || !risky {
        mime
    } else {
        "application/octet-stream"
    }
}

/// A `Content-Disposition` value: `inline` or `attachment`, with an ASCII name for old clients
/// and the exact one encoded (RFC 6266 / 8187).
pub fn disposition(inline: bool, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let kind = if inline { "inline" } else { "attachment" };
    format!(
        "{kind}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        url_segment(name)
    )
}

/// What a `Range` header asks of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// The whole body: no header, several ranges, or a unit other than bytes.
    Whole,
    /// Bytes `first..=last`.
    Part(u64, u64),
    /// Nothing of it can be served (416).
    Unsatisfiable,
}

/// The byte range a `Range` header asks of a body of `len` bytes.
pub fn range(value: Option<&str>, len: u64) -> Wanted {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    part(spec, len).map_or(Wanted::Unsatisfiable, |(a, b)| Wanted::Part(a, b))
}

fn part(spec: &str, len: u64) -> Option<(u64, u64)> {
    let (start, end) = spec.split_once('-')?;
    let (start, end) = (start.trim(), end.trim());
    let (first, last) = if start.is_empty() {
        // The last N bytes.
        let n: u64 = end.parse().ok()?;
        if n == 0 || len == 0 {
            return None;
        }
        (len.saturating_sub(n), len - 1)
    } else {
        let first: u64 = start.parse().ok()?;
        let last = if end.is_empty() {
            len.saturating_sub(1)
        } else {
            end.parse::<u64>().ok()?.min(len.saturating_sub(1))
        };
        (first, last)
    };
    (first < len && first <= last).then_some((first, last))
}

/// Answers a GET (or HEAD) for a blob, honouring `If-None-Match`, `Range` and `If-Range`.
pub async fn serve(blob: Blob<'_>, request: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", blob.sha256);
    let mut headers = HeaderMap::new();
    let set = |h: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    set(&mut headers, header::ETAG, &etag);
    set(
        &mut headers,
        header::CACHE_CONTROL,
        "private, max-age=31536000, immutable",
    );
    set(&mut headers, header::CONTENT_SECURITY_POLICY, FILE_CSP);
    set(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        &mut headers,
        header::HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(&mut headers, header::ACCEPT_RANGES, "bytes");
    let matches = |name: header::HeaderName| {
        request
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    };
    if matches(header::IF_NONE_MATCH) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    let opened = match blob.path.open().await {
        Ok(Some(opened)) => opened,
        Ok(None) => {
            tracing::warn!(blob = %blob.path.describe(), "a stored file is missing");
            return super::super::api::ApiError(Error::NotFound).into_response();
        }
        Err(e) => {
            tracing::error!(blob = %blob.path.describe(), error = %e, "a stored file cannot be read");
            return super::super::api::ApiError(e).into_response();
        }
    };
    let len = opened.len;
    set(
        &mut headers,
        header::CONTENT_TYPE,
        served_type(blob.mime, blob.inline),
    );
    set(
        &mut headers,
        header::CONTENT_DISPOSITION,
        &disposition(blob.inline, blob.name),
    );
    // A range applies only to the version the client has (If-Range names it).
    let if_range_ok = request
        .get(header::IF_RANGE)
        .is_none_or(|_| matches(header::IF_RANGE));
    let asked = request.get(header::RANGE).and_then(|v| v.to_str().ok());
    let wanted = if if_range_ok {
        range(asked, len)
    } else {
        Wanted::Whole
    };
    match wanted {
        Wanted::Unsatisfiable => {
            set(
                &mut headers,
                header::CONTENT_RANGE,
                &format!("bytes */{len}"),
            );
            (StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response()
        }
        Wanted::Whole => {
            set(&mut headers, header::CONTENT_LENGTH, &len.to_string());
            match opened.stream(None).await {
                Ok(stream) => (StatusCode::OK, headers, Body::from_stream(stream)).into_response(),
                Err(e) => unreadable(blob.path, e),
            }
        }
        Wanted::Part(first, last) => {
            let count = last - first + 1;
            set(
                &mut headers,
                header::CONTENT_RANGE,
                &format!("bytes {first}-{last}/{len}"),
            );
            set(&mut headers, header::CONTENT_LENGTH, &count.to_string());
            match opened.stream(Some((first, last))).await {
                Ok(stream) => (
                    StatusCode::PARTIAL_CONTENT,
                    headers,
                    Body::from_stream(stream),
                )
                    .into_response(),
                Err(e) => unreadable(blob.path, e),
            }
        }
    }
}

/// A blob that was there a moment ago and now cannot be read: 404 when it went, else 500.
fn unreadable(location: &Location, err: Error) -> Response {
    match err {
        Error::NotFound => {
            tracing::warn!(blob = %location.describe(), "a stored file is missing");
        }
        ref e => {
            tracing::error!(blob = %location.describe(), error = %e, "a stored file cannot be read");
        }
    }
    super::super::api::ApiError(err).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        use Wanted::*;
        assert_eq!(range(None, 10), Whole);
        assert_eq!(range(Some("bytes=0-0"), 10), Part(0, 0));
        assert_eq!(range(Some("bytes=0-9"), 10), Part(0, 9));
        assert_eq!(range(Some("bytes=0-10"), 10), Part(0, 9), "clamped");
        assert_eq!(range(Some("bytes=9-"), 10), Part(9, 9));
        assert_eq!(range(Some("bytes=-3"), 10), Part(7, 9));
        assert_eq!(range(Some("bytes=-10"), 10), Part(0, 9));
        assert_eq!(range(Some("bytes=-30"), 10), Part(0, 9));
        assert_eq!(
            range(Some("bytes=10-"), 10),
            Unsatisfiable,
            "one past the end"
        );
        assert_eq!(range(Some("bytes=5-4"), 10), Unsatisfiable);
        assert_eq!(range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(range(Some("bytes=x-1"), 10), Unsatisfiable);
        assert_eq!(range(Some("bytes=1"), 10), Unsatisfiable);
        assert_eq!(
            range(Some("bytes=0-1,3-4"), 10),
            Whole,
            "several: the whole"
        );
        assert_eq!(range(Some("items=0-1"), 10), Whole);
        assert_eq!(
            range(Some("bytes=0-"), 0),
            Unsatisfiable,
            "nothing in an empty body"
        );
    }

    #[test]
    fn only_the_safe_images_keep_a_type_a_browser_renders() {
        assert_eq!(served_type("image/png", true), "image/png");
        assert_eq!(served_type("application/pdf", false), "application/pdf");
        assert_eq!(served_type("video/mp4", false), "video/mp4");
        for risky in [
            "text/html",
            "image/svg+xml",
            "text/plain",
            "application/xhtml+xml",
            "application/javascript",
            "text/xml",
        ] {
            assert_eq!(
                served_type(risky, false),
                "application/octet-stream",
                "{risky}"
            );
        }
    }

    #[test]
    fn names_in_dispositions_cannot_break_out() {
        assert_eq!(
            disposition(false, "a\"b\\c.pdf"),
            "attachment; filename=\"a_b_c.pdf\"; filename*=UTF-8''a%22b%5Cc.pdf"
        );
        assert_eq!(
            disposition(true, "café.png"),
            "inline; filename=\"caf_.png\"; filename*=UTF-8''caf%C3%A9.png"
        );
    }
}
