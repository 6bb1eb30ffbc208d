//! Email end to end, through a local SMTP server: an address verified by the link its email
//! carries, taken addresses, unread mentions and directs batched into one email (and never
//! twice), levels and presence, one-click unsubscribe, SMTP failures retried, the forgotten
//! password, and `hearth email test`.

mod common;

use common::smtp::{Mode, Received, SmtpServer};
use common::{Person, TestApp};
use hearth::config::{SmtpConfig, SmtpTls};
use serde_json::{Value, json};
use sha2::Digest as _;
use std::time::Duration;

/// The public URL the server's emails link to; tests map it to the server's real address.
const BASE: &str = "http://hearth.test";
/// How long a person is away before an email goes, here.
const IDLE: Duration = Duration::from_millis(1000);

async fn app(smtp: &SmtpServer) -> TestApp {
    app_idle(smtp, IDLE).await
}

/// A server that emails after `idle` away.
async fn app_idle(smtp: &SmtpServer, idle: Duration) -> TestApp {
    let port = smtp.port();
    TestApp::spawn_with(move |c| {
        c.base_url = BASE.into();
        c.smtp = SmtpConfig {
            host: "127.0.0.1".into(),
            port: Some(port),
            tls: SmtpTls::None,
            from: "Hearth <chat@hearth.test>".into(),
            timeout: Duration::from_secs(1),
            ..SmtpConfig::default()
        };
        c.email_idle = idle;
    })
    .await
}

/// A link from an email, on the test server.
fn local(app: &TestApp, link: &str) -> String {
    link.replacen(BASE, &app.url(""), 1)
}

fn token_in(mail: &Received) -> String {
    let link = mail
        .links()
        .into_iter()
        .find(|l| l.contains("token="))
        .expect("a link with a token");
    link.split("token=").nth(1).unwrap().to_string()
}

/// Gives `who` the address and verifies it with the token its email carries.
async fn verified(smtp: &SmtpServer, who: &Person, address: &str) {
    let before = smtp.received().len();
    let res = who
        .put_json("/api/v1/me/email", json!({"address": address}))
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mail = smtp.wait_for(before + 1).await.pop().unwrap();
    assert_eq!(mail.to, [address]);
    let res = who
        .post("/api/v1/me/email/verify", json!({"token": token_in(&mail)}))
        .await;
    assert_eq!(res.status(), 200);
}

async fn direct(from: &Person, to: &Person) -> i64 {
    let res = from
        .post("/api/v1/directs", json!({"user_id": to.id}))
        .await;
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Whether no more than `n` emails have arrived after waiting `ms`.
async fn still(smtp: &SmtpServer, n: usize, ms: u64) -> bool {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    smtp.received().len() == n
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn an_address_is_verified_by_the_link_its_email_carries() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let ada = app.person("ada").await;
    assert!(
        ada.get("/account")
            .await
            .text()
            .await
            .unwrap()
            .contains(r#"href="/account/email""#)
    );
    assert_eq!(
        ada.json("/api/v1/me/email").await,
        json!({"address": null, "verified": false, "notify": false, "link_expires_at": null})
    );
    // The page's form: a link is on its way.
    let csrf = ada.csrf("/account/email").await;
    let res = ada
        .form(
            "/account/email",
            &[("csrf", &csrf), ("address", "Ada@Example.org")],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("A link is on its way"));
    let mail = smtp.wait_for(1).await.pop().unwrap();
    assert_eq!(mail.to, ["Ada@Example.org"]);
    assert_eq!(mail.from, "chat@hearth.test");
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address for Hearth")
    );
    assert_eq!(mail.header("List-Unsubscribe"), None);
    let token = token_in(&mail);
    let link = mail.links()[0].clone();
    assert_eq!(link, format!("{BASE}/email/verify?token={token}"));
    // Only the token's hash is kept.
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM email_addresses WHERE lower(hex(token_hash)) = '{hash}'"
        )),
        1
    );
    let state = ada.json("/api/v1/me/email").await;
    assert_eq!(state["verified"], false);
    let expires = state["link_expires_at"].as_i64().unwrap();
    assert!(
        (expires - now_ms() - 24 * 3600 * 1000).abs() < 60_000,
        "{state}"
    );

    // The link opens a page with a button; opening it changes nothing.
    let visitor = app.client();
    let page = visitor.get(local(&app, &link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Ada@Example.org") && page.contains("@ada"),
        "{page}"
    );
    assert_eq!(ada.json("/api/v1/me/email").await["verified"], false);
    let done = visitor
        .post(app.url("/email/verify"))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    assert!(done.text().await.unwrap().contains("Address confirmed"));
    assert_eq!(
        ada.json("/api/v1/me/email").await,
        json!({"address": "Ada@Example.org", "verified": true, "notify": true, "link_expires_at": null})
    );
    // The page turns notification emails off and on.
    let csrf = ada.csrf("/account/email").await;
    for (choice, says, on) in [
        ("off", "Notification emails are off.", false),
        ("on", "Notification emails are on.", true),
    ] {
        let res = ada
            .form(
                "/account/email/notify",
                &[("csrf", &csrf), ("notify", choice)],
            )
            .await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains(says));
        assert_eq!(ada.json("/api/v1/me/email").await["notify"], on);
    }
    // A used link is no link.
    let again = visitor
        .post(app.url("/email/verify"))
        .form(&[("token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);

    // A new address is unverified again; its link stops working at its expiry.
    let res = ada
        .put_json(
            "/api/v1/me/email",
            json!({"address": "ada@new.example.org"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["verified"], false);
    let mail = smtp.wait_for(2).await.pop().unwrap();
    app.sql()
        .execute(
            "UPDATE email_addresses SET token_expires_at = ?1",
            [now_ms() - 1],
        )
        .unwrap();
    let res = visitor
        .get(local(&app, &mail.links()[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
    let res = ada
        .post("/api/v1/me/email/verify", json!({"token": token_in(&mail)}))
        .await;
    assert_eq!(res.status(), 410);
    for forged in ["", "nope", &"0".repeat(64)] {
        let res = visitor
            .get(app.url(&format!("/email/verify?token={forged}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{forged:?}");
    }
    // Sent again, a fresh link works; the old one does not.
    let res = ada.post("/api/v1/me/email/verify", json!({})).await;
    assert_eq!(res.status(), 200);
    let fresh = smtp.wait_for(3).await.pop().unwrap();
    assert_ne!(token_in(&fresh), token_in(&mail));
    let res = ada
        .post(
            "/api/v1/me/email/verify",
            json!({"token": token_in(&fresh)}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(ada.json("/api/v1/me/email").await["verified"], true);
    // Removed, it is gone.
    assert_eq!(ada.delete("/api/v1/me/email").await.status(), 204);
    assert_eq!(ada.json("/api/v1/me/email").await["address"], Value::Null);
}

#[tokio::test]
async fn an_address_taken_by_another_is_refused_and_limits_hold_at_their_edge() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    verified(&smtp, &ada, "shared@example.org").await;
    let sent = smtp.received().len();
    let res = bob
        .put_json("/api/v1/me/email", json!({"address": "SHARED@example.org"}))
        .await;
    assert_eq!(res.status(), 409);
    let body = res.text().await.unwrap();
    assert!(!body.contains("ada"), "{body}");
    assert!(
        still(&smtp, sent, 300).await,
        "no email for a refused address"
    );
    assert_eq!(bob.json("/api/v1/me/email").await["address"], Value::Null);

    // Two ask for the same address; whoever verifies first keeps it.
    let (cat, dan) = (app.person("cat").await, app.person("dan").await);
    for who in [&cat, &dan] {
        let res = who
            .put_json("/api/v1/me/email", json!({"address": "race@example.org"}))
            .await;
        assert_eq!(res.status(), 200);
    }
    let mails = smtp.wait_for(sent + 2).await;
    let token = |name: &str| {
        let m = mails[sent..]
            .iter()
            .find(|m| m.text().contains(&format!("@{name}")))
            .unwrap();
        token_in(m)
    };
    let (cat_token, dan_token) = (token("cat"), token("dan"));
    let res = cat
        .post("/api/v1/me/email/verify", json!({"token": cat_token}))
        .await;
    assert_eq!(res.status(), 200);
    // Another's token is not yours to use.
    let res = cat
        .post("/api/v1/me/email/verify", json!({"token": dan_token}))
        .await;
    assert_eq!(res.status(), 404);
    let res = dan
        .post("/api/v1/me/email/verify", json!({"token": dan_token}))
        .await;
    assert_eq!(res.status(), 409);

    // Verification emails: 5 an hour for one person, the 6th refused.
    let sent = smtp.wait_for(sent + 2).await.len();
    for i in 0..5 {
        let res = bob
            .put_json(
                "/api/v1/me/email",
                json!({"address": format!("bob{i}@example.org")}),
            )
            .await;
        assert_eq!(res.status(), 200, "change {i}");
    }
    let res = bob
        .put_json("/api/v1/me/email", json!({"address": "bob5@example.org"}))
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    let res = bob.post("/api/v1/me/email/verify", json!({})).await;
    assert_eq!(res.status(), 429);
    smtp.wait_for(sent + 5).await;
    assert!(still(&smtp, sent + 5, 300).await);

    // Addresses: 254 characters taken, 255 refused.
    let eve = app.person("eve").await;
    let long = |n: usize| {
        let domain = format!(
            "{}.{}.{}.org",
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(n - 64 - 1 - 63 - 1 - 63 - 1 - 4)
        );
        format!("{}@{domain}", "a".repeat(64))
    };
    assert_eq!(long(254).len(), 254);
    let res = eve
        .put_json("/api/v1/me/email", json!({"address": long(255)}))
        .await;
    assert_eq!(res.status(), 400);
    let res = eve
        .put_json("/api/v1/me/email", json!({"address": long(254)}))
        .await;
    assert_eq!(res.status(), 200);
    for bad in [
        "nobody",
        "a@b",
        "Eve <eve@example.org>",
        "eve@example.org\r\nBcc: x@y.org",
    ] {
        let res = eve
            .put_json("/api/v1/me/email", json!({"address": bad}))
            .await;
        assert_eq!(res.status(), 400, "{bad:?}");
    }
    let res = eve
        .put_json(
            "/api/v1/me/email",
            json!({"address": "eve@example.org", "other": 1}),
        )
        .await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn three_messages_make_one_email_listing_three_then_nothing_more() {
    let smtp = SmtpServer::start().await;
    // Long enough for the four messages below to arrive within it, however busy the machine.
    let idle = Duration::from_secs(3);
    let app = app_idle(&smtp, idle).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let general = ada.general().await;
    ada.say(general, "before bob had an address").await;
    verified(&smtp, &bob, "bob@example.org").await;
    let dm = direct(&ada, &bob).await;
    let sent = [
        ada.say(general, "@bob have a look").await,
        ada.say(general, "lunch, anyone?").await,
        ada.say(dm, "first <b>direct</b>").await,
        ada.say(dm, "second direct").await,
    ];
    let id = |i: usize| sent[i]["id"].as_i64().unwrap();
    let mails = smtp.wait_for(2).await;
    let mail = &mails[1];
    assert_eq!(mail.to, ["bob@example.org"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("3 unread messages for you in Hearth")
    );
    let text = mail.text();
    for (i, words) in [
        (0, "@bob have a look"),
        (2, "first <b>direct</b>"),
        (3, "second direct"),
    ] {
        assert!(text.contains(words), "{words} in {text}");
        let link = format!(
            "{BASE}/c/{}?at={}#m-{}",
            sent[i]["conversation_id"],
            id(i),
            id(i)
        );
        assert!(text.contains(&link), "{link} in {text}");
        assert!(mail.html().contains(&format!("href=\"{link}\"")));
    }
    assert!(
        text.contains("ada in #general") && text.contains("ada in a direct message"),
        "{text}"
    );
    assert!(
        !text.contains("lunch") && !text.contains("before bob"),
        "{text}"
    );
    assert!(mail.html().contains("first &lt;b&gt;direct&lt;/b&gt;"));
    // Nothing more.
    assert!(still(&smtp, 2, 4000).await);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind LIKE 'email%'"),
        0
    );

    // A new message: an email of its own, never the earlier ones again.
    let later = ada.say(dm, "third direct").await;
    let mail = smtp.wait_for(3).await.pop().unwrap();
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("ada wrote to you in Hearth")
    );
    assert!(mail.text().contains("third direct") && !mail.text().contains("second direct"));
    assert_eq!(
        mail.header("Message-ID"),
        Some(format!(
            "<email.send.{}.{}@hearth.test>",
            bob.id, later["id"]
        ))
    );
    // One read before the idle time is not emailed.
    let read = ada.say(dm, "read me at once").await;
    let res = bob
        .post(
            &format!("/api/v1/conversations/{dm}/read"),
            json!({"message_id": read["id"]}),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert!(still(&smtp, 3, 4000).await);
}

#[tokio::test]
async fn levels_mute_and_quiet_decide_what_is_emailed() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    verified(&smtp, &bob, "bob@example.org").await;
    let general = ada.general().await;
    let dm = direct(&ada, &bob).await;
    let res = ada
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "planning", "members": [bob.id]}),
        )
        .await;
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let set = |c: i64, body: Value| {
        let bob = &bob;
        async move {
            let res = bob
                .patch(&format!("/api/v1/conversations/{c}/notify"), body)
                .await;
            assert_eq!(res.status(), 200);
        }
    };
    set(dm, json!({"level": "none"})).await;
    set(group, json!({"muted": true})).await;
    ada.say(dm, "a direct set to nothing").await;
    ada.say(group, "a muted group").await;
    ada.say(general, "a channel without a mention").await;
    assert!(still(&smtp, 1, 2500).await, "nothing notifies bob");
    // Quiet: not even a mention.
    let until = json!({"until": now_ms() + 60_000});
    assert_eq!(bob.put_json("/api/v1/me/quiet", until).await.status(), 200);
    ada.say(general, "@bob while you are quiet").await;
    assert!(still(&smtp, 1, 2500).await, "quiet");
    assert_eq!(
        bob.put_json("/api/v1/me/quiet", json!({"until": null}))
            .await
            .status(),
        200
    );
    // A mention reaches a muted group; and only what notifies is in the email.
    ada.say(group, "@bob in the muted group").await;
    let mail = smtp.wait_for(2).await.pop().unwrap();
    let text = mail.text();
    assert!(text.contains("@bob in the muted group"), "{text}");
    for quiet in [
        "set to nothing",
        "a muted group",
        "without a mention",
        "while you are quiet",
    ] {
        assert!(!text.contains(quiet), "{quiet} in {text}");
    }
    // Notification emails off: nothing.
    let res = bob
        .put_json("/api/v1/me/email", json!({"notify": false}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["notify"], false);
    ada.say(general, "@bob emails are off").await;
    assert!(still(&smtp, 2, 2500).await);
}

#[tokio::test]
async fn a_connected_person_gets_no_email_until_gone_for_the_idle_time() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    verified(&smtp, &bob, "bob@example.org").await;
    let dm = direct(&ada, &bob).await;
    let mut page = bob.ws(None).await;
    // A hidden page is still a connection.
    page.send(json!({"op": "presence", "req": 1, "status": "away"}))
        .await;
    ada.say(dm, "are you there?").await;
    assert!(still(&smtp, 1, 3000).await, "no email while connected");
    page.stream.close(None).await.unwrap();
    drop(page);
    assert!(still(&smtp, 1, 300).await, "not at once after leaving");
    let mail = smtp.wait_for(2).await.pop().unwrap();
    assert!(mail.text().contains("are you there?"));
}

#[tokio::test]
async fn every_notification_unsubscribes_in_one_click_and_forged_links_are_refused() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    verified(&smtp, &bob, "bob@example.org").await;
    let dm = direct(&ada, &bob).await;
    ada.say(dm, "hello").await;
    let mail = smtp.wait_for(2).await.pop().unwrap();
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let header = mail.header("List-Unsubscribe").unwrap();
    let url = header
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_string();
    assert!(
        url.starts_with(&format!("{BASE}/email/unsubscribe?token={}.", bob.id)),
        "{url}"
    );
    assert!(mail.text().contains(&url) && mail.html().contains(&url));
    let token = url.split("token=").nth(1).unwrap().to_string();
    let visitor = app.client();

    // The link shows a page with a button; opening it changes nothing.
    let page = visitor.get(local(&app, &url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("bob@example.org"));
    assert_eq!(bob.json("/api/v1/me/email").await["notify"], true);

    // Forged tokens are nobody's.
    let (user, tag) = token.split_once('.').unwrap();
    let mut flipped = tag.to_string();
    flipped.replace_range(63..64, if tag.ends_with('0') { "1" } else { "0" });
    for forged in [
        format!("{user}.{flipped}"),
        format!("{}.{tag}", ada.id),
        format!("{user}."),
        "garbage".to_string(),
        String::new(),
    ] {
        let path = format!("/email/unsubscribe?token={forged}");
        let got = visitor.get(app.url(&path)).send().await.unwrap();
        assert_eq!(got.status(), 404, "GET {forged:?}");
        let posted = visitor
            .post(app.url(&path))
            .form(&[("List-Unsubscribe", "One-Click")])
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status(), 404, "POST {forged:?}");
    }
    assert_eq!(bob.json("/api/v1/me/email").await["notify"], true);

    // One click, as a mail program sends it; again is harmless.
    for _ in 0..2 {
        let res = visitor
            .post(local(&app, &url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(bob.json("/api/v1/me/email").await["notify"], false);
    }
    ada.say(dm, "are you still there?").await;
    assert!(still(&smtp, 2, 2500).await, "no email once unsubscribed");
    // Back on: only what comes after.
    let res = bob
        .put_json("/api/v1/me/email", json!({"notify": true}))
        .await;
    assert_eq!(res.status(), 200);
    ada.say(dm, "welcome back").await;
    let mail = smtp.wait_for(3).await.pop().unwrap();
    assert!(mail.text().contains("welcome back") && !mail.text().contains("still there"));
}

/// Waits until the queued email has failed once more (its error noted, put off by a minute
/// or more).
async fn failed(app: &TestApp, attempts: i64) {
    for _ in 0..200 {
        let waiting = app.count(&format!(
            "SELECT count(*) FROM outbox WHERE kind = 'email.send' AND attempts = {attempts}
             AND last_error != '' AND run_at > {}",
            now_ms() + 30_000
        ));
        if waiting == 1 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the email did not fail for the {attempts}th time");
}

/// Makes the queued email due now and wakes the worker.
fn retry_now(app: &TestApp) {
    app.sql()
        .execute("UPDATE outbox SET run_at = 0 WHERE kind = 'email.send'", [])
        .unwrap();
    app.app.chat.files.wake.notify_one();
}

#[tokio::test]
async fn smtp_failures_are_retried_later_and_an_email_is_never_sent_twice() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    verified(&smtp, &bob, "bob@example.org").await;
    let dm = direct(&ada, &bob).await;
    smtp.mode(Mode::Refuse);
    ada.say(dm, "through thick and thin").await;
    smtp.wait_for_attempts(2).await;
    failed(&app, 1).await;
    let error: String = app
        .sql()
        .query_row(
            "SELECT last_error FROM outbox WHERE kind = 'email.send'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(error.contains("554"), "{error}");
    // Refused for now, hanging, dropped: each tried again later, none taken.
    for (n, mode) in [(2, Mode::Defer), (3, Mode::Hang), (4, Mode::Drop)] {
        smtp.mode(mode);
        retry_now(&app);
        smtp.wait_for_attempts(n + 1).await;
        failed(&app, n as i64).await;
    }
    assert_eq!(smtp.received().len(), 1, "only the verification email");
    // Meanwhile another message: it waits for the email on its way, and goes in the next.
    ada.say(dm, "meanwhile").await;
    tokio::time::sleep(IDLE * 2).await;
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'email.send'"),
        1
    );
    assert_eq!(smtp.attempts(), 5);
    smtp.mode(Mode::Accept);
    retry_now(&app);
    let mail = smtp.wait_for(2).await.pop().unwrap();
    assert!(mail.text().contains("through thick and thin") && !mail.text().contains("meanwhile"));
    let mail = smtp.wait_for(3).await.pop().unwrap();
    assert!(mail.text().contains("meanwhile") && !mail.text().contains("thick and thin"));
    assert!(still(&smtp, 3, 2500).await, "each sent once");
    assert_eq!(smtp.attempts(), 7);
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind LIKE 'email%'"),
        0
    );

    // The server stopped while handing an email over: it is not sent again.
    smtp.mode(Mode::Refuse);
    ada.say(dm, "lost in a crash").await;
    smtp.wait_for_attempts(8).await;
    failed(&app, 1).await;
    app.sql()
        .execute(
            "UPDATE email_addresses SET sending = (SELECT key FROM outbox WHERE kind = 'email.send')",
            [],
        )
        .unwrap();
    smtp.mode(Mode::Accept);
    retry_now(&app);
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM outbox WHERE kind = 'email.send'") == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("SELECT count(*) FROM outbox WHERE kind = 'email.send'"),
        0
    );
    assert!(still(&smtp, 3, 500).await);
    assert_eq!(smtp.attempts(), 8);
    assert_eq!(
        app.count("SELECT count(*) FROM email_addresses WHERE sending IS NOT NULL"),
        0
    );
    // What comes next is emailed as usual.
    ada.say(dm, "after the crash").await;
    let mail = smtp.wait_for(4).await.pop().unwrap();
    assert!(mail.text().contains("after the crash") && !mail.text().contains("lost in a crash"));
}

#[tokio::test]
async fn a_forgotten_password_is_reset_by_emailed_link_and_strangers_learn_nothing() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let bob = app.person("bob").await;
    verified(&smtp, &bob, "Bob@Example.org").await;
    let cat = app.person("cat").await;
    let res = cat
        .put_json("/api/v1/me/email", json!({"address": "cat@example.org"}))
        .await;
    assert_eq!(res.status(), 200);
    smtp.wait_for(2).await;
    let visitor = app.client();
    let login = visitor.get(app.url("/login")).send().await.unwrap();
    assert!(
        login
            .text()
            .await
            .unwrap()
            .contains(r#"href="/password/forgot""#)
    );
    let form = visitor
        .get(app.url("/password/forgot"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    assert!(form.text().await.unwrap().contains(r#"name="who""#));
    let ask = |who: &'static str| {
        let (visitor, url) = (visitor.clone(), app.url("/password/forgot"));
        async move {
            let res = visitor
                .post(url)
                .form(&[("who", who)])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };

    let (status, page) = ask("bob").await;
    assert_eq!(status, 200);
    assert!(page.contains("If an account with a confirmed email address matches"));
    let mail = smtp.wait_for(3).await.pop().unwrap();
    assert_eq!(mail.to, ["Bob@Example.org"]);
    let link = mail.links()[0].clone();
    assert!(link.starts_with(&format!("{BASE}/password/")), "{link}");
    // Asking changes nothing until the link is used: bob is still signed in.
    assert_eq!(bob.get("/api/v1/me").await.status(), 200);
    // Nobody, and someone whose address is not confirmed: the same page, no email.
    assert_eq!(ask("nobody").await, (status, page.clone()));
    assert_eq!(ask("nobody@example.org").await, (status, page.clone()));
    assert_eq!(ask("cat").await, (status, page.clone()));
    assert_eq!(ask("cat@example.org").await, (status, page.clone()));
    assert!(still(&smtp, 3, 800).await);

    // The link sets a new password and signs in.
    let page = visitor.get(local(&app, &link)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Choose a new password"));
    let set = visitor
        .post(local(&app, &link))
        .form(&[
            ("password", "a brand new secret"),
            ("confirm", "a brand new secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 303);
    let client = app.client();
    let res = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": "bob", "password": "a brand new secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        bob.get("/api/v1/me").await.status(),
        401,
        "old sessions end"
    );

    // Three emails an hour to one person; the fourth request sends nothing (and says the same).
    assert_eq!(ask("bob@example.org").await.0, 200);
    assert_eq!(ask("BOB").await.0, 200);
    smtp.wait_for(5).await;
    assert_eq!(ask("bob").await, (status, page_text(&app).await));
    assert!(still(&smtp, 5, 800).await);
}

/// The page every taken request gets.
async fn page_text(app: &TestApp) -> String {
    let res = app
        .client()
        .post(app.url("/password/forgot"))
        .form(&[("who", "someone-else")])
        .send()
        .await
        .unwrap();
    res.text().await.unwrap()
}

#[tokio::test]
async fn password_requests_are_limited_per_address() {
    let smtp = SmtpServer::start().await;
    let app = app(&smtp).await;
    let visitor = app.client();
    for i in 0..10 {
        let res = visitor
            .post(app.url("/password/forgot"))
            .form(&[("who", format!("person{i}"))])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "request {i}");
    }
    let res = visitor
        .post(app.url("/password/forgot"))
        .form(&[("who", "person10")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn without_smtp_there_is_no_email() {
    let app = TestApp::spawn().await;
    let bob = app.person("bob").await;
    let res = bob
        .put_json("/api/v1/me/email", json!({"address": "bob@example.org"}))
        .await;
    assert_eq!(res.status(), 400);
    let page = bob.get("/account/email").await.text().await.unwrap();
    assert!(page.contains("does not send email"), "{page}");
    let page = app
        .client()
        .get(app.url("/password/forgot"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Ask an admin"), "{page}");
}

fn hearth_email_test(
    env: &[(&str, String)],
    dir: &std::path::Path,
    to: &str,
) -> std::process::Output {
    let mut cmd = assert_cmd::Command::cargo_bin("hearth").unwrap();
    cmd.arg("--data-dir")
        .arg(dir)
        .args(["email", "test", to])
        .env_remove("HEARTH_CONFIG")
        .env("HEARTH_LOG", "warn")
        .env("HEARTH_BASE_URL", BASE)
        .env("HEARTH_SMTP_TLS", "none")
        .env("HEARTH_SMTP_FROM", "Hearth <chat@hearth.test>")
        .env("HEARTH_SMTP_TIMEOUT_SECS", "2");
    for (key, value) in env {
        cmd.env(key, value);
    }
    cmd.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hearth_email_test_reports_what_the_smtp_server_said() {
    let smtp = SmtpServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let port = smtp.port();
    let server = vec![
        ("HEARTH_SMTP_HOST", "127.0.0.1".to_string()),
        ("HEARTH_SMTP_PORT", port.to_string()),
    ];
    let run = |env: Vec<(&'static str, String)>, to: &'static str| {
        let dir = dir.path().to_owned();
        tokio::task::spawn_blocking(move || hearth_email_test(&env, &dir, to))
    };
    let out = run(server.clone(), "ada@example.org").await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(&format!(
            "Sent a test email to ada@example.org through 127.0.0.1:{port} (none)"
        )),
        "{}",
        text(&out.stdout)
    );
    let mail = smtp.wait_for(1).await.pop().unwrap();
    assert_eq!(mail.to, ["ada@example.org"]);
    assert_eq!(mail.header("Subject").as_deref(), Some("Hearth test email"));
    assert!(mail.text().contains(&format!("127.0.0.1:{port}")));

    // Refused: exit 1, one line with what the server said.
    smtp.mode(Mode::Refuse);
    let out = run(server.clone(), "ada@example.org").await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("554") && err.contains("refused by the test server"),
        "{err}"
    );
    // Nobody listening, a bad address, email off, a plain-text server on the internet.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = vec![
        ("HEARTH_SMTP_HOST", "127.0.0.1".to_string()),
        ("HEARTH_SMTP_PORT", closed_port.to_string()),
    ];
    let out = run(nowhere, "ada@example.org").await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("could not talk to the SMTP server"),
        "{}",
        text(&out.stderr)
    );
    let out = run(server.clone(), "not an address").await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not an email address"));
    let out = run(vec![], "ada@example.org").await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("email is off"),
        "{}",
        text(&out.stderr)
    );
    let public = vec![("HEARTH_SMTP_HOST", "8.8.8.8".to_string())];
    let out = run(public, "ada@example.org").await.unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("smtp.tls"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(smtp.received().len(), 1);
}
