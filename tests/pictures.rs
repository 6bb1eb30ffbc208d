//! Pictures end to end: an avatar uploaded (by the API or the account page's form), cut to a
//! 256-pixel square and seen by others wherever the person shows; bad pictures refused with
//! nothing changed; pictures served only to who may see them; a group's picture for its owners
//! alone; and the community's logo, audited, on the sign-in page and as the tabs' icon.

mod common;

use common::images::{png, png_claiming};
use common::{Person, TestApp};
use hearth::domain::Role;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// PUTs `bytes` as the raw body of `path`.
async fn put_raw(who: &Person, path: &str, bytes: Vec<u8>) -> reqwest::Response {
    who.http
        .put(who.url(path))
        .header("cookie", &who.cookie)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Posts a page's file form as a browser does: `csrf` first, then the file under `field`.
async fn post_file(
    who: &Person,
    path: &str,
    csrf: &str,
    field: &str,
    bytes: &[u8],
) -> reqwest::Response {
    let boundary = "hearth-test-boundary-7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"me.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    who.http
        .post(who.url(path))
        .header("cookie", &who.cookie)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

/// The picture at `url` as `who` fetches it, decoded: (width, height).
async fn fetched_size(who: &Person, url: &str) -> (u32, u32) {
    let res = who.get(url).await;
    assert_eq!(res.status(), 200, "GET {url}");
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind == "image/jpeg" || kind == "image/png", "{kind}");
    let bytes = res.bytes().await.unwrap();
    let img = image::load_from_memory(&bytes).unwrap();
    (img.width(), img.height())
}

async fn avatar_url(who: &Person) -> Value {
    who.json("/api/v1/me").await["avatar_url"].clone()
}

#[tokio::test]
async fn an_avatar_is_cut_square_and_seen_wherever_its_person_shows() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    assert_eq!(avatar_url(&ann).await, Value::Null);

    let res = put_raw(&ann, "/api/v1/me/avatar", png(600, 400, 200)).await;
    assert_eq!(res.status(), 200);
    let me: Value = res.json().await.unwrap();
    let url = me["avatar_url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with("/pictures/") && url.len() == 10 + 64,
        "{url}"
    );
    assert_eq!(avatar_url(&ann).await, json!(url));
    assert_eq!(fetched_size(&ann, &url).await, (256, 256));
    let cache = ann.get(&url).await.headers()["cache-control"].clone();
    assert!(cache.to_str().unwrap().contains("immutable"));

    // Bob sees it beside her message, in the API and on the pages.
    let general = ann.general().await;
    ann.say(general, "hello with a face").await;
    let history = bob
        .json(&format!("/api/v1/conversations/{general}/messages"))
        .await;
    let said = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["body"] == "hello with a face")
        .unwrap();
    assert_eq!(said["sender"]["avatar_url"], json!(url));
    let users = bob.json("/api/v1/users").await;
    let listed = users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "ann")
        .unwrap();
    assert_eq!(listed["avatar_url"], json!(url), "the directory carries it");
    assert_eq!(fetched_size(&bob, &url).await, (256, 256));
    let img = format!(r#"<img class="avatar" src="{url}""#);
    let page = bob
        .get(&format!("/c/{general}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&img), "the message shows her picture");
    let people = bob.get("/people").await.text().await.unwrap();
    assert!(people.contains(&img), "the directory shows her picture");
    assert!(
        people.contains(r#"<span class="avatar hue-"#),
        "bob, without one, keeps his initials"
    );

    // Nobody signed out sees it.
    let stranger = app.client().get(app.url(&url)).send().await.unwrap();
    assert_ne!(stranger.status(), 200);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_pictures_are_refused_and_nothing_changes() {
    let app = TestApp::spawn_with(|c| c.max_upload_mb = 1).await;
    let ann = app.person("ann").await;
    let res = put_raw(&ann, "/api/v1/me/avatar", png(300, 300, 200)).await;
    assert_eq!(res.status(), 200);
    let before = avatar_url(&ann).await;
    let stored = app.blobs();
    assert_eq!(stored, 1, "only the square is kept, not the upload");

    let refused = |bytes: Vec<u8>| put_raw(&ann, "/api/v1/me/avatar", bytes);
    let res = refused(b"%PDF-1.4 not a picture at all".to_vec()).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains("JPEG"),
        "{body}"
    );

    let res = refused(png_claiming(20_000, 20_000)).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("20000") && message.contains("cannot be used"),
        "{message}"
    );

    assert_eq!(refused(Vec::new()).await.status(), 400);
    // Under the declared-length guard, over the limit as it streams.
    assert_eq!(refused(vec![7u8; 1_100_000]).await.status(), 413);
    // Over it by its declared length: refused before a byte is read.
    assert_eq!(refused(vec![7u8; 3_000_000]).await.status(), 413);

    assert_eq!(avatar_url(&ann).await, before);
    assert_eq!(app.blobs(), stored, "nothing refused was kept");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_account_page_form_sets_and_removes_the_picture_without_script() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let csrf = ann.csrf("/account").await;
    let page = ann.get("/account").await.text().await.unwrap();
    assert!(page.contains(r#"enctype="multipart/form-data""#));
    assert!(!page.contains("Remove picture"));

    let res = post_file(
        &ann,
        "/account/avatar",
        &csrf,
        "picture",
        &png(90, 120, 200),
    )
    .await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("Your picture is changed."), "{page}");
    let url = avatar_url(&ann).await.as_str().unwrap().to_owned();
    assert!(page.contains(&format!(r#"<img class="avatar" src="{url}""#)));
    assert_eq!(fetched_size(&ann, &url).await, (90, 90), "never enlarged");

    // A forged form is refused before its file is read.
    let res = post_file(
        &ann,
        "/account/avatar",
        "forged",
        "picture",
        &png(50, 50, 200),
    )
    .await;
    assert_eq!(res.status(), 403);
    // A file that is no picture is said on the page, and nothing changes.
    let res = post_file(&ann, "/account/avatar", &csrf, "picture", b"plain words").await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("JPEG, PNG, GIF or WebP"));
    assert_eq!(avatar_url(&ann).await, json!(url));

    let res = ann.form("/account/avatar/remove", &[("csrf", &csrf)]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("initials show again"));
    assert_eq!(avatar_url(&ann).await, Value::Null);

    // The API takes it away too.
    put_raw(&ann, "/api/v1/me/avatar", png(64, 64, 200)).await;
    assert!(avatar_url(&ann).await.is_string());
    let res = ann.delete("/api/v1/me/avatar").await;
    assert_eq!(res.status(), 200);
    assert_eq!(avatar_url(&ann).await, Value::Null);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn only_pictures_someone_may_see_are_served() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let random = "5a".repeat(32);
    assert_eq!(ann.get(&format!("/pictures/{random}")).await.status(), 404);
    assert_eq!(ann.get("/pictures/not-a-sha").await.status(), 404);
    assert_eq!(
        ann.get(&format!("/pictures/{}", random.to_uppercase()))
            .await
            .status(),
        404
    );
    // A stored file is a blob too, but no picture: it is not served here.
    let bytes = png(40, 40, 200);
    ann.uploaded("shot.png", bytes.clone()).await;
    let sha = hex::encode(Sha256::digest(&bytes));
    assert_eq!(ann.get(&format!("/pictures/{sha}")).await.status(), 404);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_groups_picture_is_for_its_owners_and_seen_by_its_members_only() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    let cat = app.person("cat").await;
    let res = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "plans", "members": [bob.id]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let path = format!("/api/v1/conversations/{id}/picture");

    // A member who is no owner, and someone outside, may not.
    assert_eq!(put_raw(&bob, &path, png(80, 80, 200)).await.status(), 403);
    assert_eq!(put_raw(&cat, &path, png(80, 80, 200)).await.status(), 404);
    assert_eq!(bob.delete(&path).await.status(), 403);
    assert_eq!(
        app.count("SELECT count(*) FROM conversations WHERE picture_sha256 IS NOT NULL"),
        0
    );

    let res = put_raw(&ann, &path, png(500, 300, 200)).await;
    assert_eq!(res.status(), 200);
    let url = res.json::<Value>().await.unwrap()["picture_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(fetched_size(&bob, &url).await, (256, 256));
    assert_eq!(cat.get(&url).await.status(), 404, "not for outsiders");
    let list = bob.json("/api/v1/conversations").await;
    let plans = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap();
    assert_eq!(plans["picture_url"], json!(url));
    let page = bob.get(&format!("/c/{id}")).await.text().await.unwrap();
    let img = format!(r#"<img class="conv-picture" src="{url}""#);
    assert_eq!(page.matches(&img).count(), 2, "in the header and the list");

    // The owner's form on the settings page, without script.
    let settings = format!("/c/{id}/settings");
    let csrf = ann.csrf(&settings).await;
    let page = ann.get(&settings).await.text().await.unwrap();
    assert!(page.contains(&format!(r#"action="/c/{id}/picture""#)));
    let bobs = bob.get(&settings).await.text().await.unwrap();
    assert!(!bobs.contains("Upload picture"), "not offered to members");
    let res = post_file(
        &ann,
        &format!("/c/{id}/picture"),
        &csrf,
        "picture",
        &png(70, 70, 200),
    )
    .await;
    assert_eq!(res.status(), 303);
    let now = bob.json(&format!("/api/v1/conversations/{id}")).await;
    assert_ne!(now["picture_url"], json!(url));
    assert!(now["picture_url"].is_string());
    let res = ann
        .form(&format!("/c/{id}/picture/remove"), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), 303);
    let now = bob.json(&format!("/api/v1/conversations/{id}")).await;
    assert_eq!(now["picture_url"], Value::Null);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_logo_is_audited_and_shown_on_the_sign_in_page() {
    let app = TestApp::spawn().await;
    let admin = app.person_with_role("root", Role::Admin).await;
    let ann = app.person("ann").await;
    let anyone = app.client();
    assert_eq!(
        anyone.get(app.url("/logo")).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        put_raw(&ann, "/api/v1/admin/logo", png(64, 64, 200))
            .await
            .status(),
        404
    );

    let csrf = admin.csrf("/admin/settings").await;
    let res = post_file(
        &admin,
        "/admin/settings/logo",
        &csrf,
        "logo",
        &png(300, 300, 200),
    )
    .await;
    assert_eq!(res.status(), 303);
    let detail: String = app
        .sql()
        .query_row(
            "SELECT detail FROM audit_log WHERE action = 'setting.change' AND target = 'instance.logo'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["from"], Value::Null);
    let sha = detail["to"].as_str().unwrap().to_owned();

    let login = anyone.get(app.url("/login")).send().await.unwrap();
    let page = login.text().await.unwrap();
    let versioned = format!("/logo?v={}", &sha[..16]);
    assert!(
        page.contains(&format!(r#"<img class="login-logo" src="{versioned}""#)),
        "{page}"
    );
    assert!(page.contains(&format!(r#"<link rel="icon" href="{versioned}">"#)));
    let res = anyone.get(app.url(&versioned)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let res = anyone.get(app.url("/logo")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let top = ann.get("/account").await.text().await.unwrap();
    assert!(top.contains(r#"class="brand-logo""#), "beside the name");
    let settings = admin.json("/api/v1/admin/settings").await;
    assert_eq!(settings["settings"]["logo_url"], json!(versioned));

    let res = admin
        .form("/admin/settings/logo/remove", &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        anyone.get(app.url("/logo")).send().await.unwrap().status(),
        404
    );
    let page = anyone
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("login-logo") && page.contains("favicon"));
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE target = 'instance.logo'"),
        2
    );
    app.stop().await.unwrap();
}
