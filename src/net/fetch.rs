//! The outbound client: GET with every hop checked (scheme, addresses), redirects followed by
//! hand, one time limit over the whole fetch, and a byte limit applied while the body streams;
//! POST (a push to a push service, a webhook to its receiver) with the same checks and limits,
//! and no redirects.

use super::address::allowed;
use super::error::FetchError;
use super::resolve::{Pinned, Resolver, SystemResolver};
use ipnet::IpNet;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use url::{Host, Url};

/// How Hearth introduces itself to the sites it fetches from.
pub const USER_AGENT: &str = concat!("Hearth/", env!("CARGO_PKG_VERSION"), " (link preview)");

/// What the operator decides about outbound fetches.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Networks that may be fetched from although they are not public (an intranet).
    pub allow: Vec<IpNet>,
    /// The limit on a whole fetch: lookups, connections, redirects and the body.
    pub timeout: Duration,
    /// The limit on opening one connection.
    pub connect_timeout: Duration,
    /// Redirects followed before giving up.
    pub max_redirects: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            allow: Vec::new(),
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(3),
            max_redirects: 5,
        }
    }
}

/// What to do with a body past the byte limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Oversize {
    /// Keep the first bytes and stop reading: a page's head is what matters.
    Truncate,
    /// Refuse the whole thing: a cut image is no image.
    Refuse,
}

/// What the caller will take: which content types, how many bytes, and what to do past them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Want {
    /// Names what was asked for in the error when something else comes ("not html").
    pub what: &'static str,
    /// Media types, lowercase, without parameters.
    pub types: &'static [&'static str],
    pub limit: usize,
    pub oversize: Oversize,
}

impl Want {
    /// An HTML page, of which the first megabyte is read.
    pub fn html() -> Want {
        Want {
            what: "html",
            types: &["text/html"],
            limit: 1 << 20,
            oversize: Oversize::Truncate,
        }
    }

    /// An image of a kind Hearth can thumbnail, up to 5 MB.
    pub fn image() -> Want {
        Want {
            what: "an image",
            types: &["image/jpeg", "image/png", "image/gif", "image/webp"],
            limit: 5 << 20,
            oversize: Oversize::Refuse,
        }
    }
}

/// A fetched body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Where the body came from, after redirects.
    pub url: Url,
    /// The media type, lowercase, without parameters.
    pub content_type: String,
    pub body: Vec<u8>,
    /// Whether the body went on past what was kept.
    pub truncated: bool,
}

/// What a server answered a POST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// How long the server asks to be left alone (`Retry-After`, in seconds or as a date).
    pub retry_after: Option<Duration>,
    /// The media type, lowercase, without parameters (empty when none was given).
    pub content_type: String,
    /// Where a redirect points (`Location`, as sent); it is not followed.
    pub location: Option<String>,
    /// The body's first bytes, up to the limit asked for.
    pub body: Vec<u8>,
}

/// The one HTTP client for fetches the server makes on its own. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    allow: Arc<[IpNet]>,
    timeout: Duration,
    max_redirects: usize,
}

impl Client {
    /// A client that looks names up with the system's resolver.
    pub fn new(policy: Policy) -> Result<Client, FetchError> {
        Client::with_resolver(policy, Arc::new(SystemResolver))
    }

    /// A client that looks names up with `resolver`.
    pub fn with_resolver(
        policy: Policy,
        resolver: Arc<dyn Resolver>,
    ) -> Result<Client, FetchError> {
        let allow: Arc<[IpNet]> = policy.allow.into();
        let pinned = Pinned {
            resolver,
            allow: allow.clone(),
        };
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(pinned))
            // Each redirect is checked like the first URL, so reqwest must not follow any.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would make the connection, to addresses we never checked.
            .no_proxy()
            .connect_timeout(policy.connect_timeout)
            .user_agent(USER_AGENT)
            .referer(false)
            .build()
            .map_err(|err| FetchError::Setup(err.to_string()))?;
        Ok(Client {
            http,
            allow,
            timeout: policy.timeout,
            max_redirects: policy.max_redirects,
        })
    }

    /// GETs `url`, following redirects, and reads the body as `want` says.
    pub async fn get(&self, url: &Url, want: &Want) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.follow(url.clone(), want))
            .await
            .unwrap_or(Err(FetchError::TimedOut))
    }

    async fn follow(&self, mut url: Url, want: &Want) -> Result<Fetched, FetchError> {
        let accept = want.types.join(", ");
        for _ in 0..=self.max_redirects {
            check_target(&url, &self.allow)?;
            let res = self
                .http
                .get(url.clone())
                .header(ACCEPT, &accept)
                .send()
                .await
                .map_err(FetchError::from_reqwest)?;
            let status = res.status();
            if matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308) {
                let location = res.headers().get(LOCATION).ok_or(FetchError::BadRedirect)?;
                let location = String::from_utf8_lossy(location.as_bytes());
                url = url
                    .join(location.trim())
                    .map_err(|err| FetchError::BadUrl(format!("{location:?}: {err}")))?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchError::Status(status.as_u16()));
            }
            return read(res, url, want).await;
        }
        Err(FetchError::TooManyRedirects)
    }

    /// POSTs `request` (its URL, headers and body; the method is POST whatever it says) and
    /// reads up to `limit` bytes of the answer, within the time limit. The URL is checked like
    /// a GET's. A redirect is not followed: its 3xx status comes back like any other, and is
    /// no success; push services answer a moved endpoint with 404 or 410 anyway.
    pub async fn post(
        &self,
        request: http::Request<Vec<u8>>,
        limit: usize,
    ) -> Result<Answer, FetchError> {
        tokio::time::timeout(self.timeout, self.send(request, limit))
            .await
            .unwrap_or(Err(FetchError::TimedOut))
    }

    async fn send(
        &self,
        request: http::Request<Vec<u8>>,
        limit: usize,
    ) -> Result<Answer, FetchError> {
        let (parts, body) = request.into_parts();
        let uri = parts.uri.to_string();
        let url = Url::parse(&uri).map_err(|err| FetchError::BadUrl(format!("{uri}: {err}")))?;
        check_target(&url, &self.allow)?;
        let mut res = self
            .http
            .request(Method::POST, url)
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(FetchError::from_reqwest)?;
        let retry_after = res
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| retry_after(value, SystemTime::now()));
        let content_type = media_type(res.headers());
        let location = res
            .headers()
            .get(LOCATION)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
        let status = res.status().as_u16();
        let mut body = Vec::new();
        while body.len() < limit {
            let Some(chunk) = res.chunk().await.map_err(FetchError::from_reqwest)? else {
                break;
            };
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        Ok(Answer {
            status,
            retry_after,
            content_type,
            location,
            body,
        })
    }
}

/// `Retry-After` as a wait from `now`: a number of seconds, or an HTTP date (one already past
/// is no wait).
fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or_default())
}

/// Refuses a URL that is not http(s), or whose host is an address that may not be reached.
/// A host name is checked by the resolver instead, but an IP literal never reaches it.
fn check_target(url: &Url, allow: &[IpNet]) -> Result<(), FetchError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(FetchError::Scheme(url.scheme().to_owned()));
    }
    let ip: IpAddr = match url.host() {
        Some(Host::Ipv4(ip)) => ip.into(),
        Some(Host::Ipv6(ip)) => ip.into(),
        // The URL parser turns every IP-shaped http host into Ipv4/Ipv6, but the connector
        // would skip the resolver for one that slipped through, so it is checked here too.
        Some(Host::Domain(name)) => match name.parse() {
            Ok(ip) => ip,
            Err(_) => return Ok(()),
        },
        None => return Err(FetchError::BadUrl(format!("{url}: no host"))),
    };
    if allowed(ip, allow) {
        Ok(())
    } else {
        Err(FetchError::Blocked(ip))
    }
}

/// The media type of a response, lowercase, without parameters; empty when none was given.
fn media_type(headers: &reqwest::header::HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|essence| essence.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// Checks the content type, then streams the body up to the limit.
async fn read(mut res: reqwest::Response, url: Url, want: &Want) -> Result<Fetched, FetchError> {
    let content_type = media_type(res.headers());
    if !want.types.contains(&content_type.as_str()) {
        let found = match content_type.as_str() {
            "" => "no content type".to_owned(),
            _ => content_type,
        };
        let what = want.what;
        return Err(FetchError::Unwanted { what, found });
    }
    let too_large = FetchError::TooLarge { limit: want.limit };
    if want.oversize == Oversize::Refuse
        && res
            .content_length()
            .is_some_and(|len| len > want.limit as u64)
    {
        return Err(too_large);
    }
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = res.chunk().await.map_err(FetchError::from_reqwest)? {
        let room = want.limit - body.len();
        if chunk.len() > room {
            if want.oversize == Oversize::Refuse {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            // Dropping the response closes the connection without reading the rest.
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        url,
        content_type,
        body,
        truncated,
    })
}
