use super::*;
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

fn stored() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
}

/// A zip of `(name, bytes)` files, deflated.
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    zip_with(files, deflated())
}

fn zip_with(files: &[(&str, &[u8])], options: SimpleFileOptions) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in files {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn open(bytes: Vec<u8>, limits: Limits) -> Result<Archive<Cursor<Vec<u8>>>> {
    Archive::new(Cursor::new(bytes), "export.zip".into(), limits)
}

fn refusal(bytes: Vec<u8>, limits: Limits) -> String {
    match open(bytes, limits) {
        Ok(_) => panic!("the archive was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_sound_archive_is_read_file_by_file() {
    let bytes = zip_of(&[("users.json", b"[]"), ("general/2024-01-02.json", b"[1]")]);
    let mut archive = open(bytes, Limits::default()).unwrap();
    let mut names: Vec<_> = archive.names().map(str::to_owned).collect();
    names.sort();
    assert_eq!(names, ["general/2024-01-02.json", "users.json"]);
    assert!(archive.has("users.json") && !archive.has("nope.json"));
    assert_eq!(archive.declared(), 5);
    assert_eq!(archive.size("users.json"), Some(2));
    assert_eq!(archive.read("general/2024-01-02.json").unwrap(), b"[1]");
    let missing = archive.read("nope.json").unwrap_err().to_string();
    assert!(missing.contains("nope.json: no such file"), "{missing}");
}

#[test]
fn names_that_leave_the_folder_are_refused() {
    for (name, why) in [
        ("../evil.json", "\"..\""),
        ("general/../../evil.json", "\"..\""),
        ("a\\..\\b.json", "\"..\""),
        ("/etc/passwd", "absolute path"),
        ("\\windows\\x", "absolute path"),
        ("C:/x.json", "absolute path"),
    ] {
        let err = refusal(
            zip_of(&[("users.json", b"[]"), (name, b"x")]),
            Limits::default(),
        );
        assert!(err.contains(why), "{name}: {err}");
        assert!(err.starts_with("export.zip: entry"), "{err}");
        assert!(err.ends_with("nothing was imported"), "{err}");
    }
    // Dots inside names are fine.
    assert!(open(zip_of(&[("a..b/c..json", b"x")]), Limits::default()).is_ok());
}

#[test]
fn links_duplicates_and_other_methods_are_refused() {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    w.start_file("users.json", deflated()).unwrap();
    w.write_all(b"[]").unwrap();
    w.add_symlink("channels.json", "/etc/passwd", deflated())
        .unwrap();
    let err = refusal(w.finish().unwrap().into_inner(), Limits::default());
    assert!(
        err.contains("\"channels.json\" is a symbolic link"),
        "{err}"
    );

    // Two entries of one name (written as two names, then one renamed in place).
    let mut twice = zip_of(&[("users.json", b"[]"), ("userz.json", b"[1]")]);
    while let Some(at) = twice.windows(10).position(|w| w == b"userz.json") {
        twice[at + 4] = b's';
    }
    let err = refusal(twice, Limits::default());
    assert!(
        err.contains("two of its entries have the same name"),
        "{err}"
    );
}

#[test]
fn garbage_and_truncated_archives_are_refused() {
    let err = refusal(b"this is not a zip".to_vec(), Limits::default());
    assert!(err.contains("not a zip archive"), "{err}");
    let whole = zip_of(&[("users.json", &[b'x'; 5000]), ("b.json", b"[]")]);
    for cut in [whole.len() - 10, whole.len() / 2, 30] {
        let err = refusal(whole[..cut].to_vec(), Limits::default());
        assert!(
            err.contains("truncated") || err.contains("damaged"),
            "cut at {cut}: {err}"
        );
    }
}

#[test]
fn damaged_data_is_refused_when_read() {
    let mut bytes = zip_with(&[("users.json", b"[\"hello world\"]")], stored());
    let at = bytes.windows(5).position(|w| w == b"hello").unwrap();
    bytes[at] = b'j';
    let mut archive = open(bytes, Limits::default()).unwrap();
    let err = archive.read("users.json").unwrap_err().to_string();
    assert!(err.contains("users.json: cannot be read"), "{err}");
}

/// An archive whose one entry says it holds fewer bytes than it does.
fn lying(real: usize, claimed: u32) -> Vec<u8> {
    let mut bytes = zip_with(&[("users.json", &vec![b' '; real])], stored());
    // The uncompressed size in the local header (offset 22) and the central directory (24).
    let local = 0;
    bytes[local + 22..local + 26].copy_from_slice(&claimed.to_le_bytes());
    let central = bytes
        .windows(4)
        .rposition(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .unwrap();
    bytes[central + 24..central + 28].copy_from_slice(&claimed.to_le_bytes());
    bytes
}

#[test]
fn an_entry_is_never_read_past_what_it_declares() {
    let mut archive = open(lying(100, 10), Limits::default()).unwrap();
    assert_eq!(archive.size("users.json"), Some(10));
    let err = archive.read("users.json").unwrap_err().to_string();
    assert!(
        err.contains("more than the 10 bytes it declares") || err.contains("cannot be read"),
        "{err}"
    );
}

#[test]
fn limits_hold_at_exactly_the_limit_and_refuse_one_past_it() {
    let bytes = zip_of(&[("a.json", &[b'a'; 600]), ("b.json", &[b'b'; 400])]);
    let at = Limits {
        max_total: 1000,
        ..Limits::default()
    };
    assert!(open(bytes.clone(), at).is_ok());
    let err = refusal(
        bytes.clone(),
        Limits {
            max_total: 999,
            ..at
        },
    );
    assert!(err.contains("more than 999 bytes uncompressed"), "{err}");

    let one = Limits {
        max_entry: 600,
        ..Limits::default()
    };
    assert!(open(bytes.clone(), one).is_ok());
    let err = refusal(
        bytes.clone(),
        Limits {
            max_entry: 599,
            ..one
        },
    );
    assert!(
        err.contains("\"a.json\" is 600 bytes uncompressed"),
        "{err}"
    );

    let two = Limits {
        max_entries: 2,
        ..Limits::default()
    };
    assert!(open(bytes.clone(), two).is_ok());
    let err = refusal(
        bytes,
        Limits {
            max_entries: 1,
            ..two
        },
    );
    assert!(err.contains("2 entries, over the limit of 1"), "{err}");
}

#[test]
fn what_is_read_counts_against_the_total_too() {
    // Declared 10 bytes, so the archive passes its check; reading finds the lie.
    let mut archive = open(
        lying(100, 10),
        Limits {
            max_total: 10,
            ..Limits::default()
        },
    )
    .unwrap();
    assert!(archive.read("users.json").is_err());
    let mut sound = open(
        zip_of(&[("a.json", b"12345"), ("b.json", b"123456")]),
        Limits {
            max_total: 11,
            ..Limits::default()
        },
    )
    .unwrap();
    assert_eq!(sound.read("a.json").unwrap().len(), 5);
    assert_eq!(sound.read("b.json").unwrap().len(), 6);
    // Reading it again goes past the total.
    let err = sound.read("a.json").unwrap_err().to_string();
    assert!(err.contains("more than 11 bytes"), "{err}");
}

#[test]
fn expansion_is_bounded_from_a_size_on() {
    let limits = Limits::default();
    let ok = |size, compressed| check_entry("x", size, compressed, &limits).is_ok();
    // Exactly 200 times is allowed; one byte more is not.
    assert!(ok(200 << 20, 1 << 20));
    assert!(!ok((200 << 20) + 1, 1 << 20));
    // Below `ratio_from` any ratio passes; at it, the ratio counts.
    assert!(ok((1 << 20) - 1, 0));
    assert!(!ok(1 << 20, 0));
    assert!(ok(1 << 20, 5243));
    assert!(!ok(1 << 20, 5242));
    // A compressed size that overflows when multiplied cannot pass for a small one.
    assert!(ok(1 << 20, u64::MAX));

    // A real bomb: 8 MiB of zeros deflates to a few kilobytes.
    let zeros = vec![0u8; 8 << 20];
    let err = refusal(zip_of(&[("users.json", &zeros)]), limits);
    assert!(err.contains("refused as a zip bomb"), "{err}");
    // Stored, the same bytes are no bomb.
    assert!(open(zip_with(&[("users.json", &zeros)], stored()), limits).is_ok());
}
