//! The files and link card under a message, as the timeline and live events show them.

use maud::{Markup, html};

use crate::domain::files::{Attachment, LinkCard};

/// A file of a message: an image as its thumbnail at its final size (the timeline does not
/// move when it loads), opened large in the lightbox; anything else as a download.
pub fn attachment(a: &Attachment) -> Markup {
    match (&a.thumb, a.thumb_url()) {
        (Some(thumb), Some(src)) if a.inline() => html! {
            a.file-image href=(a.url()) data-lightbox=(a.id) data-full=(a.url())
                data-w=[a.width] data-h=[a.height] data-name=(a.name) data-animated[a.mime == "image/gif"] {
                img src=(src) width=(thumb.width) height=(thumb.height) alt=(a.name) loading="lazy" decoding="async";
            }
        },
        _ => html! {
            a.file-card href=(a.url()) download=(a.name) data-kind=(a.kind) {
                span.file-icon aria-hidden="true" { (file_icon(&a.kind, &a.mime)) }
                span.file-text {
                    span.file-name { (a.name) }
                    span.file-size { (human_size(a.size)) }
                }
            }
        },
    }
}

fn file_icon(kind: &str, mime: &str) -> &'static str {
    match (kind, mime) {
        ("image", _) => "🖼",
        ("video", _) => "🎞",
        ("audio", _) => "🎵",
        (_, "application/pdf") => "📕",
        (_, m) if m.contains("zip") || m.contains("compressed") || m.contains("tar") => "🗜",
        _ => "📄",
    }
}

/// `512 B`, `14 KB`, `2.4 MB`: sizes as people read them (1 KB = 1024 bytes).
pub fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", (b / KB).max(1.0))
    } else if b < KB * KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else {
        format!("{:.1} GB", b / (KB * KB * KB))
    }
}

/// The card of a message's first link: what the server read of the page, its image stored
/// here. The author's × takes it away.
pub fn link_card(message: i64, card: &LinkCard) -> Markup {
    html! {
        div.link-card {
            @if let Some(image) = &card.image {
                img.link-card-image src=(crate::domain::files::preview_image_url(message))
                    width=(image.width) height=(image.height) alt="" loading="lazy" decoding="async";
            }
            div.link-card-text {
                @if !card.site.is_empty() { span.link-card-site { (card.site) } }
                a.link-card-title href=(card.url) rel="noopener noreferrer nofollow ugc" target="_blank" {
                    (card.title)
                }
                @if !card.description.is_empty() { p.link-card-desc { (card.description) } }
            }
            button.icon.own-only.js-only type="button" data-action="remove-preview"
                aria-label="Remove the preview" title="Remove the preview" { "×" }
        }
    }
}
