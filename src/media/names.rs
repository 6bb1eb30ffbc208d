//! Uploaded file names made safe to show and to offer as a download name: no path, nothing
//! invisible or reordering, no hidden file, bounded length.

use unicode_segmentation::UnicodeSegmentation;

/// The longest name kept, in bytes (file systems allow 255; room is left for a suffix).
const MAX_LEN: usize = 200;

/// The longest tail kept as an extension when a long name is shortened.
const MAX_EXTENSION: usize = 16;

/// The name from `raw` that is safe to show and save: its last path segment (after `/` or
/// `\`), without control, bidirectional or other invisible characters (so `U+202E` cannot
/// make `gpj.exe` read `exe.jpg`), whitespace runs made one space, leading dots and spaces
/// and trailing dots and spaces trimmed, at most 200 bytes with its extension kept; `file`
/// when nothing is left.
pub fn safe_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible = without_invisibles(base);
    let mut name = String::with_capacity(visible.len());
    for word in visible.split_whitespace() {
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(word);
    }
    let name = trim(&name);
    let name = shorten(name);
    if name.is_empty() {
        "file".to_owned()
    } else {
        name
    }
}

/// Leading dots make hidden files and `..`; trailing dots and spaces are dropped by Windows.
fn trim(name: &str) -> &str {
    name.trim_start_matches(['.', ' '])
        .trim_end_matches(['.', ' '])
}

/// Keeps visible characters; control characters that space text (tab, newline) become spaces.
/// A zero-width joiner survives between two non-ASCII characters, where it joins emoji.
fn without_invisibles(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut kept = String::with_capacity(name.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == '\u{200D}' {
            let joins = |n: Option<&char>| {
                n.is_some_and(|&n| !n.is_ascii() && !n.is_whitespace() && !is_invisible(n))
            };
            if joins(i.checked_sub(1).and_then(|p| chars.get(p))) && joins(chars.get(i + 1)) {
                kept.push(c);
            }
        } else if c.is_control() {
            if c.is_whitespace() {
                kept.push(' ');
            }
        } else if !is_invisible(c) {
            kept.push(c);
        }
    }
    kept
}

/// Unicode's format characters (category Cf: bidi controls and marks, zero-width spaces and
/// joiners, the BOM, invisible operators, tags) and the blank letters that render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// Cuts a name over `MAX_LEN` bytes at a character boundary that splits no emoji or accented
/// letter, keeping a short extension.
fn shorten(name: &str) -> String {
    if name.len() <= MAX_LEN {
        return name.to_owned();
    }
    let extension = match name.rfind('.') {
        Some(dot) if name.len() - dot <= MAX_EXTENSION && !name[dot..].contains(' ') => {
            &name[dot..]
        }
        _ => "",
    };
    let stem = &name[..name.len() - extension.len()];
    let room = MAX_LEN - extension.len();
    let cut = stem
        .grapheme_indices(true)
        .map(|(at, g)| at + g.len())
        .take_while(|&end| end <= room)
        .last()
        .unwrap_or(0);
    let stem = trim(&stem[..cut]);
    if stem.is_empty() {
        // Only an extension would be left: better a cut name than a hidden file.
        return trim(&cut_at_char(name, MAX_LEN)).to_owned();
    }
    format!("{stem}{extension}")
}

fn cut_at_char(name: &str, max: usize) -> String {
    let end = (0..=max)
        .rev()
        .find(|&i| name.is_char_boundary(i))
        .unwrap_or(0);
    name[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_path_segment_is_kept() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\x\\y.txt"), "y.txt");
        assert_eq!(safe_name("a/b\\c/../d.pdf"), "d.pdf");
        assert_eq!(safe_name("dir/"), "file");
        assert_eq!(safe_name(".."), "file");
    }

    #[test]
    fn a_right_to_left_override_cannot_disguise_an_extension() {
        let disguised = "holiday\u{202E}gpj.exe";
        assert_eq!(safe_name(disguised), "holidaygpj.exe");
        let every_bidi = "a\u{202A}\u{202B}\u{202C}\u{202D}\u{2066}\u{2067}\u{2068}\u{2069}\
                          \u{200E}\u{200F}\u{061C}b\u{200B}\u{FEFF}\u{2060}.png";
        assert_eq!(safe_name(every_bidi), "ab.png");
    }

    #[test]
    fn control_characters_go_and_line_breaks_become_spaces() {
        assert_eq!(safe_name("report\0.pdf"), "report.pdf");
        assert_eq!(safe_name("two\nlines\r\n.txt"), "two lines .txt");
        assert_eq!(safe_name("bell\u{7}\u{1b}[31m.txt"), "bell[31m.txt");
        assert_eq!(safe_name("c1\u{85}\u{9b}.txt"), "c1 .txt");
    }

    #[test]
    fn whitespace_collapses_and_ends_are_trimmed() {
        assert_eq!(
            safe_name("  my \t  holiday\u{3000}\u{A0}photo .jpg  "),
            "my holiday photo .jpg"
        );
        assert_eq!(safe_name("notes.txt. . ."), "notes.txt");
    }

    #[test]
    fn no_hidden_files() {
        assert_eq!(safe_name(".htaccess"), "htaccess");
        assert_eq!(safe_name(" . .. .bashrc"), "bashrc");
        assert_eq!(safe_name("\u{202E}.env"), "env");
    }

    #[test]
    fn only_dots_or_nothing_is_file() {
        for raw in [
            "",
            ".",
            "..",
            "...",
            ". . .",
            "\u{200B}\u{202E}",
            "\0\n",
            "/",
            "C:\\",
        ] {
            assert_eq!(safe_name(raw), "file", "{raw:?}");
        }
    }

    #[test]
    fn a_long_name_is_cut_to_200_bytes_keeping_its_extension() {
        let ascii = safe_name(&format!("{}.pdf", "a".repeat(1000)));
        assert_eq!(ascii.len(), 200);
        assert!(ascii.ends_with("aaa.pdf"));

        // Two-byte letters: 196 bytes of stem is 98 of them, and none is split.
        let accented = safe_name(&format!("{}.tar.gz", "é".repeat(1000)));
        assert!(
            accented.len() <= 200 && accented.ends_with("é.gz"),
            "{accented}"
        );
        assert_eq!(accented.len(), 2 * 98 + 3);

        let no_extension = safe_name(&"x".repeat(1000));
        assert_eq!(no_extension, "x".repeat(200));

        let long_tail = safe_name(&format!("a.{}", "b".repeat(999)));
        assert_eq!(long_tail.len(), 200);
        assert!(long_tail.starts_with("a.bbb"));
    }

    #[test]
    fn emoji_survive_whole() {
        assert_eq!(safe_name("🎉 party 🥳.png"), "🎉 party 🥳.png");
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(safe_name(&format!("{family}.jpg")), format!("{family}.jpg"));
        // A joiner between ASCII letters hides nothing useful and is dropped.
        assert_eq!(safe_name("in\u{200D}voice.pdf"), "invoice.pdf");
        assert_eq!(safe_name("👨\u{200D}\u{3000}x.png"), "👨 x.png");

        // Cut in a run of family emoji, the name ends on a whole one.
        let long = safe_name(&format!("{}.png", family.repeat(40)));
        assert!(long.len() <= 200);
        let stem = long.strip_suffix(".png").unwrap();
        assert!(
            stem.len() % family.len() == 0 && stem.starts_with(family),
            "{long}"
        );
    }
}
