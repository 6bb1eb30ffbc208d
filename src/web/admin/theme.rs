//! The accent colour an admin chose, as a small stylesheet every page links after the main
//! one: the colour itself where it reads well, darkened (light theme) or lightened (dark theme)
//! until text in it keeps a 4.5:1 contrast with the page.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::web::App;

/// The page backgrounds of the two themes (`--bg` in hearth.css), as RGB.
const LIGHT_BG: [u8; 3] = [0xf7, 0xf5, 0xf2];
const DARK_BG: [u8; 3] = [0x16, 0x14, 0x12];

/// GET /theme.css (linked with `?v=` the accent, so it is cached for good).
pub async fn serve(State(app): State<App>) -> Response {
    let css = stylesheet(&app.chat.instance().accent);
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        css,
    )
        .into_response()
}

/// The rules for `accent` (`#rrggbb`); empty for anything else.
pub fn stylesheet(accent: &str) -> String {
    let Some(rgb) = parse(accent) else {
        return String::new();
    };
    let light = readable(rgb, LIGHT_BG, 0.0);
    let dark = readable(rgb, DARK_BG, 1.0);
    format!(
        ":root {{ --accent: {}; --accent-text: {}; --accent-soft: {}; }}\n\
         @media (prefers-color-scheme: dark) {{ :root {{ --accent: {}; --accent-text: {}; --accent-soft: {}; }} }}\n",
        hex(light),
        hex(text_on(light)),
        hex(mix(light, [0xff, 0xff, 0xff], 0.9)),
        hex(dark),
        hex(text_on(dark)),
        hex(mix(dark, DARK_BG, 0.8)),
    )
}

fn parse(c: &str) -> Option<[u8; 3]> {
    let h = c.strip_prefix('#')?;
    if h.len() != 6 {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(h.get(i..i + 2)?, 16).ok();
    Some([byte(0)?, byte(2)?, byte(4)?])
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// WCAG relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

/// WCAG contrast ratio of two colours.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// `a` moved toward `b` by `t` (0: `a`, 1: `b`).
fn mix(a: [u8; 3], b: [u8; 3], t: f64) -> [u8; 3] {
    let m = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * t).round() as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

/// `rgb` moved toward black (`toward` 0) or white (1) in small steps until it reads on `bg` and
/// button text reads on it.
fn readable(rgb: [u8; 3], bg: [u8; 3], toward: f64) -> [u8; 3] {
    let target = if toward > 0.5 { [0xff; 3] } else { [0; 3] };
    (0..=20)
        .map(|step| mix(rgb, target, f64::from(step) * 0.05))
        .find(|c| contrast(*c, bg) >= 4.6 && contrast(text_on(*c), *c) >= 4.6)
        .unwrap_or(target)
}

/// White or near-black text, whichever reads better on `bg`.
fn text_on(bg: [u8; 3]) -> [u8; 3] {
    let (white, black) = ([0xff; 3], [0x1d, 0x1b, 0x19]);
    if contrast(white, bg) >= contrast(black, bg) {
        white
    } else {
        black
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_accent_reads_on_both_themes() {
        for c in [
            "#ffff00", "#000000", "#ffffff", "#224466", "#b4451f", "#7fdbff",
        ] {
            let rgb = parse(c).unwrap();
            let light = readable(rgb, LIGHT_BG, 0.0);
            let dark = readable(rgb, DARK_BG, 1.0);
            assert!(contrast(light, LIGHT_BG) >= 4.5, "{c} light");
            assert!(contrast(dark, DARK_BG) >= 4.5, "{c} dark");
            assert!(contrast(text_on(light), light) >= 4.5, "{c} button text");
            assert!(contrast(text_on(dark), dark) >= 4.5, "{c} dark button text");
        }
    }

    #[test]
    fn a_colour_that_reads_is_kept_as_it_is() {
        let css = stylesheet("#224466");
        assert!(css.starts_with(":root { --accent: #224466;"), "{css}");
        assert_eq!(stylesheet("blue"), "");
        assert_eq!(stylesheet("#12345"), "");
    }
}
