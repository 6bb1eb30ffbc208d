use super::*;

fn page() -> Url {
    Url::parse("https://news.example.org/2024/05/story.html?ref=home").unwrap()
}

#[test]
fn open_graph_tags_make_the_card() {
    let html = r#"<!doctype html>
<html lang="en"><head>
  <meta charset="utf-8">
  <title>Story | Example News</title>
  <meta name="description" content="The plain description.">
  <meta property="og:type" content="article">
  <meta property="og:title" content="Town opens its first   library
      in 40 years">
  <meta property="og:description" content="Readers queued from dawn.">
  <meta property="og:site_name" content="Example News">
  <meta property="og:image" content="https://cdn.example.org/img/library.jpg">
  <meta name="twitter:card" content="summary_large_image">
  <meta name="twitter:title" content="Twitter title">
  <meta name="twitter:image" content="https://cdn.example.org/img/twitter.jpg">
</head><body><h1>Town opens…</h1></body></html>"#;
    let card = card(html, &page()).unwrap();
    assert_eq!(
        card,
        Card {
            url: page(),
            title: "Town opens its first library in 40 years".into(),
            description: Some("Readers queued from dawn.".into()),
            site: "Example News".into(),
            image_url: Some(Url::parse("https://cdn.example.org/img/library.jpg").unwrap()),
        }
    );
}

#[test]
fn twitter_tags_stand_in_for_missing_open_graph_ones() {
    let html = r#"<html><head>
  <meta name="twitter:title" content="Release 2.0">
  <meta name="twitter:description" content="What is new.">
  <meta name="twitter:image:src" content="/assets/social.png">
  <title>ignored</title>
</head></html>"#;
    let card = card(html, &page()).unwrap();
    assert_eq!(card.title, "Release 2.0");
    assert_eq!(card.description.as_deref(), Some("What is new."));
    assert_eq!(
        card.image_url.unwrap().as_str(),
        "https://news.example.org/assets/social.png"
    );
}

#[test]
fn a_page_with_only_a_title_gives_its_host_as_the_site() {
    let html =
        "<html><head><title>\n   Welcome to my homepage\n</title></head><body>Hi</body></html>";
    let card = card(html, &page()).unwrap();
    assert_eq!(card.title, "Welcome to my homepage");
    assert_eq!(card.description, None);
    assert_eq!(card.site, "news.example.org");
    assert_eq!(card.image_url, None);
}

#[test]
fn the_meta_description_is_the_last_resort() {
    let html = r#"<title>T</title><META NAME="Description" CONTENT="  Plain   words. ">"#;
    let card = card(html, &page()).unwrap();
    assert_eq!(card.description.as_deref(), Some("Plain words."));
}

#[test]
fn entities_are_decoded() {
    let html = r#"<head><title>Tom &amp; Jerry&#39;s &quot;best&quot; &lt;bits&gt;</title>
<meta property="og:description" content="Caf&eacute; &#x2014; cr&egrave;me br&ucirc;l&eacute;e &copy; 2024">
<meta property="og:site_name" content="A &amp; B"></head>"#;
    let card = card(html, &page()).unwrap();
    assert_eq!(card.title, r#"Tom & Jerry's "best" <bits>"#);
    assert_eq!(
        card.description.as_deref(),
        Some("Café — crème brûlée © 2024")
    );
    assert_eq!(card.site, "A & B");
}

#[test]
fn a_relative_image_is_read_against_the_page_or_its_base() {
    let html = r#"<title>T</title><meta property="og:image" content="../img/a.png">"#;
    let card1 = card(html, &page()).unwrap();
    assert_eq!(
        card1.image_url.unwrap().as_str(),
        "https://news.example.org/2024/img/a.png"
    );

    let html = r#"<head><base href="https://static.example.net/site/"><title>T</title>
<meta property="og:image" content="img/a.png"></head>"#;
    let card2 = card(html, &page()).unwrap();
    assert_eq!(
        card2.image_url.unwrap().as_str(),
        "https://static.example.net/site/img/a.png"
    );

    let html = r#"<title>T</title><meta property="og:image" content="//cdn.example.com/x.webp">"#;
    let card3 = card(html, &page()).unwrap();
    assert_eq!(
        card3.image_url.unwrap().as_str(),
        "https://cdn.example.com/x.webp"
    );
}

#[test]
fn an_image_that_is_not_http_is_refused() {
    for image in [
        "javascript:alert(1)",
        " JavaScript:alert(document.cookie)",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "ftp://example.org/a.png",
        "",
    ] {
        let html = format!(r#"<title>T</title><meta property="og:image" content="{image}">"#);
        assert_eq!(card(&html, &page()).unwrap().image_url, None, "{image}");
    }
    // A refused og:image gives way to a usable twitter:image.
    let html = r#"<title>T</title><meta property="og:image" content="javascript:alert(1)">
<meta name="twitter:image" content="https://cdn.example.org/t.png">"#;
    assert_eq!(
        card(html, &page()).unwrap().image_url.unwrap().as_str(),
        "https://cdn.example.org/t.png"
    );
    // A base that is not http does not change where images are read.
    let html = r#"<base href="javascript:void(0)/"><title>T</title><meta property="og:image" content="a.png">"#;
    assert_eq!(
        card(html, &page()).unwrap().image_url.unwrap().as_str(),
        "https://news.example.org/2024/05/a.png"
    );
}

#[test]
fn an_overlong_title_and_description_are_cut_on_a_character_boundary() {
    let title = "é".repeat(150) + &" mot".repeat(100);
    let description = "🦀".repeat(1000);
    let html = format!(
        r#"<meta property="og:title" content="{title}"><meta name="description" content="{description}">"#
    );
    let card = card(&html, &page()).unwrap();
    // Cut after a space, which goes too: one character short of the limit.
    assert_eq!(card.title.chars().count(), TITLE_CHARS - 1);
    assert!(card.title.starts_with(&"é".repeat(150)));
    assert!(card.title.ends_with(" mot…"));
    let description = card.description.unwrap();
    assert_eq!(description.chars().count(), DESCRIPTION_CHARS);
    assert!(description.ends_with("🦀…"));
}

#[test]
fn a_cut_keeps_a_combined_character_whole() {
    // "e" + combining acute accent: one letter of two chars, not to be split.
    let text = "ab".to_owned() + &"e\u{301}".repeat(10);
    let cut = clip(&text, 6);
    assert_eq!(cut, "abe\u{301}…");
    assert_eq!(clip("short", 6), "short");
    assert_eq!(clip("  a \n\t b  ", 6), "a b");
}

#[test]
fn no_title_means_no_card() {
    assert_eq!(card("", &page()), None);
    assert_eq!(card("<p>just text</p>", &page()), None);
    let html = r#"<title>   </title><meta property="og:title" content="  ">
<meta property="og:description" content="A description alone is not enough.">"#;
    assert_eq!(card(html, &page()), None);
}

#[test]
fn broken_html_does_not_panic() {
    for html in [
        "<title>Unclosed",
        "<<<<>>>><meta property=og:title content=Bare>",
        "<svg><title>inner</title></svg>",
        "\u{0}\u{feff}<title>\u{0}x</title>",
    ] {
        let _ = card(html, &page());
    }
    let card = card("<title>Unclosed", &page()).unwrap();
    assert_eq!(card.title, "Unclosed");
}

#[test]
fn the_first_web_link_in_a_message_is_found() {
    let found = |text: &str| first_url(text).map(|u| u.to_string());
    assert_eq!(
        found("look at https://example.org/a?b=1, and http://second.example"),
        Some("https://example.org/a?b=1".into())
    );
    assert_eq!(
        found("mail me@example.org or ftp://files.example.org then (http://x.example/p)."),
        Some("http://x.example/p".into())
    );
    assert_eq!(found("no links here, just example.org"), None);
    assert_eq!(found(""), None);
}
