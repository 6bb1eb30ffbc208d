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

use reqwest::{Method, Url};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the waiting helpers poll before they give up.
pub const WAIT: Duration = Duration::from_secs(10);
/// How long chromedriver may take to answer after it was started.
const DRIVER_START: Duration = Duration::from_secs(10);
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

/// A message from the browser's console (or its network and security layers).
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    /// `console-api`, `network`, `security`, `javascript`, …
    pub source: String,
    pub message: String,
}

impl LogEntry {
    pub fn is_error(&self) -> bool {
        self.level == "SEVERE"
    }

    /// A Content-Security-Policy refusal ("Refused to load / execute / apply …").
    pub fn is_csp_violation(&self) -> bool {
        self.message.contains("Refused to") || self.message.contains("Content Security Policy")
    }
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} {}] {}", self.level, self.source, self.message)
    }
}

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

/// The binaries a browser test needs, when both are installed.
struct Binaries {
    driver: PathBuf,
    chromium: PathBuf,
}

impl Binaries {
    /// Finds chromedriver (`CHROMEDRIVER`, /usr/bin/chromedriver, PATH) and Chromium
    /// (`CHROMIUM`, /usr/bin/chromium, PATH); names what is missing otherwise.
    fn find() -> Result<Binaries, String> {
        let driver = find_binary("CHROMEDRIVER", "/usr/bin/chromedriver", &["chromedriver"]);
        let chromium = find_binary(
            "CHROMIUM",
            "/usr/bin/chromium",
            &["chromium", "chromium-browser"],
        );
        match (driver, chromium) {
            (Ok(driver), Ok(chromium)) => Ok(Binaries { driver, chromium }),
            (Err(a), Err(b)) => Err(format!("{a}; {b}")),
            (Err(e), _) | (_, Err(e)) => Err(e),
        }
    }
}

fn find_binary(env: &str, default: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{env}={} does not exist", path.display()))
        };
    }
    let default = Path::new(default);
    if default.is_file() {
        return Ok(default.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Ok(candidate);
            }
        }
    }
    Err(format!("{} not found (set {env}, or install it)", names[0]))
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// A chromedriver child process, killed on drop.
struct Driver {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free port and waits until it says it is ready.
    async fn start(binary: &Path, dir: &Path, http: &reqwest::Client) -> Driver {
        let mut last_failure = String::new();
        // The free port is found by binding :0 and letting go; another process may take it
        // in between, so a driver that dies at once is retried on a new port.
        for attempt in 1..=3 {
            let addr = free_port();
            let log = dir.join(format!("chromedriver-{attempt}.log"));
            let child = Command::new(binary)
                .arg(format!("--port={}", addr.port()))
                .arg(format!("--log-path={}", log.display()))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
            let mut driver = Driver { child, addr, log };
            match driver.wait_ready(http).await {
                Ok(()) => return driver,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("chromedriver did not start: {last_failure}");
    }

    async fn wait_ready(&mut self, http: &reqwest::Client) -> Result<(), String> {
        let deadline = Instant::now() + DRIVER_START;
        let status = format!("http://{}/status", self.addr);
        loop {
            if let Ok(Some(exit)) = self.child.try_wait() {
                return Err(format!("it exited with {exit}; log:\n{}", self.log_tail()));
            }
            let ready = http
                .get(&status)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(res) = ready {
                let body: Value = res.json().await.unwrap_or_default();
                if body["value"]["ready"] == json!(true) {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no answer on {} within {DRIVER_START:?}; log:\n{}",
                    self.addr,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr")
}

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
        Some(Browser::launch(&binaries).await)
    }

    async fn launch(binaries: &Binaries) -> Browser {
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
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": binaries.chromium,
                        "args": args,
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

    /// Clicks the element matching `css` (waiting for it to appear first).
    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        self.element_cmd(&element, css, "clicking", "/click", None)
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
        let element = self.wait_for(css).await;
        let text = self
            .element_cmd(&element, css, "reading", "/text", None)
            .await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The current value of the form field matching `css`.
    pub async fn value(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        let value = self
            .element_cmd(&element, css, "reading", "/property/value", None)
            .await;
        value.as_str().unwrap_or_default().to_owned()
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

    // --- Waiting ----------------------------------------------------------------------

    /// Waits (up to `WAIT`) for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        let mut last_error;
        loop {
            // Errors while a page is being replaced are transient: poll on.
            match self.try_find(css).await {
                Ok(Some(element)) => return element,
                Ok(None) => last_error = None,
                Err(e) => last_error = Some(e),
            }
            if Instant::now() > deadline {
                let error = last_error.map(|e| format!(" (last error: {e})"));
                panic!(
                    "waited {WAIT:?} for {css:?}{} on {}",
                    error.unwrap_or_default(),
                    self.describe().await
                );
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Waits (up to `WAIT`) until no element matches `css`.
    pub async fn wait_for_gone(&self, css: &str) {
        self.wait_until(&format!("{css:?} to disappear"), async || {
            !self.exists(css).await
        })
        .await;
    }

    /// Waits (up to `WAIT`) until the page's visible text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        let script = "return document.body ? document.body.innerText : '';";
        self.wait_until(&format!("the text {text:?}"), async || {
            let body = self.try_execute(script, vec![]).await;
            body.is_ok_and(|b| b.as_str().is_some_and(|b| b.contains(text)))
        })
        .await;
    }

    /// Waits (up to `WAIT`) until a conversation page (`/c/{id}`) has loaded: where `/` lands
    /// when signed in.
    pub async fn wait_for_conversation(&self) {
        self.wait_for_page("a conversation page", |path| path.starts_with("/c/"))
            .await;
    }

    /// Waits (up to `WAIT`) until the URL's path is `path` and the page has loaded.
    pub async fn wait_for_path(&self, path: &str) {
        self.wait_for_page(&format!("the path {path}"), |p| p == path)
            .await;
    }

    /// Waits until the URL's path satisfies `wanted` and the document has finished loading.
    async fn wait_for_page(&self, what: &str, wanted: impl Fn(&str) -> bool) {
        self.wait_until(what, async || {
            let url = self.cmd(Method::GET, "/url", None).await;
            let url = url
                .ok()
                .and_then(|u| u.as_str().and_then(|u| Url::parse(u).ok()));
            if url.is_none_or(|u| !wanted(u.path())) {
                return false;
            }
            let state = self
                .try_execute("return document.readyState;", vec![])
                .await;
            state.is_ok_and(|s| s == "complete")
        })
        .await;
    }

    /// Polls `ready` every 100 ms until it is true; panics after `WAIT`.
    pub async fn wait_until(&self, what: &str, mut ready: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            if ready().await {
                return;
            }
            if Instant::now() > deadline {
                panic!("waited {WAIT:?} for {what} on {}", self.describe().await);
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The current URL and the start of the page's text, for failure messages.
    async fn describe(&self) -> String {
        let url = match self.cmd(Method::GET, "/url", None).await {
            Ok(url) => url.as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("(URL unknown: {e})"),
        };
        let script = "return document.body ? document.body.innerText : '';";
        let text = match self.try_execute(script, vec![]).await {
            Ok(text) => text
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(600)
                .collect(),
            Err(e) => format!("(text unknown: {e})"),
        };
        format!("{url}\n--- page text ---\n{text}\n-----------------")
    }

    // --- The console ------------------------------------------------------------------

    /// Every browser log entry since the browser started (console messages, failed loads,
    /// CSP refusals).
    pub async fn console_logs(&self) -> Vec<LogEntry> {
        let fresh = self
            .must(
                "reading the browser log",
                Method::POST,
                "/se/log",
                Some(json!({"type": "browser"})),
            )
            .await;
        let mut logs = self.logs.lock().expect("log lock");
        for entry in fresh.as_array().into_iter().flatten() {
            logs.push(LogEntry {
                level: entry["level"].as_str().unwrap_or_default().to_owned(),
                source: entry["source"].as_str().unwrap_or_default().to_owned(),
                message: entry["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        logs.clone()
    }

    /// The SEVERE entries since the browser started: console errors, uncaught exceptions,
    /// failed loads and Content-Security-Policy violations ("Refused to …").
    pub async fn console_errors(&self) -> Vec<LogEntry> {
        self.console_logs()
            .await
            .into_iter()
            .filter(LogEntry::is_error)
            .collect()
    }

    /// The CSP violations since the browser started, whatever their level.
    pub async fn csp_violations(&self) -> Vec<LogEntry> {
        let logs = self.console_logs().await;
        logs.into_iter()
            .filter(LogEntry::is_csp_violation)
            .collect()
    }

    /// Panics listing them when any console error or CSP violation was logged so far.
    pub async fn assert_no_console_errors(&self, context: &str) {
        self.assert_no_console_errors_except(context, &[]).await;
    }

    /// Like `assert_no_console_errors`, but excuses the errors (never CSP violations) whose
    /// message contains one of `expected`, e.g. the failed load of a page answered with 401.
    pub async fn assert_no_console_errors_except(&self, context: &str, expected: &[&str]) {
        let bad: Vec<String> = self
            .console_logs()
            .await
            .iter()
            .filter(|e| {
                e.is_csp_violation()
                    || (e.is_error() && !expected.iter().any(|x| e.message.contains(x)))
            })
            .map(ToString::to_string)
            .collect();
        assert!(
            bad.is_empty(),
            "console errors or CSP violations ({context}):\n  {}",
            bad.join("\n  ")
        );
    }

    /// Forgets the log entries read so far (e.g. after an expected error).
    pub async fn clear_console(&self) {
        self.console_logs().await;
        self.logs.lock().expect("log lock").clear();
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

fn delete_session_blocking(addr: SocketAddr, session_id: &str) {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let request = format!(
        "DELETE /session/{session_id} HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
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
