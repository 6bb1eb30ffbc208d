//! Observability: `GET /metrics` in the Prometheus text format, and the middleware that times
//! every request by route. `/metrics` is guarded by the `metrics_token` setting (sent as
//! `Authorization: Bearer …`); while it is unset the endpoint does not exist (404).
//!
//! Counters that other layers bump live in [`Metrics`], a cheap shared handle in `App`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::App;
use crate::chat::secrets::same_secret;

/// Upper bounds (seconds) of the request-duration histogram buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Counters and gauges of one server process. Each field is an atomic any layer may bump.
#[derive(Debug)]
pub struct Metrics {
    /// Messages accepted (the HTTP API is counted by [`track`]; other paths add theirs).
    pub messages_posted: AtomicU64,
    /// Sign-in attempts answered 401 (wrong username or password).
    pub login_failures: AtomicU64,
    /// Sign-in attempts refused by the login throttle (429).
    pub logins_throttled: AtomicU64,
    /// Scheduled backups written, and those that failed.
    pub backups_succeeded: AtomicU64,
    pub backups_failed: AtomicU64,
    /// Unix seconds of the last successful scheduled backup; 0 before the first.
    pub last_backup_unix: AtomicI64,
    started_unix: i64,
    http: Mutex<BTreeMap<(&'static str, String), RouteStats>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            messages_posted: AtomicU64::new(0),
            login_failures: AtomicU64::new(0),
            logins_throttled: AtomicU64::new(0),
            backups_succeeded: AtomicU64::new(0),
            backups_failed: AtomicU64::new(0),
            last_backup_unix: AtomicI64::new(0),
            started_unix: crate::domain::now_ms() / 1000,
            http: Mutex::new(BTreeMap::new()),
        }
    }
}

impl Metrics {
    /// Unix seconds when this server started.
    pub fn started_unix(&self) -> i64 {
        self.started_unix
    }
}

#[derive(Debug, Default)]
struct RouteStats {
    /// Non-cumulative count per bucket; the last slot is +Inf.
    buckets: [u64; BUCKETS.len() + 1],
    seconds: f64,
    by_status: BTreeMap<u16, u64>,
}

/// A bounded set of method labels.
fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    fn observe(&self, method: &Method, route: Option<&str>, status: StatusCode, took: Duration) {
        let route = route.unwrap_or("unmatched");
        let secs = took.as_secs_f64();
        if method == Method::POST && matches!(route, "/api/v1/session" | "/login") {
            match status {
                StatusCode::UNAUTHORIZED => self.login_failures.fetch_add(1, Ordering::Relaxed),
                StatusCode::TOO_MANY_REQUESTS => {
                    self.logins_throttled.fetch_add(1, Ordering::Relaxed)
                }
                _ => 0,
            };
        }
        if method == Method::POST
            && route == "/api/v1/conversations/{id}/messages"
            && status == StatusCode::CREATED
        {
            self.messages_posted.fetch_add(1, Ordering::Relaxed);
        }
        let Ok(mut http) = self.http.lock() else {
            return;
        };
        let stats = http
            .entry((method_label(method), route.to_owned()))
            .or_default();
        let slot = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        stats.buckets[slot] += 1;
        stats.seconds += secs;
        *stats.by_status.entry(status.as_u16()).or_default() += 1;
    }
}

/// Middleware: times each request and counts it by method, route pattern and status.
pub async fn track(State(app): State<App>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let response = next.run(req).await;
    app.metrics.observe(
        &method,
        route.as_deref(),
        response.status(),
        started.elapsed(),
    );
    response
}

/// GET /metrics
pub async fn metrics(State(app): State<App>, headers: HeaderMap) -> Response {
    let token = &app.config.metrics_token;
    if token.is_empty() {
        return super::html::not_found().await.into_response();
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if !given.is_some_and(|g| same_secret(g, token)) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"hearth metrics\"")],
            "a valid metrics token is needed\n",
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        render(&app),
    )
        .into_response()
}

/// Escapes a label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn one(&mut self, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
        self.family(name, kind, help);
        let _ = writeln!(self.0, "{name} {value}");
    }
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// The whole exposition.
pub fn render(app: &App) -> String {
    let m = &app.metrics;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let mut out = Out(String::with_capacity(8 * 1024));
    out.family("hearth_build_info", "gauge", "The running Hearth version.");
    let _ = writeln!(
        out.0,
        "hearth_build_info{{version=\"{}\"}} 1",
        env!("CARGO_PKG_VERSION")
    );
    out.one(
        "hearth_start_time_seconds",
        "gauge",
        "When this process started (unix time).",
        m.started_unix,
    );

    let hub = app.chat.hub.stats();
    out.one(
        "hearth_open_sockets",
        "gauge",
        "WebSocket connections open now.",
        hub.sockets.load(Ordering::Relaxed),
    );
    out.one(
        "hearth_events_delivered_total",
        "counter",
        "Live event frames queued to sockets.",
        load(&hub.delivered),
    );
    out.one(
        "hearth_sockets_closed_lagging_total",
        "counter",
        "Sockets closed because they fell behind (code 4008).",
        load(&hub.lagging_closed),
    );
    out.one(
        "hearth_messages_posted_total",
        "counter",
        "Messages accepted.",
        load(&m.messages_posted),
    );
    out.one(
        "hearth_login_failures_total",
        "counter",
        "Sign-ins refused for a wrong username or password.",
        load(&m.login_failures),
    );
    out.one(
        "hearth_logins_throttled_total",
        "counter",
        "Sign-ins refused by the login throttle.",
        load(&m.logins_throttled),
    );
    let passwords = &app.chat.passwords;
    out.one(
        "hearth_password_checks_total",
        "counter",
        "Password hashes and checks taken on (sign-in, setup, password changes).",
        passwords.checks(),
    );
    out.one(
        "hearth_password_checks_refused_total",
        "counter",
        "Password checks refused at once (503 busy) because the hashing queue was full.",
        passwords.refused(),
    );
    out.one(
        "hearth_password_workers",
        "gauge",
        "Hashing threads alive now, each holding 19 MiB while a burst lasts.",
        passwords.workers(),
    );

    let server = &app.server;
    out.one(
        "hearth_connections_open",
        "gauge",
        "HTTP connections and WebSockets open now.",
        load(&server.open),
    );
    out.one(
        "hearth_connections_refused_total",
        "counter",
        "Connections answered 503 because max_connections were open.",
        load(&server.refused),
    );
    out.one(
        "hearth_connections_timed_out_total",
        "counter",
        "Connections closed for being too slow to send a request or to read an answer, or idle.",
        load(&server.timed_out),
    );

    let w = app.db.writer().stats();
    out.one(
        "hearth_writer_commits_total",
        "counter",
        "Write transactions committed (one per batch).",
        load(&w.transactions),
    );
    out.one(
        "hearth_writer_jobs_total",
        "counter",
        "Write jobs run; jobs / commits is the mean batch size.",
        load(&w.jobs),
    );
    out.one(
        "hearth_writer_failed_jobs_total",
        "counter",
        "Write jobs that failed and were rolled back alone.",
        load(&w.failed_jobs),
    );
    out.one(
        "hearth_writer_failed_batches_total",
        "counter",
        "Write batches failed whole (the transaction was abandoned or its commit failed).",
        load(&w.failed_batches),
    );
    out.one(
        "hearth_writer_refused_total",
        "counter",
        "Writes answered busy: the writer's queue was full, or the answer came past its deadline.",
        load(&w.refused),
    );
    out.one(
        "hearth_writer_hook_panics_total",
        "counter",
        "After-commit hooks that panicked (their commits stand; the cause is in the log).",
        load(&w.hook_panics),
    );
    out.one(
        "hearth_writer_batch_size_max",
        "gauge",
        "The most jobs one commit has held.",
        load(&w.largest_batch),
    );
    out.one(
        "hearth_writer_commit_seconds_total",
        "counter",
        "Time spent running and committing batches; divided by commits, the mean commit latency.",
        load(&w.commit_micros_total) as f64 / 1e6,
    );

    let db = app.db.path();
    out.one(
        "hearth_database_bytes",
        "gauge",
        "Size of hearth.db.",
        file_size(db),
    );
    let wal = db.with_file_name("hearth.db-wal");
    out.one(
        "hearth_wal_bytes",
        "gauge",
        "Size of the write-ahead log.",
        file_size(&wal),
    );
    out.one(
        "hearth_backups_total",
        "counter",
        "Scheduled backups written.",
        load(&m.backups_succeeded),
    );
    out.one(
        "hearth_backups_failed_total",
        "counter",
        "Scheduled backups that failed.",
        load(&m.backups_failed),
    );
    out.one(
        "hearth_backup_last_success_time_seconds",
        "gauge",
        "When the last scheduled backup was written (unix time; 0: never).",
        m.last_backup_unix.load(Ordering::Relaxed),
    );

    render_http(m, &mut out);
    out.0
}

fn render_http(m: &Metrics, out: &mut Out) {
    let Ok(http) = m.http.lock() else { return };
    out.family(
        "hearth_http_requests_total",
        "counter",
        "HTTP requests answered, by route pattern and status.",
    );
    for ((method, route), s) in http.iter() {
        for (status, n) in &s.by_status {
            let _ = writeln!(
                out.0,
                "hearth_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
    }
    out.family(
        "hearth_http_request_duration_seconds",
        "histogram",
        "Time to answer (until the response head), by route pattern.",
    );
    for ((method, route), s) in http.iter() {
        let labels = format!("method=\"{method}\",route=\"{}\"", label(route));
        let mut cumulative = 0;
        for (i, le) in BUCKETS
            .iter()
            .map(|b| b.to_string())
            .chain(["+Inf".to_string()])
            .enumerate()
        {
            cumulative += s.buckets[i];
            let _ = writeln!(
                out.0,
                "hearth_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out.0,
            "hearth_http_request_duration_seconds_sum{{{labels}}} {}",
            s.seconds
        );
        let _ = writeln!(
            out.0,
            "hearth_http_request_duration_seconds_count{{{labels}}} {cumulative}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_land_in_their_bucket_and_logins_are_counted() {
        let m = Metrics::default();
        m.observe(
            &Method::POST,
            Some("/api/v1/session"),
            StatusCode::UNAUTHORIZED,
            Duration::from_millis(3),
        );
        m.observe(
            &Method::POST,
            Some("/login"),
            StatusCode::UNAUTHORIZED,
            Duration::from_millis(3),
        );
        m.observe(
            &Method::POST,
            Some("/login"),
            StatusCode::SEE_OTHER,
            Duration::from_millis(3),
        );
        m.observe(
            &Method::GET,
            None,
            StatusCode::NOT_FOUND,
            Duration::from_secs(60),
        );
        assert_eq!(m.login_failures.load(Ordering::Relaxed), 2);
        let http = m.http.lock().unwrap();
        let login = &http[&("POST", "/login".to_string())];
        assert_eq!(login.buckets[2], 2, "3 ms is in the 5 ms bucket");
        assert_eq!(login.by_status[&401], 1);
        assert_eq!(
            http[&("GET", "unmatched".to_string())].buckets[BUCKETS.len()],
            1
        );
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
