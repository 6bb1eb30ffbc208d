//! Web Push: the server's VAPID keys (RFC 8292), a browser's subscription as the browser hands
//! it over, and the encrypted request (RFC 8291, aes128gcm) that carries one message to it
//! through its push service (RFC 8030). Sending is `net::Client::post`'s job.

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT};
use http::{Method, Request};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::{PublicKey, SecretKey};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use url::Url;

/// The most plaintext one push carries: a push service takes 4,096 bytes of body, and one
/// aes128gcm record spends 86 on its header (salt, record size, the sender's key), 16 on the
/// tag and 1 on the padding delimiter.
pub const MAX_PAYLOAD: usize = 3993;

/// The longest endpoint URL accepted from a browser; real ones are a few hundred characters.
pub const MAX_ENDPOINT_CHARS: usize = 2000;

/// How long a VAPID token stays good. RFC 8292 allows at most 24 hours; half leaves room for
/// a clock that runs ahead.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// The size of the server's private key, as stored.
pub const KEY_BYTES: usize = 32;

/// How Hearth introduces itself to push services.
const PUSH_USER_AGENT: &str = concat!("Hearth/", env!("CARGO_PKG_VERSION"), " (web push)");

/// base64url as browsers write it (unpadded), with padding taken too.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The server's VAPID key pair: it signs every push, and browsers subscribe with its public
/// half, so a push service takes pushes for those subscriptions from this server only.
#[derive(Clone)]
pub struct VapidKeys {
    secret: SecretKey,
    /// The public key in base64url, worked out once (it is a scalar multiplication).
    public: String,
    /// Tokens signed already, by audience and contact, with their expiry (unix seconds): a
    /// thousand pushes to one push service need one signature, not a thousand.
    tokens: std::sync::Arc<std::sync::Mutex<Tokens>>,
}

/// Signed `Authorization` headers by (audience, contact), with their expiry in unix seconds.
type Tokens = std::collections::HashMap<(String, String), (u64, String)>;

/// Tokens cached at most, across push services.
const TOKENS_KEPT: usize = 1000;

/// A stored private key that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a VAPID private key (it is {KEY_BYTES} bytes, a P-256 scalar)")]
pub struct BadKey;

impl VapidKeys {
    /// A new key pair from the system's random source.
    pub fn generate() -> VapidKeys {
        loop {
            let mut bytes = [0u8; KEY_BYTES];
            getrandom::fill(&mut bytes).expect("the OS random source");
            // Fails only for zero or a value past the curve's order, about once in 2^32.
            if let Ok(keys) = VapidKeys::from_bytes(&bytes) {
                return keys;
            }
        }
    }

    /// The private key as stored: its 32-byte scalar.
    pub fn to_bytes(&self) -> [u8; KEY_BYTES] {
        self.secret.to_bytes().into()
    }

    /// Reads a key written by [`VapidKeys::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<VapidKeys, BadKey> {
        if bytes.len() != KEY_BYTES {
            return Err(BadKey);
        }
        let secret = SecretKey::from_slice(bytes).map_err(|_| BadKey)?;
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Ok(VapidKeys {
            secret,
            public,
            tokens: Default::default(),
        })
    }

    /// The public key as a browser's `applicationServerKey` takes it: the uncompressed point
    /// (65 bytes) in base64url without padding.
    pub fn public_key(&self) -> String {
        self.public.clone()
    }

    /// The `Authorization` header for a push to `endpoint`: a token for its origin, good for
    /// [`TOKEN_LIFETIME`] from `now`, naming `subject` as the contact.
    /// A token signed earlier for the same audience is used again while at least half its
    /// lifetime is left.
    fn authorization(&self, endpoint: &Url, subject: &str, now: SystemTime) -> String {
        let audience = endpoint.origin().ascii_serialization();
        let now_secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let key = (audience, subject.to_owned());
        let mut tokens = self.tokens.lock().expect("token cache");
        if let Some((expires, header)) = tokens.get(&key)
            && *expires >= now_secs + TOKEN_LIFETIME.as_secs() / 2
            && *expires <= now_secs + TOKEN_LIFETIME.as_secs()
        {
            return header.clone();
        }
        let header = self.sign(&key.0, subject, now);
        if tokens.len() >= TOKENS_KEPT {
            tokens.clear();
        }
        tokens.insert(key, (now_secs + TOKEN_LIFETIME.as_secs(), header.clone()));
        header
    }

    fn sign(&self, audience: &str, subject: &str, now: SystemTime) -> String {
        let expires = now.duration_since(UNIX_EPOCH).unwrap_or_default() + TOKEN_LIFETIME;
        let claims = serde_json::json!({
            "aud": audience,
            "exp": expires.as_secs(),
            "sub": subject,
        });
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signed = format!("{header}.{claims}");
        let signature: p256::ecdsa::Signature =
            SigningKey::from(&self.secret).sign(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        format!("vapid t={signed}.{signature}, k={}", self.public_key())
    }
}

impl fmt::Debug for VapidKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VapidKeys")
            .field("public_key", &self.public_key())
            .finish_non_exhaustive()
    }
}

/// Where one browser takes its pushes, and the keys its pushes are encrypted to.
#[derive(Clone)]
pub struct Subscription {
    endpoint: Url,
    p256dh: PublicKey,
    auth: [u8; 16],
}

/// Why a subscription a browser sent cannot be used; the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadSubscription {
    #[error("endpoint is not a URL: {0}")]
    EndpointNotUrl(String),
    #[error("endpoint must be an https URL, not {0}:")]
    EndpointScheme(String),
    #[error("endpoint is {0} characters long; the most taken is {MAX_ENDPOINT_CHARS}")]
    EndpointTooLong(usize),
    #[error("endpoint must not carry a user name or password")]
    EndpointCredentials,
    #[error("p256dh is not base64url")]
    KeyNotBase64,
    #[error("p256dh is {0} bytes; a P-256 public key is 65 (an uncompressed point)")]
    KeyLength(usize),
    #[error("p256dh is not a point on the P-256 curve")]
    KeyNotOnCurve,
    #[error("auth is not base64url")]
    AuthNotBase64,
    #[error("auth is {0} bytes; the secret is 16")]
    AuthLength(usize),
}

impl BadSubscription {
    /// The field at fault, as the browser's `PushSubscription` names it.
    pub fn field(&self) -> &'static str {
        use BadSubscription::*;
        match self {
            EndpointNotUrl(_) | EndpointScheme(_) | EndpointTooLong(_) | EndpointCredentials => {
                "endpoint"
            }
            KeyNotBase64 | KeyLength(_) | KeyNotOnCurve => "p256dh",
            AuthNotBase64 | AuthLength(_) => "auth",
        }
    }
}

impl Subscription {
    /// Reads a subscription as a browser's `PushSubscription.toJSON()` gives it. The endpoint
    /// must be https; `allow_http` also takes http, for a push service on an intranet.
    pub fn parse(
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        allow_http: bool,
    ) -> Result<Subscription, BadSubscription> {
        let chars = endpoint.chars().count();
        if chars > MAX_ENDPOINT_CHARS {
            return Err(BadSubscription::EndpointTooLong(chars));
        }
        let mut endpoint =
            Url::parse(endpoint).map_err(|err| BadSubscription::EndpointNotUrl(err.to_string()))?;
        // A fragment never reaches the server.
        endpoint.set_fragment(None);
        match endpoint.scheme() {
            "https" => {}
            "http" if allow_http => {}
            other => return Err(BadSubscription::EndpointScheme(other.to_owned())),
        }
        if !endpoint.username().is_empty() || endpoint.password().is_some() {
            return Err(BadSubscription::EndpointCredentials);
        }
        // The push request is built from this URL: one that `http` cannot carry is refused here.
        if let Err(err) = endpoint.as_str().parse::<http::Uri>() {
            return Err(BadSubscription::EndpointNotUrl(err.to_string()));
        }
        let key = BASE64URL
            .decode(p256dh)
            .map_err(|_| BadSubscription::KeyNotBase64)?;
        if key.len() != 65 {
            return Err(BadSubscription::KeyLength(key.len()));
        }
        let p256dh =
            PublicKey::from_sec1_bytes(&key).map_err(|_| BadSubscription::KeyNotOnCurve)?;
        let auth = BASE64URL
            .decode(auth)
            .map_err(|_| BadSubscription::AuthNotBase64)?;
        let auth = auth
            .as_slice()
            .try_into()
            .map_err(|_| BadSubscription::AuthLength(auth.len()))?;
        Ok(Subscription {
            endpoint,
            p256dh,
            auth,
        })
    }

    /// The push service's URL for this browser.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The browser's public key, the uncompressed point.
    pub fn p256dh(&self) -> Vec<u8> {
        self.p256dh.to_encoded_point(false).as_bytes().to_vec()
    }

    /// The secret the browser shares with the server alone.
    pub fn auth(&self) -> [u8; 16] {
        self.auth
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("endpoint", &self.endpoint.as_str())
            .finish_non_exhaustive()
    }
}

/// How soon the browser's device should be woken for a push (RFC 8030 §5.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Urgency {
    VeryLow,
    Low,
    #[default]
    Normal,
    High,
}

impl Urgency {
    /// The `Urgency` header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::VeryLow => "very-low",
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// One message to push.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    /// What the service worker receives; at most [`MAX_PAYLOAD`] bytes.
    pub payload: &'a [u8],
    /// How long the push service keeps the message for a browser that is offline; 0 means
    /// deliver now or never.
    pub ttl_secs: u32,
    /// A tag to collapse on: a push replaces an undelivered one with the same tag. Any text;
    /// the push service sees only [`topic`] of it.
    pub tag: Option<&'a str>,
    pub urgency: Urgency,
}

/// Why a push request could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    #[error("the payload is {0} bytes; one push carries at most {MAX_PAYLOAD}")]
    TooLarge(usize),
    #[error("bad contact for push services: {0}")]
    Subject(String),
    #[error("cannot encrypt the push: {0}")]
    Encrypt(String),
}

/// The `Topic` header for a tag: the first 24 bytes of its SHA-256 in base64url, which is
/// RFC 8030's limit of 32 characters from the base64url alphabet. Any tag fits, and the push
/// service cannot read it.
pub fn topic(tag: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(tag.as_bytes())[..24])
}

/// Checks the contact that VAPID tokens name (the `sub` claim), so a push service can reach
/// the operator: a `mailto:` address or an `https:` URL.
pub fn validate_subject(subject: &str) -> Result<(), String> {
    if let Some(address) = subject.strip_prefix("mailto:") {
        let Some((user, domain)) = address.split_once('@') else {
            return Err(format!(
                "{subject:?} has no address after mailto: (write it like mailto:admin@example.org)"
            ));
        };
        if user.is_empty() || domain.is_empty() || address.chars().any(char::is_whitespace) {
            return Err(format!(
                "{subject:?} is not an email address (write it like mailto:admin@example.org)"
            ));
        }
        return Ok(());
    }
    if subject.starts_with("https:") {
        return match Url::parse(subject) {
            Ok(url) if url.host().is_some() => Ok(()),
            Ok(_) => Err(format!("{subject:?} has no host")),
            Err(err) => Err(format!("{subject:?} is not a URL: {err}")),
        };
    }
    Err(format!(
        "{subject:?} is neither a mailto: address nor an https: URL"
    ))
}

/// The POST that delivers `push` to `sub`: the payload encrypted to the browser's keys, a
/// VAPID token signed with `keys` naming `subject` as the contact, and the push's `TTL`,
/// `Urgency` and `Topic`. Callers cut the payload to [`MAX_PAYLOAD`] first.
pub fn request(
    keys: &VapidKeys,
    subject: &str,
    sub: &Subscription,
    push: &Push,
) -> Result<Request<Vec<u8>>, PushError> {
    request_at(keys, subject, sub, push, SystemTime::now())
}

fn request_at(
    keys: &VapidKeys,
    subject: &str,
    sub: &Subscription,
    push: &Push,
    now: SystemTime,
) -> Result<Request<Vec<u8>>, PushError> {
    if push.payload.len() > MAX_PAYLOAD {
        return Err(PushError::TooLarge(push.payload.len()));
    }
    validate_subject(subject).map_err(PushError::Subject)?;
    let auth = web_push_native::Auth::clone_from_slice(&sub.auth);
    let body = web_push_native::encrypt(push.payload.to_vec(), &sub.p256dh, &auth)
        .map_err(|err| PushError::Encrypt(err.to_string()))?;
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(sub.endpoint.as_str())
        .header(
            AUTHORIZATION,
            keys.authorization(&sub.endpoint, subject, now),
        )
        .header("TTL", push.ttl_secs)
        .header("Urgency", push.urgency.as_str())
        .header(CONTENT_ENCODING, "aes128gcm")
        .header(CONTENT_TYPE, "application/octet-stream")
        .header(USER_AGENT, PUSH_USER_AGENT);
    if let Some(tag) = push.tag {
        builder = builder.header("Topic", topic(tag));
    }
    // Every part was checked above: the endpoint is a URL, the values are plain ASCII.
    Ok(builder.body(body).expect("a well-formed push request"))
}

#[cfg(test)]
mod tests;
