//! Files shared in conversations and the cards of links, as plain values.

use serde::Serialize;

pub type AttachmentId = i64;

/// A file as a message carries it. `url` and `thumb_url` are the paths it is served at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub name: String,
    pub size: i64,
    pub mime: String,
    /// `image`, `video`, `audio` or `file`.
    pub kind: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub sha256: String,
    pub thumb: Option<Picture>,
}

/// A stored image of known size: a thumbnail, a card's image, an avatar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    pub sha256: String,
    pub mime: String,
    pub width: i64,
    pub height: i64,
}

impl Attachment {
    /// Where the file downloads (or shows, for a safe image), named as it was uploaded.
    pub fn url(&self) -> String {
        format!("/files/{}/{}", self.id, url_segment(&self.name))
    }

    pub fn thumb_url(&self) -> Option<String> {
        self.thumb.as_ref().map(|_| format!("/thumbs/{}", self.id))
    }

    /// Whether browsers are shown it in place (one of the four safe image types).
    pub fn inline(&self) -> bool {
        matches!(
            self.mime.as_str(),
            "image/jpeg" | "image/png" | "image/gif" | "image/webp"
        )
    }
}

/// The card of the first link in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LinkCard {
    pub url: String,
    pub title: String,
    pub description: String,
    pub site: String,
    #[serde(skip)]
    pub image: Option<Picture>,
}

/// Where the stored image of a message's link card is served.
pub fn preview_image_url(message: i64) -> String {
    format!("/previews/{message}/image")
}

/// A file name made safe to put in a URL path: every byte but unreserved ones escaped.
pub fn url_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_urls_are_escaped_whole() {
        assert_eq!(url_segment("a b/c?.png"), "a%20b%2Fc%3F.png");
        assert_eq!(url_segment("café.jpg"), "caf%C3%A9.jpg");
        assert_eq!(url_segment("plain-name_1.~txt"), "plain-name_1.~txt");
    }
}
