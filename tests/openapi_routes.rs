//! Every JSON route is registered with its description: none is added to a router beside it.

use std::path::Path;

/// Every `.route(` in the web code, with what it is given as a path.
fn route_calls(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            route_calls(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices(".route(") {
                let arg: String = text[i + 7..]
                    .trim_start()
                    .chars()
                    .take_while(|c| *c != ',')
                    .collect();
                out.push((path.display().to_string(), arg));
            }
        }
    }
}

#[test]
fn no_api_route_is_registered_outside_the_description() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
    let mut calls = Vec::new();
    route_calls(&web, &mut calls);
    assert!(calls.len() > 20, "{calls:?}");
    for (file, arg) in calls {
        let allowed = if file.ends_with("web/api.rs") {
            // The router nested under /api/v1 holds only the socket, which docs/protocol.md
            // describes.
            arg == "\"/ws\""
        } else if let Some(literal) = arg.strip_prefix('"') {
            !literal.starts_with("/api/")
        } else {
            // The description's own path.
            arg == "PATH" && file.ends_with("web/openapi.rs")
        };
        assert!(
            allowed,
            "{file}: .route({arg}, …) — JSON routes are registered with routes!() and a #[utoipa::path]"
        );
    }
}
