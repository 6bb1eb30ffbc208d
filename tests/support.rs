//! The support inbox: each member's one conversation with the admin team, the inbox the
//! admins work from, internal notes no member ever sees, and admins joining and leaving the
//! support conversations as their role changes.

mod common;
#[path = "common/ops.rs"]
mod ops_support;

use common::{Person, TestApp, Ws};
use hearth::chat::accounts;
use hearth::domain::Role;
use serde_json::{Value, json};

async fn csrf(p: &Person) -> String {
    p.csrf("/people").await
}

/// POSTs a page form as `p`.
async fn post_form(p: &Person, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    p.http
        .post(p.url(path))
        .header("cookie", &p.cookie)
        .form(fields)
        .send()
        .await
        .unwrap()
}

/// The member's support conversation (opened by the API).
async fn open_support(p: &Person) -> i64 {
    let res = p.post("/api/v1/support", json!({})).await;
    assert_eq!(res.status(), 200, "open the support conversation");
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["kind"], "group");
    assert_eq!(
        c["name"], "",
        "a support conversation has no name of its own"
    );
    c["id"].as_i64().unwrap()
}

async fn unread(p: &Person, id: i64) -> i64 {
    let u = p.json("/api/v1/unread").await;
    u["conversations"][id.to_string()].as_i64().unwrap_or(0)
}

async fn inbox(p: &Person, show: &str) -> Vec<Value> {
    let body = p.json(&format!("/api/v1/inbox?show={show}")).await;
    body["threads"].as_array().unwrap().clone()
}

async fn member_ids(p: &Person, id: i64) -> Vec<i64> {
    let c = p.json(&format!("/api/v1/conversations/{id}")).await;
    let mut ids: Vec<i64> = c["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

struct Team {
    app: TestApp,
    ann: Person,
    max: Person,
    ada: Person,
}

/// Two admins (ann, max) and a member (ada).
async fn team() -> Team {
    let app = TestApp::spawn().await;
    let ann = app.person_with_role("ann", Role::Admin).await;
    let max = app.person_with_role("max", Role::Admin).await;
    let ada = app.person("ada").await;
    Team { app, ann, max, ada }
}

#[tokio::test]
async fn a_member_writes_to_the_admins_and_each_admin_reads_on_their_own() {
    let Team { app, ann, max, ada } = team().await;
    let id = open_support(&ada).await;
    assert_eq!(
        open_support(&ada).await,
        id,
        "one support conversation per member"
    );
    let mut expected = vec![ann.id, max.id, ada.id];
    expected.sort();
    assert_eq!(
        member_ids(&ada, id).await,
        expected,
        "the member and every admin"
    );

    ada.say(id, "I cannot upload my avatar").await;
    assert_eq!(unread(&ann, id).await, 1);
    assert_eq!(unread(&max, id).await, 1);
    let threads = inbox(&ann, "all").await;
    assert_eq!(threads.len(), 1);
    assert_eq!(threads[0]["conversation_id"], id);
    assert_eq!(threads[0]["member"]["username"], "ada");
    assert_eq!(threads[0]["state"], "open");
    assert_eq!(threads[0]["unread"], 1);
    assert_eq!(
        threads[0]["last_message"]["excerpt"],
        "I cannot upload my avatar"
    );

    // Ann answers and reads: her count clears, Max's stays until he reads.
    ann.say(id, "Which browser?").await;
    assert_eq!(unread(&ann, id).await, 0, "writing marks read");
    assert_eq!(unread(&max, id).await, 2);
    let read = format!("/api/v1/conversations/{id}/read");
    assert_eq!(max.post(&read, json!({})).await.status(), 204);
    assert_eq!(unread(&max, id).await, 0);
    assert_eq!(inbox(&max, "all").await[0]["unread"], 0);
    assert_eq!(unread(&ada, id).await, 1, "the member sees the answer");
    let history = ada
        .json(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    let senders: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["sender"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(senders, ["ada", "ann"], "no lines about who was added");

    // The member's list names it by the admin team; the admins' by the member.
    let mine = ada.json("/api/v1/conversations").await;
    let entry = mine["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(entry["title"], "Admins");
    let theirs = ann.json("/api/v1/conversations").await;
    let entry = theirs["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(entry["title"], "ada");
    assert_eq!(entry["support"]["member"]["id"], ada.id);

    // Nobody else has an inbox.
    let res = ada.get("/api/v1/inbox").await;
    assert_eq!(res.status(), 404);
    assert_eq!(ada.get("/inbox").await.status(), 404);
    drop(app);
}

#[tokio::test]
async fn the_support_page_starts_the_conversation_with_its_first_message() {
    let Team {
        app,
        ann,
        ada,
        max: _max,
    } = team().await;
    let general = ada.general().await;
    let page = ada
        .get(&format!("/c/{general}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"href="/support""#) && page.contains("Contact the Admins"),
        "every member has a way to the admins"
    );
    assert!(!page.contains(r#"href="/inbox""#));
    let compose = ada.get("/support").await;
    assert_eq!(compose.status(), 200);
    let compose = compose.text().await.unwrap();
    assert!(compose.contains(r#"action="/support""#), "a composer");
    let none: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM support_threads", [], |r| r.get(0))
        .unwrap();
    assert_eq!(none, 0, "looking writes nothing");

    let token = csrf(&ada).await;
    let res = post_form(&ada, "/support", &[("csrf", &token), ("body", "")]).await;
    assert_eq!(res.status(), 400, "an empty message is refused");
    let none: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM conversations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(none, 1, "and nothing is created (only #general exists)");

    let res = post_form(
        &ada,
        "/support",
        &[
            ("csrf", &token),
            ("body", "Hello admins"),
            ("client_id", "f-1"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = to
        .trim_start_matches("/c/")
        .split('#')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let res = ada.get("/support").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], format!("/c/{id}"));
    assert_eq!(unread(&ann, id).await, 1);

    // The member's page: titled with the team, no admin tools; the admin's: the member's name.
    let page = ada.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(page.contains("<title>Admins · Hearth</title>"), "{page}");
    assert!(page.contains("Hello admins"));
    assert!(!page.contains("support-panel") && !page.contains("Internal notes"));
    let page = ann.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(page.contains("<title>ada · Hearth</title>"));
    assert!(page.contains(r#"id="support-panel""#) && page.contains("Mark resolved"));
    // Admins reach it by the inbox: it is not among their groups.
    assert!(page.contains(r#"href="/inbox""#));
    assert!(!page.contains(&format!(r#"data-conversation-id="{id}" data-kind="group""#)));
    let inbox_page = ann.get("/inbox").await.text().await.unwrap();
    assert!(inbox_page.contains(&format!(r#"href="/c/{id}""#)) && inbox_page.contains("ada"));
}

#[tokio::test]
async fn a_member_never_sees_a_note() {
    let Team { app, ann, max, ada } = team().await;
    let id = open_support(&ada).await;
    ada.say(id, "Someone keeps messaging me").await;
    let mut ada_ws = ada.ws(None).await;
    let since = ada_ws.ready["seq"].as_i64().unwrap();
    let mut max_ws = max.ws(None).await;

    let secret = "SECRET-NOTE-seen-this-before";
    let res = ann
        .post(
            &format!("/api/v1/conversations/{id}/notes"),
            json!({"body": secret}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let frame = max_ws.event().await;
    assert_eq!(frame["event"], "note.created", "{frame}");
    assert!(frame.to_string().contains(secret));
    ann.say(id, "We are looking into it").await;

    // Live: the member's next frame is the answer, never the note.
    let frame = ada_ws.event().await;
    assert_eq!(frame["event"], "message.created", "{frame}");
    assert!(!frame.to_string().contains(secret));
    // Resuming: the replay holds the answer and not the note.
    let mut replay = Ws::connect(&ada.base, &ada.cookie, Some(since)).await;
    let mut frames = Vec::new();
    while let Some(f) = replay.quiet_for(400).await {
        frames.push(f.to_string());
    }
    assert!(frames.iter().any(|f| f.contains("We are looking into it")));
    assert!(frames.iter().all(|f| !f.contains(secret)), "{frames:?}");

    // Pages, history, counts: nothing of it.
    let page = ada.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(!page.contains(secret) && !page.contains("Internal note"));
    let history = ada
        .get(&format!("/api/v1/conversations/{id}/messages"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!history.contains(secret));
    assert_eq!(unread(&ada, id).await, 1, "only the answer is unread");
    // Asking for notes in any way: nothing there.
    let notes = format!("/api/v1/conversations/{id}/notes");
    assert_eq!(ada.get(&notes).await.status(), 404);
    assert_eq!(
        ada.post(&notes, json!({"body": "mine"})).await.status(),
        404
    );
    let token = csrf(&ada).await;
    let res = post_form(
        &ada,
        &format!("/c/{id}/notes"),
        &[("csrf", &token), ("body", "x")],
    )
    .await;
    assert_eq!(res.status(), 404);
    let count: i64 = app
        .sql()
        .query_row("SELECT count(*) FROM support_notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
    let fts: i64 = app
        .sql()
        .query_row(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'SECRET'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(fts, 0, "notes are never searchable as messages");
    // Nor exported with the member's conversations, as JSON or as HTML.
    for format in ["jsonl", "html"] {
        let dir = &app.app.config.data_dir;
        let out = ops_support::ok(
            ops_support::hearth(dir).args(["export", "--user", "ada", "--format", format]),
        );
        let text = &out.stdout;
        assert!(text.contains("We are looking into it"), "{format}");
        assert!(!text.contains(secret), "{format}");
    }

    // The admins see it, on the page and through the API.
    let page = max.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(page.contains(secret) && page.contains("Internal note"));
    let listed = max.json(&notes).await;
    assert_eq!(listed["notes"][0]["body"], secret);
}

#[tokio::test]
async fn a_member_cannot_open_another_members_support_conversation() {
    let Team {
        app,
        ada,
        ann: _ann,
        max: _max,
    } = team().await;
    let bob = app.person("bob").await;
    let id = open_support(&ada).await;
    ada.say(id, "private to the admins").await;
    assert_eq!(bob.get(&format!("/c/{id}")).await.status(), 404);
    for path in [
        format!("/api/v1/conversations/{id}"),
        format!("/api/v1/conversations/{id}/messages"),
        format!("/api/v1/conversations/{id}/support"),
    ] {
        assert_eq!(bob.get(&path).await.status(), 404, "{path}");
    }
    let res = bob
        .post(
            &format!("/api/v1/conversations/{id}/messages"),
            json!({"body": "hi"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    // The member has no say over the thread either.
    let res = ada
        .post(
            &format!("/api/v1/conversations/{id}/support"),
            json!({"state": "resolved"}),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_ne!(open_support(&bob).await, id, "bob gets his own");
}

#[tokio::test]
async fn a_members_new_message_reopens_a_resolved_thread() {
    let Team {
        ann,
        max,
        ada,
        app: _app,
    } = team().await;
    let id = open_support(&ada).await;
    ada.say(id, "help").await;
    let support = format!("/api/v1/conversations/{id}/support");
    let res = ann.post(&support, json!({"state": "resolved"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(inbox(&max, "resolved").await.len(), 1);
    assert!(inbox(&max, "open").await.is_empty());

    // An admin's own message leaves it resolved.
    ann.say(id, "Done, closing this").await;
    assert_eq!(ann.json(&support).await["state"], "resolved");

    let mut max_ws = max.ws(None).await;
    ada.say(id, "It broke again").await;
    assert_eq!(ann.json(&support).await["state"], "open");
    assert_eq!(inbox(&max, "open").await.len(), 1);
    // The admins hear of it with the message.
    let mut seen = Vec::new();
    for _ in 0..2 {
        let frame = max_ws.event().await;
        seen.push(frame["event"].as_str().unwrap().to_owned());
        if frame["event"] == "support.updated" {
            assert_eq!(frame["data"]["thread"]["state"], "open");
            assert_eq!(frame["conversation"], id);
        }
    }
    seen.sort();
    assert_eq!(seen, ["message.created", "support.updated"]);

    // A message sent over the WebSocket reopens it the same way.
    let res = ann.post(&support, json!({"state": "resolved"})).await;
    assert_eq!(res.status(), 200);
    let mut ws = ada.ws(None).await;
    ws.send(json!({"op": "send", "req": 1, "conversation": id, "body": "Still broken"}))
        .await;
    let ack = ws.next_non_presence().await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ann.json(&support).await["state"], "open");
}

#[tokio::test]
async fn admins_assign_and_filter_the_inbox() {
    let Team { ann, max, ada, app } = team().await;
    let id = open_support(&ada).await;
    let bob = app.person("bob").await;
    let other = open_support(&bob).await;
    bob.say(other, "me too").await;
    let support = format!("/api/v1/conversations/{id}/support");
    let res = ann.post(&support, json!({"assignee_id": max.id})).await;
    assert_eq!(res.status(), 200);
    let thread: Value = res.json().await.unwrap();
    assert_eq!(thread["assignee"]["username"], "max");
    let mine: Vec<i64> = inbox(&max, "mine")
        .await
        .iter()
        .map(|t| t["conversation_id"].as_i64().unwrap())
        .collect();
    assert_eq!(mine, [id]);
    assert!(inbox(&ann, "mine").await.is_empty());
    let all: Vec<i64> = inbox(&ann, "all")
        .await
        .iter()
        .map(|t| t["conversation_id"].as_i64().unwrap())
        .collect();
    assert_eq!(all, [other, id], "newest activity first");
    // Only an admin can be assigned; bad input changes nothing.
    let res = ann.post(&support, json!({"assignee_id": bob.id})).await;
    assert_eq!(res.status(), 400);
    let res = ann.post(&support, json!({"state": "closed"})).await;
    assert_eq!(res.status(), 400);
    assert_eq!(ann.json(&support).await["assignee"]["username"], "max");
    assert_eq!(ann.get("/inbox?show=nonsense").await.status(), 400);
    // The page forms do the same.
    let token = csrf(&ann).await;
    let form = format!("/c/{id}/support");
    let res = post_form(&ann, &form, &[("csrf", &token), ("assignee", "")]).await;
    assert_eq!(res.status(), 303);
    assert!(ann.json(&support).await["assignee"].is_null());
    let res = post_form(&ann, &form, &[("csrf", &token), ("state", "resolved")]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(ann.json(&support).await["state"], "resolved");
    let page = ann.get("/inbox?show=resolved").await.text().await.unwrap();
    assert!(page.contains(&format!(r#"href="/c/{id}""#)));
    assert!(!page.contains(&format!(r#"href="/c/{other}""#)));
}

#[tokio::test]
async fn support_conversations_refuse_leaving_renaming_and_member_changes() {
    let Team {
        app,
        ann,
        ada,
        max: _max,
    } = team().await;
    let bob = app.person("bob").await;
    let id = open_support(&ada).await;
    let c = format!("/api/v1/conversations/{id}");
    for (who, res) in [
        (
            "ada leaves",
            ada.post(&format!("{c}/leave"), json!({})).await,
        ),
        (
            "ann leaves",
            ann.post(&format!("{c}/leave"), json!({})).await,
        ),
        ("ann renames", ann.patch(&c, json!({"name": "x"})).await),
        (
            "ada sets a topic",
            ada.patch(&c, json!({"topic": "x"})).await,
        ),
        (
            "ann adds bob",
            ann.post(&format!("{c}/members"), json!({"user_id": bob.id}))
                .await,
        ),
        (
            "ann removes ada",
            ann.delete(&format!("{c}/members/{}", ada.id)).await,
        ),
    ] {
        assert_eq!(res.status(), 403, "{who}");
        let body: Value = res.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("support conversation"),
            "{who}: {body}"
        );
    }
    assert_eq!(member_ids(&ann, id).await.len(), 3, "nothing changed");
    // Nor is there a settings page offering what would be refused.
    for who in [&ada, &ann] {
        let res = who.get(&format!("/c/{id}/settings")).await;
        assert_eq!(res.status(), 404, "{}", who.name);
    }
    let general = ada.general().await;
    assert_eq!(
        ada.get(&format!("/c/{general}/settings")).await.status(),
        200
    );
}

#[tokio::test]
async fn promoted_admins_gain_and_demoted_admins_lose_access() {
    let Team {
        app,
        ann,
        ada,
        max: _max,
    } = team().await;
    let id = open_support(&ada).await;
    ada.say(id, "before bob was an admin").await;
    let bob_user = app.create_user("bob", Role::Member).await;
    let bob = app.sign_in("bob", bob_user.id).await;
    let history = format!("/api/v1/conversations/{id}/messages");
    assert_eq!(bob.get(&history).await.status(), 404);

    let chat = &app.app.chat;
    accounts::set_role(chat, "test", "bob", Role::Admin)
        .await
        .unwrap();
    assert_eq!(bob.get(&history).await.status(), 200);
    assert_eq!(unread(&bob, id).await, 0, "old history is not news to him");
    assert_eq!(inbox(&bob, "all").await.len(), 1);
    ada.say(id, "after").await;
    assert_eq!(unread(&bob, id).await, 1);
    // A new admin account joins as well.
    let cat = app.person_with_role("cat", Role::Admin).await;
    assert_eq!(cat.get(&history).await.status(), 200);

    accounts::set_role(chat, "test", "bob", Role::Member)
        .await
        .unwrap();
    assert_eq!(bob.get(&history).await.status(), 404);
    assert_eq!(bob.get(&format!("/c/{id}")).await.status(), 404);
    assert!(!member_ids(&ann, id).await.contains(&bob.id));
    // No line in the timeline told of any of it.
    let page = ann.json(&history).await;
    assert!(
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["notice"].is_null()),
        "{page}"
    );
}

#[tokio::test]
async fn the_team_is_named_by_the_instance_setting() {
    let Team {
        app,
        ann,
        ada,
        max: _max,
    } = team().await;
    let id = open_support(&ada).await;
    let admin = accounts::find(&app.app.chat, "ann").await.unwrap();
    let change = hearth::chat::instance::Change {
        support_name: Some("Organisers".into()),
        ..Default::default()
    };
    hearth::chat::instance::change(&app.app.chat, &admin, change)
        .await
        .unwrap();
    let page = ada.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(page.contains("<title>Organisers · Hearth</title>"));
    assert!(page.contains("Contact the Organisers"));
    let list = ada.json("/api/v1/conversations").await;
    let titles: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["support"].is_null())
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Organisers"]);
    let page = ann.get(&format!("/c/{id}")).await.text().await.unwrap();
    assert!(
        page.contains("<title>ada · Hearth</title>"),
        "admins see the member"
    );
}

#[tokio::test]
async fn admins_made_by_invite_or_by_an_admin_join_and_no_invite_leads_into_one() {
    use hearth::chat::actor::Actor;
    use hearth::chat::{invites, links};
    let Team {
        app,
        ann,
        ada,
        max: _max,
    } = team().await;
    let id = open_support(&ada).await;
    let chat = &app.app.chat;
    let admin = accounts::find(chat, "ann").await.unwrap();
    let spec = |role, conversations| invites::Spec {
        max_uses: Some(1),
        expires: invites::Expiry::Week,
        role,
        conversations,
    };
    let refused = invites::create(chat, Actor::User(&admin), spec(Role::Member, vec![id])).await;
    assert!(
        matches!(refused, Err(hearth::Error::Invalid(_))),
        "an invite into ada's support conversation"
    );

    let created = invites::create(chat, Actor::User(&admin), spec(Role::Admin, vec![]))
        .await
        .unwrap();
    let newcomer = invites::Newcomer {
        username: "dee".into(),
        display_name: None,
        password: common::PASSWORD.into(),
    };
    let throttle = &app.app.sign_ins.throttle;
    let from = std::net::IpAddr::from([127, 0, 0, 1]);
    let dee = invites::join(chat, throttle, from, &created.token, newcomer)
        .await
        .unwrap();
    let (eve, _) = links::add_person(chat, Actor::User(&admin), "eve", None, Role::Admin)
        .await
        .unwrap();
    let members = member_ids(&ann, id).await;
    assert!(members.contains(&dee.id), "an admin by invite");
    assert!(members.contains(&eve.id), "an admin added by an admin");
    let frank = links::add_person(chat, Actor::User(&admin), "frank", None, Role::Member)
        .await
        .unwrap()
        .0;
    assert!(
        !member_ids(&ann, id).await.contains(&frank.id),
        "a member does not"
    );
}
