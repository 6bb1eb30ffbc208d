//! The formatting rules and the XSS corpus for message bodies.
use super::*;

/// Bob (id 7) and Zoë (id 11) may be mentioned; nobody else exists.
fn people(name: &str) -> Option<i64> {
    match name.to_lowercase().as_str() {
        "bob" => Some(7),
        "zoë" => Some(11),
        "ann.b" => Some(9),
        _ => None,
    }
}

fn render(body: &str) -> String {
    body_html(body, &people)
}

const ALLOWED: &[(&str, &[&str])] = &[
    ("p", &[]),
    ("br", &[]),
    ("strong", &[]),
    ("em", &[]),
    ("del", &[]),
    ("code", &[]),
    ("pre", &[]),
    ("blockquote", &[]),
    ("ul", &[]),
    ("ol", &["start"]),
    ("li", &[]),
    ("a", &["href", "target", "rel"]),
    ("span", &["class", "data-user-id"]),
];

/// Every tag in cleaned output (every `<` opens one: text's are escaped), with its attributes.
fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        let tag = &rest[open + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let name_len = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        let mut s = &tag[name_len..];
        let mut attrs = Vec::new();
        loop {
            s = s.trim_start();
            if let Some(after) = s.strip_prefix('>') {
                rest = after;
                break;
            }
            let n = s
                .find(|c: char| c == '=' || c == '>' || c.is_whitespace())
                .unwrap_or(s.len());
            assert!(n > 0, "malformed tag in {html:?}");
            let attr = s[..n].to_ascii_lowercase();
            s = &s[n..];
            let mut value = String::new();
            if let Some(v) = s.strip_prefix("=\"") {
                let end = v.find('"').expect("closing quote");
                value = v[..end].to_owned();
                s = &v[end + 1..];
            }
            attrs.push((attr, value));
        }
        found.push((tag[..name_len].to_ascii_lowercase(), attrs));
    }
    found
}

/// The output holds only allowed tags and attributes, and nothing that could run.
fn assert_inert(input: &str) -> String {
    let html = render(input);
    let lower = html.to_ascii_lowercase();
    for bad in [
        "<script", "<img", "<svg", "<iframe", "<style", "<object", "<embed",
    ] {
        assert!(!lower.contains(bad), "{bad} in {html:?} from {input:?}");
    }
    for (name, attrs) in tags(&html) {
        let allowed = ALLOWED
            .iter()
            .find(|(tag, _)| *tag == name)
            .unwrap_or_else(|| panic!("<{name}> in {html:?} from {input:?}"))
            .1;
        for (attr, value) in attrs {
            assert!(
                allowed.contains(&attr.as_str()) && !attr.starts_with("on"),
                "{name}[{attr}] in {html:?} from {input:?}"
            );
            let value = value.to_ascii_lowercase();
            match attr.as_str() {
                // A real attribute (escaped raw HTML may mention `javascript:` as text).
                "href" => assert!(
                    ["http://", "https://", "mailto:"]
                        .iter()
                        .any(|s| value.starts_with(s)),
                    "href {value:?} from {input:?}"
                ),
                "class" => assert_eq!(value, "mention"),
                "data-user-id" => assert!(value.parse::<i64>().is_ok()),
                "target" => assert_eq!(value, "_blank"),
                "rel" => assert_eq!(value, "noopener noreferrer"),
                "start" => assert!(value.parse::<u64>().is_ok()),
                _ => unreachable!(),
            }
        }
    }
    assert!(has_visible_text(&html), "empty render of {input:?}");
    html
}

const XSS: &[&str] = &[
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "hi <img src=x onerror=alert(1)> there",
    "<a href=\"javascript:alert(1)\">x</a>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java&#115;cript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x](vbscript:msgbox(1))",
    "[x](//evil.example) [y](/relative) [z](#frag)",
    "![x](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<iframe src=//evil>",
    "\"><script>",
    "'\"><script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script",
    "<a href=\"http://x\" onclick=\"alert(1)\">",
    "<a href='http://x' style='color:red'>x</a>",
    "[x](http://x \"title\\\" onmouseover=\\\"alert(1)\")",
    "[x](http://x 'a\"><script>alert(1)</script>')",
    "<javascript:alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;",
    "<p style=\"background:url(javascript:alert(1))\">hi</p>",
    "<style>body { display: none }</style>",
    "<style>\n* { color: red }\n</style>",
    "<!-- <script>alert(1)</script> -->",
    "***nested _emphasis <script>x</script>_ here***",
    "**<script>alert(1)</script>**",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "[<img src=x onerror=alert(1)>](http://x)",
    "[![a](javascript:alert(1))](http://x)",
    "http://x.com/\"><script>alert(1)</script>",
    "www.x.com\"onmouseover=\"alert(1)",
    "@bob\"><script>alert(1)</script>",
    "<object data=x></object><embed src=x>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
];

#[test]
fn xss_corpus_renders_inert() {
    for input in XSS {
        assert_inert(input);
    }
}

#[test]
fn raw_html_shows_as_escaped_text() {
    let cases = [
        (
            "<script>alert(1)</script>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        (
            "<img src=x onerror=alert(1)>",
            "&lt;img src=x onerror=alert(1)&gt;",
        ),
        (
            "<a href=\"javascript:alert(1)\">x</a>",
            "&lt;a href=\"javascript:alert(1)\"&gt;x&lt;/a&gt;",
        ),
        ("<svg onload=alert(1)>", "&lt;svg onload=alert(1)&gt;"),
        ("<iframe src=//evil>", "&lt;iframe src=//evil&gt;"),
        ("\"><script>", "\"&gt;&lt;script&gt;"),
        ("<scr<script>ipt>", "&lt;scr&lt;script&gt;ipt&gt;"),
        (
            "<a href=\"http://x\" onclick=\"alert(1)\">",
            "&lt;a href=\"http://x\" onclick=\"alert(1)\"&gt;",
        ),
        ("&lt;script&gt;", "&lt;script&gt;"),
        (
            "<p style=\"color:red\">hi</p>",
            "&lt;p style=\"color:red\"&gt;hi&lt;/p&gt;",
        ),
        ("<style>body{}</style>", "&lt;style&gt;body{}&lt;/style&gt;"),
        ("<!-- note -->", "&lt;!-- note --&gt;"),
        ("a <b>bold?</b> b", "a &lt;b&gt;bold?&lt;/b&gt; b"),
    ];
    for (input, escaped) in cases {
        let html = assert_inert(input);
        assert!(html.contains(escaped), "{html:?} lacks {escaped:?}");
    }
    assert_eq!(
        render("<div>\none\ntwo\n</div>"),
        "<p>&lt;div&gt;<br>\none<br>\ntwo<br>\n&lt;/div&gt;</p>"
    );
}

#[test]
fn unsafe_links_keep_only_their_text() {
    for input in [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](vbscript:msgbox(1))",
        "[x](//evil.example)",
        "[x](/relative)",
    ] {
        assert_eq!(render(input), "<p>x</p>", "{input}");
    }
    assert_eq!(
        render("<javascript:alert(1)>"),
        "<p>javascript:alert(1)</p>"
    );
}

#[test]
fn links_open_in_a_new_tab_without_referrer_or_title() {
    assert_eq!(
        render("[docs](https://example.com/a?b=1&c=2 \"a \\\"title\\\"\")"),
        "<p><a href=\"https://example.com/a?b=1&amp;c=2\" target=\"_blank\" \
         rel=\"noopener noreferrer\">docs</a></p>"
    );
    assert_eq!(
        render("[mail me](mailto:ann@example.com) <bob@example.com>"),
        "<p><a href=\"mailto:ann@example.com\" target=\"_blank\" rel=\"noopener noreferrer\">\
         mail me</a> <a href=\"mailto:bob@example.com\" target=\"_blank\" \
         rel=\"noopener noreferrer\">bob@example.com</a></p>"
    );
    assert_eq!(
        render("[](http://x.example)"),
        "<p><a href=\"http://x.example\" target=\"_blank\" rel=\"noopener noreferrer\">\
         http://x.example</a></p>"
    );
}

#[test]
fn inline_formatting() {
    assert_eq!(
        render("**bold** *it* _it_ ~~gone~~ `x < y`"),
        "<p><strong>bold</strong> <em>it</em> <em>it</em> <del>gone</del> \
         <code>x &lt; y</code></p>"
    );
    assert_eq!(
        render("***all _three_ ~~of~~ them***"),
        "<p><em><strong>all <em>three</em> <del>of</del> them</strong></em></p>"
    );
}

#[test]
fn single_newlines_become_line_breaks() {
    assert_eq!(render("one\ntwo"), "<p>one<br>\ntwo</p>");
    assert_eq!(render("one\n\ntwo"), "<p>one</p>\n<p>two</p>");
}

#[test]
fn code_blocks_are_plain_and_untouched() {
    assert_eq!(
        render("```rust\nlet a = \"<b>\"; // @bob https://x.example\n```"),
        "<pre><code>let a = \"&lt;b&gt;\"; // @bob https://x.example\n</code></pre>"
    );
    assert_eq!(
        render("    indented\n    code"),
        "<pre><code>indented\ncode</code></pre>"
    );
}

#[test]
fn quotes_and_lists() {
    assert_eq!(
        render("> quoted\n> on"),
        "<blockquote>\n<p>quoted<br>\non</p>\n</blockquote>"
    );
    assert_eq!(render("- a\n- b"), "<ul>\n<li>a</li>\n<li>b</li>\n</ul>");
    assert_eq!(render("1. a\n2. b"), "<ol>\n<li>a</li>\n<li>b</li>\n</ol>");
    assert_eq!(
        render("3. c\n4. d"),
        "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>"
    );
}

#[test]
fn headings_images_tables_and_rules_stay_quiet() {
    assert_eq!(render("# Big news"), "<p><strong>Big news</strong></p>");
    assert_eq!(render("Big\n==="), "<p><strong>Big</strong></p>");
    assert_eq!(
        render("![a cat](https://x.example/cat.png)"),
        "<p><a href=\"https://x.example/cat.png\" target=\"_blank\" \
         rel=\"noopener noreferrer\">a cat</a></p>"
    );
    assert_eq!(render("![a cat](javascript:x)"), "<p>a cat</p>");
    assert_eq!(
        render("| a | b |\n|---|---|\n| 1 | 2 |"),
        "<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>"
    );
    assert_eq!(render("---"), "<p>---</p>");
}

#[test]
fn bare_urls_are_autolinked() {
    assert_eq!(
        render("see https://example.com/a?b=1. and www.rust-lang.org, or http://x.example"),
        "<p>see <a href=\"https://example.com/a?b=1\" target=\"_blank\" \
         rel=\"noopener noreferrer\">https://example.com/a?b=1</a>. and \
         <a href=\"https://www.rust-lang.org\" target=\"_blank\" \
         rel=\"noopener noreferrer\">www.rust-lang.org</a>, or \
         <a href=\"http://x.example\" target=\"_blank\" \
         rel=\"noopener noreferrer\">http://x.example</a></p>"
    );
    assert_eq!(
        render("`https://x.example` and example.com and ftp://x.example"),
        "<p><code>https://x.example</code> and example.com and ftp://x.example</p>"
    );
    assert_eq!(
        render("[site https://x.example](https://y.example)"),
        "<p><a href=\"https://y.example\" target=\"_blank\" \
         rel=\"noopener noreferrer\">site https://x.example</a></p>"
    );
}

#[test]
fn known_mentions_become_spans_and_unknown_stay_text() {
    assert_eq!(
        render("hey @bob and @carl"),
        "<p>hey <span class=\"mention\" data-user-id=\"7\">@bob</span> and @carl</p>"
    );
    assert_eq!(
        render("@BoB, @Zoë!"),
        "<p><span class=\"mention\" data-user-id=\"7\">@BoB</span>, \
         <span class=\"mention\" data-user-id=\"11\">@Zoë</span>!</p>"
    );
    assert_eq!(
        render("**@bob** (@bob)"),
        "<p><strong><span class=\"mention\" data-user-id=\"7\">@bob</span></strong> \
         (<span class=\"mention\" data-user-id=\"7\">@bob</span>)</p>"
    );
}

#[test]
fn mentions_take_a_trailing_period_as_punctuation() {
    assert_eq!(
        render("thanks @bob."),
        "<p>thanks <span class=\"mention\" data-user-id=\"7\">@bob</span>.</p>"
    );
    assert_eq!(
        render("ask @ann.b. or @ann.b"),
        "<p>ask <span class=\"mention\" data-user-id=\"9\">@ann.b</span>. or \
         <span class=\"mention\" data-user-id=\"9\">@ann.b</span></p>"
    );
}

#[test]
fn mentions_need_a_word_start_and_stay_out_of_code_and_links() {
    for input in [
        "mail bob@example.com",
        "`@bob`",
        "```\n@bob\n```",
        "[@bob](https://x.example)",
        "[@bob](javascript:x)",
        "https://x.example/@bob",
        "@bobby",
    ] {
        assert!(!render(input).contains("mention"), "{input}");
    }
    assert!(!render(&format!("@bob{}", "b".repeat(40))).contains("mention"));
}

#[test]
fn mentioned_names_are_distinct_lowercase_and_in_order() {
    assert_eq!(
        mentioned_names("@Carl hi @bob, @BOB. @zoë `@dan` [@eve](http://x.example) mail a@b.c"),
        ["carl", "bob", "zoë"]
    );
    assert_eq!(
        mentioned_names("```\n@bob\n```\nhttps://x.example/@ann"),
        Vec::<String>::new()
    );
    assert_eq!(mentioned_names("(@ann.b.)"), ["ann.b"]);
    assert_eq!(
        mentioned_names(&format!("@{}", "a".repeat(33))),
        Vec::<String>::new()
    );
}

#[test]
fn output_is_deterministic() {
    let body = "# t\n**b** [l](https://x.example) www.y.example @bob <i>\n\n1. x\n2. y";
    let first = render(body);
    for _ in 0..20 {
        assert_eq!(render(body), first);
    }
    assert_eq!(
        first,
        "<p><strong>t</strong></p>\n<p><strong>b</strong> <a href=\"https://x.example\" \
         target=\"_blank\" rel=\"noopener noreferrer\">l</a> <a href=\"https://www.y.example\" \
         target=\"_blank\" rel=\"noopener noreferrer\">www.y.example</a> \
         <span class=\"mention\" data-user-id=\"7\">@bob</span> &lt;i&gt;</p>\n\
         <ol>\n<li>x</li>\n<li>y</li>\n</ol>"
    );
}

#[test]
fn nonempty_input_never_renders_empty() {
    for input in [
        "[a]: https://x.example",
        "![](javascript:x)",
        "```\n```",
        "#",
        "<!---->",
        "-",
        "\\",
        "**",
    ] {
        let html = assert_inert(input);
        assert!(has_visible_text(&html), "{input:?} gave {html:?}");
    }
    assert_eq!(
        render("[a]: https://x.example"),
        "<p>[a]: https://x.example</p>"
    );
}

#[test]
fn plain_text_drops_the_marks_and_keeps_the_words() {
    assert_eq!(
        plain_text("Hello from **Ann**, see `code`\n> quoted"),
        "Hello from Ann, see code quoted"
    );
    assert_eq!(plain_text("<b>raw</b> stays"), "<b>raw</b> stays");
    assert_eq!(plain_text("- one\n- two"), "one two");
}
