//! Request identity: the session cookie, the signed-in user extractors and the client address.

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::response::{AppendHeaders, IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::App;
use super::api::ApiError;
use crate::chat::{auth, devices, tokens};
use crate::config::Config;
use crate::error::{Error, TokenRefusal};
use crate::store::sessions::Session;

pub const COOKIE: &str = "hearth_session";

/// The session token in the request's cookie, if any.
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    cookie(headers, COOKIE)
}

/// The value of the cookie `name`, if the request carries a non-empty one.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

/// Who is signing in: the client's address and the device cookie it carries.
pub fn sign_in_client(ip: IpAddr, headers: &HeaderMap) -> auth::Client<'_> {
    auth::Client {
        ip,
        device: cookie(headers, devices::COOKIE),
        agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    }
}

/// The two cookies of a new sign-in: the session, and the device cookie, sent back only to
/// `sign_in_path` (the form or API endpoint that signs in), so it rides on nothing else.
pub fn signed_in_cookies(
    config: &Config,
    session: &auth::NewSession,
    sign_in_path: &str,
) -> AppendHeaders<[(header::HeaderName, HeaderValue); 2]> {
    let max_age = u64::from(devices::LIFETIME_DAYS) * 86_400;
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let device = HeaderValue::try_from(format!(
        "{}={}; Path={sign_in_path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        devices::COOKIE,
        session.device
    ))
    .expect("a device cookie is a valid header");
    AppendHeaders([
        (header::SET_COOKIE, session_cookie(config, &session.token)),
        (header::SET_COOKIE, device),
    ])
}

/// The `Set-Cookie` value that carries a new session.
pub fn session_cookie(config: &Config, token: &str) -> HeaderValue {
    let max_age = u64::from(config.session_max_days) * 86_400;
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::try_from(format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .expect("a hex token makes a valid header")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn cleared_cookie(config: &Config) -> HeaderValue {
    let secure = if config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::try_from(format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"
    ))
    .expect("a constant header")
}

/// What a signed-out answer carries: the session cookie removed, and what this browser kept
/// for the person (pages kept for offline use, messages waiting to send, drafts, the service
/// worker) forgotten, so none of it is left for whoever uses the browser next.
pub fn signed_out_headers(config: &Config) -> [(HeaderName, HeaderValue); 2] {
    [
        (header::SET_COOKIE, cleared_cookie(config)),
        (
            HeaderName::from_static("clear-site-data"),
            HeaderValue::from_static("\"cache\", \"storage\""),
        ),
    ]
}

async fn session_of(parts: &Parts, app: &App) -> Result<Session, Error> {
    let token =
        session_token(&parts.headers).ok_or_else(|| Error::Unauthorized("not signed in".into()))?;
    auth::authenticate(&app.db, &app.config, token).await
}

/// The API token of an `Authorization: Bearer …` header, if the request has one. A request
/// that also carries a session cookie is refused: which of the two is meant is not guessed,
/// and a cookie is never accepted beside a token.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, Error> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(Error::Token(TokenRefusal::Invalid))?;
    if session_token(headers).is_some() {
        return Err(Error::Token(TokenRefusal::WithCookie));
    }
    Ok(Some(token))
}

/// The session of a JSON API request: a bearer token's, or the session cookie's. A read
/// token may only read (`GET`, `HEAD`).
async fn api_session_of(parts: &Parts, app: &App) -> Result<Session, Error> {
    match bearer(&parts.headers)? {
        Some(token) => {
            let session = tokens::authenticate(&app.chat, token).await?;
            let writes = !matches!(parts.method, Method::GET | Method::HEAD);
            tokens::allows(&session, writes)?;
            Ok(session)
        }
        None => session_of(parts, app).await,
    }
}

/// The signed-in session of a JSON API request (by cookie or API token); 401 JSON otherwise.
pub struct ApiSession(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for ApiSession
where
    App: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiSession(
            api_session_of(parts, &App::from_ref(state)).await?,
        ))
    }
}

/// The signed-in session of a page request; a redirect to the login page otherwise.
pub struct PageSession(pub Session);

impl<S: Send + Sync> FromRequestParts<S> for PageSession
where
    App: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match session_of(parts, &App::from_ref(state)).await {
            Ok(session) => Ok(PageSession(session)),
            Err(Error::Unauthorized(_)) => Err(Redirect::to("/login").into_response()),
            Err(other) => Err(super::html::PageError(other).into_response()),
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for PageSession
where
    App: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match session_of(parts, &App::from_ref(state)).await {
            Ok(session) => Ok(Some(PageSession(session))),
            Err(Error::Unauthorized(_)) => Ok(None),
            Err(other) => Err(super::html::PageError(other).into_response()),
        }
    }
}

/// The client's address: the peer, or — only when the peer is a trusted proxy — the
/// nearest untrusted address in `X-Forwarded-For`.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp
where
    Arc<Config>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let config = Arc::<Config>::from_ref(state);
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &config.trusted_proxies,
        )))
    }
}

pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .iter()
        .rev()
        .find(|ip| !trusted.contains(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; hearth_session=abc; b=2"),
        );
        assert_eq!(session_token(&h), Some("abc"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("hearth_sessionx=abc"),
        );
        assert_eq!(session_token(&h), None);
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.9, 10.0.0.2"),
        );
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(client_ip(peer, &h, &[]), peer);
        assert_eq!(
            client_ip(peer, &h, &[peer, proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn cookies_are_secure_behind_https() {
        let mut config = Config::default();
        let plain = session_cookie(&config, "t");
        assert!(plain.to_str().unwrap().contains("HttpOnly; SameSite=Lax"));
        assert!(!plain.to_str().unwrap().contains("Secure"));
        config.base_url = "https://chat.example.org".into();
        assert!(
            session_cookie(&config, "t")
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
