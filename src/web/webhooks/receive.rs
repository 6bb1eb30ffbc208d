//! What a webhook's URL takes: Slack-compatible JSON (`text`, `username`, `icon_url`), Slack's
//! form with a `payload` field, a plain form (`text`), or plain text. The secret is the URL's
//! last part or the `X-Hook-Secret` header, and is never written to a log.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::chat::webhooks::{self, Post};
use crate::error::Error;
use crate::web::App;
use crate::web::api::ApiError;

/// The largest body a webhook takes.
pub const MAX_BODY: usize = 64 * 1024;
/// The header that may carry the secret instead of the URL.
pub const SECRET_HEADER: &str = "x-hook-secret";

/// Slack's message shape; what Hearth does not show (blocks, attachments, the channel, an
/// icon from another site) is accepted and left out.
#[derive(Deserialize)]
struct SlackMessage {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    icon_url: Option<String>,
}

/// What a webhook answers when it posted.
#[derive(Serialize)]
pub struct Posted {
    pub ok: bool,
    /// The message it made.
    pub message_id: i64,
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn from_json(raw: &[u8]) -> Result<Post, Error> {
    let m: SlackMessage = serde_json::from_slice(raw)
        .map_err(|e| Error::invalid(format!("the body is not the JSON of a message: {e}")))?;
    if let Some(icon) = m.icon_url.as_deref() {
        let ok = url::Url::parse(icon).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok || icon.len() > 2048 {
            return Err(Error::invalid("icon_url must be an http(s) URL"));
        }
    }
    Ok(Post {
        text: m.text.unwrap_or_default(),
        username: m.username,
    })
}

/// Reads a webhook's body as its content type says.
pub fn parse(headers: &HeaderMap, body: &[u8]) -> Result<Post, Error> {
    let post = match media_type(headers).as_str() {
        "application/json" => from_json(body)?,
        "application/x-www-form-urlencoded" => {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                .map_err(|_| Error::invalid("the body is not a form"))?;
            let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            match field("payload") {
                Some(payload) => from_json(payload.as_bytes())?,
                None => Post {
                    text: field("text").cloned().unwrap_or_default(),
                    username: field("username").cloned(),
                },
            }
        }
        "" | "text/plain" => Post {
            text: String::from_utf8(body.to_vec())
                .map_err(|_| Error::invalid("the text is not UTF-8"))?,
            username: None,
        },
        other => {
            return Err(Error::invalid(format!(
                "content type {other:?} is not taken: send JSON (application/json), a form or plain text"
            )));
        }
    };
    if post.text.trim().is_empty() {
        return Err(Error::invalid("text is required"));
    }
    Ok(post)
}

async fn receive(app: &App, secret: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    // The secret first: a wrong one is 404 whatever the body, so the body never tells.
    let answer = match webhooks::find(&app.chat, secret).await {
        Ok(hook) => match parse(headers, body) {
            Ok(post) => webhooks::post(&app.chat, hook, post).await,
            Err(err) => Err(err),
        },
        Err(err) => Err(err),
    };
    let mut res = match answer {
        Ok(m) => (
            StatusCode::OK,
            Json(Posted {
                ok: true,
                message_id: m.id,
            }),
        )
            .into_response(),
        Err(err) => ApiError(err).into_response(),
    };
    // A website's own page may post to a hook from its visitors' browsers; no cookie is ever
    // taken with it.
    res.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    res
}

/// POST /hooks/{secret}
pub async fn by_url(
    State(app): State<App>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(&app, &secret, &headers, &body).await
}

/// POST /hooks with the secret in `X-Hook-Secret`.
pub async fn by_header(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let secret = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim()
        .to_owned();
    receive(&app, &secret, &headers, &body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(ct: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        h
    }

    #[test]
    fn every_shape_a_webhook_sends_is_read() {
        let p = parse(
            &typed("application/json; charset=utf-8"),
            br#"{"text":"hi","username":"CI","blocks":[],"icon_url":"https://x.example/i.png"}"#,
        )
        .unwrap();
        assert_eq!((p.text.as_str(), p.username.as_deref()), ("hi", Some("CI")));
        let p = parse(
            &typed("application/x-www-form-urlencoded"),
            b"payload=%7B%22text%22%3A%22from+slack%22%7D",
        )
        .unwrap();
        assert_eq!(p.text, "from slack");
        let p = parse(
            &typed("application/x-www-form-urlencoded"),
            b"text=a+form&username=Web",
        )
        .unwrap();
        assert_eq!(
            (p.text.as_str(), p.username.as_deref()),
            ("a form", Some("Web"))
        );
        let p = parse(&typed("text/plain"), "plain ✓".as_bytes()).unwrap();
        assert_eq!(p.text, "plain ✓");
        assert_eq!(
            parse(&HeaderMap::new(), b"no type").unwrap().text,
            "no type"
        );
    }

    #[test]
    fn what_is_not_a_message_is_refused_with_why() {
        let err = |h: &HeaderMap, b: &[u8]| parse(h, b).unwrap_err().to_string();
        assert!(err(&typed("application/json"), b"{nope").contains("not the JSON"));
        assert!(err(&typed("application/json"), b"[1]").contains("not the JSON"));
        assert!(err(&typed("application/json"), br#"{"text":"  "}"#).contains("text is required"));
        assert!(
            err(&typed("application/json"), br#"{"username":"x"}"#).contains("text is required")
        );
        assert!(
            err(
                &typed("application/json"),
                br#"{"text":"x","icon_url":"javascript:1"}"#
            )
            .contains("icon_url")
        );
        assert!(err(&typed("image/png"), b"x").contains("image/png"));
        assert!(err(&typed("text/plain"), &[0xff, 0xfe]).contains("UTF-8"));
    }
}
