//! The service worker script: `assets/sw.js` after one line that tells it this build's asset
//! URLs (kept on install, so a page opens offline) and the icon its notifications show.

use serde_json::json;

use crate::web::Assets;

/// What the worker keeps on install: every script and stylesheet, and the small icons.
fn in_shell(name: &str) -> bool {
    name != "sw.js"
        && (name.ends_with(".js")
            || name.ends_with(".css")
            || matches!(name, "favicon.svg" | "icon-192.png"))
}

/// The script served at `/sw.js`.
pub fn script(assets: &Assets) -> String {
    let shell: Vec<String> = assets
        .names()
        .into_iter()
        .filter(|n| in_shell(n))
        .map(|n| assets.url(n))
        .collect();
    let build = json!({
        "build": assets.build(),
        "shell": shell,
        "icon": assets.url("icon-192.png"),
    });
    let code = Assets::bytes("sw.js").expect("sw.js is embedded");
    format!(
        "const HEARTH = {build};\n{}",
        String::from_utf8_lossy(&code)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_knows_its_build_and_shell() {
        let assets = Assets::index();
        let js = script(&assets);
        let first = js.lines().next().unwrap();
        let config: serde_json::Value = serde_json::from_str(
            first
                .strip_prefix("const HEARTH = ")
                .and_then(|l| l.strip_suffix(';'))
                .unwrap(),
        )
        .unwrap();
        assert_eq!(config["build"], assets.build());
        let shell: Vec<&str> = config["shell"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(shell.contains(&assets.url("app.js").as_str()));
        assert!(shell.contains(&assets.url("hearth.css").as_str()));
        assert!(!shell.iter().any(|u| u.ends_with("/sw.js")));
        assert!(!shell.iter().any(|u| u.ends_with("512.png")));
        assert!(js.contains("addEventListener(\"fetch\""));
    }
}
