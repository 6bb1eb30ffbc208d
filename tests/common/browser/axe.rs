//! axe-core, the accessibility checker, run inside the page a test is on.
//!
//! axe-core comes from npm, pinned exactly in `tests/axe/package-lock.json`; `.ci/run`
//! installs it with `npm ci --prefix tests/axe`. Without it the accessibility tests are
//! skipped with a loud message, unless `CI` is set: then they fail, as a missing Chromium does.

use reqwest::Method;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Browser;
use super::driver::in_ci;

/// The rules axe runs beyond its defaults: WCAG 2.2's 24 px target size.
const EXTRA_RULES: &str = r#"{"target-size": {"enabled": true}}"#;
/// axe on a long conversation takes a few seconds on a busy machine.
const SCRIPT_LIMIT_MS: u64 = 30_000;

/// The axe-core script, read once per test.
pub struct Axe {
    source: String,
}

/// One rule axe found broken, with every element that breaks it.
#[derive(Debug, Clone)]
pub struct Violation {
    pub id: String,
    pub impact: String,
    pub help: String,
    pub help_url: String,
    /// Each element: its CSS path, what is wrong with it, and the start of its HTML.
    pub nodes: Vec<(String, String, String)>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} ({}): {} <{}>",
            self.id, self.impact, self.help, self.help_url
        )?;
        for (target, summary, html) in &self.nodes {
            let summary = summary.replace('\n', " ");
            writeln!(f, "    target {target}: {summary}\n      {html}")?;
        }
        Ok(())
    }
}

fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/axe/node_modules/axe-core/axe.min.js")
}

impl Axe {
    /// Reads the installed axe-core. `None` (with a loud message) when it is not installed and
    /// `CI` is unset; in CI a missing axe-core is a failure, never a skip.
    pub fn load() -> Option<Axe> {
        let path = script_path();
        match std::fs::read_to_string(&path) {
            Ok(source) => Some(Axe { source }),
            Err(e) if in_ci() => panic!(
                "CI is set but the accessibility tests cannot run: {} ({e}). \
                 Install it: npm ci --prefix tests/axe",
                path.display()
            ),
            Err(e) => {
                // Straight to stderr: the test harness captures `eprintln!` of passing tests.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n**********************************************************************\n\
                     SKIPPING ACCESSIBILITY TESTS: axe-core not installed \
                     (npm ci --prefix tests/axe)\n  {}: {e}\n\
                     **********************************************************************\n",
                    path.display()
                );
                None
            }
        }
    }
}

impl Browser {
    /// Runs axe-core over the whole page as it is now; the rules it found broken.
    pub async fn axe_violations(&self, axe: &Axe) -> Vec<Violation> {
        let loaded = self
            .execute("return typeof window.axe === 'object';", vec![])
            .await;
        if loaded != true {
            // Run as a WebDriver script, so the page's CSP (no inline script) does not apply.
            let inject = format!("{}\nreturn typeof window.axe;", axe.source);
            let kind = self.execute(&inject, vec![]).await;
            assert_eq!(kind, "object", "axe-core did not load into the page");
        }
        self.cmd(
            Method::POST,
            "/timeouts",
            Some(json!({"script": SCRIPT_LIMIT_MS})),
        )
        .await
        .unwrap_or_else(|e| panic!("setting the script time limit: {e}"));
        let run = format!(
            "const done = arguments[arguments.length - 1];\
             axe.run(document, {{rules: {EXTRA_RULES}, resultTypes: ['violations']}})\
               .then(r => done({{violations: r.violations}}), e => done({{error: String(e)}}));"
        );
        let result = self
            .execute_async(&run, vec![])
            .await
            .unwrap_or_else(|e| panic!("running axe-core: {e}"));
        if let Some(error) = result["error"].as_str() {
            panic!("axe-core failed: {error}");
        }
        let list = result["violations"].as_array().cloned().unwrap_or_default();
        list.iter().map(violation).collect()
    }

    /// Fails listing every violation axe-core finds on the page, each with its rule id,
    /// impact, help text and the elements that break it.
    pub async fn assert_accessible(&self, axe: &Axe, page: &str) {
        let found = self.axe_violations(axe).await;
        let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert!(
            found.is_empty(),
            "{} accessibility violation(s) on {page}:\n  {}",
            found.len(),
            listed.join("  ")
        );
    }
}

fn violation(v: &Value) -> Violation {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    let nodes = v["nodes"].as_array().cloned().unwrap_or_default();
    Violation {
        id: text(&v["id"]),
        impact: text(&v["impact"]),
        help: text(&v["help"]),
        help_url: text(&v["helpUrl"]),
        nodes: nodes
            .iter()
            .map(|n| {
                let target = n["target"].to_string();
                let html: String = text(&n["html"]).chars().take(160).collect();
                (target, text(&n["failureSummary"]), html)
            })
            .collect(),
    }
}
