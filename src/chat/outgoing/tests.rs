use super::answer::{Verdict, answer, judge, reply_text};
use super::*;
use crate::net::FetchError;
use crate::store::outgoing::Outcome;
use std::time::Duration;

fn hook(trigger: Trigger, words: &[&str]) -> Listener {
    Listener {
        id: 1,
        bot_id: 7,
        trigger,
        words: words.iter().map(|w| (*w).to_owned()).collect(),
    }
}

#[test]
fn every_message_fires_a_hook_for_all() {
    let all = hook(Trigger::All, &[]);
    assert_eq!(fires(&all, "hello", &[]), Some(Fired::Every));
    assert_eq!(fires(&all, "", &[3]), Some(Fired::Every));
}

#[test]
fn a_mention_hook_fires_only_when_its_bot_is_mentioned() {
    let mention = hook(Trigger::Mention, &[]);
    assert_eq!(fires(&mention, "hi @ci-bot", &[3, 7]), Some(Fired::Mention));
    assert_eq!(fires(&mention, "hi @ci-bot", &[3]), None);
    assert_eq!(fires(&mention, "hi", &[]), None);
}

#[test]
fn a_word_fires_as_the_first_whole_word_in_any_case() {
    let words = hook(Trigger::Word, &["!deploy", "weather"]);
    assert_eq!(
        fires(&words, "!deploy prod", &[]),
        Some(Fired::Word("!deploy"))
    );
    assert_eq!(
        fires(&words, "  WEATHER in Oslo", &[]),
        Some(Fired::Word("weather"))
    );
    assert_eq!(fires(&words, "Weather?", &[]), Some(Fired::Word("weather")));
    assert_eq!(
        fires(&words, "weather,\nplease", &[]),
        Some(Fired::Word("weather"))
    );
    assert_eq!(fires(&words, "!deployed", &[]), None, "a whole word");
    assert_eq!(fires(&words, "the weather", &[]), None, "the first word");
    assert_eq!(fires(&words, "weathers", &[]), None);
    assert_eq!(fires(&words, "", &[]), None);
    assert_eq!(fires(&words, "!deploy", &[7]), Some(Fired::Word("!deploy")));
    // A word that ends with punctuation is matched as written, too.
    let bang = hook(Trigger::Word, &["go!"]);
    assert_eq!(fires(&bang, "go! now", &[]), Some(Fired::Word("go!")));
    assert_eq!(fires(&bang, "go now", &[]), None);
}

#[test]
fn only_a_word_hook_says_its_word() {
    assert_eq!(Fired::Word("x").word(), Some("x"));
    assert_eq!(Fired::Every.word(), None);
    assert_eq!(Fired::Mention.word(), None);
}

#[test]
fn trigger_words_are_read_lowercase_once_each_within_limits() {
    assert_eq!(
        trigger_words("!Deploy, weather  !deploy").unwrap(),
        ["!deploy", "weather"]
    );
    assert!(trigger_words(" , ").is_err());
    assert!(trigger_words("").is_err());
    let eleven: Vec<String> = (0..11).map(|n| format!("w{n}")).collect();
    assert!(trigger_words(&eleven.join(" ")).is_err());
    assert_eq!(trigger_words(&eleven[..10].join(" ")).unwrap().len(), 10);
    assert!(trigger_words(&"a".repeat(33)).is_err());
    assert!(trigger_words(&"a".repeat(32)).is_ok());
}

#[test]
fn a_url_is_http_without_credentials_and_public_unless_allowed() {
    let ok = |u: &str, private: bool| checked_url(u, private, &[]).map(|u| u.to_string());
    assert_eq!(
        ok(" https://hooks.example.org/in?x=1 ", false).unwrap(),
        "https://hooks.example.org/in?x=1"
    );
    assert!(ok("http://hooks.example.org/", false).is_ok());
    for bad in [
        "",
        "ftp://example.org/",
        "javascript:alert(1)",
        "https://user:pw@example.org/",
        "https://user@example.org/",
        "not a url",
        "http://127.0.0.1:9/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest",
    ] {
        assert!(ok(bad, false).is_err(), "{bad} is refused");
    }
    assert!(ok("http://127.0.0.1:9/", true).is_ok());
    assert!(ok("http://[::1]:9/", true).is_ok());
    let intranet = crate::net::parse_networks(&["10.0.0.0/8"]).unwrap();
    assert!(checked_url("http://10.1.2.3/", false, &intranet).is_ok());
    let long = format!("https://example.org/{}", "a".repeat(MAX_URL_CHARS));
    assert!(ok(&long, false).is_err());
    let longest = format!("https://e.org/{}", "a".repeat(MAX_URL_CHARS - 14));
    assert_eq!(longest.chars().count(), MAX_URL_CHARS);
    assert!(ok(&longest, false).is_ok());
}

#[test]
fn a_request_is_checked_whole() {
    let new = |trigger: Option<&str>, words: Option<&str>| NewOutgoing {
        name: "CI".into(),
        url: "https://example.org/hook".into(),
        trigger: trigger.map(str::to_owned),
        words: words.map(str::to_owned),
        allow_private: false,
    };
    let all = check(new(None, Some("ignored")), &[]).unwrap();
    assert_eq!((all.trigger, all.words.len()), (Trigger::All, 0));
    let word = check(new(Some("word"), Some("!go")), &[]).unwrap();
    assert_eq!(
        (word.trigger, word.words),
        (Trigger::Word, vec!["!go".into()])
    );
    assert_eq!(
        check(new(Some("mention"), None), &[]).unwrap().trigger,
        Trigger::Mention
    );
    assert!(check(new(Some("word"), None), &[]).is_err());
    assert!(check(new(Some("sometimes"), None), &[]).is_err());
    let mut unnamed = new(None, None);
    unnamed.name = "  ".into();
    assert!(check(unnamed, &[]).is_err());
}

#[test]
fn signatures_are_hmac_sha256_over_the_time_and_the_body() {
    // Computed with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec_test'
    assert_eq!(
        signature("whsec_test", 1_700_000_000, br#"{"a":1}"#),
        "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
    );
}

fn verdict(result: Result<crate::net::Answer, FetchError>) -> Verdict {
    judge(result, 100, false)
}

#[test]
fn a_2xx_answer_is_delivered_and_its_text_replied() {
    let v = verdict(Ok(answer(204, "", b"")));
    assert_eq!(
        (v.outcome, v.status, v.reply),
        (Outcome::Delivered, Some(204), None)
    );
    let v = verdict(Ok(answer(200, "application/json", br#"{"text":"pong"}"#)));
    assert_eq!(
        (v.outcome, v.reply.as_deref()),
        (Outcome::Delivered, Some("pong"))
    );
    let v = verdict(Ok(answer(299, "text/plain", b"  hi there \n")));
    assert_eq!(v.reply.as_deref(), Some("hi there"));
}

#[test]
fn server_trouble_and_silence_are_tried_again_until_the_last_attempt() {
    for status in [408, 429, 500, 503, 599] {
        let v = verdict(Ok(answer(status, "", b"")));
        assert_eq!(v.outcome, Outcome::Retrying, "{status}");
        assert_eq!(v.status, Some(status));
        let last = judge(Ok(answer(status, "", b"")), 100, true);
        assert_eq!(last.outcome, Outcome::Failed, "{status}");
        assert!(
            last.error.contains("gave up after 5 attempts"),
            "{}",
            last.error
        );
    }
    let v = verdict(Err(FetchError::TimedOut));
    assert_eq!((v.outcome, v.status), (Outcome::Retrying, None));
    assert_eq!(v.error, "no answer within 5 s");
    let v = verdict(Err(FetchError::Transport("refused".into())));
    assert_eq!(v.outcome, Outcome::Retrying);
    let v = verdict(Err(FetchError::Lookup {
        host: "x".into(),
        reason: "no".into(),
    }));
    assert_eq!(v.outcome, Outcome::Retrying);
}

#[test]
fn a_receiver_asks_for_a_wait_of_at_most_an_hour() {
    let mut busy = answer(503, "", b"");
    busy.retry_after = Some(Duration::from_secs(120));
    assert_eq!(
        verdict(Ok(busy.clone())).wait,
        Some(Duration::from_secs(120))
    );
    busy.retry_after = Some(Duration::from_secs(86_400));
    assert_eq!(verdict(Ok(busy)).wait, Some(Duration::from_secs(3600)));
}

#[test]
fn refusals_redirects_and_blocked_addresses_fail_at_once() {
    for status in [400, 401, 403, 404, 410, 413, 199] {
        let v = verdict(Ok(answer(status, "", b"")));
        assert_eq!(v.outcome, Outcome::Failed, "{status}");
        assert_eq!(v.error, format!("the receiver answered {status}"));
    }
    let mut moved = answer(302, "", b"");
    moved.location = Some("http://10.0.0.1/".into());
    let v = verdict(Ok(moved));
    assert_eq!((v.outcome, v.status), (Outcome::Failed, Some(302)));
    assert!(v.error.contains("http://10.0.0.1/"), "{}", v.error);
    assert!(v.error.contains("do not follow redirects"), "{}", v.error);
    let v = verdict(Err(FetchError::Blocked("127.0.0.1".parse().unwrap())));
    assert_eq!(v.outcome, Outcome::Failed);
    assert!(
        v.error.contains("127.0.0.1 is not a public address"),
        "{}",
        v.error
    );
    let v = verdict(Err(FetchError::Scheme("ftp".into())));
    assert_eq!(v.outcome, Outcome::Failed);
}

#[test]
fn only_json_text_and_plain_text_become_replies() {
    let reply = |ct: &str, body: &[u8]| reply_text(&answer(200, ct, body), 10);
    assert_eq!(
        reply("application/json", br#"{"text":"ok"}"#).0.as_deref(),
        Some("ok")
    );
    assert_eq!(
        reply("application/json", br#"{"ok":true}"#),
        (None, String::new())
    );
    assert_eq!(
        reply("application/json", br#"{"text":"  "}"#),
        (None, String::new())
    );
    let (none, note) = reply("application/json", br#"{"text":3}"#);
    assert!(none.is_none() && note.contains("not a string"), "{note}");
    let (none, note) = reply("application/json", b"{nope");
    assert!(none.is_none() && note.contains("not valid JSON"), "{note}");
    assert_eq!(reply("text/plain", b"pong").0.as_deref(), Some("pong"));
    let (none, note) = reply("text/plain", b"\xff\xfe");
    assert!(none.is_none() && note.contains("UTF-8"), "{note}");
    let (none, note) = reply("text/html", b"<p>hi</p>");
    assert!(none.is_none() && note.contains("text/html"), "{note}");
    let (none, note) = reply("", b"hi");
    assert!(none.is_none() && note.contains("(none)"), "{note}");
    assert_eq!(reply("text/html", b" \r\n"), (None, String::new()));
    // Control characters are dropped; new lines and tabs stay.
    assert_eq!(
        reply("text/plain", b"a\x07b\n\tc").0.as_deref(),
        Some("ab\n\tc")
    );
}

#[test]
fn a_long_reply_is_cut_to_the_message_limit_and_says_so() {
    let at_limit = reply_text(&answer(200, "text/plain", "é".repeat(10).as_bytes()), 10);
    assert_eq!(at_limit, (Some("é".repeat(10)), String::new()));
    let (cut, note) = reply_text(&answer(200, "text/plain", "é".repeat(11).as_bytes()), 10);
    assert_eq!(cut, Some(format!("{}…", "é".repeat(9))));
    assert_eq!(cut.unwrap().chars().count(), 10);
    assert_eq!(note, "the answer of 11 characters was cut to 10");
    // An answer cut at the byte limit in the middle of a character keeps what came before.
    let mut big = "a".repeat(ANSWER_BYTES - 1).into_bytes();
    big.push(0xc3);
    let (cut, _) = reply_text(&answer(200, "text/plain", &big), ANSWER_BYTES);
    assert_eq!(cut.unwrap().len(), ANSWER_BYTES - 1);
    let mut json = br#"{"text":""#.to_vec();
    json.resize(ANSWER_BYTES, b'a');
    let (none, note) = reply_text(&answer(200, "application/json", &json), 10);
    assert!(none.is_none() && note.contains("over"), "{note}");
}

#[test]
fn retries_wait_longer_each_time() {
    let waits: Vec<i64> = (1..=5).map(backoff_ms).collect();
    assert_eq!(waits, [10_000, 60_000, 300_000, 1_800_000, 1_800_000]);
}
