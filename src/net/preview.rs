//! Link cards: the title, description, site and image a page gives for previews (Open Graph,
//! Twitter cards, plain HTML), read with an HTML parser, and fetched through [`Client`].

use super::error::FetchError;
use super::fetch::{Client, Want};
use linkify::{LinkFinder, LinkKind};
use scraper::{Html, Selector};
use std::collections::HashMap;
use unicode_segmentation::UnicodeSegmentation;
use url::Url;

/// Longest title kept, in characters.
pub const TITLE_CHARS: usize = 200;
/// Longest description kept, in characters.
pub const DESCRIPTION_CHARS: usize = 400;
/// Longest site name kept, in characters.
pub const SITE_CHARS: usize = 100;
/// Longest image URL taken; a longer one is more likely a trick than a picture.
const IMAGE_URL_BYTES: usize = 2048;

/// What a link preview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    /// The page, after redirects.
    pub url: Url,
    pub title: String,
    pub description: Option<String>,
    /// The site's name, or the page's host when it gives none.
    pub site: String,
    /// The page's picture, absolute and http(s).
    pub image_url: Option<Url>,
}

/// The card of the page at `page` whose HTML is `html`; `None` when it has no title.
pub fn card(html: &str, page: &Url) -> Option<Card> {
    let doc = Html::parse_document(html);
    let meta = meta_tags(&doc);
    let first = |keys: &[&str], max: usize| {
        keys.iter()
            .filter_map(|key| meta.get(*key))
            .map(|value| clip(value, max))
            .find(|value| !value.is_empty())
    };
    let title = first(&["og:title", "twitter:title"], TITLE_CHARS).or_else(|| {
        doc.select(&selector("title"))
            .map(|el| clip(&el.text().collect::<String>(), TITLE_CHARS))
            .find(|title| !title.is_empty())
    })?;
    let description = first(
        &["og:description", "twitter:description", "description"],
        DESCRIPTION_CHARS,
    );
    let site = first(&["og:site_name"], SITE_CHARS)
        .unwrap_or_else(|| page.host_str().unwrap_or_default().to_owned());
    let base = base_url(&doc, page);
    let image_url = ["og:image", "og:image:url", "og:image:secure_url"]
        .into_iter()
        .chain(["twitter:image", "twitter:image:src"])
        .filter_map(|key| meta.get(key))
        .find_map(|value| web_url(&base, value));
    Some(Card {
        url: page.clone(),
        title,
        description,
        site,
        image_url,
    })
}

/// Fetches the page at `url` and its card's image. The image comes back as bytes for the
/// caller to check, thumbnail and keep, so readers never load it from the other site; when
/// it cannot be had, the card comes without one.
pub async fn fetch_card(client: &Client, url: &Url) -> Result<(Card, Option<Vec<u8>>), FetchError> {
    let page = client.get(url, &Want::html()).await?;
    // A megabyte of HTML takes a while to parse: off the async workers, where a parser bug's
    // panic also stays contained.
    let parsed =
        tokio::task::spawn_blocking(move || card(&String::from_utf8_lossy(&page.body), &page.url));
    let mut card = match parsed.await {
        Ok(card) => card.ok_or(FetchError::NoCard)?,
        Err(err) => {
            tracing::warn!(page = %url, "reading the page's card failed: {err}");
            return Err(FetchError::NoCard);
        }
    };
    let Some(image_url) = card.image_url.clone() else {
        return Ok((card, None));
    };
    match client.get(&image_url, &Want::image()).await {
        Ok(image) => Ok((card, Some(image.body))),
        Err(err) => {
            tracing::debug!(page = %card.url, image = %image_url, "no card image: {err}");
            card.image_url = None;
            Ok((card, None))
        }
    }
}

/// The first http(s) link in a message.
pub fn first_url(text: &str) -> Option<Url> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]);
    finder
        .links(text)
        .filter_map(|link| Url::parse(link.as_str()).ok())
        .find(|url| matches!(url.scheme(), "http" | "https") && url.host().is_some())
}

/// The `content` of each `<meta>` by its `property` or `name`, lowercased; the first
/// non-empty one wins. Sites mix the two attributes, so both are read for every key.
fn meta_tags(doc: &Html) -> HashMap<String, String> {
    let mut tags = HashMap::new();
    for el in doc.select(&selector("meta")) {
        let Some(content) = el.attr("content").filter(|c| !c.trim().is_empty()) else {
            continue;
        };
        for key in [el.attr("property"), el.attr("name")].into_iter().flatten() {
            tags.entry(key.trim().to_ascii_lowercase())
                .or_insert_with(|| content.to_owned());
        }
    }
    tags
}

/// What relative URLs in the page are read against: its `<base href>` when usable.
fn base_url(doc: &Html, page: &Url) -> Url {
    doc.select(&selector("base[href]"))
        .next()
        .and_then(|el| el.attr("href"))
        .and_then(|href| web_url(page, href))
        .unwrap_or_else(|| page.clone())
}

/// `href` read against `base`, if it is a reasonable http(s) URL.
fn web_url(base: &Url, href: &str) -> Option<Url> {
    let href = href.trim();
    if href.is_empty() || href.len() > IMAGE_URL_BYTES {
        return None;
    }
    let url = base.join(href).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host().is_some()).then_some(url)
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("a fixed, valid selector")
}

/// `text` on one line, cut to `max` characters between two graphemes, marked with `…` when
/// cut.
fn clip(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut kept = String::new();
    let mut count = 0;
    for grapheme in line.graphemes(true) {
        count += grapheme.chars().count();
        if count > max.saturating_sub(1) {
            break;
        }
        kept.push_str(grapheme);
    }
    let mut kept = kept.trim_end().to_owned();
    kept.push('…');
    kept
}

#[cfg(test)]
mod tests;
