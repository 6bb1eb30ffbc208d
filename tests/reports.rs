//! Reports: a member tells the admins about a message they can see; it lands in the
//! reporter's support conversation with a link to the message, and the admins may open that
//! message even where they are not members. A message one cannot see cannot be reported.

mod common;

use common::{Person, TestApp};
use hearth::domain::Role;
use serde_json::{Value, json};

async fn count(app: &TestApp, table: &str) -> i64 {
    app.sql()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// A private group of `owner` with `members`, and a message of `owner` in it.
async fn group_message(owner: &Person, members: &[i64], body: &str) -> (i64, i64) {
    let res = owner
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": "backroom", "members": members}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let group = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let m = owner.say(group, body).await["id"].as_i64().unwrap();
    (group, m)
}

#[tokio::test]
async fn a_report_lands_in_the_reporters_support_conversation_and_opens_the_message_to_admins() {
    let app = TestApp::spawn().await;
    let ann = app.person_with_role("ann", Role::Admin).await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let (_, rude) = group_message(&bob, &[ada.id], "something rude").await;
    // Before any report the admin, who is not in the group, cannot open it.
    assert_eq!(ann.get(&format!("/m/{rude}")).await.status(), 404);

    let res = ada
        .post(
            &format!("/api/v1/messages/{rude}/report"),
            json!({"reason": "insults <b>me</b>"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let line: Value = res.json().await.unwrap();
    let support = line["conversation_id"].as_i64().unwrap();
    assert_eq!(
        line["sender"]["username"], "ada",
        "the reporter sees it as theirs"
    );
    assert!(
        line["html"]
            .as_str()
            .unwrap()
            .contains(&format!(r#"href="/m/{rude}""#))
    );
    assert!(line["body"].as_str().unwrap().contains("insults <b>me</b>"));
    assert!(
        !line["html"].as_str().unwrap().contains("<b>me</b>"),
        "escaped"
    );
    let support_id = ada.json("/api/v1/conversations").await["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| !c["support"].is_null())
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(support, support_id, "the reporter's support conversation");
    assert_eq!(count(&app, "reports").await, 1);

    // The admins see it as unread, can follow the link, and see the message (read-only).
    let unread = ann.json("/api/v1/unread").await;
    assert_eq!(unread["conversations"][support.to_string()], 1);
    let history = ann
        .json(&format!("/api/v1/conversations/{support}/messages"))
        .await;
    assert_eq!(history["messages"][0]["id"], line["id"]);
    let page = ann.get(&format!("/m/{rude}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("something rude"));
    assert!(!page.contains(r#"id="reply-body""#), "but not write in it");
    // Nobody else gains anything.
    let cat = app.person("cat").await;
    assert_eq!(cat.get(&format!("/m/{rude}")).await.status(), 404);
    // Reporting again uses the same support conversation.
    let res = ada
        .post(&format!("/api/v1/messages/{rude}/report"), json!({}))
        .await;
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["conversation_id"], support);
    assert_eq!(count(&app, "support_threads").await, 1);
}

#[tokio::test]
async fn reporting_a_message_one_cannot_see_is_404_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let ann = app.person_with_role("ann", Role::Admin).await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let cat = app.person("cat").await;
    let (_, hidden) = group_message(&bob, &[cat.id], "between bob and cat").await;
    let before = count(&app, "messages").await;
    for path in [
        format!("/api/v1/messages/{hidden}/report"),
        "/api/v1/messages/999999/report".to_owned(),
    ] {
        let res = ada.post(&path, json!({"reason": "curious"})).await;
        assert_eq!(res.status(), 404, "{path}");
    }
    assert_eq!(count(&app, "reports").await, 0);
    assert_eq!(
        count(&app, "support_threads").await,
        0,
        "no support conversation made"
    );
    assert_eq!(count(&app, "messages").await, before);

    // A reason over 500 characters is refused, nothing written either.
    let general = ada.general().await;
    let seen = bob.say(general, "hello all").await["id"].as_i64().unwrap();
    let res = ada
        .post(
            &format!("/api/v1/messages/{seen}/report"),
            json!({"reason": "x".repeat(501)}),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(count(&app, "reports").await, 0);
    assert_eq!(count(&app, "support_threads").await, 0);

    // A channel's messages are there for all to see, members or not.
    let res = bob
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "market", "topic": ""}),
        )
        .await;
    let market = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let ad = bob.say(market, "buy my stuff").await["id"]
        .as_i64()
        .unwrap();
    let res = ada
        .post(&format!("/api/v1/messages/{ad}/report"), json!({}))
        .await;
    assert_eq!(res.status(), 201, "ada is not in #market, yet sees it");
    assert_eq!(count(&app, "reports").await, 1);
    // Admins have no support conversation of their own to report into.
    let res = ann
        .post(&format!("/api/v1/messages/{ad}/report"), json!({}))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(count(&app, "reports").await, 1);
}

#[tokio::test]
async fn the_message_page_reports_with_a_plain_form() {
    let app = TestApp::spawn().await;
    let _ann = app.person_with_role("ann", Role::Admin).await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let general = ada.general().await;
    let m = bob.say(general, "spam spam spam").await["id"]
        .as_i64()
        .unwrap();
    let page = ada.get(&format!("/m/{m}")).await.text().await.unwrap();
    assert!(
        page.contains(&format!(r#"action="/m/{m}/report""#)),
        "a report form"
    );
    let own = bob.get(&format!("/m/{m}")).await.text().await.unwrap();
    assert!(
        !own.contains("/report\""),
        "nobody reports their own message"
    );
    // The conversation's fragment links every message to it.
    let conv = ada
        .get(&format!("/c/{general}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(conv.contains(&format!(r##"href="/m/{m}#report""##)));

    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let res = ada
        .http
        .post(ada.url(&format!("/m/{m}/report")))
        .header("cookie", &ada.cookie)
        .form(&[("csrf", csrf.as_str()), ("reason", "advertising")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.starts_with("/c/") && to.contains("#m-"), "{to}");
    let support = ada
        .get(to.split('#').next().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(support.contains("advertising") && support.contains(&format!(r#"href="/m/{m}""#)));
}
