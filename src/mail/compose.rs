//! What each email says, in plain text and in HTML: pure functions of what they show.

use maud::{DOCTYPE, Markup, html};

use super::Mail;

/// One message in a notification email.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub sender: String,
    /// `#general`, a group's name, or "a direct message".
    pub conversation: String,
    pub text: String,
    /// Where it is, around the message.
    pub link: String,
}

/// A notification email: the messages it lists and where to change what arrives.
pub struct Digest<'a> {
    pub to: &'a str,
    pub community: &'a str,
    /// Who it is for (their display name).
    pub name: &'a str,
    pub items: &'a [Item],
    /// Unread messages beyond those listed.
    pub more: usize,
    /// The page where email notifications are changed.
    pub settings: &'a str,
    pub unsubscribe: &'a str,
}

/// The one email that lists a batch of unread messages.
pub fn digest(d: &Digest) -> Mail {
    let total = d.items.len() + d.more;
    let subject = match (d.items, total) {
        ([one], 1) => format!("{} wrote to you in {}", one.sender, d.community),
        _ => format!("{total} unread messages for you in {}", d.community),
    };
    let intro = match total {
        1 => format!("You have an unread message in {}:", d.community),
        n => format!("You have {n} unread messages in {}:", d.community),
    };
    let mut text = format!("Hi {},\n\n{intro}\n", d.name);
    for item in d.items {
        text.push_str(&format!(
            "\n{} in {}:\n{}\n{}\n",
            item.sender,
            item.conversation,
            quoted(&item.text),
            item.link
        ));
    }
    if d.more > 0 {
        text.push_str(&format!("\n…and {} more.\n", d.more));
    }
    text.push_str(&format!(
        "\n-- \nYou get these emails when you are mentioned or sent a message while away.\n\
         Change them: {}\nStop them: {}\n",
        d.settings, d.unsubscribe
    ));
    let html = page(
        &subject,
        html! {
            p { "Hi " (d.name) "," }
            p { (intro) }
            @for item in d.items {
                div style="margin:1em 0" {
                    p style="margin:0" { strong { (item.sender) } " in " strong { (item.conversation) } }
                    blockquote style="margin:.3em 0 .3em 0;padding-left:.8em;border-left:3px solid #ccc;white-space:pre-wrap" {
                        (item.text)
                    }
                    p style="margin:0" { a href=(item.link) { "Open in " (d.community) } }
                }
            }
            @if d.more > 0 { p { "…and " (d.more) " more." } }
        },
        Some(html! {
            "You get these emails when you are mentioned or sent a message while away. "
            a href=(d.settings) { "Change them" } " · " a href=(d.unsubscribe) { "Stop them" }
        }),
    );
    Mail {
        to: d.to.to_owned(),
        subject,
        text,
        html: html.into_string(),
        unsubscribe: Some(d.unsubscribe.to_owned()),
        message_id: None,
    }
}

/// A message's text as a quote in plain text.
fn quoted(text: &str) -> String {
    text.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The email with the link that verifies an address.
pub fn verification(to: &str, community: &str, username: &str, link: &str) -> Mail {
    let subject = format!("Confirm your email address for {community}");
    let text = format!(
        "Someone, hopefully you, asked to use this address for @{username} on {community}.\n\n\
         To confirm it, open this link within 24 hours:\n\n{link}\n\n\
         If it was not you, ignore this email: nothing changes.\n"
    );
    let html = page(
        &subject,
        html! {
            p { "Someone, hopefully you, asked to use this address for " strong { "@" (username) } " on " (community) "." }
            p { a href=(link) { "Confirm this address" } " (the link works for 24 hours)." }
            p { "If it was not you, ignore this email: nothing changes." }
        },
        None,
    );
    plain(to, subject, text, html)
}

/// The email with a link that sets a new password.
pub fn reset(to: &str, community: &str, username: &str, link: &str) -> Mail {
    let subject = format!("Reset your password for {community}");
    let text = format!(
        "Someone, hopefully you, asked to reset the password of @{username} on {community}.\n\n\
         Choose a new password here within 24 hours (the link works once):\n\n{link}\n\n\
         If it was not you, ignore this email: your password stays as it is.\n"
    );
    let html = page(
        &subject,
        html! {
            p { "Someone, hopefully you, asked to reset the password of " strong { "@" (username) } " on " (community) "." }
            p { a href=(link) { "Choose a new password" } " (the link works once, for 24 hours)." }
            p { "If it was not you, ignore this email: your password stays as it is." }
        },
        None,
    );
    plain(to, subject, text, html)
}

/// The email `hearth email test` sends.
pub fn test(to: &str, through: &str) -> Mail {
    let subject = "Hearth test email".to_string();
    let text = format!(
        "This is a test email from Hearth, sent through {through}.\n\
         If you can read it, email works.\n"
    );
    let html = page(
        &subject,
        html! {
            p { "This is a test email from Hearth, sent through " code { (through) } "." }
            p { "If you can read it, email works." }
        },
        None,
    );
    plain(to, subject, text, html)
}

fn plain(to: &str, subject: String, text: String, html: Markup) -> Mail {
    Mail {
        to: to.to_owned(),
        subject,
        text,
        html: html.into_string(),
        unsubscribe: None,
        message_id: None,
    }
}

/// An email's HTML: the body, and a small footer under a rule.
fn page(title: &str, body: Markup, footer: Option<Markup>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width";
                title { (title) }
            }
            body style="font-family:system-ui,sans-serif;line-height:1.45;max-width:40em" {
                (body)
                @if let Some(footer) = footer {
                    hr;
                    p style="font-size:.85em;color:#555" { (footer) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize) -> Item {
        Item {
            sender: "Ada".into(),
            conversation: "#general".into(),
            text: format!("<b>hello</b> {n}\nsecond line"),
            link: format!("https://chat.example.org/c/1?at={n}#m-{n}"),
        }
    }

    #[test]
    fn a_digest_lists_each_message_with_its_link_and_escapes_their_text() {
        let items = [item(1), item(2)];
        let d = Digest {
            to: "bob@example.org",
            community: "Hearth",
            name: "Bob",
            items: &items,
            more: 3,
            settings: "https://chat.example.org/account/email",
            unsubscribe: "https://chat.example.org/email/unsubscribe?token=1.ab",
        };
        let mail = digest(&d);
        assert_eq!(mail.subject, "5 unread messages for you in Hearth");
        assert!(mail.text.contains("Ada in #general:\n> <b>hello</b> 1\n> second line\nhttps://chat.example.org/c/1?at=1#m-1"), "{}", mail.text);
        assert!(mail.text.contains("…and 3 more."));
        assert!(
            mail.html.contains("&lt;b&gt;hello&lt;/b&gt; 2"),
            "{}",
            mail.html
        );
        assert!(!mail.html.contains("<b>hello"));
        assert!(
            mail.html
                .contains(r#"href="https://chat.example.org/c/1?at=2#m-2""#)
        );
        assert!(mail.html.contains("Stop them"));
        assert_eq!(mail.unsubscribe.as_deref(), Some(d.unsubscribe));
        let one = [item(7)];
        let single = digest(&Digest {
            items: &one,
            more: 0,
            ..d
        });
        assert_eq!(single.subject, "Ada wrote to you in Hearth");
    }

    #[test]
    fn link_emails_carry_their_link_and_no_unsubscribe() {
        let v = verification(
            "a@example.org",
            "Hearth",
            "ada",
            "https://x.example/email/verify?token=t",
        );
        assert!(v.text.contains("https://x.example/email/verify?token=t"));
        assert!(
            v.html
                .contains(r#"href="https://x.example/email/verify?token=t""#)
        );
        assert_eq!(v.unsubscribe, None);
        let r = reset(
            "a@example.org",
            "Hearth",
            "ada",
            "https://x.example/password/t",
        );
        assert!(r.text.contains("https://x.example/password/t") && r.text.contains("@ada"));
    }
}
