//! Browser: a headless Chromium driven through its own chromedriver, for real-browser tests.
//!
//! Each `Browser` starts its own chromedriver on a free port of 127.0.0.1 with a fresh
//! profile directory, so several can run at once (two people chatting). The session is
//! closed and chromedriver killed when the `Browser` is closed or dropped.
//!
//! The W3C WebDriver protocol is spoken directly over `reqwest`: fantoccini 0.22 without
//! a TLS feature can only be built from a `hyper_util` connector, and `hyper-util` is not
//! a dependency this crate's tests can name.
//!
//! ```ignore
//! let Some(browser) = Browser::start().await else { return };
//! browser.goto(&app.url("/login")).await;
//! browser.fill("#username", "ada").await;
//! browser.click("button[type=submit]").await;
//! browser.wait_for_path("/").await;
//! browser.assert_no_console_errors("signing in");
//! browser.close().await;
//! ```
#![allow(dead_code)]

pub mod axe;
mod console;
mod driver;
mod wait;

use reqwest::{Method, Url};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use console::LogEntry;
use driver::{Binaries, Driver, delete_session_blocking, in_ci};

/// How long the waiting helpers poll before they give up.
pub const WAIT: Duration = Duration::from_secs(10);
/// The longest any single WebDriver command may take (navigation included).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// The key under which WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 900;

/// Chromium's switches: headless, quiet, no network chatter of its own.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
];

/// An error the WebDriver end answered with (or failing to reach it).
#[derive(Debug)]
pub struct WdError {
    /// The W3C error code, e.g. `no such element`; `http` when the request itself failed.
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WdError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let first_line = self.message.lines().next().unwrap_or_default();
        write!(f, "{}: {}", self.error, first_line)
    }
}

impl std::error::Error for WdError {}

/// A reference to an element of the current page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element(pub String);

/// One headless Chromium with its own chromedriver and profile.
pub struct Browser {
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT/session/ID`
    session: String,
    session_id: String,
    open: bool,
    /// Every browser log entry read so far (chromedriver hands each out only once).
    logs: Mutex<Vec<LogEntry>>,
    // Dropped in this order, after `Drop::drop` has ended the session: the driver
    // process, then the profile directory.
    driver: Driver,
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts a browser. `None` (with a loud message) when chromedriver or Chromium is not
    /// installed and `CI` is unset; in CI a missing browser is a failure, never a skip.
    pub async fn start() -> Option<Browser> {
        Browser::start_in(None).await
    }

    /// Starts a browser whose reader prefers `locale` (e.g. `de-DE`): Chromium's interface
    /// language and the languages it asks pages for (`navigator.languages`).
    pub async fn start_in_locale(locale: &str) -> Option<Browser> {
        Browser::start_in(Some(locale)).await
    }

    async fn start_in(locale: Option<&str>) -> Option<Browser> {
        let binaries = match Binaries::find() {
            Ok(b) => b,
            Err(missing) if in_ci() => panic!(
                "CI is set but the browser tests cannot run: {missing}. \
                 Install them: apt-get install chromium chromium-driver"
            ),
            Err(missing) => {
                // Straight to stderr: the test harness captures `eprintln!` of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n**********************************************************************\n\
                     SKIPPING BROWSER TESTS: chromium/chromedriver not installed \
                     (apt-get install chromium chromium-driver)\n  {missing}\n\
                     **********************************************************************\n"
                );
                return None;
            }
        };
        Some(Browser::launch(&binaries, locale).await)
    }

    async fn launch(binaries: &Binaries, locale: Option<&str>) -> Browser {
        let dir = tempfile::tempdir().expect("browser temp dir");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(COMMAND_TIMEOUT)
            .build()
            .expect("http client");
        let driver = Driver::start(&binaries.driver, dir.path(), &http).await;

        let profile = dir.path().join("profile");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| a.to_string()).collect();
        args.push(format!("--window-size={WIDTH},{HEIGHT}"));
        args.push(format!("--user-data-dir={}", profile.display()));
        let mut prefs = json!({});
        if let Some(locale) = locale {
            args.push(format!("--lang={locale}"));
            prefs = json!({"intl": {"accept_languages": locale}});
        }
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": binaries.chromium,
                        "args": args,
                        "prefs": prefs,
                    },
                    "goog:loggingPrefs": {"browser": "ALL"},
                    "timeouts": {"implicit": 0, "pageLoad": 20_000, "script": 10_000},
                    "unhandledPromptBehavior": "dismiss and notify",
                }
            }
        });
        let url = format!("http://{}/session", driver.addr);
        let res = http.post(&url).json(&capabilities).send().await;
        let body = match res {
            Ok(res) => {
                let ok = res.status().is_success();
                let body: Value = res.json().await.unwrap_or_default();
                if !ok {
                    panic!(
                        "chromedriver could not start Chromium ({}): {body}\nchromedriver log:\n{}",
                        binaries.chromium.display(),
                        driver.log_tail()
                    );
                }
                body
            }
            Err(e) => panic!("new session: {e}\nchromedriver log:\n{}", driver.log_tail()),
        };
        let session_id = body["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session id in {body}"))
            .to_owned();
        let browser = Browser {
            http,
            session: format!("{url}/{session_id}"),
            session_id,
            open: true,
            logs: Mutex::new(Vec::new()),
            driver,
            dir,
        };
        browser.set_window_size(WIDTH, HEIGHT).await;
        browser
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn close(mut self) {
        if self.open {
            self.open = false;
            if let Err(e) = self.cmd(Method::DELETE, "", None).await {
                eprintln!("closing the browser session: {e}");
            }
        }
    }

    // --- The protocol -----------------------------------------------------------------

    /// Sends one WebDriver command for this session; its `value`, or the error it answered.
    pub async fn cmd(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WdError> {
        let url = format!("{}{path}", self.session);
        let mut req = self.http.request(method.clone(), &url);
        if method == Method::POST {
            // Every POST carries a JSON object, even an empty one.
            req = req.json(&body.unwrap_or_else(|| json!({})));
        }
        let res = req.send().await.map_err(|e| WdError {
            error: "http".into(),
            message: format!("{method} {path}: {e}"),
        })?;
        let ok = res.status().is_success();
        let mut body: Value = res.json().await.map_err(|e| WdError {
            error: "http".into(),
            message: format!("{method} {path}: unreadable answer: {e}"),
        })?;
        let value = body["value"].take();
        if ok {
            Ok(value)
        } else {
            Err(WdError {
                error: value["error"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
                message: value["message"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }

    /// `cmd`, panicking with what was being done when it fails.
    async fn must(&self, what: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        match self.cmd(method, path, body).await {
            Ok(value) => value,
            Err(e) => panic!("browser: {what} failed: {e}"),
        }
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    // --- Navigation and page state -----------------------------------------------------

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.must(
            &format!("opening {url}"),
            Method::POST,
            "/url",
            Some(json!({"url": url})),
        )
        .await;
    }

    /// Goes back one page in the history and waits for it to load (or be restored).
    pub async fn back(&self) {
        self.must("going back", Method::POST, "/back", None).await;
    }

    pub async fn current_url(&self) -> Url {
        let url = self
            .must("reading the URL", Method::GET, "/url", None)
            .await;
        let url = url.as_str().unwrap_or_default();
        Url::parse(url).unwrap_or_else(|e| panic!("browser URL {url:?}: {e}"))
    }

    /// The path of the current URL, e.g. `/login`.
    pub async fn path(&self) -> String {
        self.current_url().await.path().to_owned()
    }

    pub async fn title(&self) -> String {
        let title = self
            .must("reading the title", Method::GET, "/title", None)
            .await;
        title.as_str().unwrap_or_default().to_owned()
    }

    /// The current DOM serialised as HTML.
    pub async fn source(&self) -> String {
        let html = self
            .must("reading the page source", Method::GET, "/source", None)
            .await;
        html.as_str().unwrap_or_default().to_owned()
    }

    /// The page's visible text (`document.body.innerText`).
    pub async fn body_text(&self) -> String {
        let text = self
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Runs `script` as a function body with `arguments` = `args`; its return value.
    pub async fn execute(&self, script: &str, args: Vec<Value>) -> Value {
        self.try_execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("browser: running script failed: {e}\n{script}"))
    }

    pub async fn try_execute(&self, script: &str, args: Vec<Value>) -> Result<Value, WdError> {
        let body = json!({"script": script, "args": args});
        self.cmd(Method::POST, "/execute/sync", Some(body)).await
    }

    /// Runs `script` as an async function body: its result is what it passes to the callback
    /// WebDriver appends to `arguments`. Fails when the script's time limit (10 s) runs out.
    pub async fn execute_async(&self, script: &str, args: Vec<Value>) -> Result<Value, WdError> {
        let body = json!({"script": script, "args": args});
        self.cmd(Method::POST, "/execute/async", Some(body)).await
    }

    /// Sends a Chrome DevTools Protocol command through chromedriver; its result.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let body = json!({"cmd": cmd, "params": params});
        self.must(
            &format!("the DevTools command {cmd}"),
            Method::POST,
            "/goog/cdp/execute",
            Some(body),
        )
        .await
    }

    /// Resizes the window (in headless Chromium the viewport is the whole window).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        let rect = json!({"width": width, "height": height});
        self.must(
            "resizing the window",
            Method::POST,
            "/window/rect",
            Some(rect),
        )
        .await;
    }

    /// Saves a PNG of the viewport at `path`, creating its directory.
    pub async fn screenshot(&self, path: impl AsRef<Path>) {
        let path = path.as_ref();
        let data = self
            .must("taking a screenshot", Method::GET, "/screenshot", None)
            .await;
        let png = base64_decode(data.as_str().unwrap_or_default());
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        std::fs::write(path, png)
            .unwrap_or_else(|e| panic!("writing screenshot {}: {e}", path.display()));
    }

    // --- Elements ---------------------------------------------------------------------

    /// The first element matching the CSS selector, if any.
    pub async fn try_find(&self, css: &str) -> Result<Option<Element>, WdError> {
        self.try_find_by("css selector", css).await
    }

    async fn try_find_by(&self, using: &str, value: &str) -> Result<Option<Element>, WdError> {
        let query = json!({"using": using, "value": value});
        match self.cmd(Method::POST, "/element", Some(query)).await {
            Ok(found) => Ok(found[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned()))),
            Err(e) if e.error == "no such element" => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The element matching the CSS selector now; panics when there is none.
    pub async fn find(&self, css: &str) -> Element {
        match self.try_find(css).await {
            Ok(Some(element)) => element,
            Ok(None) => panic!("no element matches {css:?} on {}", self.describe().await),
            Err(e) => panic!("finding {css:?}: {e}"),
        }
    }

    /// How many elements match the CSS selector.
    pub async fn count(&self, css: &str) -> usize {
        let query = json!({"using": "css selector", "value": css});
        let what = format!("finding {css:?}");
        let found = self
            .must(&what, Method::POST, "/elements", Some(query))
            .await;
        found.as_array().map_or(0, Vec::len)
    }

    pub async fn exists(&self, css: &str) -> bool {
        matches!(self.try_find(css).await, Ok(Some(_)))
    }

    /// Clears the field matching `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        self.element_cmd(&field, css, "clearing", "/clear", None)
            .await;
        self.type_into(&field, css, text).await;
    }

    /// Types `text` into the field matching `css` after what it holds (`\u{E007}` is Enter).
    pub async fn send_keys(&self, css: &str, text: &str) {
        let field = self.wait_for(css).await;
        self.type_into(&field, css, text).await;
    }

    async fn type_into(&self, field: &Element, css: &str, text: &str) {
        let keys = json!({"text": text});
        self.element_cmd(field, css, "typing into", "/value", Some(keys))
            .await;
    }

    /// Signs in through the login form and waits for the signed-in page it lands on.
    pub async fn sign_in(&self, app: &super::TestApp, username: &str) {
        self.goto(&app.url("/login")).await;
        self.fill("#username", username).await;
        self.fill("#password", super::PASSWORD).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
        self.wait_for("body[data-me]").await;
    }

    /// Presses `chord` as a person does: each key down in order, then up in reverse, on
    /// whatever has the focus (WebDriver key names, e.g. `"\u{E009}"` for Control).
    pub async fn press(&self, chord: &[&str]) {
        let mut actions: Vec<Value> = chord
            .iter()
            .map(|k| json!({"type": "keyDown", "value": k}))
            .collect();
        actions.extend(
            chord
                .iter()
                .rev()
                .map(|k| json!({"type": "keyUp", "value": k})),
        );
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]});
        self.cmd(Method::POST, "/actions", Some(body))
            .await
            .unwrap_or_else(|e| panic!("pressing {chord:?}: {e}"));
        self.cmd(Method::DELETE, "/actions", None)
            .await
            .unwrap_or_else(|e| panic!("releasing {chord:?}: {e}"));
    }

    /// Clicks the element matching `css` (waiting for it to appear first).
    pub async fn click(&self, css: &str) {
        self.on_fresh(css, "clicking", "/click").await;
    }

    /// Moves the mouse over the element matching `css`, as a person about to use its hover
    /// controls does.
    pub async fn hover(&self, css: &str) {
        let element = self.wait_for(css).await;
        let actions = json!({"actions": [{
            "type": "pointer",
            "id": "mouse",
            "parameters": {"pointerType": "mouse"},
            "actions": [{
                "type": "pointerMove",
                "duration": 0,
                "origin": {ELEMENT_KEY: element.0},
                "x": 0,
                "y": 0
            }]
        }]});
        self.must(
            &format!("moving the mouse over {css}"),
            Method::POST,
            "/actions",
            Some(actions),
        )
        .await;
    }

    /// Clicks the button or link whose visible text is exactly `label`.
    pub async fn click_text(&self, label: &str) {
        let xpath = format!(
            "//*[self::button or self::a or self::input[@type='submit']]\
             [normalize-space(.)={q} or @value={q}]",
            q = xpath_literal(label)
        );
        let deadline = Instant::now() + WAIT;
        let element = loop {
            if let Ok(Some(element)) = self.try_find_by("xpath", &xpath).await {
                break element;
            }
            if Instant::now() > deadline {
                panic!(
                    "no button or link labelled {label:?} on {}",
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        };
        self.element_cmd(&element, label, "clicking", "/click", None)
            .await;
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        let text = self.on_fresh(css, "reading", "/text").await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The current value of the form field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        let value = self.on_fresh(css, "reading", "/property/value").await;
        value.as_str().unwrap_or_default().to_owned()
    }

    /// Runs a command that has no effect when it fails (a read, a click) on the element matching
    /// `css`, finding it again when a page's live update replaced it between finding and using.
    async fn on_fresh(&self, css: &str, doing: &str, path: &str) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let element = self.wait_for(css).await;
            let method = if path == "/click" {
                Method::POST
            } else {
                Method::GET
            };
            let at = format!("/element/{}{path}", element.0);
            match self.cmd(method, &at, None).await {
                Ok(value) => return value,
                Err(e) if e.error == "stale element reference" && Instant::now() < deadline => {
                    tokio::time::sleep(POLL).await;
                }
                Err(e) => panic!("{doing} {css:?} failed: {e} (on {})", self.describe().await),
            }
        }
    }

    async fn element_cmd(
        &self,
        element: &Element,
        what: &str,
        doing: &str,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let method = if body.is_some() || matches!(path, "/clear" | "/click") {
            Method::POST
        } else {
            Method::GET
        };
        let path = format!("/element/{}{path}", element.0);
        match self.cmd(method, &path, body).await {
            Ok(value) => value,
            Err(e) => panic!(
                "{doing} {what:?} failed: {e} (on {})",
                self.describe().await
            ),
        }
    }
}

impl Drop for Browser {
    /// A browser dropped without `close` (a failed test) still ends its session, so Chromium
    /// quits instead of outliving chromedriver; this runs without an async runtime.
    fn drop(&mut self) {
        if self.open {
            self.open = false;
            delete_session_blocking(self.driver.addr, &self.session_id);
        }
    }
}

/// `target/screenshots/NAME`, its directory created.
pub fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir.join(name)
}

/// `s` as an XPath string literal, whatever quotes it holds.
fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else if !s.contains('"') {
        format!("\"{s}\"")
    } else {
        let parts: Vec<String> = s.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Decodes standard base64 (as WebDriver screenshots come), skipping whitespace.
fn base64_decode(text: &str) -> Vec<u8> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        if c == b'=' {
            break;
        }
        let Some(v) = sextet(c) else { continue };
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}
