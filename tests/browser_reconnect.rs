//! Coming back after the server went away, in real Chromium against the real `hearth serve`:
//! a restart (SIGTERM: open sockets are told 1001), a crash (kill -9), the browser going
//! offline and online, and the "Reconnect now" button. "Live again" means that a message
//! someone else posts once the server is back appears on the page without a reload.
//!
//! Skipped with a loud message when Chromium or chromedriver is missing, unless `CI` is
//! set: then a missing browser fails the run.

mod common;
#[path = "common/ops.rs"]
mod ops_support;

use common::browser::axe::Axe;
use common::browser::{Browser, screenshot_path};
use ops_support::{PASSWORD, Server, init_with_users, login};
use serde_json::{Value, json};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// No browser test may run longer than this, whatever hangs.
const TEST_LIMIT: Duration = Duration::from_secs(150);
/// How long a restart keeps the server away: longer than the first three retries together,
/// so a plain backoff would be waiting seconds by the time it is back.
const DOWNTIME: Duration = Duration::from_secs(4);
/// From the server answering again to the page being live, after a restart.
const LIVE_AFTER_RESTART: Duration = Duration::from_secs(2);
/// From the browser being back online, or the button pressed, to the page being live.
const LIVE_AT_ONCE: Duration = Duration::from_secs(1);
/// The longest any wait in these tests polls before it gives up.
const WAIT: Duration = Duration::from_secs(10);

/// One test drives its browser at a time: the timings are about the app, not the machine.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn bounded<T>(test: impl Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("browser test did not finish within {TEST_LIMIT:?}"))
}

/// `hearth serve` over `dir` on `listen` (a blocking start, off the async threads).
async fn serve(dir: &Path, listen: &str) -> Server {
    let (dir, listen) = (dir.to_owned(), listen.to_owned());
    tokio::task::spawn_blocking(move || Server::start_at(&dir, &listen))
        .await
        .unwrap()
}

async fn stop(server: Server, how: &'static str) {
    tokio::task::spawn_blocking(move || match how {
        "crash" => server.kill9(),
        _ => {
            let (status, err) = server.terminate();
            assert!(status.success(), "SIGTERM: {status:?} {err}");
        }
    })
    .await
    .unwrap();
}

/// Polls `/healthz` every 10 ms until it answers 200; the moment it first did.
async fn healthy(base: &str) -> Instant {
    let http = reqwest::Client::new();
    let deadline = Instant::now() + WAIT;
    loop {
        let res = http
            .get(format!("{base}/healthz"))
            .timeout(Duration::from_secs(1))
            .send()
            .await;
        if res.is_ok_and(|r| r.status() == 200) {
            return Instant::now();
        }
        assert!(Instant::now() < deadline, "{base}/healthz never answered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Stands in for the server on `listen` for `how_long`: reads each request's first line and
/// drops the connection (the page sees its socket fail); when each WebSocket attempt came.
/// (The page's other requests, such as a late fetch of the unread counts, are not counted.)
async fn knocks(listen: &str, how_long: Duration) -> Vec<Instant> {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .unwrap_or_else(|e| panic!("standing in on {listen}: {e}"));
    let until = tokio::time::Instant::now() + how_long;
    let mut attempts = tokio::task::JoinSet::new();
    while let Ok(accepted) = tokio::time::timeout_at(until, listener.accept()).await {
        let (mut socket, _) = accepted.expect("accept");
        let at = Instant::now();
        attempts.spawn(async move {
            let mut head = [0u8; 32];
            let read = tokio::time::timeout(Duration::from_secs(1), socket.read(&mut head)).await;
            let n = read.ok().and_then(Result::ok).unwrap_or(0);
            head[..n].starts_with(b"GET /api/v1/ws ").then_some(at)
        });
    }
    let mut seen: Vec<Instant> = attempts.join_all().await.into_iter().flatten().collect();
    seen.sort();
    seen
}

/// The gaps between knocks, in milliseconds.
fn gaps(knocks: &[Instant]) -> Vec<u128> {
    knocks
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect()
}

/// Timers and failing sockets take a little time of their own.
const SLACK_MS: u128 = 250;

/// Where the page under test is, and who else is there.
struct Scene {
    /// The data dir (removed on drop); the server's data is in `data/`.
    dir: tempfile::TempDir,
    /// The server's address, kept across restarts.
    listen: String,
    base: String,
    general: i64,
    /// Ann's session (sessions outlive restarts: no password hashing while the clock runs).
    ann: String,
}

impl Scene {
    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

/// Ann posts `text` in #general, on a new connection (the server may be a new process); its id.
async fn ann_says(scene: &Scene, text: &str) -> i64 {
    let (base, general) = (&scene.base, scene.general);
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/conversations/{general}/messages"))
        .header("cookie", &scene.ann)
        .json(&json!({"body": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "ann posting");
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Polls every 20 ms until message `id` is on the page; how long that took from `since`.
async fn shown_after(browser: &Browser, id: i64, since: Instant) -> Duration {
    let script = "return !!document.getElementById(`m-${arguments[0]}`);";
    let deadline = Instant::now() + WAIT;
    loop {
        let shown = browser.try_execute(script, vec![json!(id)]).await;
        if shown.is_ok_and(|v| v == true) {
            return since.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "message {id} never appeared (banner shown: {})",
            banner_shown(browser).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn banner_shown(browser: &Browser) -> bool {
    browser.exists("#banner:not([hidden])").await
}

async fn assert_not_reloaded(browser: &Browser, what: &str) {
    let mark = browser
        .execute("return window.__hearthTestMark || null;", vec![])
        .await;
    assert_eq!(mark, "still here", "{what}: the page was reloaded");
}

/// A data dir with ann and bob; a server on it; Bob signed in, on #general, live.
async fn bob_on_general(browser: &Browser) -> (Scene, Server) {
    let dir = tempfile::tempdir().unwrap();
    let data: PathBuf = dir.path().join("data");
    let init = data.clone();
    tokio::task::spawn_blocking(move || init_with_users(&init, &["ann", "bob"]))
        .await
        .unwrap();
    let server = serve(&data, "127.0.0.1:0").await;
    let base = server.url.clone();
    browser.goto(&format!("{base}/login")).await;
    browser.fill("#username", "bob").await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for("section.conversation #items").await;
    let general = browser
        .execute("return Number(document.body.dataset.conversation);", vec![])
        .await
        .as_i64()
        .expect("a conversation page");
    wait_live(browser).await;
    browser
        .execute("window.__hearthTestMark = 'still here';", vec![])
        .await;
    let ann = login(&base, "ann").await;
    let listen = server.addr.clone();
    let scene = Scene {
        dir,
        listen,
        base,
        general,
        ann,
    };
    (scene, server)
}

/// Waits until the page's live connection said `ready` (it then re-reads the unread counts).
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

/// The page script's retry schedule, asked of the module the page loaded.
async fn retry_delays(browser: &Browser) -> Value {
    let script = "const done = arguments[arguments.length - 1];\
        const app = document.querySelector('script[type=module]').src;\
        import(new URL('ws.js', app)).then(m => ({\
          first: [m.retryDelay(0, 0), m.retryDelay(0, 0.5), m.retryDelay(0, 1)],\
          doubling: [m.retryDelay(1, 0.5), m.retryDelay(2, 0.5)],\
          cap: [m.retryDelay(3, 0.5), m.retryDelay(3, 0), m.retryDelay(3, 1)],\
          far: [m.retryDelay(60, 1), m.retryDelay(5000, 0)],\
          random: Array.from({length: 50}, () => m.retryDelay(0)),\
        })).then(done, e => done({error: String(e)}));";
    browser
        .execute_async(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("importing ws.js: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_restart_the_page_is_live_again_within_two_seconds() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let (scene, server) = bob_on_general(&browser).await;
        let listen = scene.listen.clone();

        // The schedule: about half a second first, doubling, capped at 3 s, ±20%.
        let d = retry_delays(&browser).await;
        assert_eq!(d["first"], json!([400, 500, 600]), "{d}");
        assert_eq!(d["doubling"], json!([1000, 2000]), "{d}");
        assert_eq!(d["cap"], json!([3000, 2400, 3600]), "{d}");
        assert_eq!(d["far"], json!([3600, 2400]), "{d}");
        let random = d["random"].as_array().expect("50 delays");
        assert!(
            random
                .iter()
                .all(|v| v.as_i64().is_some_and(|ms| (400..=600).contains(&ms))),
            "{d}"
        );

        // SIGTERM: the server closes every socket with 1001 on its way out. While it is away,
        // something else listens there and counts the page's knocks.
        stop(server, "restart").await;
        let away = tokio::spawn({
            let listen = listen.clone();
            async move { knocks(&listen, DOWNTIME).await }
        });
        browser
            .wait_until("the page to say it is offline", async || {
                banner_shown(&browser).await
            })
            .await;
        let banner = browser.text("#banner").await;
        assert!(
            banner.contains("Reconnecting") && banner.contains("Reconnect now"),
            "{banner:?}"
        );
        browser
            .screenshot(screenshot_path("reconnect-offline-1280.png"))
            .await;
        if let Some(axe) = Axe::load() {
            browser.assert_accessible(&axe, "the offline banner").await;
        }
        browser.set_window_size(360, 740).await;
        tokio::time::sleep(Duration::from_millis(400)).await; // the sidebar slides away
        browser
            .screenshot(screenshot_path("reconnect-offline-360.png"))
            .await;
        // A restarting server is tried every half second (±20%), not less and less often: at
        // least four gaps in the downtime (a doubling schedule fits two), all but one of them
        // in the window (a busy machine may hold one try back; the next is timed from it).
        let knocked = gaps(&away.await.unwrap());
        println!("tries while a restarting server was away, ms apart: {knocked:?}");
        assert!(knocked.len() >= 4, "too few tries while away: {knocked:?}");
        let late = knocked
            .iter()
            .filter(|ms| !(400 - SLACK_MS..=600 + SLACK_MS).contains(*ms))
            .count();
        assert!(
            late <= 1,
            "tries while a restarting server was away, ms apart: {knocked:?}"
        );

        // Back on the same address, over the same data.
        let server = serve(&scene.data(), &listen).await;
        let back = healthy(&scene.base).await;
        let id = ann_says(&scene, "Back after the restart").await;
        let took = shown_after(&browser, id, back).await;
        println!("live again {took:?} after /healthz answered");
        assert!(
            took <= LIVE_AFTER_RESTART,
            "the page took {took:?} after the server answered /healthz to show a new message"
        );
        assert!(!banner_shown(&browser).await, "the banner went");
        assert_not_reloaded(&browser, "after the restart").await;
        browser
            .assert_no_console_errors_except("a restart", &["WebSocket connection to"])
            .await;
        stop(server, "restart").await;
    })
    .await;
    browser.close().await;
}

/// Tells the browser's network emulation to be offline or online (the page hears the
/// `offline` and `online` events, and new connections fail while offline).
async fn network(browser: &Browser, online: bool) {
    let conditions = json!({
        "offline": !online, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1
    });
    browser
        .cdp("Network.emulateNetworkConditions", conditions)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_crash_the_page_comes_back_when_online_or_when_asked() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(browser) = Browser::start().await else {
        return;
    };
    bounded(async {
        let (scene, server) = bob_on_general(&browser).await;
        let (data, listen, base) = (scene.data(), scene.listen.clone(), scene.base.clone());
        browser.cdp("Network.enable", json!({})).await;

        // The server dies without a word: the page tries again after about 0.5 s, then 1 s,
        // 2 s, and then every 3 s (±20% each), as a stand-in listening there sees.
        stop(server, "crash").await;
        let knocked = gaps(&knocks(&listen, Duration::from_secs(11)).await);
        println!("tries after a crash, ms apart: {knocked:?}");
        let expected = [1000, 2000, 3000, 3000];
        assert!(knocked.len() >= 3, "too few tries after a crash: {knocked:?}");
        // The stand-in may have missed the first try (the server's port was not free yet).
        let missed = usize::from(knocked[0] > 1500);
        for (i, gap) in knocked.iter().enumerate() {
            let want = expected.get(i + missed).copied().unwrap_or(3000);
            let (low, high) = (want * 8 / 10 - SLACK_MS, want * 12 / 10 + SLACK_MS);
            assert!(
                (low..=high).contains(gap),
                "after a crash, tries {knocked:?} ms apart; expected about {expected:?} then 3000"
            );
        }
        assert!(banner_shown(&browser).await, "the page says it is offline");

        // The laptop loses its network too; the server comes back meanwhile.
        network(&browser, false).await;
        let server = serve(&data, &listen).await;
        healthy(&base).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(banner_shown(&browser).await, "still offline without a network");
        // The network is back: the page tries at once.
        network(&browser, true).await;
        let online = Instant::now();
        let id = ann_says(&scene, "Back when the network was").await;
        let took = shown_after(&browser, id, online).await;
        println!("live again {took:?} after the browser went online");
        assert!(took <= LIVE_AT_ONCE, "{took:?} after going online");
        assert_not_reloaded(&browser, "after going online").await;

        // Now the browser believes it is offline while the network works (as a confused
        // connection manager may say): the page waits for it to say otherwise, and the button
        // does not wait.
        browser
            .execute(
                "Object.defineProperty(navigator, 'onLine', {configurable: true, get: () => false});\
                 window.dispatchEvent(new Event('offline'));",
                vec![],
            )
            .await;
        stop(server, "crash").await;
        let knocked = knocks(&listen, Duration::from_secs(3)).await;
        assert!(
            knocked.is_empty(),
            "{} tries while the browser said it was offline",
            knocked.len()
        );
        assert!(banner_shown(&browser).await, "the page says it is offline");
        let server = serve(&data, &listen).await;
        healthy(&base).await;
        browser.screenshot(screenshot_path("reconnect-button.png")).await;
        browser.click("#banner button[data-action=reconnect]").await;
        let asked = Instant::now();
        let id = ann_says(&scene, "Back when asked").await;
        let took = shown_after(&browser, id, asked).await;
        println!("live again {took:?} after Reconnect now");
        assert!(took <= LIVE_AT_ONCE, "{took:?} after Reconnect now");
        assert!(!banner_shown(&browser).await, "the banner went");
        assert_not_reloaded(&browser, "after Reconnect now").await;
        stop(server, "restart").await;
    })
    .await;
    browser.close().await;
}
