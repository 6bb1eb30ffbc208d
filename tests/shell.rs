//! The web shell: security headers, assets, health, not-found, graceful shutdown.

mod common;

use common::TestApp;

fn assert_security_headers(res: &reqwest::Response) {
    let h = res.headers();
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(h["x-frame-options"], "DENY");
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let login = client.get(app.url("/login")).send().await.unwrap();
    let page = login.text().await.unwrap();
    let css = page
        .split("href=\"")
        .find(|s| s.contains("hearth.css"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    for path in [
        "/",
        "/login",
        "/healthz",
        "/nope",
        "/api/v1/me",
        "/api/v1/nope",
        css.as_str(),
        "/setup",
    ] {
        let res = client.get(app.url(path)).send().await.unwrap();
        assert_security_headers(&res);
    }
    let res = client
        .post(app.url("/login"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_security_headers(&res);
    // No inline script anywhere in a page.
    assert!(
        !page.contains("<script>") && !page.contains("onclick"),
        "{page}"
    );
}

#[tokio::test]
async fn assets_are_cache_busted_compressed_and_revalidated() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let css = page
        .split("href=\"")
        .find(|s| s.contains("hearth.css"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let js = page
        .split("src=\"")
        .find(|s| s.contains("app.js"))
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    assert!(
        css.starts_with("/assets/") && css.len() > "/assets/hearth.css".len(),
        "{css}"
    );

    let res = client
        .get(app.url(&css))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/css");
    assert_eq!(res.headers()["content-encoding"], "gzip");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = res.headers()["etag"].clone();

    let res = client
        .get(app.url(&css))
        .header("if-none-match", etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let res = client
        .get(app.url("/assets/hearth.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["etag"], etag);

    let res = client.get(app.url(&js)).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/javascript");
    assert_eq!(
        client
            .get(app.url("/assets/nope.css"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        client
            .get(app.url("/assets/../Cargo.toml"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn health_reflects_the_database_and_unknown_paths_say_not_found() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let res = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
    let res = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("not found"));
    let res = client.get(app.url("/api/v1/no/such")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(common::error_code(res).await, "not_found");
}

#[tokio::test]
async fn graceful_shutdown_finishes_and_closes_the_database() {
    let app = TestApp::spawn().await;
    let client = app.signed_in("ada").await;
    assert_eq!(
        client
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let addr = app.addr;
    let db = app.app.db.clone();
    app.stop().await.unwrap();
    assert!(
        reqwest::get(format!("http://{addr}/healthz"))
            .await
            .is_err(),
        "no longer listening"
    );
    assert!(matches!(
        db.write(|_| Ok(())).await,
        Err(hearth::Error::WriterGone)
    ));
}
