//! Web Push from the other side: a push service on 127.0.0.1:0 standing in for a browser
//! vendor's (RFC 8030), which checks each push's VAPID token (RFC 8292) and answers as told,
//! and a browser's keys, which read what arrives (RFC 8291, written out from the RFC).

use aes_gcm::aead::Aead as _;
use aes_gcm::{Aes128Gcm, KeyInit as _, Nonce};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hearth::notify::webpush::Subscription;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::{PublicKey, SecretKey};
use serde_json::Value;
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use url::Url;

/// A browser's keys for one subscription: the P-256 pair whose public half is `p256dh`, and
/// the 16-byte `auth` secret.
pub struct BrowserKeys {
    secret: SecretKey,
    auth: [u8; 16],
}

impl BrowserKeys {
    pub fn new() -> BrowserKeys {
        let secret = loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            if let Ok(secret) = SecretKey::from_slice(&bytes) {
                break secret;
            }
        };
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).unwrap();
        BrowserKeys { secret, auth }
    }

    /// The public key as `PushSubscription.toJSON()` gives it.
    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public())
    }

    /// The auth secret as `PushSubscription.toJSON()` gives it.
    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }

    /// The subscription this browser hands over for `endpoint` (http allowed).
    pub fn subscription(&self, endpoint: &str) -> Subscription {
        Subscription::parse(endpoint, &self.p256dh(), &self.auth(), true).unwrap()
    }

    fn public(&self) -> Vec<u8> {
        let point = self.secret.public_key().to_encoded_point(false);
        point.as_bytes().to_vec()
    }

    /// Reads an aes128gcm push body (RFC 8188) encrypted to this browser (RFC 8291 §3.4).
    pub fn decrypt(&self, body: &[u8]) -> Result<Vec<u8>, String> {
        let short = || format!("a body of {} bytes is too short", body.len());
        let salt = body.get(..16).ok_or_else(short)?;
        let rs = u32::from_be_bytes(body.get(16..20).ok_or_else(short)?.try_into().unwrap());
        let idlen = usize::from(*body.get(20).ok_or_else(short)?);
        let keyid = body.get(21..21 + idlen).ok_or_else(short)?;
        let records = &body[21 + idlen..];
        if rs < 18 {
            return Err(format!("record size {rs}"));
        }
        // The key id is the sender's one-off public key.
        let sender = PublicKey::from_sec1_bytes(keyid).map_err(|_| "no sender key")?;
        let shared =
            p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), sender.as_affine());
        let info = [b"WebPush: info\0".as_slice(), &self.public(), keyid].concat();
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes())
            .expand(&info, &mut ikm)
            .unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut cek, mut base_nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek)
            .unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut base_nonce)
            .unwrap();
        let cipher = Aes128Gcm::new_from_slice(&cek).unwrap();
        let chunks: Vec<&[u8]> = records.chunks(rs as usize).collect();
        if chunks.is_empty() {
            return Err("no records".into());
        }
        let mut plain = Vec::new();
        for (seq, record) in chunks.iter().enumerate() {
            let mut nonce = base_nonce;
            for (byte, seq_byte) in nonce[4..].iter_mut().zip((seq as u64).to_be_bytes()) {
                *byte ^= seq_byte;
            }
            let padded = cipher
                .decrypt(Nonce::from_slice(&nonce), *record)
                .map_err(|_| format!("record {seq} does not decrypt"))?;
            // Content, then a delimiter (2 on the last record, 1 before), then zeros.
            let end = padded
                .iter()
                .rposition(|&b| b != 0)
                .ok_or("no padding delimiter")?;
            let last = seq + 1 == chunks.len();
            if padded[end] != if last { 2 } else { 1 } {
                return Err(format!("record {seq} has delimiter {}", padded[end]));
            }
            plain.extend_from_slice(&padded[..end]);
        }
        Ok(plain)
    }
}

/// How the push service answers pushes to one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// 201 Created: the push is taken.
    Created,
    /// Any other status: 404 and 410 for a subscription that is gone, 413, 500.
    Status(u16),
    /// 429 Too Many Requests, with `Retry-After` in seconds.
    TooMany { retry_after: u64 },
    /// Never answers.
    Hang,
}

/// One request the push service received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub at: Instant,
    /// What the service answered, or `None` while it hangs.
    pub status: Option<u16>,
    /// The VAPID token's claims, when the token passed.
    pub claims: Option<Value>,
    /// Why the request was refused before its reply was chosen.
    pub refused: Option<String>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

#[derive(Default)]
struct Book {
    replies: HashMap<String, Reply>,
    restricted: HashMap<String, String>,
    received: Vec<(String, Received)>,
}

#[derive(Clone)]
struct Shared {
    origin: String,
    book: Arc<Mutex<Book>>,
}

/// A push service on 127.0.0.1:0: `POST /push/{name}` takes a push for subscription `name`.
pub struct PushService {
    base: Url,
    shared: Shared,
}

impl PushService {
    pub async fn start() -> PushService {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
        let shared = Shared {
            origin: base.origin().ascii_serialization(),
            book: Arc::default(),
        };
        let app = Router::new()
            .route("/push/{name}", post(take))
            .with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        PushService { base, shared }
    }

    /// The service's own URL, `http://127.0.0.1:port/`.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The endpoint a browser would be handed for subscription `name`.
    pub fn endpoint(&self, name: &str) -> String {
        format!("{}push/{name}", self.base)
    }

    /// Answers later pushes to `name` with `reply` (201 until told otherwise).
    pub fn reply(&self, name: &str, reply: Reply) {
        let mut book = self.shared.book.lock().unwrap();
        book.replies.insert(name.to_owned(), reply);
    }

    /// Takes pushes to `name` only when signed with `public_key`, as for a subscription made
    /// with that `applicationServerKey`; others get 403.
    pub fn restrict(&self, name: &str, public_key: &str) {
        let mut book = self.shared.book.lock().unwrap();
        book.restricted
            .insert(name.to_owned(), public_key.to_owned());
    }

    /// The pushes to `name`, oldest first.
    pub fn received(&self, name: &str) -> Vec<Received> {
        let book = self.shared.book.lock().unwrap();
        let to_name = book.received.iter().filter(|(to, _)| to == name);
        to_name.map(|(_, got)| got.clone()).collect()
    }

    /// Every request received, to any endpoint.
    pub fn count(&self) -> usize {
        self.shared.book.lock().unwrap().received.len()
    }
}

/// The largest body a push service must take (RFC 8291 §4).
const MAX_BODY: usize = 4096;

async fn take(
    State(shared): State<Shared>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (reply, restricted) = {
        let book = shared.book.lock().unwrap();
        let reply = book.replies.get(&name).copied().unwrap_or(Reply::Created);
        (reply, book.restricted.get(&name).cloned())
    };
    let checked = check(&headers, body.len(), &shared.origin, restricted.as_deref());
    let status = match (&checked, reply) {
        (Err((status, _)), _) => Some(*status),
        (Ok(_), Reply::Created) => Some(201),
        (Ok(_), Reply::Status(status)) => Some(status),
        (Ok(_), Reply::TooMany { .. }) => Some(429),
        (Ok(_), Reply::Hang) => None,
    };
    let (claims, refused) = match checked {
        Ok(claims) => (Some(claims), None),
        Err((_, why)) => (None, Some(why)),
    };
    let received = Received {
        path: format!("/push/{name}"),
        headers,
        body: body.to_vec(),
        at: Instant::now(),
        status,
        claims,
        refused: refused.clone(),
    };
    shared.book.lock().unwrap().received.push((name, received));
    let Some(status) = status else {
        return std::future::pending().await;
    };
    let status_code = StatusCode::from_u16(status).unwrap();
    let mut response = (status_code, refused.unwrap_or_default()).into_response();
    if let (429, Reply::TooMany { retry_after }) = (status, reply) {
        let value = HeaderValue::from(retry_after);
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Checks a push the way RFC 8030 and RFC 8292 ask: a TTL, an aes128gcm body that fits, and a
/// VAPID token (401 when there is none) that is valid (403 when it is not). Gives the token's
/// claims.
fn check(
    headers: &HeaderMap,
    len: usize,
    origin: &str,
    restricted: Option<&str>,
) -> Result<Value, (u16, String)> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("ttl")
        .and_then(|ttl| ttl.parse::<u32>().ok())
        .is_none()
    {
        return Err((400, "no TTL".into()));
    }
    if text("content-encoding") != Some("aes128gcm") {
        return Err((415, "not aes128gcm".into()));
    }
    if len > MAX_BODY {
        return Err((413, format!("{len} bytes")));
    }
    let authorization = text("authorization").ok_or((401, "no Authorization".to_owned()))?;
    let params = authorization
        .strip_prefix("vapid ")
        .ok_or((401, "not a vapid Authorization".to_owned()))?;
    let mut token = None;
    let mut key = None;
    for param in params.split(',') {
        match param.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => {}
        }
    }
    let (Some(token), Some(key)) = (token, key) else {
        return Err((401, "vapid without t= and k=".into()));
    };
    let invalid = |why: &str| (403, why.to_owned());
    if restricted.is_some_and(|restricted| restricted != key) {
        return Err(invalid("signed with another key than the subscription's"));
    }
    let key = URL_SAFE_NO_PAD
        .decode(key)
        .map_err(|_| invalid("k is not base64url"))?;
    let key = VerifyingKey::from_sec1_bytes(&key).map_err(|_| invalid("k is not a P-256 key"))?;
    let (signed, signature) = token.rsplit_once('.').ok_or(invalid("t is not a JWT"))?;
    let (header, claims) = signed.split_once('.').ok_or(invalid("t is not a JWT"))?;
    let json = |part: &str| -> Result<Value, (u16, String)> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| invalid("t is not base64url"))?;
        serde_json::from_slice(&bytes).map_err(|_| invalid("t is not JSON"))
    };
    if json(header)?["alg"] != "ES256" {
        return Err(invalid("alg is not ES256"));
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| Signature::from_slice(&bytes).ok())
        .ok_or(invalid("not an ES256 signature"))?;
    key.verify(signed.as_bytes(), &signature)
        .map_err(|_| invalid("the signature does not verify"))?;
    let claims = json(claims)?;
    if claims["aud"] != origin {
        return Err(invalid(&format!("aud {} is not {origin}", claims["aud"])));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    match claims["exp"].as_u64() {
        Some(exp) if exp > now && exp <= now + 24 * 3600 => {}
        _ => {
            return Err(invalid(&format!(
                "exp {} is not within 24 h",
                claims["exp"]
            )));
        }
    }
    if claims["sub"].as_str().is_none_or(str::is_empty) {
        return Err(invalid("no sub"));
    }
    Ok(claims)
}
