//! Strict input: JSON bodies and frames must be objects, percent-escapes must decode to UTF-8,
//! and one middleware refuses an undecodable query string on every route.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::{Deserialize, Deserializer, Visitor};

use crate::error::Error;

/// A value read only from a JSON object. serde reads a struct from an array as well
/// (`["x"]` would fill the first field), which no client means.
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(MapOnly(deserializer)).map(Object)
    }
}

/// Hands every request of the value being read to `deserialize_map`, which takes only `{…}`.
struct MapOnly<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for MapOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(visitor)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// Whether `raw` (a query string or a form body) percent-decodes to UTF-8: every `%` starts
/// a two-digit hex escape and the decoded bytes are UTF-8. (The usual decoders replace what
/// is not with U+FFFD or keep a bad escape as text, and so store something nobody sent.)
pub fn decodes_to_utf8(raw: &[u8]) -> bool {
    let mut decoded = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        if b != b'%' {
            decoded.push(b);
            continue;
        }
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match (hex(bytes.next()), hex(bytes.next())) {
            (Some(hi), Some(lo)) => decoded.push((hi * 16 + lo) as u8),
            _ => return false,
        }
    }
    std::str::from_utf8(&decoded).is_ok()
}

/// Refuses a request whose query string does not decode: 400, as JSON under `/api/`, as the
/// error page elsewhere. Nothing runs.
pub async fn query(req: Request, next: Next) -> Response {
    let bad = req
        .uri()
        .query()
        .is_some_and(|q| !decodes_to_utf8(q.as_bytes()));
    if !bad {
        return next.run(req).await;
    }
    let err = Error::invalid("the query string is not valid percent-encoded UTF-8");
    if req.uri().path().starts_with("/api/") {
        super::api::ApiError(err).into_response()
    } else {
        super::html::PageError(err).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_must_be_whole_and_decode_to_utf8() {
        for good in [
            "",
            "a=1&b=2",
            "body=caf%C3%A9",
            "e=%F0%9F%91%8D",
            "q=a+b%20c",
            "x=%e2%82%ac",
            "raw=€",
        ] {
            assert!(decodes_to_utf8(good.as_bytes()), "{good}");
        }
        for bad in [
            "%zz=1",
            "a=%",
            "a=%4",
            "a=%4g",
            "body=%FF%FE",
            "a=%C3",
            "a=%E2%82&b=%AC",
        ] {
            assert!(!decodes_to_utf8(bad.as_bytes()), "{bad}");
        }
        assert!(!decodes_to_utf8(b"a=\xff"), "raw bytes that are not UTF-8");
    }

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Draft {
        body: String,
        #[serde(default)]
        client_id: Option<String>,
    }

    #[test]
    fn only_an_object_is_read() {
        let read = |json: &str| serde_json::from_str::<Object<Draft>>(json).map(|o| o.0);
        assert_eq!(
            read(r#"{"body": "x"}"#).unwrap(),
            Draft {
                body: "x".into(),
                client_id: None
            }
        );
        assert!(
            serde_json::from_str::<Draft>(r#"["x"]"#).is_ok(),
            "serde alone"
        );
        for bad in [r#"["x"]"#, r#"["x", "c"]"#, "null", "5", r#""x""#] {
            assert!(read(bad).is_err(), "{bad}");
        }
        // Nested values are read as usual.
        let nested = serde_json::from_str::<Object<serde_json::Value>>(r#"{"a": [1, "b"]}"#);
        assert_eq!(nested.unwrap().0["a"][1], "b");
    }
}
