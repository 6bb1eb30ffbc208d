//! Moving between conversations in real Chromium: the sidebar, links and Back/Forward swap
//! the conversation in place under the same live connection, drafts and scroll positions
//! are kept, the keyboard moves around (the quick switcher, Alt+↑/↓, Esc, `?`), and a
//! message arriving while the sidebar re-reads its counts stays counted.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run. Every test signs in through the /login form,
//! waits at most `common::browser::WAIT` for anything, and ends by checking that no page it
//! visited logged a console error or a Content-Security-Policy violation.

mod common;

use common::browser::axe::Axe;
use common::browser::{Browser, screenshot_path};
use common::{Person, TestApp};
use hearth::domain::Role;
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(120);

/// WebDriver's names of the keys pressed here.
const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
const SHIFT: &str = "\u{E008}";
const CONTROL: &str = "\u{E009}";
const ALT: &str = "\u{E00A}";
const ARROW_UP: &str = "\u{E013}";
const ARROW_DOWN: &str = "\u{E015}";

const COMPOSER: &str = "#composer textarea[name=body]";

/// One test drives its browser at a time: the machine running them is small.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// Keeps a screenshot and checks it is a non-trivial PNG.
async fn shot(browser: &Browser, name: &str) {
    let path = screenshot_path(&format!("nav-{name}.png"));
    browser.screenshot(&path).await;
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{} is not a PNG",
        path.display()
    );
}

/// Ann, Bob and Cat. Ann is in #general (forty messages from Bob), #random (hers, Bob
/// joined) and a direct with Bob; she has no direct with Cat yet.
struct Scene {
    ann: Person,
    bob: Person,
    general: i64,
    random: i64,
    direct: i64,
}

async fn scene(app: &TestApp) -> Scene {
    let ann = app.person("ann").await;
    let bob = app.person("bob").await;
    app.create_user("cat", Role::Member).await;
    let general = ann.general().await;
    let res = ann
        .post(
            "/api/v1/conversations",
            json!({"kind": "channel", "name": "random"}),
        )
        .await;
    assert_eq!(res.status(), 201, "creating #random");
    let random = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let res = bob
        .post(&format!("/api/v1/conversations/{random}/join"), json!({}))
        .await;
    assert!(res.status().is_success(), "Bob joins #random");
    let res = ann
        .post("/api/v1/directs", json!({"user_id": bob.id}))
        .await;
    assert_eq!(res.status(), 200, "opening the direct with Bob");
    let direct = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for i in 1..=40 {
        bob.say(general, &format!("General message number {i}"))
            .await;
    }
    bob.say(random, "Welcome to random").await;
    bob.say(direct, "Hi Ann, Bob here").await;
    Scene {
        ann,
        bob,
        general,
        random,
        direct,
    }
}

/// Waits until the page's live connection said `ready` (the page then re-reads the unread
/// counts, a fetch the Resource Timing API records).
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

/// Opens a conversation with a page load and waits until it is live.
async fn open(browser: &Browser, app: &TestApp, id: i64) {
    browser.goto(&app.url(&format!("/c/{id}"))).await;
    browser.wait_for_path(&format!("/c/{id}")).await;
    browser.wait_for("section.conversation #items").await;
    wait_live(browser).await;
}

/// The conversation on screen (`<body data-conversation>`), if any.
async fn on_screen(browser: &Browser) -> Option<i64> {
    let id = browser
        .try_execute(
            "return document.querySelector('section.conversation') \
             ? Number(document.body.dataset.conversation) : null;",
            vec![],
        )
        .await;
    id.ok().and_then(|v| v.as_i64())
}

/// Waits until conversation `id` is on screen at `/c/{id}`, its composer ready.
async fn wait_shown(browser: &Browser, id: i64) {
    browser
        .wait_until(&format!("conversation {id} on screen"), async || {
            on_screen(browser).await == Some(id)
                && browser.current_url().await.path() == format!("/c/{id}")
                && browser.exists("section.conversation #items").await
        })
        .await;
}

/// Clicks conversation `id` in the sidebar.
async fn click_sidebar(browser: &Browser, id: i64) {
    browser
        .click(&format!("#sidebar a.conv[data-conversation-id='{id}']"))
        .await;
}

/// Marks the page so a reload (which forgets the mark) can be told from a swap in place.
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

/// Types `text` key by key into whatever has the focus.
async fn type_text(browser: &Browser, text: &str) {
    for c in text.chars() {
        browser.press(&[&c.to_string()]).await;
    }
}

/// The id of the message on screen whose text is exactly `text`, if any.
async fn message_id(browser: &Browser, text: &str) -> Option<i64> {
    let found = browser
        .try_execute(
            "const [text] = arguments;\
             const a = [...document.querySelectorAll('#items > article.msg[data-id]')]\
               .find(a => a.querySelector('.msg-body')?.textContent.trim() === text);\
             return a ? Number(a.dataset.id) : null;",
            vec![json!(text)],
        )
        .await;
    found.ok().and_then(|v| v.as_i64())
}

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

/// The unread count the sidebar shows for conversation `id` (0 when the badge is hidden).
async fn unread_badge(browser: &Browser, id: i64) -> i64 {
    let n = browser
        .try_execute(
            "const b = document.querySelector(\
               `#sidebar a.conv[data-conversation-id='${arguments[0]}'] .unread-badge`);\
             return b && !b.hidden ? Number(b.querySelector('.n').textContent) : 0;",
            vec![json!(id)],
        )
        .await;
    n.ok().and_then(|v| v.as_i64()).unwrap_or(0)
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

/// The newest message in conversation `room`, as `p` sees it.
async fn newest(p: &Person, room: i64) -> i64 {
    let c = p.json(&format!("/api/v1/conversations/{room}")).await;
    c["last_message_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("conversation {room} has no message: {c}"))
}

/// Asserts no console error and no CSP violation was logged on any page this browser saw.
async fn assert_clean(browser: &Browser, who: &str) {
    browser.assert_no_console_errors(who).await;
    let csp = browser.csp_violations().await;
    assert!(csp.is_empty(), "CSP violations ({who}): {csp:#?}");
}

/// Starts the app, the scene and a browser signed in as Ann, then runs `test`.
async fn with_ann<F>(test: impl FnOnce(TestApp, Scene, Browser) -> F)
where
    F: Future<Output = (TestApp, Browser)>,
{
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    let browser = bounded(async {
        // Bob writes forty messages at once: more than the default send limit allows.
        let app = TestApp::spawn_with(|c| c.send_per_minute = 100_000).await;
        let scene = scene(&app).await;
        browser.sign_in(&app, "ann").await;
        let (app, browser) = test(app, scene, browser).await;
        app.stop().await.unwrap();
        browser
    })
    .await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sidebar_swaps_conversations_in_place_under_one_live_connection() {
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;
        mark_page(&browser).await;

        click_sidebar(&browser, s.random).await;
        wait_shown(&browser, s.random).await;
        assert_not_reloaded(&browser, "clicking #random in the sidebar").await;
        assert_eq!(browser.text("#conv-title .conv-name").await, "random");
        assert!(browser.title().await.contains("random · Hearth"));
        assert_eq!(
            browser.count("#sidebar a[aria-current=page]").await,
            1,
            "one current item in the sidebar"
        );
        assert!(
            browser
                .exists(&format!(
                    "#sidebar a.conv[data-conversation-id='{}'][aria-current=page]",
                    s.random
                ))
                .await
        );
        let focused = browser
            .execute("return document.activeElement?.name ?? null;", vec![])
            .await;
        assert_eq!(focused, "body", "the composer has the focus after the swap");

        // The same socket carries the new conversation's messages, once each.
        let live = "Live in random after the swap";
        s.bob.say(s.random, live).await;
        let id = wait_for_message(&browser, live).await;
        assert_eq!(browser.count(&format!("article#m-{id}")).await, 1);

        // The conversation left no longer handles its events: news there stays unread.
        let unseen = s.bob.say(s.general, "General news while Ann is away").await;
        browser
            .wait_until("general's unread badge to count 1", async || {
                unread_badge(&browser, s.general).await == 1
            })
            .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(unread_badge(&browser, s.general).await, 1);
        assert!(
            last_read(&s.ann, s.general).await < unseen["id"].as_i64().unwrap(),
            "a conversation taken off screen marked its news read"
        );

        // An event for the conversation on its way arrives before the page does: the
        // page (rendered first) misses it, the swap replays it.
        browser
            .execute(
                "const fetch0 = window.fetch;\
                 window.fetch = async (...args) => {\
                   const res = await fetch0(...args);\
                   if (/\\/c\\/\\d+$/.test(String(args[0]))) {\
                     window.__pageFetched = true;\
                     await new Promise(ok => setTimeout(ok, 1500));\
                   }\
                   return res;\
                 };",
                vec![],
            )
            .await;
        click_sidebar(&browser, s.general).await;
        browser
            .wait_until("the page to be fetched", async || {
                browser
                    .try_execute("return window.__pageFetched === true;", vec![])
                    .await
                    .is_ok_and(|v| v == true)
            })
            .await;
        let meanwhile = "Said while the page was on its way";
        s.bob.say(s.general, meanwhile).await;
        wait_shown(&browser, s.general).await;
        let id = wait_for_message(&browser, meanwhile).await;
        assert_eq!(browser.count(&format!("article#m-{id}")).await, 1);
        assert_not_reloaded(&browser, "coming back to #general").await;

        shot(&browser, "swapped-desktop").await;
        assert_clean(&browser, "moving in place").await;
        (app, browser)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draft_survives_switching_conversations_and_a_reload() {
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;
        mark_page(&browser).await;
        let for_general = "Half a thought for general";
        browser.fill(COMPOSER, for_general).await;

        click_sidebar(&browser, s.random).await;
        wait_shown(&browser, s.random).await;
        assert_eq!(browser.value(COMPOSER).await, "", "random has no draft");
        let for_random = "Something else for random";
        browser.fill(COMPOSER, for_random).await;

        click_sidebar(&browser, s.general).await;
        wait_shown(&browser, s.general).await;
        assert_eq!(browser.value(COMPOSER).await, for_general);
        assert_not_reloaded(&browser, "switching back").await;

        // A reload keeps it too.
        open(&browser, &app, s.general).await;
        assert_eq!(browser.value(COMPOSER).await, for_general);

        // Sent, it is forgotten.
        browser.send_keys(COMPOSER, ENTER).await;
        wait_for_message(&browser, for_general).await;
        assert_eq!(browser.value(COMPOSER).await, "");
        open(&browser, &app, s.general).await;
        assert_eq!(browser.value(COMPOSER).await, "", "a sent draft came back");

        click_sidebar(&browser, s.random).await;
        wait_shown(&browser, s.random).await;
        assert_eq!(browser.value(COMPOSER).await, for_random);

        // Signing out forgets them: the next person at this browser does not read them.
        browser.click("form.logout button[type=submit]").await;
        browser.wait_for_path("/login").await;
        browser.sign_in(&app, "ann").await;
        open(&browser, &app, s.random).await;
        assert_eq!(
            browser.value(COMPOSER).await,
            "",
            "a draft outlived signing out"
        );

        assert_clean(&browser, "drafts").await;
        (app, browser)
    })
    .await;
}

/// The top of message `id` against the top of the message list, in pixels.
async fn offset_in_list(browser: &Browser, id: i64) -> f64 {
    browser
        .execute(
            "const m = document.getElementById(`m-${arguments[0]}`);\
             const list = document.getElementById('messages');\
             return m ? m.getBoundingClientRect().top - list.getBoundingClientRect().top : null;",
            vec![json!(id)],
        )
        .await
        .as_f64()
        .unwrap_or(f64::NAN)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_and_forward_move_between_conversations_keeping_the_scroll_position() {
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;
        mark_page(&browser).await;
        // Ann reads back: message 10 at the top of the list.
        let tenth = wait_for_message(&browser, "General message number 10").await;
        browser
            .execute(
                "document.getElementById(`m-${arguments[0]}`).scrollIntoView({block: 'start'});",
                vec![json!(tenth)],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        let before = offset_in_list(&browser, tenth).await;
        assert!(before.abs() < 40.0, "message 10 is at the top: {before}");

        click_sidebar(&browser, s.random).await;
        wait_shown(&browser, s.random).await;
        click_sidebar(&browser, s.direct).await;
        wait_shown(&browser, s.direct).await;

        browser.back().await;
        wait_shown(&browser, s.random).await;
        assert_eq!(browser.text("#conv-title .conv-name").await, "random");
        browser.back().await;
        wait_shown(&browser, s.general).await;
        browser
            .wait_until("general's scroll position to come back", async || {
                (offset_in_list(&browser, tenth).await - before).abs() < 4.0
            })
            .await;

        browser.execute("history.forward();", vec![]).await;
        wait_shown(&browser, s.random).await;
        browser.execute("history.forward();", vec![]).await;
        wait_shown(&browser, s.direct).await;
        assert!(browser.title().await.contains("bob · Hearth"));
        assert_not_reloaded(&browser, "back and forward").await;

        assert_clean(&browser, "back and forward").await;
        (app, browser)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quick_switcher_opens_a_direct_by_keyboard_only() {
    let Some(axe) = Axe::load() else { return };
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;
        mark_page(&browser).await;

        // Opened and closed again: nothing changes.
        browser.press(&[CONTROL, "k"]).await;
        browser
            .wait_for("dialog.switcher[open] #switcher-list [role=option]")
            .await;
        shot(&browser, "switcher-desktop").await;
        browser.press(&[ESCAPE]).await;
        browser.wait_for_gone("dialog[open]").await;
        assert_eq!(on_screen(&browser).await, Some(s.general));

        browser.set_window_size(360, 740).await;
        tokio::time::sleep(Duration::from_millis(400)).await; // the sidebar slides away
        browser.press(&[CONTROL, "k"]).await;
        browser.wait_for("dialog.switcher[open]").await;
        let focused = browser
            .execute("return document.activeElement?.id ?? null;", vec![])
            .await;
        assert_eq!(focused, "switcher-input");
        type_text(&browser, "ca").await;
        browser
            .wait_until("Cat first in the list", async || {
                browser
                    .try_execute(
                        "const o = document.querySelector('#switcher-list [aria-selected=true]');\
                         return o ? o.querySelector('.switcher-name').textContent : null;",
                        vec![],
                    )
                    .await
                    .is_ok_and(|v| v == "cat")
            })
            .await;
        shot(&browser, "switcher-360").await;
        browser
            .assert_accessible(&axe, "the quick switcher (360 px)")
            .await;

        browser.press(&[ENTER]).await;
        browser
            .wait_until("the direct with Cat on screen", async || {
                browser
                    .exists("section.conversation[data-kind=direct]")
                    .await
                    && browser
                        .try_execute(
                            "return document.querySelector('#conv-title .conv-name')?.textContent;",
                            vec![],
                        )
                        .await
                        .is_ok_and(|v| v == "cat")
            })
            .await;
        let id = on_screen(&browser).await.expect("a conversation");
        wait_shown(&browser, id).await;
        assert!(!browser.exists("dialog[open]").await);
        assert!(
            browser
                .exists(&format!(
                    "#sidebar a.conv[data-conversation-id='{id}'][aria-current=page]"
                ))
                .await,
            "the new direct is in the sidebar, as the current one"
        );
        let mine = s.ann.json("/api/v1/conversations").await;
        let with_cat = mine["conversations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .expect("Ann is in the new conversation");
        assert_eq!(with_cat["kind"], "direct");
        assert_eq!(with_cat["other"]["username"], "cat");
        assert_not_reloaded(&browser, "the quick switcher").await;

        // On a phone the list is a panel: choosing in it swaps and closes it.
        browser.click(".menu-toggle").await;
        browser.wait_for("#sidebar.open").await;
        tokio::time::sleep(Duration::from_millis(300)).await; // the panel slides in
        click_sidebar(&browser, s.general).await;
        wait_shown(&browser, s.general).await;
        browser.wait_for_gone("#sidebar.open").await;
        tokio::time::sleep(Duration::from_millis(300)).await; // and out
        shot(&browser, "swapped-360").await;
        assert_not_reloaded(&browser, "the list on a phone").await;

        assert_clean(&browser, "quick switcher").await;
        (app, browser)
    })
    .await;
}

/// The conversation after (`+1`) or before the one on screen in the sidebar; with
/// `unread`, the nearest one with unread messages, round the list.
async fn sidebar_neighbour(browser: &Browser, dir: i64, unread: bool) -> i64 {
    browser
        .execute(
            "const [dir, unread] = arguments;\
             const links = [...document.querySelectorAll('#sidebar a.conv[data-conversation-id]')];\
             const i = links.findIndex(a => a.dataset.conversationId === document.body.dataset.conversation);\
             for (let n = 1; n <= links.length; n++) {\
               const j = unread ? ((i + dir * n) % links.length + links.length) % links.length : i + dir;\
               const a = links[j];\
               if (a && j !== i && (!unread || a.classList.contains('unread')))\
                 return Number(a.dataset.conversationId);\
               if (!unread) break;\
             }\
             return null;",
            vec![json!(dir), json!(unread)],
        )
        .await
        .as_i64()
        .expect("a neighbour in the sidebar")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alt_arrows_go_to_the_next_and_previous_conversations() {
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;
        mark_page(&browser).await;

        let next = sidebar_neighbour(&browser, 1, false).await;
        browser.press(&[ALT, ARROW_DOWN]).await;
        wait_shown(&browser, next).await;
        browser.press(&[ALT, ARROW_UP]).await;
        wait_shown(&browser, s.general).await;

        // The direct has news: Alt+Shift+↓ goes to the next conversation with unread ones.
        s.bob.say(s.direct, "Psst, Ann").await;
        browser
            .wait_until("the direct to show unread messages", async || {
                unread_badge(&browser, s.direct).await > 0
            })
            .await;
        let unread = sidebar_neighbour(&browser, 1, true).await;
        browser.press(&[ALT, SHIFT, ARROW_DOWN]).await;
        wait_shown(&browser, unread).await;
        assert_not_reloaded(&browser, "Alt+arrows").await;

        assert_clean(&browser, "Alt+arrows").await;
        (app, browser)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_mark_lists_the_shortcuts_and_esc_marks_read() {
    let Some(axe) = Axe::load() else { return };
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;

        browser.press(&["?"]).await;
        browser.wait_for("dialog.keys-dialog[open]").await;
        let text = browser.text("dialog.keys-dialog").await;
        for shortcut in [
            "Jump to a conversation",
            "Next conversation",
            "Mark the conversation as read",
        ] {
            assert!(
                text.contains(shortcut),
                "the list names {shortcut:?}: {text}"
            );
        }
        browser
            .assert_accessible(&axe, "the shortcuts dialog (desktop)")
            .await;
        browser.set_window_size(360, 740).await;
        tokio::time::sleep(Duration::from_millis(400)).await; // the sidebar slides away
        shot(&browser, "shortcuts-360").await;
        browser
            .assert_accessible(&axe, "the shortcuts dialog (360 px)")
            .await;
        browser.press(&[ESCAPE]).await;
        browser.wait_for_gone("dialog[open]").await;

        // Reading back, news arrives below: unread until Esc.
        browser
            .execute(
                "const list = document.getElementById('messages');\
                 list.scrollTop = -list.scrollHeight;",
                vec![],
            )
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let news = s.bob.say(s.general, "Read me with Esc").await["id"]
            .as_i64()
            .unwrap();
        browser
            .wait_until("general to count one unread", async || {
                unread_badge(&browser, s.general).await == 1
            })
            .await;
        assert!(last_read(&s.ann, s.general).await < news);
        browser.press(&[ESCAPE]).await;
        browser
            .wait_until("Esc to mark general read", async || {
                unread_badge(&browser, s.general).await == 0
                    && last_read(&s.ann, s.general).await == news
            })
            .await;

        assert_clean(&browser, "shortcuts").await;
        (app, browser)
    })
    .await;
}

/// Puts a link to `href` at the end of the messages and clicks it, as a link in a message.
async fn follow_link(browser: &Browser, href: &str) {
    browser
        .execute(
            "const a = document.createElement('a');\
             a.id = 'test-link';\
             a.href = arguments[0];\
             a.textContent = 'a link';\
             document.getElementById('items').append(a);",
            vec![json!(href)],
        )
        .await;
    browser.click("#test-link").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_to_a_message_opens_it_in_place_and_a_preview_loads_as_a_page() {
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.random).await;
        mark_page(&browser).await;

        // A link to a message of #general: in place, the message shown and highlighted.
        let ann_general = s
            .ann
            .json(&format!(
                "/api/v1/conversations/{}/messages?limit=100",
                s.general
            ))
            .await;
        let third = ann_general["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["body"] == "General message number 3")
            .expect("message 3")["id"]
            .as_i64()
            .unwrap();
        follow_link(&browser, &format!("/c/{}#m-{third}", s.general)).await;
        browser
            .wait_until("message 3 highlighted in #general", async || {
                on_screen(&browser).await == Some(s.general)
                    && browser
                        .exists(&format!("article#m-{third}.highlight"))
                        .await
            })
            .await;
        assert_eq!(browser.path().await, format!("/c/{}", s.general));
        assert_not_reloaded(&browser, "a link to a message").await;

        // A channel Ann is not in: its preview is a page of its own, loaded as such.
        let res = s
            .bob
            .post(
                "/api/v1/conversations",
                json!({"kind": "channel", "name": "lobby"}),
            )
            .await;
        assert_eq!(res.status(), 201, "creating #lobby");
        let lobby = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        follow_link(&browser, &format!("/c/{lobby}")).await;
        browser.wait_for("section.preview").await;
        assert_eq!(browser.path().await, format!("/c/{lobby}"));
        let mark = browser
            .execute("return window.__hearthTestMark || null;", vec![])
            .await;
        assert!(
            mark.is_null(),
            "the preview was put in place of a conversation"
        );

        // Back from it: #general again (a page load, as the preview was one).
        browser.back().await;
        wait_shown(&browser, s.general).await;

        assert_clean(&browser, "links").await;
        (app, browser)
    })
    .await;
}

/// Holds the page's next re-read of the unread counts: the request goes out and its answer
/// arrives (the server's counts as of then), but the page gets it only once released.
const HOLD_UNREAD: &str = "\
    const real = window.fetch;\
    window.heldUnread = { asked: 0, answered: 0 };\
    let held = false;\
    window.fetch = async (input, init) => {\
      const url = new URL(input instanceof Request ? input.url : input, location.href);\
      if (url.pathname !== '/api/v1/unread') return real(input, init);\
      window.heldUnread.asked += 1;\
      const res = await real(input, init);\
      if (!held) {\
        held = true;\
        await new Promise((release) => { window.releaseUnread = release; });\
      }\
      window.heldUnread.answered += 1;\
      return res;\
    };";

/// Reads one of `window.heldUnread`'s counters.
async fn held_unread(browser: &Browser, counter: &str) -> i64 {
    browser
        .execute(
            "return window.heldUnread[arguments[0]];",
            vec![json!(counter)],
        )
        .await
        .as_i64()
        .unwrap_or(0)
}

/// Waits until the page has been given `n` answers to its re-reads, and a moment for it to
/// apply the last one.
async fn answers_taken(browser: &Browser, n: i64, what: &str) {
    browser
        .wait_until(what, async || held_unread(browser, "answered").await >= n)
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_arriving_while_counts_are_reread_is_not_lost_from_the_badge() {
    with_ann(|app, s, browser| async move {
        open(&browser, &app, s.general).await;
        // Opening #general read it, and the page re-reads its counts 300 ms after hearing so.
        let general_newest = newest(&s.ann, s.general).await;
        browser
            .wait_until("Ann's read of #general to be recorded", async || {
                last_read(&s.ann, s.general).await == general_newest
            })
            .await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert_eq!(
            unread_badge(&browser, s.direct).await,
            0,
            "read on signing in"
        );
        browser.execute(HOLD_UNREAD, vec![]).await;

        // Ann reads #random in another tab: this page re-reads its counts, and the server
        // answers while the direct still has one unread message.
        let random_newest = newest(&s.ann, s.random).await;
        let res = s
            .ann
            .post(
                &format!("/api/v1/conversations/{}/read", s.random),
                json!({"message_id": random_newest}),
            )
            .await;
        assert!(res.status().is_success(), "Ann reads #random");
        browser
            .wait_until("the counts to be re-read", async || {
                held_unread(&browser, "asked").await == 1
            })
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await; // the answer is in the page

        // Bob writes before the page takes that answer: the live event counts it.
        s.bob.say(s.direct, "Psst, Ann").await;
        browser
            .wait_until("the direct to count Bob's message", async || {
                unread_badge(&browser, s.direct).await == 1
            })
            .await;

        // The older answer must not take it back; the page reads again instead.
        browser.execute("window.releaseUnread();", vec![]).await;
        answers_taken(&browser, 1, "the held answer to be taken").await;
        assert_eq!(
            unread_badge(&browser, s.direct).await,
            1,
            "an answer older than the live event left the direct's count alone"
        );
        answers_taken(&browser, 2, "the counts to be read again").await;
        assert_eq!(
            unread_badge(&browser, s.direct).await,
            1,
            "the server agrees"
        );
        assert_eq!(
            unread_badge(&browser, s.random).await,
            0,
            "#random was read"
        );

        assert_clean(&browser, "a held re-read").await;
        (app, browser)
    })
    .await;
}
