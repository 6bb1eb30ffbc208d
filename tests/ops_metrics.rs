//! `/metrics` as Prometheus scrapes it: absent unless a token is configured, guarded by it,
//! and counting what an operator watches.

mod common;

use common::{PASSWORD, TestApp};
use serde_json::json;

const TOKEN: &str = "a-long-enough-metrics-token";

async fn scrape(app: &TestApp) -> String {
    let res = app
        .client()
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    res.text().await.unwrap()
}

/// The value of the sample whose name and labels are exactly `series`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_do_not_exist_without_a_token_and_need_it_when_set() {
    let app = TestApp::spawn().await;
    let res = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app
        .client()
        .get(app.url("/metrics"))
        .bearer_auth("anything at all, long")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        404,
        "no token configured: no endpoint, whatever is sent"
    );
    app.stop().await.unwrap();

    let app = TestApp::spawn_with(|c| c.metrics_token = TOKEN.into()).await;
    let res = app.client().get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().contains_key("www-authenticate"));
    let res = app
        .client()
        .get(app.url("/metrics"))
        .bearer_auth("a-long-enough-metrics-tokeN")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let text = scrape(&app).await;
    for family in [
        "hearth_open_sockets",
        "hearth_messages_posted_total",
        "hearth_writer_commits_total",
        "hearth_writer_batch_size_max",
        "hearth_writer_commit_seconds_total",
        "hearth_writer_failed_batches_total",
        "hearth_writer_refused_total",
        "hearth_writer_hook_panics_total",
        "hearth_http_request_duration_seconds",
        "hearth_login_failures_total",
        "hearth_database_bytes",
        "hearth_wal_bytes",
    ] {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "{family} in {text}"
        );
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_count_logins_messages_sockets_writes_and_requests_by_route() {
    let app = TestApp::spawn_with(|c| c.metrics_token = TOKEN.into()).await;
    let ada = app.person("ada").await;
    let client = app.client();
    for _ in 0..2 {
        let res = client
            .post(app.url("/api/v1/session"))
            .json(&json!({"username": "ada", "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
    }
    let res = client
        .post(app.url("/login"))
        .form(&[("username", "nobody"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let general: i64 = app
        .sql()
        .query_row(
            "SELECT id FROM conversations WHERE name = 'general'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    for i in 0..3 {
        ada.say(general, &format!("message {i}")).await;
    }
    let _ws = ada.ws(None).await;

    let text = scrape(&app).await;
    assert_eq!(
        sample(&text, "hearth_login_failures_total"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "hearth_messages_posted_total"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(sample(&text, "hearth_open_sockets"), Some(1.0), "{text}");
    let route = r#"method="POST",route="/api/v1/conversations/{id}/messages""#;
    assert_eq!(
        sample(
            &text,
            &format!("hearth_http_requests_total{{{route},status=\"201\"}}")
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("hearth_http_request_duration_seconds_count{{{route}}}")
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            &format!("hearth_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}}")
        ),
        Some(3.0)
    );
    assert_eq!(
        sample(
            &text,
            r#"hearth_http_requests_total{method="POST",route="/api/v1/session",status="401"}"#
        ),
        Some(2.0)
    );
    // Each message, and each login, went through the writer.
    let jobs = sample(&text, "hearth_writer_jobs_total").unwrap();
    let commits = sample(&text, "hearth_writer_commits_total").unwrap();
    assert!(
        jobs >= 5.0 && commits >= 1.0 && commits <= jobs,
        "{jobs} jobs in {commits} commits"
    );
    assert!(sample(&text, "hearth_database_bytes").unwrap() > 0.0);
    // Unknown paths are one series, not one per path.
    client.get(app.url("/no/such/page/1")).send().await.unwrap();
    client.get(app.url("/no/such/page/2")).send().await.unwrap();
    let text = scrape(&app).await;
    assert_eq!(
        sample(
            &text,
            r#"hearth_http_requests_total{method="GET",route="unmatched",status="404"}"#
        ),
        Some(2.0)
    );
    app.stop().await.unwrap();
}
