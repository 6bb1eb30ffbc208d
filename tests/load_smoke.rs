//! The load harness at tiny scale: every scenario runs end to end against the real binary and
//! prints its table and, last, the JSON line with its named figures. No timing is asserted:
//! targets live in the benchmark (`cargo bench --bench load`), not in tests.

#[path = "../benches/harness/mod.rs"]
mod harness;

use serde_json::Value;

/// Runs a scenario; checks the last printed line is the JSON object with these numeric fields.
fn smoke(args: &[&str], fields: &[&str]) -> Value {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let mut out = Vec::new();
    let returned =
        harness::run(&args, &mut out).unwrap_or_else(|e| panic!("{} failed: {e:#}", args[0]));
    let text = String::from_utf8(out).expect("utf-8 output");
    let last = text.lines().last().expect("some output");
    let printed: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("last line is not JSON ({e}):\n{text}"));
    // Compared as parsed from text on both sides: serde_json's default float parsing may
    // differ from the f64 it printed in the last digit.
    let returned: Value = serde_json::from_str(&returned.to_string()).expect("JSON");
    assert_eq!(printed, returned);
    assert_eq!(printed["scenario"], args[0].as_str());
    for field in fields {
        assert!(
            printed[field].is_number(),
            "{field} missing from the JSON line:\n{text}"
        );
        assert!(
            text.contains(field),
            "{field} missing from the table:\n{text}"
        );
    }
    printed
}

#[test]
fn post_scenario_runs() {
    let json = smoke(
        &[
            "post",
            "--senders",
            "2",
            "--seconds",
            "0.3",
            "--latency-posts",
            "20",
            "--warmup",
            "4",
        ],
        &["posts_per_s", "p50_ms", "p99_ms"],
    );
    assert!(json["posts"].as_u64().unwrap() > 0, "{json}");
}

#[test]
fn fanout_scenario_runs() {
    let json = smoke(
        &[
            "fanout",
            "--clients",
            "5",
            "--posts",
            "3",
            "--interval-ms",
            "20",
            "--burst",
            "3",
        ],
        &[
            "p50_ms",
            "p99_ms",
            "deliveries_per_s",
            "floor_p50_ms",
            "floor_p99_ms",
            "ratio_p50",
        ],
    );
    assert_eq!(json["incomplete_posts"], 0, "{json}");
    assert_eq!(json["floor_incomplete_posts"], 0, "{json}");
    assert!(json["floor_p50_ms"].as_f64().unwrap() > 0.0, "{json}");
    assert!(json["frame_bytes"].as_u64().unwrap() > 200, "{json}");
}

#[test]
fn idle_scenario_runs() {
    let json = smoke(
        &["idle", "--clients", "5", "--settle-ms", "100"],
        &["rss_mb"],
    );
    assert_eq!(json["failures"], 0, "{json}");
    assert_eq!(json["open_sockets"], 5.0, "{json}");
}

#[test]
fn connect_scenario_runs() {
    let json = smoke(&["connect", "--clients", "5"], &["total_s", "failures"]);
    assert_eq!(json["failures"], 0, "{json}");
}

#[test]
fn history_scenario_runs() {
    let json = smoke(
        &[
            "history",
            "--messages",
            "2000",
            "--conversations",
            "4",
            "--users",
            "6",
            "--member-of",
            "2",
            "--directs",
            "5",
            "--direct-messages",
            "120",
            "--reactions",
            "2000",
            "--iterations",
            "50",
            "--direct-connections",
            "2",
            "--connections",
            "2",
            "--seconds",
            "0.3",
        ],
        &[
            "p99_ms",
            "http_rps",
            "direct_latest_p99_ms",
            "direct_older_p99_ms",
            "healthz_p99_ms",
            "direct_peak_rss_mb",
            "peak_rss_mb",
        ],
    );
    // Every direct loaded, with both older pages (120 messages: 50, 50 and 20).
    assert_eq!(json["direct_latest_pages"], 5, "{json}");
    assert_eq!(json["direct_older_pages"], 10, "{json}");
    assert_eq!(json["direct_errors"], 0, "{json}");
    assert_eq!(json["http_errors"], 0, "{json}");
    // One reaction on most messages (2,000 over 2,600), never two of a kind.
    assert_eq!(json["reactions"], 2000, "{json}");

    // Without directs and reactions: the data set of the rounds before them.
    let json = smoke(
        &[
            "history",
            "--messages",
            "1000",
            "--conversations",
            "4",
            "--users",
            "6",
            "--member-of",
            "2",
            "--directs",
            "0",
            "--reactions",
            "0",
            "--iterations",
            "20",
            "--connections",
            "2",
            "--seconds",
            "0.2",
        ],
        &["p99_ms", "http_rps", "peak_rss_mb"],
    );
    assert_eq!(json["reactions"], 0, "{json}");
    assert!(json.get("direct_latest_p99_ms").is_none(), "{json}");
}

#[test]
fn search_scenario_runs() {
    let json = smoke(
        &[
            "search",
            "--messages",
            "2000",
            "--conversations",
            "4",
            "--users",
            "6",
            "--member-of",
            "2",
            "--directs",
            "5",
            "--direct-messages",
            "120",
            "--reactions",
            "0",
            "--iterations",
            "30",
            "--warmup",
            "2",
            "--class-seconds",
            "2",
            "--connections",
            "2",
            "--seconds",
            "0.3",
            "--around-seconds",
            "0.2",
        ],
        &[
            "common_p99_ms",
            "rare_p99_ms",
            "phrase_p99_ms",
            "prefix_p99_ms",
            "filter_p99_ms",
            "substring_p99_ms",
            "cjk2_p99_ms",
            "best_p99_ms",
            "around_p99_ms",
            "search_http_rps",
            "search_http_p99_ms",
            "peak_rss_mb",
            "fts_words_mb",
            "fts_trigram_mb",
            "db_mb",
            "index_share",
        ],
    );
    // Every class that should find something found it for every searcher, over HTTP too.
    assert_eq!(json["empty_pages"], 0, "{json}");
    assert_eq!(json["cjk2_none_empty"], 30, "{json}");
    assert_eq!(json["http_errors"], 0, "{json}");
    assert_eq!(json["http_empty"], 0, "{json}");
    assert!(json["rare_mean_hits"].as_f64().unwrap() >= 1.0, "{json}");
    assert_eq!(json["common_mean_hits"], 20.0, "{json}");
    assert!(json["index_share"].as_f64().unwrap() > 0.0, "{json}");
}

#[test]
fn footprint_scenario_runs() {
    smoke(
        &["footprint", "--runs", "1", "--settle-ms", "50"],
        &["cold_start_ms", "idle_rss_mb", "binary_mb"],
    );
}

#[test]
fn unknown_scenarios_and_options_are_refused() {
    let mut out = Vec::new();
    assert!(harness::run(&["nonsense".to_string()], &mut out).is_err());
    let args: Vec<String> = ["footprint", "--runs", "1", "--bogus", "1"]
        .iter()
        .map(|a| a.to_string())
        .collect();
    assert!(harness::run(&args, &mut out).is_err());
}

#[test]
fn login_scenario_runs() {
    let json = smoke(
        &[
            "login",
            "--people",
            "4",
            "--concurrency",
            "3",
            "--seconds",
            "0.5",
            "--after-s",
            "0.1",
        ],
        &["signins_per_s", "peak_rss_mb", "rss_after_mb", "me_p99_ms"],
    );
    assert!(json["ok"].as_u64().unwrap() > 0, "{json}");
    assert!(json["wrong"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(json["errors"], 0, "{json}");
    assert_eq!(json["me_failures"], 0, "{json}");
}

#[test]
fn join_scenario_runs() {
    let json = smoke(
        &[
            "join",
            "--people",
            "6",
            "--concurrency",
            "3",
            "--after-s",
            "0.1",
        ],
        &["joins_per_s", "peak_rss_mb", "rss_after_mb", "me_p99_ms"],
    );
    assert_eq!(json["joined"], 6, "{json}");
    assert_eq!(json["failed"], 0, "{json}");
    assert_eq!(json["me_failures"], 0, "{json}");
}

#[test]
fn upload_scenario_runs() {
    let json = smoke(
        &[
            "upload",
            "--uploads",
            "3",
            "--people",
            "2",
            "--big",
            "2",
            "--posts",
            "5",
        ],
        &[
            "upload_p50_ms",
            "upload_p99_ms",
            "upload_peak_rss_mb",
            "post_alone_p50_ms",
            "post_during_uploads_p99_ms",
        ],
    );
    assert!(json["photo_bytes"].as_u64().unwrap() > 400 * 1024, "{json}");
    assert!(
        json["large_bytes"].as_u64().unwrap() > 4 * 1024 * 1024,
        "{json}"
    );
}

#[test]
fn push_scenario_runs() {
    let json = smoke(
        &["push", "--members", "20", "--posts", "2", "--probes", "10"],
        &[
            "pushes_per_s",
            "post_p99_ms_during",
            "post_alone_p99_ms",
            "peak_rss_mb",
        ],
    );
    assert_eq!(json["pushes"], 40, "{json}");
}

#[test]
fn integrations_scenario_runs() {
    let json = smoke(
        &[
            "integrations",
            "--people",
            "3",
            "--connections",
            "2",
            "--seconds",
            "0.5",
            "--posts",
            "20",
            "--concurrency",
            "4",
        ],
        &[
            "token_rps",
            "cookie_rps",
            "token_over_cookie",
            "hook_posts_per_s",
            "api_posts_per_s",
            "peak_rss_mb",
        ],
    );
    assert_eq!(json["bad_answers"], 0, "{json}");
    assert_eq!(json["posts"], 20, "{json}");
}
