//! Folding as the index does it: lower case, diacritics removed ("Café" and "cafe" are one),
//! with a map back to the original text for highlighting.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// `text` folded: lower case, combining marks dropped after canonical decomposition.
pub fn fold(text: &str) -> String {
    folded(text).0
}

/// The folded text, and for each of its bytes the byte offset in `text` of the character
/// it came from (plus one entry for the end).
pub fn folded(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut map = Vec::with_capacity(text.len() + 1);
    let mut buf = [0u8; 4];
    for (at, c) in text.char_indices() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            map.push(at);
            continue;
        }
        // Marks are taken off letters of the Latin, Greek and Cyrillic scripts only, as the
        // index does: elsewhere (kana voicing marks, Hangul) they change the letter.
        let decomposed: Vec<char> = if (c as u32) < 0x0530 || (0x1E00..0x2000).contains(&(c as u32))
        {
            std::iter::once(c)
                .nfd()
                .filter(|d| !is_combining_mark(*d))
                .collect()
        } else {
            vec![c]
        };
        for d in decomposed {
            for l in d.to_lowercase() {
                out.push_str(l.encode_utf8(&mut buf));
                map.extend(std::iter::repeat_n(at, l.len_utf8()));
            }
        }
    }
    map.push(text.len());
    (out, map)
}

/// Whether `c` belongs to a script written without spaces between words, where only
/// matching inside runs of text finds anything.
pub fn is_unspaced(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x0E00..=0x0E7F    // Thai
        | 0x20000..=0x2FFFF) // CJK Extensions B–F
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_and_diacritics() {
        assert_eq!(fold("Café CRÈME Ångström"), "cafe creme angstrom");
        assert_eq!(fold("東京"), "東京");
        assert_eq!(fold("東京で"), "東京で");
        assert_eq!(fold("한국"), "한국");
        assert_eq!(fold("ÉCOLE"), "ecole");
    }

    #[test]
    fn maps_back_to_the_original() {
        let text = "Ça va";
        let (f, map) = folded(text);
        assert_eq!(f, "ca va");
        assert_eq!(map.len(), f.len() + 1);
        assert_eq!(&text[map[0]..map[1]], "Ç");
        assert_eq!(&text[map[3]..], "va");
    }

    #[test]
    fn scripts_without_spaces() {
        assert!("東京で".chars().all(is_unspaced));
        assert!(!"cafe".chars().any(is_unspaced));
        assert!(is_unspaced('한'));
    }
}
