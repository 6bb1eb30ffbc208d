use super::*;
use std::collections::HashMap;

struct Known {
    users: HashMap<&'static str, &'static str>,
    channels: HashMap<&'static str, &'static str>,
}

impl Names for Known {
    fn user(&self, id: &str) -> Option<String> {
        self.users.get(id).map(|s| s.to_string())
    }
    fn channel(&self, id: &str) -> Option<String> {
        self.channels.get(id).map(|s| s.to_string())
    }
}

fn md(text: &str) -> String {
    let known = Known {
        users: HashMap::from([("U1", "ada"), ("U2", "bob.k")]),
        channels: HashMap::from([("C1", "general"), ("C2", "random")]),
    };
    to_markdown(text, &known)
}

/// What Hearth shows for the converted text (mentions resolve to nobody).
fn html(text: &str) -> String {
    crate::render::body_html(&md(text), &|_| None)
}

#[test]
fn people_and_channels_become_names() {
    assert_eq!(md("hi <@U1>!"), "hi @ada!");
    assert_eq!(md("<@U2|bobby> and <@U1>"), "@bob.k and @ada");
    assert_eq!(md("ask <@U404>"), "ask @U404");
    assert_eq!(md("see <#C2|random>"), "see #random");
    assert_eq!(md("see <#C1>"), "see #general");
    assert_eq!(md("see <#C9|old-name>"), "see #old-name");
    assert_eq!(md("see <#C9>"), "see #C9");
    assert_eq!(md("<#C9|snake_name>"), "#snake\\_name");
}

#[test]
fn special_mentions_become_words() {
    assert_eq!(md("<!here> look"), "@here look");
    assert_eq!(md("<!here|here> look"), "@here look");
    assert_eq!(md("<!channel>"), "@channel");
    assert_eq!(md("<!everyone>"), "@everyone");
    assert_eq!(md("<!subteam^S1|@design> ping"), "@design ping");
    assert_eq!(md("<!subteam^S1>"), "@subteam");
    assert_eq!(
        md("due <!date^1392734382^{date}|Feb 18, 2014>"),
        "due Feb 18, 2014"
    );
}

#[test]
fn links_become_markdown_links() {
    assert_eq!(
        md("read <https://example.org/a?b=1&amp;c=2|the docs>"),
        "read [the docs](https://example.org/a?b=1&c=2)"
    );
    assert_eq!(
        md("<https://example.org/x_y_z>"),
        "<https://example.org/x_y_z>"
    );
    assert_eq!(
        md("<mailto:ada@example.org|ada@example.org>"),
        "[ada@example.org](mailto:ada@example.org)"
    );
    assert_eq!(
        md("<https://example.org/a (b)|paren [x]>"),
        "[paren \\[x\\]](<https://example.org/a (b)>)"
    );
    assert_eq!(md("<ftp://example.org>"), "ftp://example.org");
    // A scheme alone is no link.
    assert_eq!(md("<http://>"), "http://");
    assert_eq!(md("<https://x>"), "<https://x>");
    assert_eq!(
        md("<https://x.org/?a=1&b|Q&amp;A & more>"),
        "[Q&A & more](https://x.org/?a=1&b)"
    );
    assert_eq!(md("<https://a.org/<x>"), "https://a.org/<x");
    assert_eq!(md("<|>"), "");
    assert_eq!(
        html("<https://example.org/x_y|a *b*>"),
        "<p><a href=\"https://example.org/x_y\" target=\"_blank\" rel=\"noopener noreferrer\">a *b*</a></p>"
    );
}

#[test]
fn emphasis_becomes_markdown_emphasis() {
    assert_eq!(md("*bold*"), "**bold**");
    assert_eq!(md("_italic_"), "*italic*");
    assert_eq!(md("~gone~"), "~~gone~~");
    assert_eq!(md("a *b c* d"), "a **b c** d");
    assert_eq!(md("(*b*)."), "(**b**).");
    assert_eq!(md("*_both_*"), "***both***");
    assert_eq!(md("_*both*_"), "***both***");
    assert_eq!(md("*see <@U1>*"), "**see @ada**");
    // The first closer ends it; a marker of the same kind inside stays a character.
    assert_eq!(md("*a *b* c*"), "**a \\*b** c\\*");
    assert_eq!(md("_x *y* z_"), "*x **y** z*");
    assert_eq!(
        html("*bold* _it_ ~st~"),
        "<p><strong>bold</strong> <em>it</em> <del>st</del></p>"
    );
}

#[test]
fn what_is_not_emphasis_on_slack_stays_literal() {
    assert_eq!(md("2*3*4"), "2\\*3\\*4");
    assert_eq!(md("a * b * c"), "a \\* b \\* c");
    assert_eq!(md("*not closed"), "\\*not closed");
    assert_eq!(md("* x*"), "\\* x\\*");
    assert_eq!(md("*x *"), "\\*x \\*");
    assert_eq!(md("**"), "\\*\\*");
    assert_eq!(md("**x**"), "\\***x**\\*");
    assert_eq!(md("*a\nb*"), "\\*a\nb\\*");
    assert_eq!(md("*a*b"), "\\*a\\*b");
    assert_eq!(md("snake_case_name"), "snake_case_name");
    assert_eq!(md("_leading"), "\\_leading");
    assert_eq!(md("trailing_"), "trailing\\_");
    assert_eq!(md("~5 minutes"), "\\~5 minutes");
    assert_eq!(html("2*3*4 and snake_case"), "<p>2*3*4 and snake_case</p>");
}

#[test]
fn code_is_kept_as_it_is() {
    assert_eq!(md("run `*not bold* <x>`"), "run `*not bold* <x>`");
    assert_eq!(md("`a &lt; b &amp;&amp; c`"), "`a < b && c`");
    assert_eq!(md("`a & b &c &amp`"), "`a & b &c &amp`");
    assert_eq!(
        md("look:```let x = *y*;\nlet _z_ = 1;```done"),
        "look:\n```\nlet x = *y*;\nlet _z_ = 1;\n```\ndone"
    );
    assert_eq!(
        md("```\nfn main() {}\n```\nafter"),
        "```\nfn main() {}\n```\nafter"
    );
    assert_eq!(md("```open only"), "\\`\\`\\`open only");
    assert_eq!(md("a ` b"), "a \\` b");
    assert_eq!(md("``"), "\\`\\`");
    assert_eq!(md("`a\nb`"), "\\`a\nb\\`");
    assert_eq!(html("```open only"), "<p>```open only</p>");
    assert_eq!(
        html("```<b>&amp;</b>```"),
        "<pre><code>&lt;b&gt;&amp;&lt;/b&gt;\n</code></pre>"
    );
}

#[test]
fn entities_are_decoded_and_markdown_characters_kept_literal() {
    assert_eq!(md("a &amp; b &lt;3 &gt; 2"), "a & b <3 > 2");
    assert_eq!(md("&gt; quoted"), "> quoted");
    assert_eq!(md("&amp;amp;"), "\\&amp;");
    assert_eq!(md("&amp;copy; &amp;#169; & x;"), "\\&copy; \\&#169; & x;");
    assert_eq!(md("&amp;;"), "&;");
    assert_eq!(md("&unknown;"), "\\&unknown;");
    assert_eq!(
        md("# not a heading\n#hashtag"),
        "\\# not a heading\n#hashtag"
    );
    assert_eq!(md("#"), "\\#");
    assert_eq!(md("##\nx # y"), "\\##\nx # y");
    assert_eq!(md(r"C:\temp\*"), r"C:\temp\\\*");
    assert_eq!(md(r"a\b"), r"a\b");
    assert_eq!(
        html("&lt;b&gt;hi&lt;/b&gt;"),
        "<p>&lt;b&gt;hi&lt;/b&gt;</p>"
    );
    assert_eq!(
        html("&gt; wise words"),
        "<blockquote>\n<p>wise words</p>\n</blockquote>"
    );
    assert_eq!(html("&amp;copy;"), "<p>&amp;copy;</p>");
    assert_eq!(html("# title"), "<p># title</p>");
}

#[test]
fn control_characters_go_and_the_end_is_trimmed() {
    assert_eq!(md("a\u{7}b\r\nc\t \n"), "ab\nc");
    assert_eq!(md("   "), "");
}

#[test]
fn files_are_lines_with_links() {
    assert_eq!(
        file_line(
            "report [v2].pdf",
            Some("https://files.slack.com/x/report.pdf")
        ),
        "📎 [report \\[v2\\].pdf](https://files.slack.com/x/report.pdf)"
    );
    assert_eq!(
        file_line("a b", Some("https://x.org/a b")),
        "📎 [a b](<https://x.org/a b>)"
    );
    assert_eq!(
        file_line("gone.png", None),
        "📎 gone.png (not in the export)"
    );
    assert_eq!(
        file_line("gone.png", Some("")),
        "📎 gone.png (not in the export)"
    );
}
