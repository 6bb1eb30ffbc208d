//! Notification levels, mute and do not disturb, and the page notices a message sends: who
//! hears of it, and who does not.

mod common;

use common::{Person, TestApp, Ws};
use serde_json::{Value, json};

/// The next `notify` frame within `ms`, skipping events and presence; `None` if none came.
async fn notice(ws: &mut Ws, ms: u64) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match ws.quiet_for(left.as_millis() as u64).await {
            None => return None,
            Some(f) if f["type"] == "notify" => return Some(f["notice"].clone()),
            Some(_) => continue,
        }
    }
}

async fn group(owner: &Person, name: &str, members: &[i64]) -> i64 {
    let res = owner
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": name, "members": members}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn direct(from: &Person, to: &Person) -> i64 {
    let res = from
        .post("/api/v1/directs", json!({"user_id": to.id}))
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn level(p: &Person, conversation: i64) -> Value {
    p.json(&format!("/api/v1/conversations/{conversation}/notify"))
        .await
}

#[tokio::test]
async fn channels_tell_of_mentions_directs_and_groups_of_everything() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let general = ada.general().await;
    let planning = group(&ada, "planning", &[bob.id]).await;
    let dm = direct(&ada, &bob).await;
    assert_eq!(
        level(&bob, general).await,
        json!({"level": "mentions", "muted": false})
    );
    assert_eq!(
        level(&bob, planning).await,
        json!({"level": "all", "muted": false})
    );
    assert_eq!(
        level(&bob, dm).await,
        json!({"level": "all", "muted": false})
    );
    // The conversation list carries it too.
    let list = bob.json("/api/v1/conversations").await;
    let entry = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == general)
        .unwrap()
        .clone();
    assert_eq!(
        entry["notify"],
        json!({"level": "mentions", "muted": false})
    );
}

#[tokio::test]
async fn a_level_changes_reads_back_and_bad_ones_change_nothing() {
    let app = TestApp::spawn().await;
    let (ada, bob, cat) = (
        app.person("ada").await,
        app.person("bob").await,
        app.person("cat").await,
    );
    let planning = group(&ada, "planning", &[bob.id]).await;
    let path = format!("/api/v1/conversations/{planning}/notify");
    let mut wb = bob.ws(None).await;

    let res = bob.patch(&path, json!({"muted": true})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"level": "all", "muted": true})
    );
    // Bob's other pages hear of it.
    let e = wb.event().await;
    assert_eq!(e["event"], "notify.updated");
    assert_eq!(
        e["data"],
        json!({"conversation": planning, "level": "all", "muted": true})
    );

    let res = bob.patch(&path, json!({"level": "none"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        level(&bob, planning).await,
        json!({"level": "none", "muted": true})
    );

    for bad in [
        json!({"level": "loud"}),
        json!({"level": "All"}),
        json!({"level": 1}),
        json!({"muted": "yes"}),
        json!({"level": "all", "sound": true}),
    ] {
        let res = bob.patch(&path, bad.clone()).await;
        assert_eq!(res.status(), 400, "{bad}");
    }
    assert_eq!(
        level(&bob, planning).await,
        json!({"level": "none", "muted": true})
    );
    // Not a member: 404, as for anything about a conversation one cannot see.
    let res = cat.patch(&path, json!({"level": "all"})).await;
    assert_eq!(res.status(), 404);
    assert_eq!(cat.get(&path).await.status(), 404);
    assert_eq!(
        bob.patch("/api/v1/conversations/9999/notify", json!({"level": "all"}))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn page_notices_follow_levels_mentions_mute_and_quiet() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let general = ada.general().await;
    let planning = group(&ada, "planning", &[bob.id]).await;
    let dm = direct(&ada, &bob).await;
    let mut wb = bob.ws(None).await;
    let mut wa = ada.ws(None).await;

    // A channel: a plain message tells Bob nothing; a mention does.
    ada.say(general, "lunch anyone?").await;
    assert_eq!(notice(&mut wb, 400).await, None);
    let m = ada.say(general, "@bob lunch?").await;
    let n = notice(&mut wb, 3000).await.expect("a mention notifies");
    let id = m["id"].as_i64().unwrap();
    assert_eq!(n["message_id"], id);
    assert_eq!(n["conversation"], general);
    assert_eq!(n["title"], "#general");
    assert_eq!(n["body"], "ada: @bob lunch?");
    assert_eq!(n["url"], format!("/c/{general}?at={id}#m-{id}"));
    assert_eq!(n["tag"], format!("c{general}"));
    assert_eq!(n["mention"], true);
    // Never the sender.
    assert_eq!(notice(&mut wa, 300).await, None);

    // A direct: everything, titled by the sender.
    ada.say(dm, "are you there?").await;
    let n = notice(&mut wb, 3000).await.expect("a direct notifies");
    assert_eq!(
        (n["title"].as_str(), n["body"].as_str()),
        (Some("ada"), Some("are you there?"))
    );
    assert_eq!(n["mention"], false);

    // A group, muted: only a mention gets through.
    let path = format!("/api/v1/conversations/{planning}/notify");
    assert_eq!(bob.patch(&path, json!({"muted": true})).await.status(), 200);
    ada.say(planning, "agenda is up").await;
    assert_eq!(notice(&mut wb, 400).await, None);
    ada.say(planning, "@bob your item is first").await;
    assert_eq!(
        notice(&mut wb, 3000)
            .await
            .expect("a mention gets through a mute")["title"],
        "planning"
    );
    // Nothing: not even a mention.
    assert_eq!(
        bob.patch(&path, json!({"level": "none"})).await.status(),
        200
    );
    ada.say(planning, "@bob still there?").await;
    assert_eq!(notice(&mut wb, 400).await, None);

    // Do not disturb: nothing at all, then everything again once it is ended.
    let soon = now_ms() + 3_600_000;
    let res = bob
        .put_json("/api/v1/me/quiet", json!({"until": soon}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(bob.json("/api/v1/me/quiet").await["until"], soon);
    ada.say(dm, "urgent!").await;
    assert_eq!(notice(&mut wb, 400).await, None);
    let res = bob
        .put_json("/api/v1/me/quiet", json!({"until": null}))
        .await;
    assert_eq!(res.status(), 200);
    ada.say(dm, "urgent, again").await;
    assert_eq!(
        notice(&mut wb, 3000).await.expect("quiet ended")["body"],
        "urgent, again"
    );
}

#[tokio::test]
async fn quiet_times_in_the_past_or_past_a_year_are_refused() {
    let app = TestApp::spawn().await;
    let bob = app.person("bob").await;
    let year = 366 * 24 * 3600 * 1000_i64;
    for (until, ok) in [
        (now_ms() - 1000, false),
        (now_ms() + year - 60_000, true),
        (now_ms() + year + 60_000, false),
    ] {
        let res = bob
            .put_json("/api/v1/me/quiet", json!({"until": until}))
            .await;
        assert_eq!(res.status().is_success(), ok, "{until}");
    }
    for bad in [json!({"until": "tomorrow"}), json!({"for": 5}), json!([])] {
        assert_eq!(bob.put_json("/api/v1/me/quiet", bad).await.status(), 400);
    }
}

#[tokio::test]
async fn the_bell_form_sets_a_level_and_a_muted_conversation_shows_no_unread_count() {
    let app = TestApp::spawn().await;
    let (ada, bob) = (app.person("ada").await, app.person("bob").await);
    let planning = group(&ada, "planning", &[bob.id]).await;
    let general = bob.general().await;
    let page = bob
        .get(&format!("/c/{planning}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Notifications: All"),
        "the bell shows the level"
    );

    let csrf = bob.csrf("/account").await;
    let res = bob
        .form(
            &format!("/c/{planning}/notify"),
            &[("csrf", &csrf), ("level", "mentions"), ("muted", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        level(&bob, planning).await,
        json!({"level": "mentions", "muted": true})
    );
    // Without the CSRF token, nothing changes.
    let res = bob
        .form(&format!("/c/{planning}/notify"), &[("level", "all")])
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_eq!(level(&bob, planning).await["level"], "mentions");

    ada.say(planning, "one").await;
    ada.say(planning, "two").await;
    let home = bob
        .get(&format!("/c/{general}"))
        .await
        .text()
        .await
        .unwrap();
    let entry = entry_of(&home, planning);
    assert!(entry.contains("data-muted"), "{entry}");
    assert!(entry.contains(r#"data-unread="2""#), "{entry}");
    assert!(
        entry.contains(r#"class="badge unread-badge" data-unread="0" hidden"#),
        "{entry}"
    );
    // A mention brings the count back.
    ada.say(planning, "@bob three").await;
    let home = bob
        .get(&format!("/c/{general}"))
        .await
        .text()
        .await
        .unwrap();
    let entry = entry_of(&home, planning);
    assert!(
        entry.contains(r#"class="badge unread-badge" data-unread="3">"#),
        "{entry}"
    );
    assert!(entry.contains(r#"data-mentions="1""#), "{entry}");

    // The settings page lists it with its level checked.
    let settings = bob.get("/account/notifications").await;
    assert_eq!(settings.status(), 200);
    let settings = settings.text().await.unwrap();
    assert!(settings.contains("Do not disturb"), "{settings}");
    assert!(
        settings.contains(r#"value="mentions" checked"#),
        "{settings}"
    );
}

/// The sidebar entry of a conversation in a page.
fn entry_of(page: &str, id: i64) -> String {
    let start = page
        .find(&format!(r#"data-conversation-id="{id}""#))
        .expect("the conversation is listed");
    let end = page[start..].find("</a>").unwrap();
    page[start..start + end].to_string()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
