use super::*;
use futures_util::stream;

type Chunk = std::result::Result<Vec<u8>, String>;

fn body(chunks: &[&[u8]]) -> impl Stream<Item = Chunk> + Unpin {
    stream::iter(
        chunks
            .iter()
            .map(|c| Ok(c.to_vec()))
            .collect::<Vec<Chunk>>(),
    )
}

fn incoming_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join(INCOMING_DIR))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[tokio::test]
async fn an_upload_becomes_one_blob_named_by_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::new(dir.path());
    let got = blobs
        .receive(body(&[b"hello ", b"world"]), 11)
        .await
        .expect("exactly at the limit");
    assert_eq!(got.size, 11);
    assert_eq!(got.head, b"hello world");
    let sha = got.sha256.clone();
    assert_eq!(
        sha,
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    );
    blobs.keep(got).await.unwrap();
    assert_eq!(std::fs::read(blobs.path(&sha)).unwrap(), b"hello world");
    assert!(
        blobs
            .path(&sha)
            .starts_with(dir.path().join("attachments/b9"))
    );
    assert_eq!(
        incoming_files(dir.path()),
        0,
        "the temp file became the blob"
    );

    // The same bytes again: stored once, the second temp file gone.
    let again = blobs.receive(body(&[b"hello world"]), 100).await.unwrap();
    blobs.keep(again).await.unwrap();
    assert_eq!(incoming_files(dir.path()), 0);
    assert_eq!(
        std::fs::read_dir(dir.path().join("attachments/b9"))
            .unwrap()
            .count(),
        1
    );
}

#[tokio::test]
async fn one_byte_over_the_limit_is_refused_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::new(dir.path());
    let err = blobs
        .receive(body(&[b"hello ", b"world!"]), 11)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge(_)), "{err:?}");
    assert_eq!(incoming_files(dir.path()), 0);
    assert!(!dir.path().join(ATTACHMENTS_DIR).exists());
}

#[tokio::test]
async fn a_body_that_breaks_off_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::new(dir.path());
    let chunks: Vec<Chunk> = vec![Ok(b"part".to_vec()), Err("connection reset".into())];
    let err = blobs.receive(stream::iter(chunks), 100).await.unwrap_err();
    assert!(err.to_string().contains("connection reset"), "{err}");
    assert_eq!(incoming_files(dir.path()), 0);
}

#[tokio::test]
async fn the_collector_takes_only_old_blobs_no_row_needs() {
    let dir = tempfile::tempdir().unwrap();
    let blobs = Blobs::new(dir.path());
    let kept = blobs.put(b"kept".to_vec()).await.unwrap();
    let orphan = blobs.put(b"orphan".to_vec()).await.unwrap();
    assert_eq!(
        blobs.put(b"kept".to_vec()).await.unwrap(),
        kept,
        "the same bytes, the same blob"
    );
    // Young blobs are spared whatever the rows say.
    let (removed, _) = blobs
        .collect(Duration::from_secs(3600), |_| Ok(false))
        .unwrap();
    assert_eq!(removed, 0);
    let (removed, freed) = blobs
        .collect(Duration::ZERO, |sha| Ok(sha == kept))
        .unwrap();
    assert_eq!((removed, freed), (1, 6));
    assert!(blobs.path(&kept).exists());
    assert!(!blobs.path(&orphan).exists());
}

#[test]
fn blob_names_are_exactly_64_lowercase_hex_digits() {
    assert!(is_blob_name(&"a".repeat(64)));
    assert!(!is_blob_name(&"a".repeat(63)));
    assert!(!is_blob_name(&"a".repeat(65)));
    assert!(!is_blob_name(&"A".repeat(64)));
    assert!(!is_blob_name(&format!("{}g", "a".repeat(63))));
}
