//! The load harness behind `cargo bench --bench load -- SCENARIO [options]`.
//!
//! Each scenario starts the `hearth` binary as its own process on a temp data dir (so its memory
//! is measured alone), seeds it in bulk through the store functions, drives it with
//! tokio-tungstenite clients or raw HTTP from this process, and returns a [`Report`]: a readable
//! table and, as the last printed line, one JSON object with the named figures.
//! `tests/load_smoke.rs` runs every scenario at tiny scale so the harness cannot rot.
#![allow(dead_code)]

mod client;
mod fanout;
mod floor;
mod footprint;
mod history;
mod history_seed;
mod integrations;
mod join;
mod login;
mod post;
mod push;
mod search;
mod seed;
mod server;
mod sockets;
mod upload;

use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

pub const SCENARIOS: [&str; 12] = [
    "post",
    "fanout",
    "idle",
    "connect",
    "history",
    "footprint",
    "login",
    "join",
    "upload",
    "search",
    "push",
    "integrations",
];

const USAGE: &str = "usage: cargo bench --bench load -- SCENARIO [--option value]...
scenarios (defaults are the full-scale figures of docs/performance.md):
  post       --senders 16 --rooms 16 --seconds 10 --max-posts 300000 --latency-posts 2000 --sync full
  fanout     --clients 10000 --posts 100 --interval-ms 100 --burst 50 --burst-senders 10
             --concurrency 100
  idle       --clients 10000 --settle-ms 3000 --concurrency 100
  connect    --clients 10000 --concurrency 100
  history    --messages 2000000 --conversations 200 --users 200 --member-of 20
             --directs 2000 --direct-messages 150 --reactions 1200000
             --iterations 20000 --direct-connections 4 --direct-seconds 30 --older-pages 2
             --connections 32 --seconds 10
  footprint  --runs 5 --settle-ms 1000
  login      --people 500 --concurrency 50 --seconds 10 --after-s 10 --poll-ms 20
  join       --people 300 --concurrency 30 --after-s 10 --poll-ms 20
  upload     --uploads 200 --people 20 --big 20 --posts 300
  search     (the history data set: --messages ... --reactions, as history)
             --iterations 2000 --warmup 20 --class-seconds 10 --connections 32 --seconds 10
             --around-seconds 5 --http-query build
  push       --members 1000 --posts 5 --probes 300
  integrations --people 16 --connections 16 --seconds 5 --posts 2000 --concurrency 8
common: --bin PATH (the hearth binary; default: the one cargo built for this bench)
        --server-env K=V,K=V (more environment for the server, for experiments)
        --source-addrs 50 (127.0.0.x addresses clients bind to)  --timeout-s 120";

/// The bench entry point: arguments from the command line, report to stdout.
pub fn main() {
    if let Ok(frame_len) = std::env::var(floor::CHILD) {
        floor::serve_as_child(&frame_len);
        return;
    }
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.is_empty() || matches!(args[0].as_str(), "help" | "--help" | "-h") {
        println!("{USAGE}");
        return;
    }
    let stdout = std::io::stdout();
    if let Err(err) = run_in(&args, &mut stdout.lock(), true) {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}

/// Runs one scenario, writing the table and the final JSON line to `out`; returns the JSON.
/// Servers the harness itself provides run in this process.
pub fn run(args: &[String], out: &mut dyn Write) -> anyhow::Result<Value> {
    run_in(args, out, false)
}

/// As [`run`]; with `own_processes`, servers the harness provides (the fanout floor) run in a
/// process of their own, started from this executable, as Hearth does.
fn run_in(args: &[String], out: &mut dyn Write, own_processes: bool) -> anyhow::Result<Value> {
    let Some((scenario, rest)) = args.split_first() else {
        anyhow::bail!("no scenario given\n{USAGE}");
    };
    let mut opts = Opts::parse(scenario, rest)?;
    opts.own_processes = own_processes;
    server::raise_nofile();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(opts.get("client-threads", 2usize)?)
        .enable_all()
        .build()?;
    let report = runtime.block_on(async {
        match scenario.as_str() {
            "post" => post::run(&opts).await,
            "fanout" => fanout::run(&opts).await,
            "idle" => sockets::idle(&opts).await,
            "connect" => sockets::connect(&opts).await,
            "history" => history::run(&opts).await,
            "footprint" => footprint::run(&opts).await,
            "login" => login::run(&opts).await,
            "join" => join::run(&opts).await,
            "upload" => upload::run(&opts).await,
            "search" => search::run(&opts).await,
            "push" => push::run(&opts).await,
            "integrations" => integrations::run(&opts).await,
            other => anyhow::bail!("unknown scenario {other:?}\n{USAGE}"),
        }
    })?;
    runtime.shutdown_timeout(Duration::from_secs(2));
    let json = report.write(scenario, out)?;
    Ok(json)
}

/// The options each scenario reads, besides the common ones.
const OPTIONS: [(&str, &[&str]); 12] = [
    (
        "post",
        &[
            "senders",
            "rooms",
            "seconds",
            "max-posts",
            "latency-posts",
            "warmup",
            "sync",
        ],
    ),
    (
        "fanout",
        &["clients", "posts", "interval-ms", "burst", "concurrency"],
    ),
    ("idle", &["clients", "settle-ms", "concurrency"]),
    ("connect", &["clients", "concurrency"]),
    (
        "history",
        &[
            "messages",
            "conversations",
            "users",
            "member-of",
            "directs",
            "direct-messages",
            "reactions",
            "iterations",
            "direct-connections",
            "direct-seconds",
            "older-pages",
            "connections",
            "seconds",
            "page",
        ],
    ),
    ("footprint", &["runs", "settle-ms"]),
    (
        "login",
        &["people", "concurrency", "seconds", "after-s", "poll-ms"],
    ),
    ("join", &["people", "concurrency", "after-s", "poll-ms"]),
    ("upload", &["uploads", "people", "big", "posts"]),
    (
        "search",
        &[
            "messages",
            "conversations",
            "users",
            "member-of",
            "directs",
            "direct-messages",
            "reactions",
            "iterations",
            "warmup",
            "class-seconds",
            "connections",
            "seconds",
            "around-seconds",
            "http-query",
        ],
    ),
    ("push", &["members", "posts", "probes"]),
    (
        "integrations",
        &["people", "connections", "seconds", "posts", "concurrency"],
    ),
];
const COMMON: [&str; 5] = [
    "bin",
    "source-addrs",
    "timeout-s",
    "client-threads",
    "server-env",
];

/// `--key value` options, checked against what the scenario reads before anything runs.
pub struct Opts {
    values: HashMap<String, String>,
    /// Whether servers of the harness's own run in a process of their own.
    pub own_processes: bool,
}

impl Opts {
    fn parse(scenario: &str, args: &[String]) -> anyhow::Result<Opts> {
        let Some((_, known)) = OPTIONS.iter().find(|(s, _)| *s == scenario) else {
            anyhow::bail!("unknown scenario {scenario:?}\n{USAGE}");
        };
        let mut values = HashMap::new();
        let mut it = args.iter();
        while let Some(key) = it.next() {
            let Some(name) = key.strip_prefix("--") else {
                anyhow::bail!("expected --option, got {key:?}\n{USAGE}");
            };
            let Some(value) = it.next() else {
                anyhow::bail!("--{name} needs a value");
            };
            anyhow::ensure!(
                known.contains(&name) || COMMON.contains(&name),
                "{scenario} has no option --{name}\n{USAGE}"
            );
            values.insert(name.to_owned(), value.clone());
        }
        Ok(Opts {
            values,
            own_processes: false,
        })
    }

    /// The option's value, or `default`.
    pub fn get<T: FromStr>(&self, key: &str, default: T) -> anyhow::Result<T> {
        match self.values.get(key) {
            None => Ok(default),
            Some(raw) => raw
                .parse()
                .map_err(|_| anyhow::anyhow!("--{key} {raw:?} is not a valid value")),
        }
    }

    pub fn string(&self, key: &str, default: &str) -> String {
        self.values
            .get(key)
            .cloned()
            .unwrap_or_else(|| default.to_owned())
    }
}

/// What a scenario found: rows for people, fields for machines.
#[derive(Default)]
pub struct Report {
    pub setup: Vec<String>,
    rows: Vec<(String, String, String)>,
    fields: Map<String, Value>,
}

impl Report {
    /// A figure with its target (empty when it is only reported).
    pub fn figure(&mut self, name: &str, value: impl Into<Value>, target: &str) {
        let value = value.into();
        let shown = match value.as_f64() {
            Some(v) if value.is_f64() => format!("{v:.3}"),
            _ => value.to_string(),
        };
        self.rows.push((name.to_owned(), shown, target.to_owned()));
        self.fields.insert(name.to_owned(), value);
    }

    /// A field in the JSON only (parameters, context).
    pub fn field(&mut self, name: &str, value: impl Into<Value>) {
        self.fields.insert(name.to_owned(), value.into());
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.setup.push(line.into());
    }

    fn write(mut self, scenario: &str, out: &mut dyn Write) -> anyhow::Result<Value> {
        writeln!(out, "scenario: {scenario}")?;
        for line in &self.setup {
            writeln!(out, "  {line}")?;
        }
        writeln!(out)?;
        writeln!(out, "  {:<22} {:>14}   target", "figure", "value")?;
        writeln!(out, "  {:-<22} {:->14}   {:-<12}", "", "", "")?;
        for (name, value, target) in &self.rows {
            writeln!(out, "  {name:<22} {value:>14}   {target}")?;
        }
        writeln!(out)?;
        let mut json = Map::new();
        json.insert("scenario".into(), json!(scenario));
        json.append(&mut self.fields);
        json.insert("nproc".into(), json!(nproc()));
        let json = Value::Object(json);
        writeln!(out, "{json}")?;
        out.flush()?;
        Ok(json)
    }
}

pub fn nproc() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Milliseconds with microsecond resolution, from a histogram recorded in nanoseconds.
pub fn ms(nanos: u64) -> f64 {
    (nanos as f64 / 1_000.0).round() / 1_000.0
}

/// A latency histogram in nanoseconds (1 µs .. 60 s, 3 significant figures).
pub fn histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1_000, 60_000_000_000, 3).expect("histogram bounds")
}

/// One rounded rate.
pub fn per_second(count: u64, took: Duration) -> f64 {
    (count as f64 / took.as_secs_f64()).round()
}
