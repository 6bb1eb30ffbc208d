//! The operator's tools carry files: a backup holds every blob (uploads, thumbnails, card
//! images), a restore brings them back byte for byte, `check` verifies them (and names a
//! missing thumbnail), and the HTML export shows images inlined.

mod common;
#[path = "common/ops.rs"]
mod ops_support;

use common::TestApp;
use common::images::png;
use hearth::ops::backup::{self, Destination};
use hearth::ops::restore::restore;
use hearth::ops::{Progress, check};
use ops_support::{hearth, ok};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_restores_checks_and_exports_carry_every_file() {
    let app = TestApp::spawn().await;
    let ann = app.person("ann").await;
    let general = ann.general().await;
    let photo = ann.uploaded("red.png", png(900, 600, 200)).await;
    let notes = ann.uploaded("notes.txt", b"the minutes".to_vec()).await;
    let res = ann
        .post(
            &format!("/api/v1/conversations/{general}/messages"),
            json!({"body": "Photo and notes", "attachments": [photo, notes]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let sent: Value = res.json().await.unwrap();
    let data = app.dir.path().join("data");

    // A clean check knows the thumbnail as well as both uploads.
    let report = check::run(&data, Progress::quiet()).unwrap();
    assert_eq!(report.problem_count(), 0, "{}", report.render());
    assert!(report.render().contains("3 files"), "{}", report.render());

    // Backed up and restored elsewhere: every blob comes back, byte for byte.
    let archive = app.dir.path().join("backup.tar.gz");
    backup::create(
        &data,
        &Destination::File(archive.clone()),
        Progress::quiet(),
    )
    .unwrap();
    let restored = app.dir.path().join("restored");
    restore(&archive, &restored, false, Progress::quiet()).unwrap();
    let blobs = |root: &std::path::Path| {
        let mut all = Vec::new();
        for shard in std::fs::read_dir(root.join("attachments")).unwrap() {
            for blob in std::fs::read_dir(shard.unwrap().path()).unwrap() {
                let path = blob.unwrap().path();
                all.push((
                    path.file_name().unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
        all.sort();
        all
    };
    assert_eq!(blobs(&data).len(), 3);
    assert_eq!(blobs(&restored), blobs(&data));
    let report = check::run(&restored, Progress::quiet()).unwrap();
    assert_eq!(report.problem_count(), 0, "{}", report.render());

    // The HTML export shows the image (inlined) and names the other file.
    let out = ok(hearth(&restored).args(["export", "--format", "html"]));
    assert!(
        out.stdout.contains("src=\"data:image/jpeg;base64,"),
        "the image is inlined"
    );
    assert!(out.stdout.contains("red.png") && out.stdout.contains("notes.txt"));
    // The JSON Lines export carries the files on the message.
    let out = ok(hearth(&restored).args(["export", "--format", "jsonl"]));
    let line = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["id"] == sent["id"])
        .expect("the message in the export");
    assert_eq!(line["attachments"].as_array().unwrap().len(), 2);

    // A thumbnail lost from the disk is a problem `check` names.
    let thumb: String = app
        .sql()
        .query_row(
            "SELECT thumb_sha256 FROM attachments WHERE id = ?1",
            [photo],
            |r| r.get(0),
        )
        .unwrap();
    std::fs::remove_file(restored.join("attachments").join(&thumb[..2]).join(&thumb)).unwrap();
    let report = check::run(&restored, Progress::quiet()).unwrap();
    assert_eq!(report.problem_count(), 1);
    assert!(
        report
            .render()
            .contains(&format!("thumbnail {thumb} is missing")),
        "{}",
        report.render()
    );
    app.stop().await.unwrap();
}
