//! Links to conversations for people not in them: a channel shows a preview with a way to
//! join, a group or direct stays hidden; and `/new?to=…&text=…` opens a direct conversation
//! with its composer filled in, through sign-in when needed.

mod common;

use common::{PASSWORD, TestApp};
use serde_json::{Value, json};

#[tokio::test]
async fn a_channel_link_shows_outsiders_a_preview_with_a_join_button() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let res = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "gardening", "topic": "Tomatoes & more"}),
        )
        .await;
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    ann.say(id, "The <first> tomatoes are in").await;

    let res = bob.get(&format!("/c/{id}")).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("gardening") && page.contains("Tomatoes &amp; more"));
    assert!(page.contains("1 member"), "its member count");
    assert!(
        page.contains("The &lt;first&gt; tomatoes are in"),
        "its latest messages"
    );
    assert!(
        page.contains(&format!(r#"action="/c/{id}/join""#)),
        "a join button"
    );
    assert!(!page.contains(r#"id="composer""#), "no composer");
    // Looking is not joining.
    let members = ann.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 1);

    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let res = bob
        .http
        .post(bob.url(&format!("/c/{id}/join")))
        .header("cookie", &bob.cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let page = bob.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(
        page.contains(r#"id="composer""#),
        "now the conversation itself"
    );
}

#[tokio::test]
async fn groups_and_directs_stay_hidden_from_outsiders() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let cat = app.person("cat").await;
    let res = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "secret", "members": [bob.id]}),
        )
        .await;
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = ann
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for id in [group, direct, 999_999] {
        let res = cat.get(&format!("/c/{id}")).await;
        assert_eq!(res.status(), 404, "/c/{id}");
        let page = res.text().await.unwrap();
        assert!(!page.contains("secret"));
    }
}

#[tokio::test]
async fn a_new_link_opens_the_direct_with_the_composer_filled_in() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let link = "/new?to=bob&text=Hi%20%3Cb%3Ebob%3C%2Fb%3E%2C%20about%20Friday";
    let res = ann.get(link).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("Hi &lt;b&gt;bob&lt;/b&gt;, about Friday</textarea>"),
        "the text in the composer, escaped"
    );
    let directs = |list: Value| {
        list["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "direct")
            .count()
    };
    assert_eq!(directs(ann.json("/api/v1/conversations").await), 1);
    assert_eq!(ann.get(link).await.status(), 200);
    assert_eq!(
        directs(ann.json("/api/v1/conversations").await),
        1,
        "the same one again"
    );
    assert_eq!(directs(bob.json("/api/v1/conversations").await), 1);

    // Unknown people and overlong text are told plainly.
    let res = ann.get("/new?to=nobody").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("no user named"));
    let long = format!("/new?to=bob&text={}", "x".repeat(4001));
    assert_eq!(ann.get(&long).await.status(), 400);
    // The profile's Message button is such a link.
    let profile = ann.get("/people/bob").await.text().await.unwrap();
    assert!(profile.contains(r#"href="/new?to=bob""#));
}

#[tokio::test]
async fn a_new_link_goes_through_sign_in_and_back() {
    let app = TestApp::spawn().await;
    app.create_user("ann", hearth::domain::Role::Member).await;
    app.create_user("bob", hearth::domain::Role::Member).await;
    let client = app.client();
    let res = client
        .get(app.url("/new?to=bob&text=hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let login = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(login, "/login?next=%2Fnew%3Fto%3Dbob%26text%3Dhello");
    let page = client.get(app.url(&login)).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(
        page.contains(r#"name="next" value="/new?to=bob&amp;text=hello""#),
        "{page}"
    );
    let res = client
        .post(app.url("/login"))
        .form(&[
            ("username", "ann"),
            ("password", PASSWORD),
            ("next", "/new?to=bob&text=hello"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/new?to=bob&text=hello");
    let page = client
        .get(app.url("/new?to=bob&text=hello"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("hello</textarea>"));

    // Never to another site.
    for next in [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
    ] {
        let other = app.client();
        let res = other
            .post(app.url("/login"))
            .form(&[("username", "bob"), ("password", PASSWORD), ("next", next)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/", "{next}");
    }
}
