//! Addresses kept, and the message an email becomes.

use super::*;

/// An address of exactly `len` characters (198 to 260): a 64-character local part, a
/// domain of labels up to 63 characters.
fn address_of(len: usize) -> String {
    let last = len - 64 - 1 - (63 + 1) * 2 - ".org".len();
    let address = format!(
        "{}@{}.{}.{}.org",
        "a".repeat(64),
        "b".repeat(63),
        "c".repeat(63),
        "d".repeat(last)
    );
    assert_eq!(address.len(), len);
    address
}

#[test]
fn addresses_are_checked_up_to_254_characters() {
    assert_eq!(
        valid_address(" ada@example.org ").unwrap(),
        "ada@example.org"
    );
    let longest = address_of(MAX_ADDRESS_CHARS);
    assert_eq!(valid_address(&longest).unwrap(), longest);
    let over = address_of(MAX_ADDRESS_CHARS + 1);
    assert!(valid_address(&over).unwrap_err().contains("at most 254"));
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.org",
        "ada@localhost",
        "Ada <ada@example.org>",
        "a b@example.org",
        "ada@example.org, eve@example.org",
        "ada@example.org\r\nBcc: eve@example.org",
    ] {
        assert!(valid_address(bad).is_err(), "{bad:?}");
    }
}

fn mailer() -> Mailer {
    let config = Config {
        base_url: "https://chat.example.org".into(),
        smtp: crate::config::SmtpConfig {
            host: "127.0.0.1".into(),
            tls: SmtpTls::None,
            from: "Hearth <chat@example.org>".into(),
            ..Default::default()
        },
        ..Config::default()
    };
    Mailer::new(&config).unwrap().expect("email is on")
}

#[test]
fn off_without_a_host() {
    assert!(Mailer::new(&Config::default()).unwrap().is_none());
}

#[test]
fn a_notification_carries_one_click_unsubscribe_and_both_parts() {
    let m = mailer();
    assert_eq!(m.describe, "127.0.0.1:25 (none)");
    assert_eq!(m.from_domain(), "example.org");
    let mail = Mail {
        to: "bob@example.org".into(),
        subject: "2 unread messages".into(),
        text: "plain words".into(),
        html: "<p>html words</p>".into(),
        unsubscribe: Some("https://chat.example.org/email/unsubscribe?token=4.ab".into()),
        message_id: Some("<email.send.4.9@example.org>".into()),
    };
    let raw = String::from_utf8(m.message(&mail).unwrap().formatted()).unwrap();
    for line in [
        "From: Hearth <chat@example.org>\r\n",
        "To: bob@example.org\r\n",
        "Subject: 2 unread messages\r\n",
        "List-Unsubscribe: <https://chat.example.org/email/unsubscribe?token=4.ab>\r\n",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
        "Auto-Submitted: auto-generated\r\n",
        "Message-ID: <email.send.4.9@example.org>\r\n",
    ] {
        assert!(raw.contains(line), "{line:?} in\n{raw}");
    }
    assert!(raw.contains("multipart/alternative"), "{raw}");
    assert!(raw.contains("plain words") && raw.contains("<p>html words</p>"));
    let plain = Mail {
        unsubscribe: None,
        ..mail
    };
    let raw = String::from_utf8(m.message(&plain).unwrap().formatted()).unwrap();
    assert!(!raw.contains("List-Unsubscribe"), "{raw}");
    let bad = Mail {
        to: "nobody".into(),
        ..plain
    };
    assert!(matches!(m.message(&bad), Err(MailError::Address(_))));
}
