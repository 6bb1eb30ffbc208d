use super::*;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;

/// A browser's side of a subscription: its private key and auth secret, and the
/// subscription it hands over for `endpoint`.
fn browser(endpoint: &str) -> (SecretKey, [u8; 16], Subscription) {
    let secret = VapidKeys::generate().secret;
    let mut auth = [0u8; 16];
    getrandom::fill(&mut auth).unwrap();
    let p256dh = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
    let sub = Subscription::parse(endpoint, &p256dh, &URL_SAFE_NO_PAD.encode(auth), false).unwrap();
    (secret, auth, sub)
}

fn push(payload: &[u8]) -> Push<'_> {
    Push {
        payload,
        ttl_secs: 3600,
        tag: None,
        urgency: Urgency::default(),
    }
}

fn header<'a>(req: &'a Request<Vec<u8>>, name: &str) -> Option<&'a str> {
    req.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Checks the token in an `Authorization: vapid` header against its own `k=` key, and
/// gives back its claims.
fn verified_claims(authorization: &str) -> Value {
    let rest = authorization.strip_prefix("vapid t=").unwrap();
    let (token, key) = rest.split_once(", k=").unwrap();
    let key = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(key).unwrap()).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap()).unwrap();
    key.verify(signed.as_bytes(), &signature).unwrap();
    let (header, claims) = signed.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()
}

#[test]
fn keys_survive_storage_and_give_the_public_key_browsers_take() {
    let keys = VapidKeys::generate();
    let stored = keys.to_bytes();
    let again = VapidKeys::from_bytes(&stored).unwrap();
    assert_eq!(again.public_key(), keys.public_key());
    let public = URL_SAFE_NO_PAD.decode(keys.public_key()).unwrap();
    assert_eq!(public.len(), 65);
    assert_eq!(public[0], 4, "uncompressed");
    assert!(!keys.public_key().contains('='));
    assert_ne!(VapidKeys::generate().public_key(), keys.public_key());
    let debug = format!("{keys:?}");
    assert!(debug.contains(&keys.public_key()));
    assert!(!debug.contains(&hex::encode(stored)));
}

#[test]
fn stored_keys_that_are_not_keys_are_refused() {
    let good = VapidKeys::generate().to_bytes();
    assert_eq!(VapidKeys::from_bytes(&good[..31]).unwrap_err(), BadKey);
    assert_eq!(
        VapidKeys::from_bytes(&[good.as_slice(), &[1]].concat()).unwrap_err(),
        BadKey
    );
    assert_eq!(VapidKeys::from_bytes(&[0; 32]).unwrap_err(), BadKey);
    assert_eq!(
        VapidKeys::from_bytes(&[0xff; 32]).unwrap_err(),
        BadKey,
        "past the order"
    );
}

#[test]
fn the_token_names_the_endpoint_origin_the_contact_and_a_close_expiry() {
    let keys = VapidKeys::generate();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let cases = [
        (
            "https://push.example.net/send/abc?x=1",
            "https://push.example.net",
        ),
        (
            "https://push.example.net:8443/send/abc",
            "https://push.example.net:8443",
        ),
        (
            "https://push.example.net:443/send/abc",
            "https://push.example.net",
        ),
    ];
    for (endpoint, origin) in cases {
        let (_, _, sub) = browser(endpoint);
        let req = request_at(&keys, "mailto:ops@example.org", &sub, &push(b"hi"), now).unwrap();
        let authorization = header(&req, "authorization").unwrap();
        assert!(authorization.ends_with(&format!(", k={}", keys.public_key())));
        let claims = verified_claims(authorization);
        assert_eq!(claims["aud"], origin, "{endpoint}");
        assert_eq!(claims["sub"], "mailto:ops@example.org");
        assert_eq!(claims["exp"], 1_700_000_000 + 12 * 3600);
    }
}

#[test]
fn the_request_carries_the_push_encrypted_to_the_browser() {
    let keys = VapidKeys::generate();
    let (secret, auth, sub) = browser("https://push.example.net/send/abc");
    let message = Push {
        payload: b"Ada: lunch at noon?",
        ttl_secs: 86_400,
        tag: Some("conversation:7"),
        urgency: Urgency::High,
    };
    let req = request(&keys, "https://hearth.example.org/", &sub, &message).unwrap();
    assert_eq!(req.method(), Method::POST);
    assert_eq!(req.uri(), "https://push.example.net/send/abc");
    assert_eq!(header(&req, "ttl"), Some("86400"));
    assert_eq!(header(&req, "urgency"), Some("high"));
    assert_eq!(
        header(&req, "topic"),
        Some(topic("conversation:7").as_str())
    );
    assert_eq!(header(&req, "content-encoding"), Some("aes128gcm"));
    let body = req.into_body();
    assert_eq!(body.len(), 86 + message.payload.len() + 17);
    let auth = web_push_native::Auth::clone_from_slice(&auth);
    let plain = web_push_native::decrypt(body, &secret, &auth).unwrap();
    assert_eq!(plain, message.payload);

    let req = request(&keys, "mailto:ops@example.org", &sub, &push(b"")).unwrap();
    assert_eq!(header(&req, "topic"), None);
    assert_eq!(header(&req, "urgency"), Some("normal"));
}

#[test]
fn a_payload_fills_one_record_of_4096_bytes_and_no_more() {
    let keys = VapidKeys::generate();
    let (_, _, sub) = browser("https://push.example.net/send/abc");
    let full = vec![b'x'; MAX_PAYLOAD];
    let req = request(&keys, "mailto:ops@example.org", &sub, &push(&full)).unwrap();
    assert_eq!(req.body().len(), 4096);
    let over = vec![b'x'; MAX_PAYLOAD + 1];
    let err = request(&keys, "mailto:ops@example.org", &sub, &push(&over)).unwrap_err();
    assert_eq!(err, PushError::TooLarge(3994));
    assert_eq!(
        err.to_string(),
        "the payload is 3994 bytes; one push carries at most 3993"
    );
}

#[test]
fn a_push_with_a_bad_contact_is_not_made() {
    let keys = VapidKeys::generate();
    let (_, _, sub) = browser("https://push.example.net/send/abc");
    let err = request(&keys, "ops@example.org", &sub, &push(b"hi")).unwrap_err();
    assert!(matches!(err, PushError::Subject(_)), "{err}");
}

#[test]
fn topics_are_32_base64url_characters_one_per_tag() {
    let a = topic("conversation:7");
    assert_eq!(a.len(), 32);
    assert!(
        a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    assert_eq!(a, topic("conversation:7"));
    assert_ne!(a, topic("conversation:8"));
    assert_eq!(topic("").len(), 32);
    assert_eq!(topic(&"long ".repeat(1000)).len(), 32);
}

#[test]
fn contacts_are_a_mailto_address_or_an_https_url() {
    for good in [
        "mailto:ops@example.org",
        "mailto:first.last+push@mail.example.org",
        "https://hearth.example.org/",
        "https://hearth.example.org/contact",
    ] {
        assert_eq!(validate_subject(good), Ok(()), "{good}");
    }
    let bad = [
        ("", "neither a mailto: address nor an https: URL"),
        (
            "ops@example.org",
            "neither a mailto: address nor an https: URL",
        ),
        (
            "http://hearth.example.org/",
            "neither a mailto: address nor an https: URL",
        ),
        ("mailto:", "no address after mailto:"),
        ("mailto:ops", "no address after mailto:"),
        ("mailto:@example.org", "not an email address"),
        ("mailto:ops@", "not an email address"),
        ("mailto:ops @example.org", "not an email address"),
        ("https://", "not a URL"),
        ("https:not a url", "not a URL"),
    ];
    for (subject, why) in bad {
        let err = validate_subject(subject).unwrap_err();
        assert!(err.contains(why), "{subject:?}: {err}");
    }
}

#[test]
fn subscriptions_name_the_field_at_fault() {
    let (_, auth, good) = browser("https://push.example.net/send/abc");
    let p256dh = URL_SAFE_NO_PAD.encode(good.p256dh());
    let auth = URL_SAFE_NO_PAD.encode(auth);
    let parse =
        |endpoint: &str, allow_http| Subscription::parse(endpoint, &p256dh, &auth, allow_http);

    assert!(parse("http://push.intranet.test/send/abc", true).is_ok());
    let err = parse("http://push.intranet.test/send/abc", false).unwrap_err();
    assert_eq!(err, BadSubscription::EndpointScheme("http".into()));
    assert_eq!(err.to_string(), "endpoint must be an https URL, not http:");
    assert_eq!(err.field(), "endpoint");
    let err = parse("https://user:pw@push.example.net/send", false).unwrap_err();
    assert_eq!(err, BadSubscription::EndpointCredentials);
    let sub = parse("https://push.example.net/send/abc#top", false).unwrap();
    assert_eq!(sub.endpoint().as_str(), "https://push.example.net/send/abc");
    let err = parse("https://push.example.net/send/{abc}?x=|", false);
    assert!(
        err.is_ok(),
        "the URL standard's escapes make it a request target"
    );
    let err = parse("ftp://push.example.net/send", true).unwrap_err();
    assert_eq!(err, BadSubscription::EndpointScheme("ftp".into()));

    let err = Subscription::parse(good.endpoint().as_str(), &p256dh, "AAAA", false).unwrap_err();
    assert_eq!(err, BadSubscription::AuthLength(3));
    assert_eq!(err.field(), "auth");
    let err = Subscription::parse(good.endpoint().as_str(), "BAAA", &auth, false).unwrap_err();
    assert_eq!(err.field(), "p256dh");
    assert!(format!("{good:?}").contains("push.example.net"));
    assert!(!format!("{good:?}").contains(&auth));
}

#[test]
fn a_token_is_signed_once_per_audience_and_again_past_half_its_life() {
    let keys = VapidKeys::generate();
    let a = Url::parse("https://push.example.org/send/1").unwrap();
    let a2 = Url::parse("https://push.example.org/send/2").unwrap();
    let b = Url::parse("https://other.example.net/send/1").unwrap();
    let now = SystemTime::now();
    let first = keys.authorization(&a, "mailto:ops@example.org", now);
    assert_eq!(
        keys.authorization(&a2, "mailto:ops@example.org", now),
        first
    );
    assert_ne!(keys.authorization(&b, "mailto:ops@example.org", now), first);
    assert_ne!(
        keys.authorization(&a, "mailto:other@example.org", now),
        first
    );
    // Still more than half its life left: the same token.
    let later = now + TOKEN_LIFETIME / 2 - Duration::from_secs(5);
    assert_eq!(
        keys.authorization(&a, "mailto:ops@example.org", later),
        first
    );
    // Past half its life: a new one, good for a whole lifetime from then.
    let much_later = now + TOKEN_LIFETIME / 2 + Duration::from_secs(5);
    let renewed = keys.authorization(&a, "mailto:ops@example.org", much_later);
    assert_ne!(renewed, first);
    let claims = verified_claims(&renewed);
    let expected = much_later.duration_since(UNIX_EPOCH).unwrap() + TOKEN_LIFETIME;
    assert_eq!(claims["exp"], expected.as_secs());
    // A clone shares what was signed.
    assert_eq!(
        keys.clone()
            .authorization(&a, "mailto:ops@example.org", much_later),
        renewed
    );
}
