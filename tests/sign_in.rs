//! Signing in under attack, over real HTTP: guesses are counted before they are checked, a
//! stranger cannot lock the owner out of a device they signed in on, and password checks
//! beyond the hashing queue are refused at once.

mod common;

use common::{PASSWORD, TestApp, error_code};
use hearth::domain::Role;
use serde_json::json;

/// One `POST /api/v1/session`, from `client`, claiming `forwarded_for` as the client address.
async fn attempt(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> reqwest::Response {
    let mut req = client
        .post(app.url("/api/v1/session"))
        .json(&json!({"username": name, "password": password}));
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    req.send().await.unwrap()
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn eighty_simultaneous_guesses_get_ten_checks_and_never_the_right_one_after() {
    let app = TestApp::spawn().await;
    app.create_user("ada", Role::Member).await;
    let checks = app.app.chat.passwords.checks();
    let client = app.client();
    let guesses = (0..80).map(|_| attempt(&app, &client, "ada", "wrong password", None));
    let answers = futures_util::future::join_all(guesses).await;
    let count = |status: u16| answers.iter().filter(|r| r.status() == status).count();
    assert_eq!((count(401), count(429)), (10, 70), "only ten were checked");
    assert_eq!(
        app.app.chat.passwords.checks() - checks,
        10,
        "a refused guess costs no hashing"
    );
    // The right password, last, waits like the rest.
    let res = attempt(&app, &client, "ada", PASSWORD, None).await;
    assert_eq!(res.status(), 429);
    // A quarter of an hour, to the second, from the first counted guess.
    assert!(
        (895..=900).contains(&retry_after(&res)),
        "{}",
        retry_after(&res)
    );
    assert_eq!(error_code(res).await, "rate_limited");
}

#[tokio::test]
async fn a_stranger_from_many_addresses_cannot_lock_the_owner_out_of_their_device() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_user("ada", Role::Member).await;
    // Ada signs in on her laptop once, then signs out: the laptop keeps its device cookie.
    let laptop = app.client();
    let res = attempt(&app, &laptop, "ada", PASSWORD, Some("192.0.2.10")).await;
    assert_eq!(res.status(), 200);
    let cookies: Vec<&str> = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let device = cookies
        .iter()
        .find(|c| c.starts_with("hearth_device="))
        .expect("a device cookie");
    assert!(
        device.contains("Path=/api/v1/session") && device.contains("HttpOnly"),
        "{device}"
    );
    let res = laptop
        .delete(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // A stranger guesses from fifty addresses, five each: the account-wide limit is fifty.
    let stranger = app.client();
    for i in 0..50 {
        let from = format!("203.0.113.{}", i / 5);
        let res = attempt(&app, &stranger, "ada", "guess", Some(&from)).await;
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let fresh = attempt(&app, &stranger, "ada", "guess", Some("198.51.100.1")).await;
    assert_eq!(fresh.status(), 429, "unknown devices are locked out of ada");
    // Even with the right password, a browser ada never used waits.
    let res = attempt(&app, &app.client(), "ada", PASSWORD, Some("198.51.100.2")).await;
    assert_eq!(res.status(), 429);
    // Her laptop is let in, from wherever it is now.
    let res = attempt(&app, &laptop, "ada", PASSWORD, Some("198.51.100.3")).await;
    assert_eq!(res.status(), 200, "the owner's device is not locked out");
    laptop
        .delete(app.url("/api/v1/session"))
        .send()
        .await
        .unwrap();

    // The laptop's own typos are counted for it alone: ten, then it waits too.
    for i in 0..10 {
        let res = attempt(&app, &laptop, "ada", "typo", Some("192.0.2.10")).await;
        assert_eq!(res.status(), 401, "typo {i}");
    }
    let res = attempt(&app, &laptop, "ada", PASSWORD, Some("192.0.2.10")).await;
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn a_device_cookie_of_another_account_or_forged_counts_as_unknown() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_user("ada", Role::Member).await;
    app.create_user("bob", Role::Member).await;
    let bobs = app.client();
    let res = attempt(&app, &bobs, "bob", PASSWORD, Some("192.0.2.20")).await;
    assert_eq!(res.status(), 200);
    let forged = format!(
        "hearth_device={}",
        "2.1800000000000.abcdef.00000000000000000000000000000000"
    );
    for i in 0..50 {
        let from = format!("203.0.113.{}", i / 5);
        let res = attempt(&app, &bobs, "ada", "guess", Some(&from)).await;
        assert_eq!(res.status(), 401, "guess {i}");
    }
    // Bob's device is no key to ada's account.
    let res = attempt(&app, &bobs, "ada", PASSWORD, Some("192.0.2.20")).await;
    assert_eq!(res.status(), 429);
    let res = app
        .client()
        .post(app.url("/api/v1/session"))
        .header("cookie", forged)
        .header("x-forwarded-for", "192.0.2.21")
        .json(&json!({"username": "ada", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "a forged device cookie counts for nothing"
    );
}

#[tokio::test]
async fn ipv6_clients_are_counted_by_their_64_bit_network() {
    let app = TestApp::spawn_with(|c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    app.create_user("ada", Role::Member).await;
    let client = app.client();
    for i in 1..=10 {
        let from = format!("2001:db8:1:2::{i:x}");
        let res = attempt(&app, &client, "ada", "guess", Some(&from)).await;
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let same_net = "2001:db8:1:2:ffff:ffff:ffff:ffff";
    assert_eq!(
        attempt(&app, &client, "ada", PASSWORD, Some(same_net))
            .await
            .status(),
        429
    );
    let next_net = "2001:db8:1:3::1";
    assert_eq!(
        attempt(&app, &client, "ada", PASSWORD, Some(next_net))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn checks_beyond_the_hashing_queue_are_refused_at_once_and_not_counted() {
    let app = TestApp::spawn_with(|c| {
        c.password_hash_threads = 1;
        c.password_hash_queue = 1;
        c.metrics_token = "metrics-token-for-tests".into();
    })
    .await;
    app.create_user("ada", Role::Member).await;
    let client = app.client();
    // Eight at once, within the ten ada's account allows from one address.
    let burst = (0..8).map(|_| attempt(&app, &client, "ada", "wrong password", None));
    let answers = futures_util::future::join_all(burst).await;
    let busy: Vec<&reqwest::Response> = answers.iter().filter(|r| r.status() == 503).collect();
    let checked = answers.iter().filter(|r| r.status() == 401).count();
    assert!(
        !busy.is_empty(),
        "one thread and one place in line cannot take eight at once"
    );
    assert!(
        checked >= 2,
        "the running check and the queued one are answered"
    );
    assert_eq!(busy.len() + checked, 8);
    for res in &busy {
        assert_eq!(retry_after(res), 1);
    }
    assert_eq!(app.app.chat.passwords.refused(), busy.len() as u64);
    let metrics = client
        .get(app.url("/metrics"))
        .bearer_auth("metrics-token-for-tests")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = format!("hearth_password_checks_refused_total {}", busy.len());
    assert!(metrics.contains(&line), "{line} missing:\n{metrics}");
    let first_busy = answers.into_iter().find(|r| r.status() == 503).unwrap();
    assert_eq!(error_code(first_busy).await, "busy");
    // Refused checks did not count against ada: the remaining guesses are still hers.
    for _ in checked..10 {
        let res = attempt(&app, &client, "ada", "wrong password", None).await;
        assert_eq!(res.status(), 401);
    }
    let res = attempt(&app, &client, "ada", PASSWORD, None).await;
    assert_eq!(res.status(), 429, "and ten checked guesses are the limit");
}

#[tokio::test]
async fn the_sign_in_form_says_the_server_is_busy() {
    let app = TestApp::spawn_with(|c| {
        c.password_hash_threads = 1;
        c.password_hash_queue = 0;
    })
    .await;
    app.create_user("ada", Role::Member).await;
    let forms = (0..6).map(|_| {
        app.client()
            .post(app.url("/login"))
            .form(&[("username", "ada"), ("password", "wrong password")])
            .send()
    });
    let answers = futures_util::future::join_all(forms).await;
    let busy = answers
        .into_iter()
        .map(Result::unwrap)
        .find(|r| r.status() == 503)
        .expect("some form was refused");
    assert_eq!(retry_after(&busy), 1);
    let page = busy.text().await.unwrap();
    assert!(
        page.contains("the server is busy; try again in 1 s"),
        "{page}"
    );
    assert!(
        page.contains("name=\"username\""),
        "the form is shown again"
    );
}
