//! Web Push end to end without a Hearth server: a push made with `notify::webpush` and sent
//! through the one outbound client reaches a push service on this machine, passes its VAPID
//! check, and only the subscribed browser can read it; tampered tokens, malformed
//! subscriptions and payloads past the limit are refused; the push service's answers come
//! back to the sender.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use common::push::{BrowserKeys, PushService, Reply};
use hearth::net::{Client, FetchError, Policy, parse_networks};
use hearth::notify::webpush::{
    self, BadSubscription, MAX_PAYLOAD, Push, PushError, Subscription, Urgency, VapidKeys,
};
use http::Request;
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use std::time::{Duration, Instant};

const CONTACT: &str = "mailto:ops@hearth.example.org";

/// The outbound client as an intranet operator sets it up: loopback allowed, quick to give up.
fn client() -> Client {
    let policy = Policy {
        allow: parse_networks(&["127.0.0.0/8"]).unwrap(),
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        ..Policy::default()
    };
    Client::new(policy).unwrap()
}

fn push(payload: &[u8]) -> Push<'_> {
    Push {
        payload,
        ttl_secs: 600,
        tag: None,
        urgency: Urgency::Normal,
    }
}

/// The `Authorization` header with its claims replaced by `claims`, the signature kept.
fn with_claims(req: &mut Request<Vec<u8>>, claims: serde_json::Value) {
    let value = req.headers()["authorization"].to_str().unwrap().to_owned();
    let (token, key) = value
        .strip_prefix("vapid t=")
        .unwrap()
        .split_once(", k=")
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
    let forged = format!("vapid t={}.{claims}.{}, k={key}", parts[0], parts[2]);
    req.headers_mut()
        .insert("authorization", forged.parse().unwrap());
}

#[tokio::test]
async fn a_push_reaches_the_browser_through_the_push_service() {
    let service = PushService::start().await;
    let keys = VapidKeys::generate();
    let browser = BrowserKeys::new();
    service.restrict("ada", &keys.public_key());
    let sub = browser.subscription(&service.endpoint("ada"));
    let message = br#"{"title":"Garden club","body":"Ada: seedlings on Tuesday?"}"#;
    let sent = Push {
        payload: message,
        ttl_secs: 86_400,
        tag: Some("conversation:12"),
        urgency: Urgency::High,
    };
    let req = webpush::request(&keys, CONTACT, &sub, &sent).unwrap();

    let answer = client().post(req, 1024).await.unwrap();

    assert_eq!(answer.status, 201);
    assert_eq!(answer.retry_after, None);
    let got = service.received("ada");
    assert_eq!(got.len(), 1);
    let got = &got[0];
    assert_eq!(got.refused, None);
    assert_eq!(got.path, "/push/ada");
    let claims = got.claims.as_ref().unwrap();
    assert_eq!(claims["aud"], service.base().origin().ascii_serialization());
    assert_eq!(claims["sub"], CONTACT);
    assert_eq!(got.header("ttl"), Some("86400"));
    assert_eq!(got.header("urgency"), Some("high"));
    let topic = got.header("topic").unwrap();
    assert_eq!(topic, webpush::topic("conversation:12"));
    assert_eq!(topic.len(), 32);
    assert_eq!(got.header("content-encoding"), Some("aes128gcm"));
    assert_eq!(browser.decrypt(&got.body).unwrap(), message);
    assert!(
        !got.body.windows(6).any(|w| w == b"Garden"),
        "the push service sees no plaintext"
    );
    assert_eq!(service.count(), 1);
}

#[tokio::test]
async fn only_the_subscribed_browser_can_read_a_push() {
    let service = PushService::start().await;
    let keys = VapidKeys::generate();
    let ada = BrowserKeys::new();
    let sub = ada.subscription(&service.endpoint("ada"));
    let req = webpush::request(&keys, CONTACT, &sub, &push(b"for Ada only")).unwrap();
    assert_eq!(client().post(req, 0).await.unwrap().status, 201);

    let body = &service.received("ada")[0].body;
    assert_eq!(ada.decrypt(body).unwrap(), b"for Ada only");
    let err = BrowserKeys::new().decrypt(body).unwrap_err();
    assert_eq!(err, "record 0 does not decrypt");
}

#[tokio::test]
async fn the_push_service_refuses_tokens_that_are_missing_or_forged() {
    let service = PushService::start().await;
    let keys = VapidKeys::generate();
    let browser = BrowserKeys::new();
    let sub = browser.subscription(&service.endpoint("ada"));
    let client = client();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let origin = service.base().origin().ascii_serialization();

    // Claims changed after signing: another contact, a longer life.
    let forgeries = [
        serde_json::json!({"aud": origin, "exp": exp, "sub": "mailto:mallory@example.org"}),
        serde_json::json!({"aud": origin, "exp": exp + 7 * 24 * 3600, "sub": CONTACT}),
    ];
    for claims in forgeries {
        let mut req = webpush::request(&keys, CONTACT, &sub, &push(b"hi")).unwrap();
        with_claims(&mut req, claims);
        assert_eq!(client.post(req, 1024).await.unwrap().status, 403);
    }

    // Someone else's valid token, offered with this server's key.
    let other = VapidKeys::generate();
    let mut req = webpush::request(&keys, CONTACT, &sub, &push(b"hi")).unwrap();
    let theirs = webpush::request(&other, CONTACT, &sub, &push(b"hi")).unwrap();
    let theirs = theirs.headers()["authorization"].to_str().unwrap();
    let (token, _) = theirs.split_once(", k=").unwrap();
    let forged = format!("{token}, k={}", keys.public_key());
    req.headers_mut()
        .insert("authorization", forged.parse().unwrap());
    assert_eq!(client.post(req, 1024).await.unwrap().status, 403);

    // A token made for another origin.
    let port = service.base().port().unwrap();
    let elsewhere = browser.subscription(&format!("http://localhost:{port}/push/ada"));
    let mut req = webpush::request(&keys, CONTACT, &elsewhere, &push(b"hi")).unwrap();
    *req.uri_mut() = service.endpoint("ada").parse().unwrap();
    assert_eq!(client.post(req, 1024).await.unwrap().status, 403);

    // No token at all.
    let mut req = webpush::request(&keys, CONTACT, &sub, &push(b"hi")).unwrap();
    req.headers_mut().remove("authorization");
    assert_eq!(client.post(req, 1024).await.unwrap().status, 401);

    // A valid token from a server the subscription was not made for.
    service.restrict("ada", &other.public_key());
    let req = webpush::request(&keys, CONTACT, &sub, &push(b"hi")).unwrap();
    assert_eq!(client.post(req, 1024).await.unwrap().status, 403);
    let req = webpush::request(&other, CONTACT, &sub, &push(b"hi")).unwrap();
    assert_eq!(client.post(req, 1024).await.unwrap().status, 201);

    let refused: Vec<_> = service
        .received("ada")
        .into_iter()
        .map(|got| (got.status, got.refused))
        .collect();
    let why = |status, text: &str| (Some(status), Some(text.to_owned()));
    let aud = format!("aud \"http://localhost:{port}\" is not {origin}");
    assert_eq!(
        refused,
        [
            why(403, "the signature does not verify"),
            why(403, "the signature does not verify"),
            why(403, "the signature does not verify"),
            why(403, &aud),
            why(401, "no Authorization"),
            why(403, "signed with another key than the subscription's"),
            (Some(201), None),
        ]
    );
}

#[test]
fn malformed_subscriptions_name_the_field_and_why() {
    let browser = BrowserKeys::new();
    let (key, auth) = (browser.p256dh(), browser.auth());
    let endpoint = "https://push.example.net/send/abc";
    let parse =
        |endpoint: &str, key: &str, auth: &str| Subscription::parse(endpoint, key, auth, false);
    let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
    let point = URL_SAFE_NO_PAD.decode(&key).unwrap();

    // At the limits, unpadded as browsers send it and padded as some libraries do.
    let longest = format!("https://push.example.net/{}", "a".repeat(2000 - 25));
    assert_eq!(longest.len(), 2000);
    let padded_auth = URL_SAFE.encode(URL_SAFE_NO_PAD.decode(&auth).unwrap());
    assert!(padded_auth.ends_with("=="));
    let padded_key = URL_SAFE.encode(&point);
    assert!(padded_key.ends_with('='));
    for (endpoint, key, auth) in [
        (longest.as_str(), key.as_str(), auth.as_str()),
        (endpoint, &padded_key, &padded_auth),
    ] {
        let sub = parse(endpoint, key, auth).unwrap();
        assert_eq!(sub.p256dh(), point);
        assert_eq!(b64(&sub.auth()), browser.auth());
    }
    let http = Subscription::parse("http://push.intranet.test/x", &key, &auth, true);
    assert_eq!(
        http.unwrap().endpoint().as_str(),
        "http://push.intranet.test/x"
    );

    let too_long = format!("{longest}b");
    let check = |err: BadSubscription, expected: BadSubscription, message: &str| {
        assert_eq!(err, expected);
        assert_eq!(err.to_string(), message);
        assert!(message.starts_with(err.field()));
    };
    use BadSubscription::*;

    let endpoints = [
        (too_long.as_str(), EndpointTooLong(2001)),
        (
            "push.example.net/send",
            EndpointNotUrl("relative URL without a base".into()),
        ),
        ("https://", EndpointNotUrl("empty host".into())),
        (
            "http://push.example.net/send",
            EndpointScheme("http".into()),
        ),
        ("https://me:pw@push.example.net/send", EndpointCredentials),
    ];
    let messages = [
        "endpoint is 2001 characters long; the most taken is 2000",
        "endpoint is not a URL: relative URL without a base",
        "endpoint is not a URL: empty host",
        "endpoint must be an https URL, not http:",
        "endpoint must not carry a user name or password",
    ];
    for ((endpoint, expected), message) in endpoints.into_iter().zip(messages) {
        check(parse(endpoint, &key, &auth).unwrap_err(), expected, message);
    }

    let compressed = {
        let public = p256::PublicKey::from_sec1_bytes(&point).unwrap();
        b64(public.to_encoded_point(true).as_bytes())
    };
    let off_the_curve = b64(&[[4].as_slice(), &[0; 64]].concat());
    let longer = b64(&[point.as_slice(), &[0]].concat());
    let keys = [
        ("BAb+/".to_owned(), KeyNotBase64, "p256dh is not base64url"),
        (
            b64(&point[..64]),
            KeyLength(64),
            "p256dh is 64 bytes; a P-256 public key is 65 (an uncompressed point)",
        ),
        (
            longer,
            KeyLength(66),
            "p256dh is 66 bytes; a P-256 public key is 65 (an uncompressed point)",
        ),
        (
            compressed,
            KeyLength(33),
            "p256dh is 33 bytes; a P-256 public key is 65 (an uncompressed point)",
        ),
        (
            off_the_curve,
            KeyNotOnCurve,
            "p256dh is not a point on the P-256 curve",
        ),
    ];
    for (key, expected, message) in keys {
        check(parse(endpoint, &key, &auth).unwrap_err(), expected, message);
    }

    let auths = [
        ("a*b".to_owned(), AuthNotBase64, "auth is not base64url"),
        (
            b64(&[7; 15]),
            AuthLength(15),
            "auth is 15 bytes; the secret is 16",
        ),
        (
            b64(&[7; 17]),
            AuthLength(17),
            "auth is 17 bytes; the secret is 16",
        ),
    ];
    for (auth, expected, message) in auths {
        check(parse(endpoint, &key, &auth).unwrap_err(), expected, message);
    }
}

#[tokio::test]
async fn a_payload_at_the_limit_arrives_and_one_byte_more_is_not_sent() {
    let service = PushService::start().await;
    let keys = VapidKeys::generate();
    let browser = BrowserKeys::new();
    let sub = browser.subscription(&service.endpoint("ada"));
    let full: Vec<u8> = (0..MAX_PAYLOAD).map(|i| (i % 251) as u8).collect();
    assert_eq!(full.len(), 3993);

    let req = webpush::request(&keys, CONTACT, &sub, &push(&full)).unwrap();
    assert_eq!(client().post(req, 1024).await.unwrap().status, 201);
    let got = &service.received("ada")[0];
    assert_eq!(got.body.len(), 4096);
    assert_eq!(browser.decrypt(&got.body).unwrap(), full);

    let over = vec![b'x'; MAX_PAYLOAD + 1];
    let err = webpush::request(&keys, CONTACT, &sub, &push(&over)).unwrap_err();
    assert_eq!(err, PushError::TooLarge(3994));
    assert_eq!(service.count(), 1);
}

#[tokio::test]
async fn the_push_service_answers_come_back_to_the_sender() {
    let service = PushService::start().await;
    let keys = VapidKeys::generate();
    let browser = BrowserKeys::new();
    let client = client();
    let replies = [
        ("gone", Reply::Status(410), 410, None),
        ("unknown", Reply::Status(404), 404, None),
        ("big", Reply::Status(413), 413, None),
        ("busy", Reply::TooMany { retry_after: 90 }, 429, Some(90)),
        ("broken", Reply::Status(500), 500, None),
    ];
    for (name, reply, status, retry_after) in replies {
        service.reply(name, reply);
        let sub = browser.subscription(&service.endpoint(name));
        let req = webpush::request(&keys, CONTACT, &sub, &push(b"hi")).unwrap();
        let answer = client.post(req, 1024).await.unwrap();
        assert_eq!(answer.status, status, "{name}");
        let wait = retry_after.map(Duration::from_secs);
        assert_eq!(answer.retry_after, wait, "{name}");
        assert_eq!(service.received(name)[0].status, Some(status));
    }

    service.reply("asleep", Reply::Hang);
    let sub = browser.subscription(&service.endpoint("asleep"));
    let req = webpush::request(&keys, CONTACT, &sub, &push(b"hi")).unwrap();
    let started = Instant::now();
    let err = client.post(req, 1024).await.unwrap_err();
    assert_eq!(err, FetchError::TimedOut);
    assert!(started.elapsed() < Duration::from_secs(4));
    let got = service.received("asleep");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].status, None);
}
