//! Search through the API and the results page: every filter, words beyond English
//! (diacritics, CJK, substrings), file names, edits and deletes, permissions, paging and
//! counts, and input that tries to be index syntax.

mod common;

use common::images::png;
use common::{Person, TestApp, error_code};
use serde_json::{Value, json};

async fn group(p: &Person, name: &str, members: &[i64]) -> i64 {
    let res = p
        .post(
            "/api/v1/conversations",
            json!({"kind": "group", "name": name, "members": members}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn channel(p: &Person, name: &str) -> i64 {
    let res = p
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": name}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

fn query(q: &str) -> String {
    serde_urlencoded::to_string([("q", q)]).unwrap()
}

async fn search(p: &Person, q: &str) -> Value {
    let res = p.get(&format!("/api/v1/search?{}", query(q))).await;
    assert_eq!(res.status(), 200, "{q}");
    res.json().await.unwrap()
}

/// The bodies of the results of a response, in order.
fn bodies(response: &Value) -> Vec<String> {
    response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["body"].as_str().unwrap().to_string())
        .collect()
}

/// The bodies found, in order.
async fn found(p: &Person, q: &str) -> Vec<String> {
    bodies(&search(p, q).await)
}

async fn refused(p: &Person, q: &str) -> String {
    let res = p.get(&format!("/api/v1/search?{}", query(q))).await;
    assert_eq!(res.status(), 400, "{q} should be refused");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid", "{q}: {body}");
    body["error"]["message"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn words_phrases_prefixes_exclusions_newest_first() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    for body in [
        "the build is green again",
        "the build is red",
        "heating is back on",
        "the heater broke",
        "green tea at noon",
    ] {
        ada.say(room, body).await;
    }
    assert_eq!(
        found(&ada, "build").await,
        ["the build is red", "the build is green again"]
    );
    assert_eq!(
        found(&ada, "build green").await,
        ["the build is green again"]
    );
    assert_eq!(
        found(&ada, "\"is green\"").await,
        ["the build is green again"]
    );
    assert_eq!(found(&ada, "\"green is\"").await, Vec::<String>::new());
    assert_eq!(
        found(&ada, "heat*").await,
        ["the heater broke", "heating is back on"]
    );
    assert_eq!(
        found(&ada, "green -tea").await,
        ["the build is green again"]
    );
    assert_eq!(found(&ada, "BUILD Red").await, ["the build is red"]);
    // No message has the word "heat": matched inside words instead, and said so.
    let r = search(&ada, "heat").await;
    assert_eq!(r["matching"], "anywhere");
    assert_eq!(r["results"].as_array().unwrap().len(), 2);
    let r = search(&ada, "build").await;
    assert_eq!(r["count"], json!({"n": 2, "exact": true}));
    assert_eq!(r["matching"], "words");
    let first = &r["results"][0];
    assert_eq!(first["conversation"]["id"], room);
    assert_eq!(first["conversation"]["title"], "#general");
    assert_eq!(first["message"]["sender"]["username"], "ada");
    let id = first["message"]["id"].as_i64().unwrap();
    assert_eq!(first["url"], format!("/c/{room}?at={id}#m-{id}"));
    let marked: Vec<&str> = first["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["hit"] == true)
        .map(|p| p["text"].as_str().unwrap())
        .collect();
    assert_eq!(marked, ["build"]);
}

#[tokio::test]
async fn beyond_english_words() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    for body in [
        "un café crème",
        "東京で会議があります",
        "the preheating step",
        "한국어 메시지",
    ] {
        ada.say(room, body).await;
    }
    assert_eq!(found(&ada, "cafe creme").await, ["un café crème"]);
    assert_eq!(found(&ada, "CAFÉ").await, ["un café crème"]);
    // Scripts without spaces: any run inside the text, two characters or more.
    assert_eq!(found(&ada, "会議").await, ["東京で会議があります"]);
    assert_eq!(found(&ada, "東京で会議").await, ["東京で会議があります"]);
    assert_eq!(found(&ada, "京都").await, Vec::<String>::new());
    assert_eq!(found(&ada, "한국어").await, ["한국어 메시지"]);
    // No whole word matches: the same terms inside words.
    let r = search(&ada, "eatin").await;
    assert_eq!(r["matching"], "anywhere");
    assert_eq!(r["results"][0]["message"]["body"], "the preheating step");
    let marked = r["results"][0]["snippet"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["hit"] == true)
        .unwrap()["text"]
        .clone();
    assert_eq!(marked, "eatin");
    // A whole word that exists is not padded with matches inside other words.
    assert_eq!(search(&ada, "step").await["matching"], "words");
}

#[tokio::test]
async fn every_filter() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let general = ada.general().await;
    let res = bob
        .post(&format!("/api/v1/conversations/{general}/join"), json!({}))
        .await;
    assert!(res.status().is_success());
    let planning = group(&ada, "planning", &[bob.id]).await;
    let res = ada
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    ada.say(general, "report from ada in general").await;
    bob.say(general, "report from bob in general").await;
    bob.say(planning, "report from bob in planning").await;
    bob.say(direct, "report from bob to ada").await;
    bob.say(general, "report with a link https://example.com/x")
        .await;
    bob.say(general, "report for @ada to read").await;
    let image = bob.uploaded("chart.png", png(8, 8, 200)).await;
    let res = bob
        .post(
            &format!("/api/v1/conversations/{general}/messages"),
            json!({"body": "report with a picture", "attachments": [image]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let doc = bob
        .uploaded("minutes-q3.txt", b"plain words".to_vec())
        .await;
    let res = bob
        .post(
            &format!("/api/v1/conversations/{planning}/messages"),
            json!({"body": "report with a document", "attachments": [doc]}),
        )
        .await;
    assert_eq!(res.status(), 201);

    assert_eq!(found(&ada, "report").await.len(), 8);
    assert_eq!(
        found(&ada, "report from:@ada").await,
        ["report from ada in general"]
    );
    assert_eq!(
        found(&ada, "from:@ada").await,
        ["report from ada in general"]
    );
    assert_eq!(
        found(&ada, "report in:#planning").await,
        ["report with a document", "report from bob in planning"]
    );
    assert_eq!(found(&ada, "in:@bob").await, ["report from bob to ada"]);
    assert_eq!(
        found(&ada, "has:file").await,
        ["report with a document", "report with a picture"]
    );
    assert_eq!(
        found(&ada, "report has:image").await,
        ["report with a picture"]
    );
    assert_eq!(
        found(&ada, "has:link").await,
        ["report with a link https://example.com/x"]
    );
    assert_eq!(found(&ada, "is:mention").await, ["report for @ada to read"]);
    assert_eq!(found(&bob, "is:mention").await, Vec::<String>::new());
    // File names are found by any part of them.
    assert_eq!(found(&ada, "minutes").await, ["report with a document"]);
    assert_eq!(found(&ada, "q3").await, ["report with a document"]);
    assert_eq!(found(&ada, "chart.png").await, ["report with a picture"]);
    // Dates in the searcher's time zone.
    let today = time::OffsetDateTime::now_utc().date();
    let (yesterday, tomorrow) = (today.previous_day().unwrap(), today.next_day().unwrap());
    for (q, n) in [
        (format!("report on:{today}"), 8),
        (format!("report after:{today}"), 0),
        (format!("report before:{today}"), 0),
        (format!("report after:{yesterday}"), 8),
        (format!("report before:{tomorrow}"), 8),
    ] {
        assert_eq!(found(&ada, &q).await.len(), n, "{q}");
    }
    // Names that do not exist, or a place not readable, are said plainly.
    assert!(
        refused(&ada, "from:@nobody")
            .await
            .contains("nobody called @nobody")
    );
    assert!(refused(&ada, "in:#nowhere").await.contains("in:#nowhere"));
    let cat = app.person("cat").await;
    assert!(
        refused(&cat, "in:@bob")
            .await
            .contains("no direct conversation")
    );
    assert!(refused(&cat, "in:#planning").await.contains("in:#planning"));
}

#[tokio::test]
async fn only_what_one_may_read_is_ever_found() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let bob = app.person("bob").await;
    let cat = app.person("cat").await;
    let secret = group(&ada, "secret", &[bob.id]).await;
    ada.say(secret, "the secret plan").await;
    let lounge = channel(&ada, "lounge").await;
    ada.say(lounge, "the lounge plan").await;
    // Someone outside finds neither; asked for, the public channel only.
    assert_eq!(found(&cat, "plan").await, Vec::<String>::new());
    let res = cat
        .get(&format!("/api/v1/search?{}&public=1", query("plan")))
        .await;
    let r: Value = res.json().await.unwrap();
    assert_eq!(bodies(&r), ["the lounge plan"]);
    // Naming a public channel searches it; a private group stays unknown to outsiders.
    assert_eq!(found(&cat, "plan in:#lounge").await, ["the lounge plan"]);
    assert!(
        refused(&cat, "plan in:#secret")
            .await
            .contains("in:#secret")
    );
    // A member removed from the group no longer finds its messages.
    assert_eq!(found(&bob, "secret").await, ["the secret plan"]);
    let res = ada
        .delete(&format!(
            "/api/v1/conversations/{secret}/members/{}",
            bob.id
        ))
        .await;
    assert!(res.status().is_success());
    assert_eq!(found(&bob, "secret").await, Vec::<String>::new());
    assert_eq!(found(&bob, "cret").await, Vec::<String>::new());
    // A deleted message is never found, by word, substring or filter.
    let gone = ada.say(secret, "a regrettable sentence").await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(found(&ada, "regrettable").await.len(), 1);
    let res = ada.delete(&format!("/api/v1/messages/{gone}")).await;
    assert!(res.status().is_success());
    assert_eq!(found(&ada, "regrettable").await, Vec::<String>::new());
    assert_eq!(found(&ada, "grettab").await, Vec::<String>::new());
    assert!(
        !search(&ada, "in:#secret").await["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["message"]["id"] == gone)
    );
    // An edit re-indexes: the old words are gone, the new ones found.
    let edited = ada.say(secret, "colour of the shed").await["id"]
        .as_i64()
        .unwrap();
    let res = ada
        .patch(
            &format!("/api/v1/messages/{edited}"),
            json!({"body": "paint of the barn"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(found(&ada, "colour").await, Vec::<String>::new());
    assert_eq!(found(&ada, "barn").await, ["paint of the barn"]);
    assert_eq!(found(&ada, "ain").await, ["paint of the barn"]);
}

#[tokio::test]
async fn pages_cursors_and_counts() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    for i in 0..7 {
        ada.say(room, &format!("ping number {i}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/search?{}&limit=3", query("ping"));
        if let Some(c) = &cursor {
            path += &format!("&cursor={c}");
        }
        let r: Value = ada.json(&path).await;
        if cursor.is_none() {
            assert_eq!(r["count"], json!({"n": 7, "exact": true}));
        } else {
            assert!(r["count"].is_null());
        }
        for m in r["results"].as_array().unwrap() {
            seen.push(m["message"]["body"].as_str().unwrap().to_string());
        }
        match r["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let want: Vec<String> = (0..7).rev().map(|i| format!("ping number {i}")).collect();
    assert_eq!(seen, want);
    // Best match ranks, pages by offset, and finds the same messages.
    let r: Value = ada
        .json(&format!(
            "/api/v1/search?{}&sort=best&limit=5",
            query("ping")
        ))
        .await;
    assert_eq!(r["results"].as_array().unwrap().len(), 5);
    let next = r["next_cursor"].as_str().unwrap().to_string();
    let r2: Value = ada
        .json(&format!(
            "/api/v1/search?{}&sort=best&limit=5&cursor={next}",
            query("ping")
        ))
        .await;
    assert_eq!(r2["results"].as_array().unwrap().len(), 2);
    // Limits at the edge and one past.
    assert_eq!(
        ada.get(&format!("/api/v1/search?{}&limit=50", query("ping")))
            .await
            .status(),
        200
    );
    for bad in [
        "limit=51",
        "limit=0",
        "limit=x",
        "cursor=w-5",
        "cursor=q12",
        "cursor=r5",
        "sort=random",
        "public=maybe",
        "tz=900",
        "nope=1",
    ] {
        let res = ada
            .get(&format!("/api/v1/search?{}&{bad}", query("ping")))
            .await;
        assert_eq!(res.status(), 400, "{bad}");
        assert_eq!(error_code(res).await, "invalid", "{bad}");
    }
}

#[tokio::test]
async fn index_syntax_and_bad_input_never_break_search() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    ada.say(room, "near the door, col: 3 \"quoted\" and or")
        .await;
    for q in [
        "\"",
        "*",
        "NEAR(door",
        "NEAR(door, 3)",
        "^near",
        "col:",
        "col:x y",
        "AND OR",
        "\"unbalanced door",
        "door)",
        "(door",
        "{door}",
        "door AND",
        "OR",
        "-",
        "- -",
        "\"\"",
        "near*door",
        "d*",
        "door\u{0}",
        "'; DROP TABLE messages; --",
        "%",
        "_",
        "\\",
        "door:",
    ] {
        let res = ada.get(&format!("/api/v1/search?{}", query(q))).await;
        let status = res.status().as_u16();
        assert!(status == 200 || status == 400, "{q:?} gave {status}");
        if status == 400 {
            let body: Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "invalid", "{q:?}");
        }
    }
    assert_eq!(found(&ada, "NEAR(door").await.len(), 0);
    assert_eq!(found(&ada, "door AND").await.len(), 1);
    assert_eq!(found(&ada, "\"unbalanced door").await.len(), 0);
    assert!(refused(&ada, "*").await.contains("type a word"));
    assert!(refused(&ada, "^ ( )").await.contains("type a word"));
    assert!(
        refused(&ada, &"x".repeat(10_000))
            .await
            .contains("at most 500")
    );
    assert!(
        refused(&ada, "form:@ada")
            .await
            .contains("form: is not a filter")
    );
    assert!(
        refused(&ada, "before:2026-13-01")
            .await
            .contains("not a date")
    );
    assert!(refused(&ada, "has:video").await.contains("has:video"));
    assert_eq!(
        app.count("SELECT count(*) FROM messages WHERE notice IS NULL"),
        1
    );
}

#[tokio::test]
async fn the_results_page_works_without_script() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let id = ada.say(room, "lunch <b>at</b> noon").await["id"]
        .as_i64()
        .unwrap();
    let res = ada.get(&format!("/search?{}", query("lunch"))).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("href=\"/c/{room}?at={id}#m-{id}\"")),
        "{html}"
    );
    assert!(html.contains("<mark>lunch</mark>"));
    assert!(
        html.contains("&lt;b&gt;at&lt;/b&gt;") || html.contains(" at noon"),
        "escaped"
    );
    assert!(!html.contains("<b>at</b>"));
    assert!(html.contains("1 message"));
    let res = ada.get(&format!("/search?{}", query("has:nothing"))).await;
    assert_eq!(res.status(), 400);
    let html = res.text().await.unwrap();
    assert!(html.contains("has:nothing is not a filter"));
    let res = ada.get("/search").await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("How to search"));
    // Signed out: to the sign-in page.
    let res = app
        .client()
        .get(app.url("/api/v1/search?q=lunch"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_result_in_a_channel_not_joined_opens_its_preview_around_it() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 100_000).await;
    let ada = app.person("ada").await;
    let cat = app.person("cat").await;
    let lounge = channel(&ada, "lounge").await;
    let id = ada.say(lounge, "the walrus plan").await["id"]
        .as_i64()
        .unwrap();
    for i in 0..40 {
        ada.say(lounge, &format!("later {i}")).await;
    }
    let r: Value = cat
        .json(&format!("/api/v1/search?{}&public=true", query("walrus")))
        .await;
    let url = r["results"][0]["url"].as_str().unwrap().to_string();
    let html = cat.get(&url).await.text().await.unwrap();
    assert!(
        html.contains(&format!("id=\"m-{id}\"")),
        "the message is on the preview"
    );
    assert!(html.contains("Around the message you followed"));
    assert!(html.contains("Join #lounge"));
    // Without `at`, the newest messages, which no longer reach back to it.
    let html = cat.get(&format!("/c/{lounge}")).await.text().await.unwrap();
    assert!(!html.contains(&format!("id=\"m-{id}\"")));
    assert!(html.contains("Latest messages"));
}

#[tokio::test]
async fn counts_are_exact_up_to_the_cap_and_say_more_past_it() {
    let app = TestApp::spawn_with(|c| c.send_per_minute = 100_000).await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let cap = hearth::chat::search::COUNT_CAP;
    for i in 0..cap {
        ada.say(room, &format!("tick {i}")).await;
    }
    assert_eq!(
        search(&ada, "tick").await["count"],
        json!({"n": cap, "exact": true})
    );
    let html = ada
        .get(&format!("/search?{}", query("tick")))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("{cap} messages")),
        "exact at the cap"
    );
    ada.say(room, "tick one more").await;
    assert_eq!(
        search(&ada, "tick").await["count"],
        json!({"n": cap, "exact": false})
    );
    let html = ada
        .get(&format!("/search?{}", query("tick")))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!("More than {cap} messages")));
}

#[tokio::test]
async fn a_search_of_filters_alone_reads_a_window_at_a_time() {
    let app = TestApp::spawn().await;
    let ada = app.person("ada").await;
    let room = ada.general().await;
    let old = ada.say(room, "old https://example.com/a").await["id"]
        .as_i64()
        .unwrap();
    // A message far newer by id, as a busy history would have: more than a window apart.
    let far = old + hearth::chat::search::FILTER_WINDOW + 50;
    app.sql()
        .execute(
            "INSERT INTO messages (id, conversation_id, sender_id, body, html, created_at)
             VALUES (?1, ?2, ?3, 'new https://example.com/b', '<p>new</p>', 1)",
            rusqlite::params![far, room, ada.id],
        )
        .unwrap();
    let first = search(&ada, "has:link").await;
    assert_eq!(bodies(&first), ["new https://example.com/b"]);
    assert_eq!(
        first["count"],
        json!({"n": 1, "exact": false}),
        "the count is a floor"
    );
    let cursor = first["next_cursor"]
        .as_str()
        .expect("the search goes on")
        .to_string();
    let next: Value = ada
        .json(&format!(
            "/api/v1/search?{}&cursor={cursor}",
            query("has:link")
        ))
        .await;
    assert_eq!(bodies(&next), ["old https://example.com/a"]);
    assert!(next["next_cursor"].is_null());
    // Words are not windowed: the index finds both at once.
    assert_eq!(found(&ada, "example").await.len(), 2);
}
