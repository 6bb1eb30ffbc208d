//! The chat UI in real Chromium: two people chatting live, unread badges, history scrolling
//! back, reading and posting without JavaScript, replies, reactions and edits.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run. Every test signs in through the /login form,
//! waits at most `common::browser::WAIT` for anything, and ends by checking that no page it
//! visited logged a console error or a Content-Security-Policy violation.

mod common;

use common::browser::{Browser, screenshot_path};
use common::{PASSWORD, Person, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// The WebDriver keys for Enter and the up arrow.
const ENTER: &str = "\u{E007}";
const ARROW_UP: &str = "\u{E013}";

/// One test drives its browsers at a time: two Chromiums per test on a small CI machine
/// are plenty, and the 10 s waits are then about the app, not about CPU contention.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// Checks a screenshot is a non-trivial PNG.
fn assert_png(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{} is not a PNG",
        path.display()
    );
}

async fn shot(browser: &Browser, name: &str) {
    let path = screenshot_path(&format!("chat-{name}.png"));
    browser.screenshot(&path).await;
    assert_png(&path);
}

/// Signs in through the login form and waits for the signed-in page it lands on.
async fn sign_in(browser: &Browser, app: &TestApp, username: &str) {
    browser.goto(&app.url("/login")).await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("body[data-me]").await;
}

/// The id of the conversation on screen (`<body data-conversation>`).
async fn conversation_on_screen(browser: &Browser) -> i64 {
    browser.wait_for("section.conversation").await;
    let id = browser
        .execute("return Number(document.body.dataset.conversation);", vec![])
        .await;
    id.as_i64().expect("a conversation page")
}

/// Waits until the page's live connection said `ready`: the page script then re-reads the
/// unread counts, a fetch the Resource Timing API records once it has finished.
async fn wait_live(browser: &Browser) {
    let script = "return performance.getEntriesByType('resource')\
                  .some(e => new URL(e.name).pathname === '/api/v1/unread');";
    browser
        .wait_until("the live connection to be ready", async || {
            browser
                .try_execute(script, vec![])
                .await
                .is_ok_and(|v| v == true)
        })
        .await;
}

/// Opens a conversation and waits until it is live.
async fn open(browser: &Browser, app: &TestApp, id: i64) {
    browser.goto(&app.url(&format!("/c/{id}"))).await;
    browser.wait_for_path(&format!("/c/{id}")).await;
    browser.wait_for("section.conversation #items").await;
    wait_live(browser).await;
}

/// Marks the page so a reload (which forgets the mark) can be told from a live update.
async fn mark_page(browser: &Browser) {
    browser
        .execute("window.__hearthTestMark = 'still here';", vec![])
        .await;
}

async fn assert_not_reloaded(browser: &Browser, what: &str) {
    let mark = browser
        .execute("return window.__hearthTestMark || null;", vec![])
        .await;
    assert_eq!(mark, "still here", "{what}: the page was reloaded");
}

/// The id of the message on screen whose text is exactly `text`, if any.
const FIND_MESSAGE: &str = "const [text] = arguments;\
    const a = [...document.querySelectorAll('#items > article.msg[data-id]')]\
      .find(a => a.querySelector('.msg-body')?.textContent.trim() === text);\
    return a ? Number(a.dataset.id) : null;";

async fn message_id(browser: &Browser, text: &str) -> Option<i64> {
    let found = browser.try_execute(FIND_MESSAGE, vec![json!(text)]).await;
    found.ok().and_then(|v| v.as_i64())
}

/// Waits until a message with exactly `text` is on screen; its id.
async fn wait_for_message(browser: &Browser, text: &str) -> i64 {
    let mut id = None;
    browser
        .wait_until(&format!("the message {text:?}"), async || {
            id = message_id(browser, text).await;
            id.is_some()
        })
        .await;
    id.unwrap()
}

/// The ids of the messages on screen, in page order (placeholders left out).
async fn ids_on_screen(browser: &Browser) -> Vec<i64> {
    let ids = browser
        .execute(
            "return [...document.querySelectorAll('#items > article.msg[data-id]')]\
             .map(a => Number(a.dataset.id));",
            vec![],
        )
        .await;
    serde_json::from_value(ids).expect("a list of ids")
}

/// Asserts every message is on screen exactly once, with no placeholder left behind.
async fn assert_once(browser: &Browser, who: &str, ids: &[i64]) {
    for id in ids {
        let n = browser.count(&format!("article.msg[data-id='{id}']")).await;
        assert_eq!(n, 1, "{who} shows message {id} {n} times");
    }
    let pending = browser.count("article.msg.pending").await;
    assert_eq!(
        pending, 0,
        "{who} still shows {pending} message(s) being sent"
    );
    let all = ids_on_screen(browser).await;
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "{who} shows messages twice or out of order: {all:?}"
    );
}

/// Types `text` into the composer and presses Enter.
async fn say(browser: &Browser, text: &str) {
    browser.fill("#composer textarea[name=body]", text).await;
    browser
        .send_keys("#composer textarea[name=body]", ENTER)
        .await;
}

/// Everything the unread badge of conversation `id` in the sidebar says.
async fn badge(browser: &Browser, id: i64) -> Value {
    browser
        .execute(
            "const a = document.querySelector(`#sidebar a.conv[data-conversation-id='${arguments[0]}']`);\
             if (!a) return null;\
             const b = a.querySelector('.unread-badge');\
             const m = a.querySelector('.mention-badge');\
             return {shown: !b.hidden && getComputedStyle(b).display !== 'none',\
                     n: b.querySelector('.n').textContent.trim(),\
                     mentions: !m.hidden, unread_class: a.classList.contains('unread')};",
            vec![json!(id)],
        )
        .await
}

/// The count and `aria-pressed` of the reaction button matching `css` ("" when absent).
async fn reaction(browser: &Browser, css: &str) -> (String, String) {
    let state = browser
        .try_execute(
            "const r = document.querySelector(arguments[0]);\
             return r ? [r.querySelector('.count').textContent.trim(),\
                         r.getAttribute('aria-pressed') || ''] : ['', ''];",
            vec![json!(css)],
        )
        .await;
    state
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// The last message `p` has read in conversation `room`, as the server has it.
async fn last_read(p: &Person, room: i64) -> i64 {
    let c = p.json(&format!("/api/v1/conversations/{room}")).await;
    let me = c["members"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == p.id)
        .unwrap_or_else(|| panic!("{} is not a member of {room}: {c}", p.name));
    me["last_read_message_id"].as_i64().unwrap_or(0)
}

/// Scrolls the message list to its top. The list stacks newest-first (`column-reverse`),
/// where scrollTop is 0 at the bottom and negative above: a large negative value is the
/// top, as it is in a plain list too.
async fn scroll_to_top(browser: &Browser) {
    let _ = browser
        .try_execute(
            "const list = document.getElementById('messages');\
             list.scrollTop = -list.scrollHeight;",
            vec![],
        )
        .await;
}

/// Whether message `id` is wholly inside the visible part of the message list.
async fn in_view(browser: &Browser, id: i64) -> bool {
    let visible = browser
        .try_execute(
            "const m = document.getElementById(`m-${arguments[0]}`);\
             if (!m) return false;\
             const box = document.getElementById('messages').getBoundingClientRect();\
             const r = m.getBoundingClientRect();\
             return r.top >= box.top - 1 && r.bottom <= box.bottom + 1;",
            vec![json!(id)],
        )
        .await;
    visible.is_ok_and(|v| v == true)
}

/// Asserts no console error and no CSP violation was logged on any page this browser saw.
async fn assert_clean(browser: &Browser, who: &str) {
    browser.assert_no_console_errors(who).await;
    let csp = browser.csp_violations().await;
    assert!(csp.is_empty(), "CSP violations ({who}): {csp:#?}");
}

/// Ann and Bob, new members signed in in two browsers: both land in #general (the one
/// conversation a new member is in) with the live connection up. Returns its id.
async fn ann_and_bob_in_general(app: &TestApp, ann: &Browser, bob: &Browser) -> i64 {
    app.create_user("ann", hearth::domain::Role::Member).await;
    app.create_user("bob", hearth::domain::Role::Member).await;
    tokio::join!(sign_in(ann, app, "ann"), sign_in(bob, app, "bob"));
    let room = conversation_on_screen(ann).await;
    assert_eq!(conversation_on_screen(bob).await, room);
    tokio::join!(wait_live(ann), wait_live(bob));
    room
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_chat_live_in_general() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(ann) = Browser::start().await else {
        return;
    };
    let Some(bob) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let room = ann_and_bob_in_general(&app, &ann, &bob).await;
        assert!(ann.title().await.starts_with("general · Hearth"));
        tokio::join!(mark_page(&ann), mark_page(&bob));

        // Ann types and presses Enter; Bob sees it without reloading.
        let hello = "Hello Bob, this is Ann speaking";
        say(&ann, hello).await;
        let hello_id = wait_for_message(&bob, hello).await;
        assert_eq!(wait_for_message(&ann, hello).await, hello_id);
        assert_eq!(
            ann.value("#composer textarea[name=body]").await,
            "",
            "the composer is emptied once sent"
        );
        let author = bob.text(&format!("article#m-{hello_id} .msg-author")).await;
        assert_eq!(author, "ann");
        // Bob's copy is not his; Ann's is.
        assert!(
            ann.exists(&format!("article#m-{hello_id}.mine")).await
                && !bob.exists(&format!("article#m-{hello_id}.mine")).await,
            "only the sender's copy is marked as theirs"
        );

        // Bob replies the same way; Ann sees it live.
        let reply = "Hi Ann! Bob here, loud and clear.";
        say(&bob, reply).await;
        let reply_id = wait_for_message(&ann, reply).await;
        assert_eq!(wait_for_message(&bob, reply).await, reply_id);
        assert!(reply_id > hello_id);

        // A third one from Ann, so each side has sent after seeing the other's.
        let again = "Great, the live updates work.";
        say(&ann, again).await;
        let again_id = wait_for_message(&bob, again).await;
        assert_eq!(wait_for_message(&ann, again).await, again_id);

        let ids = [hello_id, reply_id, again_id];
        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            assert_once(browser, who, &ids).await;
            assert_eq!(ids_on_screen(browser).await, ids, "{who}: in order");
            assert_not_reloaded(browser, who).await;
            assert_eq!(browser.path().await, format!("/c/{room}"));
        }
        // The server holds each message once, too.
        let stored: i64 = app
            .sql()
            .query_row(
                "SELECT count(*) FROM messages WHERE conversation_id = ?1 AND notice IS NULL",
                [room],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(stored, 3);

        shot(&ann, "live-ann").await;
        shot(&bob, "live-bob").await;
        assert_clean(&ann, "ann chatting").await;
        assert_clean(&bob, "bob chatting").await;
        app.stop().await.unwrap();
    })
    .await;
    tokio::join!(ann.close(), bob.close());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unread_badge_appears_and_clears() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(bob) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        let bob_api = app.person("bob").await;
        let room = ann.general().await;
        // Bob has a private group of his own to look at meanwhile.
        let res = bob_api
            .post(
                "/api/v1/conversations",
                json!({"kind": "group", "name": "bobs-notes"}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let notes = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

        sign_in(&bob, &app, "bob").await;
        open(&bob, &app, notes).await;
        assert!(bob.title().await.starts_with("bobs-notes · Hearth"));
        let before = badge(&bob, room).await;
        assert_eq!(before["shown"], false, "nothing unread yet: {before}");

        // Ann posts in #general while Bob looks at his group.
        let posted = ann.say(room, "Bob, are you there?").await;
        let posted_id = posted["id"].as_i64().unwrap();
        bob.wait_until("the unread badge of #general", async || {
            badge(&bob, room).await["shown"] == true
        })
        .await;
        let after = badge(&bob, room).await;
        assert_eq!(after["n"], "1", "{after}");
        assert_eq!(after["unread_class"], true, "{after}");
        assert_eq!(after["mentions"], false, "no mention: {after}");
        bob.wait_until("the tab title to count it", async || {
            bob.title().await == "(1) bobs-notes · Hearth"
        })
        .await;
        assert!(
            !bob.exists(&format!("article.msg[data-id='{posted_id}']"))
                .await,
            "the message is not shown in the group"
        );
        shot(&bob, "unread-badge").await;

        // Bob opens #general from the sidebar: the message is there and the badge goes.
        bob.click(&format!("#sidebar a.conv[data-conversation-id='{room}']"))
            .await;
        bob.wait_for_path(&format!("/c/{room}")).await;
        assert_eq!(
            wait_for_message(&bob, "Bob, are you there?").await,
            posted_id
        );
        bob.wait_until("the badge to clear", async || {
            badge(&bob, room).await["shown"] == false
        })
        .await;
        bob.wait_until("the tab title to drop the count", async || {
            bob.title().await == "general · Hearth"
        })
        .await;
        // The read reached the server…
        bob.wait_until("the read to be recorded", async || {
            last_read(&bob_api, room).await == posted_id
        })
        .await;
        let unread = bob_api.json("/api/v1/unread").await;
        assert_eq!(unread["total"], 0, "{unread}");
        shot(&bob, "unread-cleared").await;

        // …so a reload renders it read: no count, no "new messages" bar, read up to it.
        bob.goto(&app.url(&format!("/c/{room}"))).await;
        bob.wait_for("section.conversation").await;
        let rendered_mark = bob
            .execute(
                "return Number(document.querySelector('section.conversation').dataset.lastRead);",
                vec![],
            )
            .await;
        assert_eq!(rendered_mark, posted_id, "the server renders the read mark");
        assert!(
            !bob.exists(".unread-bar").await,
            "a read conversation offers no 'new messages' bar"
        );
        assert_eq!(badge(&bob, room).await["shown"], false);
        assert_eq!(bob.title().await, "general · Hearth");
        wait_live(&bob).await;

        // While Bob reads #general, a new message there is read at once: no badge.
        let next = ann.say(room, "Good, you are.").await["id"]
            .as_i64()
            .unwrap();
        assert_eq!(wait_for_message(&bob, "Good, you are.").await, next);
        bob.wait_until("the second read to be recorded", async || {
            last_read(&bob_api, room).await == next
        })
        .await;
        assert_eq!(badge(&bob, room).await["shown"], false);
        assert_eq!(bob.title().await, "general · Hearth");

        assert_clean(&bob, "bob's unread badge").await;
        app.stop().await.unwrap();
    })
    .await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_scrolls_back_to_the_first_message() {
    const SEEDED: usize = 120;
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(bob) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn_with(|c| c.send_per_minute = 100_000).await;
        let ann = app.person("ann").await;
        app.create_user("bob", hearth::domain::Role::Member).await;
        let room = ann.general().await;
        let mut seeded = Vec::with_capacity(SEEDED);
        for i in 1..=SEEDED {
            let m = ann.say(room, &format!("history {i:03}")).await;
            seeded.push(m["id"].as_i64().unwrap());
        }
        let (oldest, newest) = (seeded[0], seeded[SEEDED - 1]);

        sign_in(&bob, &app, "bob").await;
        open(&bob, &app, room).await;
        // The newest message is on screen, at the bottom of the list.
        wait_for_message(&bob, "history 120").await;
        bob.wait_until("the newest message to be in view", async || {
            in_view(&bob, newest).await
        })
        .await;
        let first_page = ids_on_screen(&bob).await;
        assert!(
            first_page.len() < SEEDED && !first_page.contains(&oldest),
            "the page opens with the latest messages only, not all {SEEDED}: {} shown",
            first_page.len()
        );
        assert!(!bob.exists(&format!("#m-{oldest}")).await);
        shot(&bob, "history-bottom").await;

        // Scrolling to the top brings older pages in until the very first message.
        bob.wait_until("the oldest message after scrolling up", async || {
            scroll_to_top(&bob).await;
            bob.exists(&format!("#m-{oldest}")).await
        })
        .await;
        bob.wait_for_text("This is the very beginning of the conversation.")
            .await;
        assert!(!bob.exists("#messages a.older").await);

        let ids = ids_on_screen(&bob).await;
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids are unique and ascending: {ids:?}"
        );
        assert_eq!(ids, seeded, "every message once, oldest first");
        // At the top, the first message is on screen to read. (WebDriver reads no text from
        // an element above the scrolled part of a `column-reverse` list: scroll first.)
        bob.wait_until("the oldest message to be in view", async || {
            scroll_to_top(&bob).await;
            in_view(&bob, oldest).await
        })
        .await;
        let first_text = bob.text(&format!("article#m-{oldest} .msg-body")).await;
        assert_eq!(first_text, "history 001");
        shot(&bob, "history-top").await;

        // Only what the page asked for: one fetch per older page, none failed.
        let fetched = bob
            .execute(
                "return performance.getEntriesByType('resource')\
                 .filter(e => new URL(e.name).pathname.endsWith('/older')).length;",
                vec![],
            )
            .await;
        assert_eq!(fetched, 2, "two older pages of 50 after the first 50");

        assert_clean(&bob, "scrolling back through history").await;
        app.stop().await.unwrap();
    })
    .await;
    bob.close().await;
}

/// Turns JavaScript off for the pages this browser loads from now on, over the DevTools
/// protocol chromedriver relays (the harness starts Chromium with it on).
async fn disable_javascript(browser: &Browser) {
    let cmd = json!({
        "cmd": "Emulation.setScriptExecutionDisabled",
        "params": {"value": true}
    });
    browser
        .cmd(Method::POST, "/goog/cdp/execute", Some(cmd))
        .await
        .unwrap_or_else(|e| panic!("turning JavaScript off: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_reading_and_posting_still_work() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(bob) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let ann = app.person("ann").await;
        app.create_user("bob", hearth::domain::Role::Member).await;
        let room = ann.general().await;
        let hello = ann
            .say(room, "Hello from **Ann**, readable without scripts")
            .await;
        let hello_id = hello["id"].as_i64().unwrap();

        bob.goto(&app.url("/login")).await;
        disable_javascript(&bob).await;
        sign_in(&bob, &app, "bob").await;
        assert_eq!(conversation_on_screen(&bob).await, room);
        let js = bob
            .execute(
                "return document.documentElement.classList.contains('js');",
                vec![],
            )
            .await;
        assert_eq!(js, false, "the page script did not run");

        // Reading: Ann's message, formatted, and the composer's no-script hint.
        let body = bob.text(&format!("article#m-{hello_id} .msg-body")).await;
        assert_eq!(body, "Hello from Ann, readable without scripts");
        assert!(
            bob.exists(&format!("article#m-{hello_id} .msg-body strong"))
                .await
        );
        bob.wait_for_text("Formatting: **bold**").await;
        let hidden_js_controls = bob
            .execute(
                "return [...document.querySelectorAll('.js-only')]\
                 .every(e => getComputedStyle(e).display === 'none');",
                vec![],
            )
            .await;
        assert_eq!(hidden_js_controls, true, "script-only controls are hidden");

        // Posting: the composer form posts and redirects back to the new message.
        let text = "Posted by Bob with JavaScript off";
        bob.fill("#composer textarea[name=body]", text).await;
        bob.click("#composer button.send").await;
        bob.wait_until("the redirect back to the new message", async || {
            bob.cmd(Method::GET, "/url", None)
                .await
                .ok()
                .and_then(|u| u.as_str().map(str::to_owned))
                .is_some_and(|u| u.contains(&format!("/c/{room}#m-")))
        })
        .await;
        let posted_id = wait_for_message(&bob, text).await;
        let url = bob.current_url().await;
        assert_eq!(url.path(), format!("/c/{room}"));
        assert_eq!(url.fragment(), Some(format!("m-{posted_id}").as_str()));
        assert_eq!(ids_on_screen(&bob).await, [hello_id, posted_id]);
        assert_eq!(bob.value("#composer textarea[name=body]").await, "");
        // Ann sees it through the API: it really was sent.
        let history = ann
            .json(&format!("/api/v1/conversations/{room}/messages"))
            .await;
        assert!(
            history.to_string().contains(text),
            "Ann's history lacks Bob's message: {history}"
        );
        shot(&bob, "no-js-posted").await;

        // Replying and reacting through the message's own page ("⋯"), also plain forms.
        // Its toolbar shows on hover (CSS, no script needed).
        bob.hover(&format!("article#m-{hello_id}")).await;
        bob.click(&format!("article#m-{hello_id} a.more")).await;
        bob.wait_for_path(&format!("/m/{hello_id}")).await;
        bob.fill("#reply-body", "A reply without scripts").await;
        bob.click_text("Send reply").await;
        bob.wait_for_path(&format!("/c/{room}")).await;
        let reply_id = wait_for_message(&bob, "A reply without scripts").await;
        let quote = bob.text(&format!("article#m-{reply_id} .msg-reply")).await;
        assert!(
            quote.contains("ann") && quote.contains("readable without scripts"),
            "the reply quotes the original: {quote:?}"
        );
        bob.goto(&app.url(&format!("/m/{hello_id}"))).await;
        bob.click("form[action$='/react'] button[aria-label='React with 🎉']")
            .await;
        bob.wait_for(&format!("article#m-{hello_id} .reaction[data-emoji='🎉']"))
            .await;
        let count = bob
            .text(&format!(
                "article#m-{hello_id} .reaction[data-emoji='🎉'] .count"
            ))
            .await;
        assert_eq!(count, "1");
        shot(&bob, "no-js-reacted").await;

        assert_clean(&bob, "bob without JavaScript").await;
        app.stop().await.unwrap();
    })
    .await;
    bob.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_reactions_and_edits_through_the_ui() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(ann) = Browser::start().await else {
        return;
    };
    let Some(bob) = Browser::start().await else {
        return;
    };
    bounded(async {
        let app = TestApp::spawn().await;
        let room = ann_and_bob_in_general(&app, &ann, &bob).await;
        tokio::join!(mark_page(&ann), mark_page(&bob));

        let original = "Who wants to review the release notes?";
        say(&ann, original).await;
        let original_id = wait_for_message(&bob, original).await;
        wait_for_message(&ann, original).await;

        // Bob hovers Ann's message and clicks Reply: the chip says to whom.
        let article = format!("article#m-{original_id}");
        bob.hover(&article).await;
        bob.click(&format!("{article} button[data-action=reply]"))
            .await;
        bob.wait_for("#reply-chip:not([hidden])").await;
        let chip = bob.text("#reply-chip").await;
        assert!(
            chip.contains("Replying to ann") && chip.contains(original),
            "{chip:?}"
        );
        let focused = bob
            .execute("return document.activeElement.id;", vec![])
            .await;
        assert_eq!(focused, "body", "Reply puts the cursor in the composer");
        shot(&bob, "replying").await;
        let answer = "I will, after lunch.";
        bob.send_keys("#composer textarea[name=body]", answer).await;
        bob.send_keys("#composer textarea[name=body]", ENTER).await;
        bob.wait_for("#reply-chip[hidden]").await;

        // Both see the reply with the quote above it.
        let reply_id = wait_for_message(&ann, answer).await;
        assert_eq!(wait_for_message(&bob, answer).await, reply_id);
        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            let quote = format!("article#m-{reply_id} a.msg-reply[data-jump='{original_id}']");
            let text = browser.text(&quote).await;
            assert!(
                text.contains("ann") && text.contains(original),
                "{who}: the quote names the original: {text:?}"
            );
            let above = browser
                .execute(
                    "const a = document.getElementById(`m-${arguments[0]}`);\
                     const q = a.querySelector('.msg-reply').getBoundingClientRect();\
                     const b = a.querySelector('.msg-body').getBoundingClientRect();\
                     return q.bottom <= b.top + 1;",
                    vec![json!(reply_id)],
                )
                .await;
            assert_eq!(above, true, "{who}: the quote sits above the reply");
        }

        // Clicking the quote jumps to the original.
        ann.click(&format!("article#m-{reply_id} a.msg-reply"))
            .await;
        ann.wait_until("the original to be highlighted", async || {
            ann.exists(&format!("article#m-{original_id}.highlight"))
                .await
        })
        .await;
        assert_eq!(ann.path().await, format!("/c/{room}"), "a jump on the page");

        // Bob reacts with 👍 from the picker; both see one.
        bob.hover(&article).await;
        bob.click(&format!("{article} button[data-action=react]"))
            .await;
        bob.wait_for(".picker[role=dialog]").await;
        shot(&bob, "picker").await;
        bob.click(".picker button[aria-label='React with 👍']")
            .await;
        bob.wait_for_gone(".picker").await;
        let thumbs = format!("{article} .reaction[data-emoji='👍']");
        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            browser
                .wait_until(&format!("{who} to see 👍 1"), async || {
                    reaction(browser, &thumbs).await.0 == "1"
                })
                .await;
        }
        assert_eq!(
            reaction(&bob, &thumbs).await.1,
            "true",
            "Bob's own reaction"
        );
        assert_eq!(reaction(&ann, &thumbs).await.1, "false", "not Ann's");

        // Ann adds hers by clicking the reaction: two for both.
        ann.click(&thumbs).await;
        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            browser
                .wait_until(&format!("{who} to see 👍 2"), async || {
                    reaction(browser, &thumbs).await.0 == "2"
                })
                .await;
        }
        assert_eq!(reaction(&ann, &thumbs).await.1, "true");
        shot(&ann, "reacted").await;

        // Bob takes his back: one again, and not his.
        bob.click(&thumbs).await;
        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            browser
                .wait_until(&format!("{who} to see 👍 1 again"), async || {
                    reaction(browser, &thumbs).await.0 == "1"
                })
                .await;
        }
        assert_eq!(reaction(&bob, &thumbs).await.1, "false");

        // Ann edits her message with ↑ in the empty composer; Bob sees the new text, edited.
        ann.click("#composer textarea[name=body]").await;
        ann.send_keys("#composer textarea[name=body]", ARROW_UP)
            .await;
        let editor = format!("#edit-{original_id}");
        ann.wait_for(&editor).await;
        let edited = "Who wants to review the release notes by Friday?";
        ann.fill(&editor, edited).await;
        ann.send_keys(&editor, ENTER).await;
        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            browser
                .wait_until(&format!("{who} to see the edit"), async || {
                    message_id(browser, edited).await == Some(original_id)
                })
                .await;
            let head = browser.text(&format!("{article} .msg-head")).await;
            assert!(head.contains("(edited)"), "{who}: {head:?}");
        }
        assert!(!ann.exists(".msg-edit").await, "the editor closed");

        for (browser, who) in [(&ann, "ann"), (&bob, "bob")] {
            assert_once(browser, who, &[original_id, reply_id]).await;
            assert_not_reloaded(browser, who).await;
        }
        shot(&bob, "edited").await;
        assert_clean(&ann, "ann replying, reacting, editing").await;
        assert_clean(&bob, "bob replying, reacting, editing").await;
        app.stop().await.unwrap();
    })
    .await;
    tokio::join!(ann.close(), bob.close());
}
