//! What a file is, from its first bytes: the type it is served as, and whether a browser may
//! show it in the page.

use serde::{Deserialize, Serialize};

/// How the app presents an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A JPEG, PNG, GIF or WebP: shown in the page, with a thumbnail.
    Image,
    /// Served with ranges so a player can seek, but as a download.
    Video,
    Audio,
    /// Anything else, including pictures in formats Hearth does not show (SVG, TIFF, HEIC...).
    File,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::Video => "video",
            Kind::Audio => "audio",
            Kind::File => "file",
        }
    }
}

/// The outcome of `sniff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub mime: &'static str,
    pub kind: Kind,
    /// Whether the file may be served `inline`; everything else is `attachment`.
    pub inline: bool,
}

/// The only types served inline: browsers render them as pictures and nothing else, so a
/// file that is one of them cannot run script in Hearth's origin.
const INLINE: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Types a browser runs script in (HTML, and XML such as SVG). They are labelled as bytes, so
/// even a response that forgot `attachment` and `nosniff` is not a page on Hearth's origin.
const ACTIVE: [&str; 2] = ["text/html", "text/xml"];

const UNKNOWN: &str = "application/octet-stream";

/// Types `head` (the first `SNIFF_LEN` bytes of the file, or all of a shorter one) by its
/// content alone; the name the uploader gave plays no part.
pub fn sniff(head: &[u8]) -> Sniffed {
    let mime = infer::get(head).map_or(UNKNOWN, |t| t.mime_type());
    let (mime, kind) = if INLINE.contains(&mime) {
        (mime, Kind::Image)
    } else if ACTIVE.contains(&mime) || looks_like_markup(head) {
        (UNKNOWN, Kind::File)
    } else if mime.starts_with("video/") {
        (mime, Kind::Video)
    } else if mime.starts_with("audio/") {
        (mime, Kind::Audio)
    } else {
        (mime, Kind::File)
    };
    Sniffed {
        mime,
        kind,
        inline: kind == Kind::Image,
    }
}

/// SVG without an XML declaration, or HTML with a tag `infer` does not list, both start with
/// `<` once whitespace and a byte-order mark are skipped.
fn looks_like_markup(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'<')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::fixtures;

    fn inline_image(mime: &str) -> Sniffed {
        Sniffed {
            mime: INLINE.into_iter().find(|m| *m == mime).unwrap(),
            kind: Kind::Image,
            inline: true,
        }
    }

    #[test]
    fn the_four_picture_types_are_inline_images() {
        assert_eq!(sniff(&fixtures::jpeg(8, 6)), inline_image("image/jpeg"));
        assert_eq!(sniff(&fixtures::png(8, 6)), inline_image("image/png"));
        assert_eq!(sniff(&fixtures::gif(8, 6, 1)), inline_image("image/gif"));
        assert_eq!(sniff(&fixtures::webp(8, 6)), inline_image("image/webp"));
    }

    #[test]
    fn markup_is_a_download_of_bytes_whatever_it_is_called() {
        let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
        let xml_svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        let html = b"<!DOCTYPE html><html><body>hi</body></html>";
        let bom_html = b"\xEF\xBB\xBF  \n<html><script>x</script>";
        for head in [&svg[..], xml_svg, html, bom_html] {
            let got = sniff(head);
            assert_eq!(got.mime, "application/octet-stream", "{head:?}");
            assert_eq!(got.kind, Kind::File);
            assert!(!got.inline);
        }
    }

    #[test]
    fn other_picture_formats_are_files() {
        let tiff = b"II*\0\x08\0\0\0\0\0\0\0";
        let got = sniff(tiff);
        assert_eq!(
            (got.mime, got.kind, got.inline),
            ("image/tiff", Kind::File, false)
        );
    }

    #[test]
    fn video_and_audio_keep_their_type_but_are_downloads() {
        let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
        mp4.resize(64, 0);
        let mut webm = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm".to_vec();
        webm.resize(300, 0);
        let mp3 = b"ID3\x04\0\0\0\0\0\0rest of the tag";
        let ogg = b"OggS\0\x02\0\0\0\0\0\0\0\0";
        let cases: [(&[u8], &str, Kind); 4] = [
            (&mp4, "video/mp4", Kind::Video),
            (&webm, "video/webm", Kind::Video),
            (mp3, "audio/mpeg", Kind::Audio),
            (ogg, "audio/ogg", Kind::Audio),
        ];
        for (head, mime, kind) in cases {
            let got = sniff(head);
            assert_eq!((got.mime, got.kind, got.inline), (mime, kind, false));
        }
    }

    #[test]
    fn pdf_is_a_download_with_its_type() {
        let got = sniff(b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n");
        assert_eq!(
            (got.mime, got.kind, got.inline),
            ("application/pdf", Kind::File, false)
        );
    }

    #[test]
    fn unknown_and_empty_content_is_bytes() {
        for head in [
            &b""[..],
            b"hello, plain text",
            &[0x13, 0x37, 0xC0, 0xDE, 0x00],
        ] {
            let got = sniff(head);
            assert_eq!(
                (got.mime, got.kind, got.inline),
                ("application/octet-stream", Kind::File, false)
            );
        }
    }

    #[test]
    fn kind_serializes_as_a_lowercase_word() {
        let kinds = [Kind::Image, Kind::Video, Kind::Audio, Kind::File];
        let json = serde_json::to_string(&kinds).unwrap();
        assert_eq!(json, r#"["image","video","audio","file"]"#);
        let back: Vec<Kind> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, kinds);
        assert!(kinds.iter().all(|k| json.contains(k.as_str())));
    }
}
