//! The web app manifest: the community's name, colour and icons, as the browser installs them.

use serde_json::{Value, json};

use crate::chat::instance::Settings;
use crate::chat::pictures::LogoIcon;
use crate::web::Assets;

/// The page background of the light theme (`--bg` in hearth.css): the splash screen's colour.
const BACKGROUND: &str = "#f7f5f2";
/// Launchers cut names longer than this.
const SHORT_NAME_MAX: usize = 12;

/// The manifest for these settings. The built-in icons are always there (Chromium wants a
/// 192 and a 512 pixel PNG); the logo, when set, comes first.
pub fn manifest(settings: &Settings, assets: &Assets, logo: Option<&LogoIcon>) -> Value {
    let mut icons = Vec::new();
    if let Some(logo) = logo {
        icons.push(json!({
            "src": logo.url,
            "sizes": format!("{0}x{0}", logo.side),
            "type": logo.mime,
            "purpose": "any",
        }));
    }
    for (name, side, purpose) in [
        ("icon-192.png", 192, "any"),
        ("icon-512.png", 512, "any"),
        ("icon-maskable-512.png", 512, "maskable"),
    ] {
        icons.push(json!({
            "src": assets.url(name),
            "sizes": format!("{side}x{side}"),
            "type": "image/png",
            "purpose": purpose,
        }));
    }
    json!({
        "id": "/",
        "name": settings.community_name,
        "short_name": short_name(&settings.community_name),
        "description": crate::web::pages::DESCRIPTION,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": settings.accent,
        "background_color": BACKGROUND,
        "icons": icons,
    })
}

/// The name under an icon: the community's name when short, else its first word, cut.
pub fn short_name(name: &str) -> String {
    let name = name.trim();
    if name.chars().count() <= SHORT_NAME_MAX {
        return name.to_owned();
    }
    let first = name.split_whitespace().next().unwrap_or(name);
    first.chars().take(SHORT_NAME_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_fit_under_an_icon() {
        assert_eq!(short_name("Hearth"), "Hearth");
        assert_eq!(short_name("Book club 12"), "Book club 12");
        assert_eq!(short_name("Friends of the Park"), "Friends");
        assert_eq!(short_name("Supercalifragilistic"), "Supercalifra");
        assert_eq!(short_name("Ünïcödé ñämès, long"), "Ünïcödé");
    }

    #[test]
    fn the_manifest_says_what_the_settings_say() {
        let assets = Assets::index();
        let settings = Settings {
            community_name: "Friends of the Park".into(),
            accent: "#224466".into(),
            ..Settings::default()
        };
        let m = manifest(&settings, &assets, None);
        assert_eq!(m["name"], "Friends of the Park");
        assert_eq!(m["short_name"], "Friends");
        assert_eq!(m["theme_color"], "#224466");
        assert_eq!(m["start_url"], "/");
        assert_eq!(m["scope"], "/");
        assert_eq!(m["display"], "standalone");
        let icons = m["icons"].as_array().unwrap();
        assert_eq!(icons.len(), 3);
        assert_eq!(icons[0]["sizes"], "192x192");
        assert_eq!(icons[1]["sizes"], "512x512");
        assert_eq!(icons[2]["purpose"], "maskable");
        for icon in icons {
            let src = icon["src"].as_str().unwrap();
            assert!(
                src.starts_with(&format!("/assets/{}/", assets.build())),
                "{src}"
            );
        }
    }

    #[test]
    fn a_logo_comes_first() {
        let logo = LogoIcon {
            url: "/logo?v=0123456789abcdef".into(),
            mime: "image/png",
            side: 200,
        };
        let m = manifest(&Settings::default(), &Assets::index(), Some(&logo));
        let first = &m["icons"][0];
        assert_eq!(first["src"], "/logo?v=0123456789abcdef");
        assert_eq!(first["sizes"], "200x200");
        assert_eq!(first["type"], "image/png");
        assert_eq!(m["icons"].as_array().unwrap().len(), 4);
    }
}
