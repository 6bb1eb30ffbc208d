//! Joining and being added, as people see it: no one is "seen" who has not read, what is new to
//! a newcomer is unread until they open it, and the timeline tells who came, who went and what
//! changed — in order with the messages, on every page, live, after a resume, and next month.

mod common;

use common::{Person, TestApp};
use serde_json::{Value, json};

/// Opens a channel or group of `p`'s with `members` put in from the start.
async fn open(p: &Person, kind: &str, name: &str, members: &[i64]) -> i64 {
    let res = p
        .post(
            "/api/v1/conversations",
            json!({"kind": kind, "name": name, "members": members}),
        )
        .await;
    assert_eq!(res.status(), 201, "open {name}");
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn add(by: &Person, conversation: i64, who: &Person) {
    let res = by
        .post(
            &format!("/api/v1/conversations/{conversation}/members"),
            json!({"user_id": who.id}),
        )
        .await;
    assert_eq!(res.status(), 204, "{} adds {}", by.name, who.name);
}

async fn mark_read(p: &Person, conversation: i64) {
    let res = p
        .post(
            &format!("/api/v1/conversations/{conversation}/read"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 204, "{} marks read", p.name);
}

/// `p`'s unread count of one conversation, as the badge has it.
async fn unread(p: &Person, conversation: i64) -> i64 {
    let u = p.json("/api/v1/unread").await;
    u["conversations"][conversation.to_string()]
        .as_i64()
        .unwrap_or_else(|| panic!("{} has no count for {conversation}: {u}", p.name))
}

/// `p`'s entry for one conversation in their list.
async fn summary(p: &Person, conversation: i64) -> Value {
    let list = p.json("/api/v1/conversations").await;
    list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conversation)
        .unwrap_or_else(|| panic!("{} is not in {conversation}", p.name))
        .clone()
}

/// Every member's read marker, as anyone in the conversation may see it.
async fn read_markers(p: &Person, conversation: i64) -> Vec<(String, i64)> {
    let c = p
        .json(&format!("/api/v1/conversations/{conversation}"))
        .await;
    c["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["username"].as_str().unwrap().to_owned();
            (name, m["last_read_message_id"].as_i64().unwrap())
        })
        .collect()
}

async fn page(p: &Person, conversation: i64) -> String {
    let res = p.get(&format!("/c/{conversation}")).await;
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// What the "seen by" line under the newest message says on a conversation page.
fn seen_line(html: &str) -> String {
    let start = html.find(r#"id="seen""#).expect("a seen-by line");
    let text = &html[start..];
    let text = &text[text.find('>').unwrap() + 1..];
    text[..text.find("</p>").unwrap()].to_owned()
}

/// One entry of a history page in words: a message's body, or what a line tells.
fn entry(m: &Value) -> String {
    let notice = &m["notice"];
    if notice.is_null() {
        return m["body"].as_str().unwrap().to_owned();
    }
    let who = m["sender"]["username"].as_str().unwrap();
    let action = notice["action"].as_str().unwrap();
    match notice["user"]["username"].as_str() {
        Some(user) if user != who => format!("{who} {action} {user}"),
        Some(_) => format!("{who} {action}"),
        None => {
            let mut changed: Vec<String> = notice
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, _)| *k != "action")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            changed.sort();
            format!("{who} {action} {}", changed.join(" "))
        }
    }
}

async fn history(p: &Person, conversation: i64, query: &str) -> Value {
    p.json(&format!(
        "/api/v1/conversations/{conversation}/messages?{query}"
    ))
    .await
}

fn entries(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(entry)
        .collect()
}

fn ids(page: &Value) -> Vec<i64> {
    page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn someone_added_to_a_group_is_seen_by_no_one_and_has_it_unread_until_they_read_it() {
    let app = TestApp::spawn().await;
    let (bob, cat, ada) = (
        app.person("bob").await,
        app.person("cat").await,
        app.person("ada").await,
    );
    let group = open(&bob, "group", "planning", &[cat.id]).await;
    bob.say(group, "first").await;
    let second = bob.say(group, "second").await["id"].as_i64().unwrap();
    mark_read(&cat, group).await;
    assert_eq!(seen_line(&page(&bob, group).await), "Seen by cat");

    let mut bob_ws = bob.ws(None).await;
    add(&bob, group, &ada).await;
    let e = bob_ws.event().await;
    assert_eq!(e["event"], "membership.changed", "{e}");
    assert_eq!(e["data"]["action"], "added");
    assert_eq!(e["data"]["user"]["username"], "ada");
    assert_eq!(e["data"]["by"]["username"], "bob");

    // Nobody sees ada as having read what she has not opened.
    assert_eq!(seen_line(&page(&bob, group).await), "Seen by cat");
    assert_eq!(
        seen_line(&page(&cat, group).await),
        "",
        "cat sees no one but the sender at the newest message"
    );
    let markers = read_markers(&bob, group).await;
    assert!(markers.contains(&("ada".into(), 0)), "{markers:?}");
    assert!(markers.contains(&("cat".into(), second)), "{markers:?}");

    // For ada the group is unread: the badge, her list, and the page she opens.
    assert_eq!(unread(&ada, group).await, 2);
    let s = summary(&ada, group).await;
    assert_eq!(
        (s["unread"].as_i64(), s["last_read_message_id"].as_i64()),
        (Some(2), Some(0))
    );
    let html = page(&ada, group).await;
    assert!(html.contains("<strong>2</strong> new messages"), "{html}");
    let divider = html.find(r#"id="unread""#).expect("a new-messages divider");
    let first_message = html.find(r#"<article class="msg""#).unwrap();
    assert!(
        divider < first_message,
        "the divider comes before the first message"
    );

    // Opening the page is not reading it; marking it read is, and then the receipt shows.
    assert_eq!(unread(&ada, group).await, 2);
    mark_read(&ada, group).await;
    let e = bob_ws.event().await;
    assert_eq!(e["event"], "read.updated", "{e}");
    assert_eq!(
        (
            e["data"]["user"]["username"].as_str(),
            e["data"]["message_id"].as_i64()
        ),
        (Some("ada"), Some(second))
    );
    assert_eq!(seen_line(&page(&bob, group).await), "Seen by ada, cat");
    assert!(
        read_markers(&bob, group)
            .await
            .contains(&("ada".into(), second))
    );
    assert_eq!(unread(&ada, group).await, 0);
}

#[tokio::test]
async fn a_direct_started_with_a_message_is_unread_for_the_other_person() {
    let app = TestApp::spawn().await;
    let (bob, ada) = (app.person("bob").await, app.person("ada").await);
    let res = bob
        .post("/api/v1/directs", json!({"user_id": ada.id}))
        .await;
    assert_eq!(res.status(), 200);
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let hello = bob.say(direct, "hello ada").await["id"].as_i64().unwrap();

    assert_eq!(unread(&ada, direct).await, 1);
    assert_eq!(summary(&ada, direct).await["last_read_message_id"], 0);
    assert_eq!(seen_line(&page(&bob, direct).await), "");
    // A direct gets no lines: its two people are all it ever has.
    let h = history(&bob, direct, "").await;
    assert_eq!(entries(&h), ["hello ada"]);

    mark_read(&ada, direct).await;
    assert_eq!(unread(&ada, direct).await, 0);
    assert_eq!(seen_line(&page(&bob, direct).await), "Seen by ada");
    assert!(
        read_markers(&bob, direct)
            .await
            .contains(&("ada".into(), hello))
    );
}

#[tokio::test]
async fn joining_a_busy_channel_brings_no_old_unread_and_no_receipt() {
    let app = TestApp::spawn().await;
    let (bob, cat) = (app.person("bob").await, app.person("cat").await);
    let channel = open(&bob, "channel", "busy", &[]).await;
    let mut last_old = 0;
    for n in 0..3 {
        last_old = bob.say(channel, &format!("old {n}")).await["id"]
            .as_i64()
            .unwrap();
    }
    let res = cat
        .post(&format!("/api/v1/conversations/{channel}/join"), json!({}))
        .await;
    assert_eq!(res.status(), 200);

    // Its history is not news to her, yet she has read none of it.
    assert_eq!(unread(&cat, channel).await, 0);
    assert!(
        read_markers(&bob, channel)
            .await
            .contains(&("cat".into(), 0))
    );
    let html = page(&cat, channel).await;
    assert!(!html.contains("unread-bar") && !html.contains(r#"id="unread""#));

    // What comes after she joined is unread, and the divider goes right before it.
    let new = bob.say(channel, "new").await["id"].as_i64().unwrap();
    assert_eq!(unread(&cat, channel).await, 1);
    assert_eq!(summary(&cat, channel).await["unread"], 1);
    let html = page(&cat, channel).await;
    let at = |what: &str| {
        html.find(what)
            .unwrap_or_else(|| panic!("{what} on the page"))
    };
    let divider = at(r#"id="unread""#);
    let (old, joined, fresh) = (
        at(&format!(r#"id="m-{last_old}""#)),
        at(r#"data-notice="joined""#),
        at(&format!(r#"id="m-{new}""#)),
    );
    assert!(
        old < joined && joined < divider && divider < fresh,
        "old messages, her joining, the divider, the new message: {old} {joined} {divider} {fresh}"
    );

    mark_read(&cat, channel).await;
    assert_eq!(unread(&cat, channel).await, 0);
    assert!(
        read_markers(&bob, channel)
            .await
            .contains(&("cat".into(), new))
    );
}

/// bob's group with cat: bob talks, adds ada, renames it, sets the topic, cat leaves, bob
/// adds and removes dan, and talks again. Returns the conversation.
async fn eventful_group(app: &TestApp) -> (i64, Person, Person, Person, Person) {
    let (bob, cat, ada, dan) = (
        app.person("bob").await,
        app.person("cat").await,
        app.person("ada").await,
        app.person("dan").await,
    );
    let group = open(&bob, "group", "planning", &[cat.id]).await;
    bob.say(group, "one").await;
    add(&bob, group, &ada).await;
    ada.say(group, "two").await;
    let res = bob
        .patch(
            &format!("/api/v1/conversations/{group}"),
            json!({"name": "plans"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = cat
        .patch(
            &format!("/api/v1/conversations/{group}"),
            json!({"topic": "Q4 <b>goals</b>"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = cat
        .post(&format!("/api/v1/conversations/{group}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    add(&bob, group, &dan).await;
    let res = bob
        .delete(&format!("/api/v1/conversations/{group}/members/{}", dan.id))
        .await;
    assert_eq!(res.status(), 204);
    bob.say(group, "three").await;
    (group, bob, cat, ada, dan)
}

const EVENTFUL: [&str; 9] = [
    "one",
    "bob added ada",
    "two",
    r#"bob updated name="plans" old_name="planning""#,
    r#"cat updated topic="Q4 <b>goals</b>""#,
    "cat left",
    "bob added dan",
    "bob removed dan",
    "three",
];

#[tokio::test]
async fn lines_sit_in_order_among_the_messages_on_every_page() {
    let app = TestApp::spawn().await;
    let (group, bob, _cat, ada, _dan) = eventful_group(&app).await;

    let latest = history(&bob, group, "").await;
    assert_eq!(entries(&latest), EVENTFUL);
    assert_eq!(latest["has_more"], false);
    let all = ids(&latest);
    assert!(all.windows(2).all(|w| w[0] < w[1]));

    // Paged back two at a time with `before`, and forward with `after` (lines are valid
    // cursors too): the same nine, in the same order.
    let mut back: Vec<i64> = Vec::new();
    let mut page = history(&bob, group, "limit=2").await;
    for _ in 0..10 {
        let mut got = ids(&page);
        got.extend(back);
        back = got;
        if page["has_more"] == false {
            break;
        }
        page = history(&bob, group, &format!("limit=2&before={}", back[0])).await;
    }
    assert_eq!(back, all);
    let mut forth = vec![all[0]];
    for _ in 0..10 {
        let page = history(
            &bob,
            group,
            &format!("limit=2&after={}", forth.last().unwrap()),
        )
        .await;
        forth.extend(ids(&page));
        if page["has_more"] == false {
            break;
        }
    }
    assert_eq!(forth, all);

    // A line in the message shape: empty body, words in `html` for clients that know only
    // messages, who did it as `sender`, what happened in `notice`.
    let added = &latest["messages"][1];
    assert_eq!(added["body"], "");
    assert_eq!(added["html"], "<p>added <strong>ada</strong></p>");
    assert_eq!(added["notice"]["user"]["id"], ada.id);
    assert_eq!(added["deleted"], false);
    assert_eq!(added["reactions"], json!([]));
    let topic = &latest["messages"][4];
    assert_eq!(
        topic["html"],
        "<p>set the topic to <q>Q4 &lt;b&gt;goals&lt;/b&gt;</q></p>"
    );

    // The page shows them in the same order, in words, and older pages carry them too.
    let html = page_of(&bob, group).await;
    let at = |id: i64| {
        html.find(&format!(r#" id="m-{id}""#))
            .unwrap_or_else(|| panic!("row {id} on the page"))
    };
    assert!(all.windows(2).all(|w| at(w[0]) < at(w[1])));
    for words in [
        r#">bob</a> added <strong>ada</strong> <time"#,
        r#">bob</a> renamed <strong>planning</strong> to <strong>plans</strong> <time"#,
        r#">cat</a> set the topic to <q>Q4 &lt;b&gt;goals&lt;/b&gt;</q> <time"#,
        r#">cat</a> left <time"#,
        r#">bob</a> removed <strong>dan</strong> <time"#,
    ] {
        assert!(html.contains(words), "{words} on the page");
    }
    let res = bob
        .get(&format!("/c/{group}/older?before={}", all[8]))
        .await;
    let older = res.text().await.unwrap();
    for id in &all[..8] {
        assert!(
            older.contains(&format!(r#" id="m-{id}""#)),
            "{id} on the older page"
        );
    }

    // Lines are never unread: ada's "two" marked what came before as read; after it,
    // only bob's "three" is news to her.
    assert_eq!(unread(&ada, group).await, 1);
    assert_eq!(summary(&ada, group).await["mentions"], 0);
}

async fn page_of(p: &Person, conversation: i64) -> String {
    page(p, conversation).await
}

#[tokio::test]
async fn a_line_cannot_be_edited_deleted_reacted_to_replied_to_or_found_by_search() {
    let app = TestApp::spawn().await;
    let (group, bob, _cat, _ada, _dan) = eventful_group(&app).await;
    let latest = history(&bob, group, "").await;
    let line = latest["messages"][1].clone();
    let id = line["id"].as_i64().unwrap();
    assert_eq!(entry(&line), "bob added ada");

    let res = bob
        .patch(&format!("/api/v1/messages/{id}"), json!({"body": "nope"}))
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(
        bob.delete(&format!("/api/v1/messages/{id}")).await.status(),
        400
    );
    assert_eq!(
        bob.put(&format!("/api/v1/messages/{id}/reactions/👍"))
            .await
            .status(),
        400
    );
    let res = bob
        .post(
            &format!("/api/v1/conversations/{group}/messages"),
            json!({"body": "re", "reply_to": id}),
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(bob.get(&format!("/m/{id}")).await.status(), 404);
    // Nothing changed: the same line, nothing added.
    let after = history(&bob, group, "").await;
    assert_eq!(after["messages"][1], line);
    assert_eq!(entries(&after), EVENTFUL);

    // The search index holds the messages' words, none of the lines'.
    let found = |word: &str| -> i64 {
        app.sql()
            .query_row(
                "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH ?1",
                [word],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(found("three"), 1);
    for word in ["plans", "planning", "goals", "added", "left"] {
        assert_eq!(found(word), 0, "{word}");
    }
}

#[tokio::test]
async fn a_change_that_changes_nothing_writes_no_line() {
    let app = TestApp::spawn().await;
    let bob = app.person("bob").await;
    let group = open(&bob, "group", "planning", &[]).await;
    let res = bob
        .patch(
            &format!("/api/v1/conversations/{group}"),
            json!({"name": "planning", "topic": ""}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        entries(&history(&bob, group, "").await),
        Vec::<String>::new()
    );
    let res = bob
        .patch(
            &format!("/api/v1/conversations/{group}"),
            json!({"archived": true}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = bob
        .patch(
            &format!("/api/v1/conversations/{group}"),
            json!({"archived": false}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        entries(&history(&bob, group, "").await),
        ["bob updated archived=true", "bob updated archived=false"]
    );
}

#[tokio::test]
async fn a_client_resuming_by_since_gets_the_lines_a_fresh_page_shows() {
    let app = TestApp::spawn().await;
    let (bob, ada, cat) = (
        app.person("bob").await,
        app.person("ada").await,
        app.person("cat").await,
    );
    let group = open(&bob, "group", "planning", &[ada.id]).await;
    bob.say(group, "before").await;
    let ws = ada.ws(None).await;
    let since = ws.ready["seq"].as_i64().unwrap();
    drop(ws);

    add(&bob, group, &cat).await;
    let res = bob
        .patch(
            &format!("/api/v1/conversations/{group}"),
            json!({"name": "plans"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = cat
        .post(&format!("/api/v1/conversations/{group}/leave"), json!({}))
        .await;
    assert_eq!(res.status(), 204);
    bob.say(group, "after").await;

    let mut ws = ada.ws(Some(since)).await;
    let mut missed = Vec::new();
    for _ in 0..4 {
        missed.push(ws.event().await);
    }
    assert!(
        ws.quiet_for(200).await.is_none(),
        "{:?}",
        ws.quiet_for(0).await
    );
    let kinds: Vec<&str> = missed
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "membership.changed",
            "conversation.updated",
            "membership.changed",
            "message.created"
        ]
    );
    // Each event carries its row and that row's fragment, and a fresh page shows those very
    // bytes, in the same order as the events came.
    let html = page(&ada, group).await;
    let mut last = 0;
    for e in &missed {
        let fragment = e["data"]["html"].as_str().unwrap();
        let at = html
            .find(fragment)
            .unwrap_or_else(|| panic!("the page holds the fragment of {e}"));
        assert!(at > last, "in order");
        last = at;
    }
    let rows: Vec<String> = missed
        .iter()
        .map(|e| entry(&e["data"]["message"]))
        .collect();
    assert_eq!(
        rows,
        [
            "bob added cat",
            r#"bob updated name="plans" old_name="planning""#,
            "cat left",
            "after"
        ]
    );
    let history = history(&ada, group, "").await;
    assert_eq!(
        entries(&history)[1..],
        rows[..],
        "and the history says the same"
    );
}

#[tokio::test]
async fn the_kept_latest_page_shows_a_new_line_at_once_even_one_the_cli_wrote() {
    let app = TestApp::spawn().await;
    let (bob, ada) = (app.person("bob").await, app.person("ada").await);
    let group = open(&bob, "group", "planning", &[]).await;
    bob.say(group, "hi").await;
    // Read, and so kept in memory; then a line is written.
    assert_eq!(entries(&history(&bob, group, "").await), ["hi"]);
    add(&bob, group, &ada).await;
    assert_eq!(
        entries(&history(&bob, group, "").await),
        ["hi", "bob added ada"]
    );

    let general = bob.general().await;
    let mut ws = bob.ws(None).await;
    let before = entries(&history(&bob, general, "").await);
    assert_eq!(before, ["bob joined", "ada joined"]);
    app.create_from_cli("cat").await;
    let e = ws.event().await;
    assert_eq!(e["data"]["user"]["username"], "cat", "{e}");
    assert_eq!(e["data"]["message"]["notice"]["action"], "joined");
    assert_eq!(
        entries(&history(&bob, general, "").await),
        ["bob joined", "ada joined", "cat joined"],
        "the page kept before the other process wrote is not served again"
    );
    assert!(
        page(&bob, general)
            .await
            .contains(e["data"]["html"].as_str().unwrap())
    );
}
