//! Stopping `hearth serve` while background work runs: a scheduled backup under way stops with
//! the server and leaves nothing behind, the data dir stays locked until the process is gone,
//! and what a killed backup left is cleared at the next start.

#[path = "common/ops.rs"]
mod ops_support;

use ops_support::{Server, init_with_users};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Attachment blobs of incompressible bytes: `count` files of `size` bytes.
fn attachments(data: &Path, count: usize, size: usize) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for n in 0..count {
        let dir = data.join("attachments").join(format!("{n:02x}"));
        std::fs::create_dir_all(&dir).unwrap();
        let bytes: Vec<u8> = (0..size / 8)
            .flat_map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()
            })
            .collect();
        std::fs::write(dir.join(format!("blob-{n}")), bytes).unwrap();
    }
}

/// A data dir with scheduled backups every second into `<root>/backups`; the config file.
fn scheduled(root: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (data, backups) = (root.join("data"), root.join("backups"));
    std::fs::create_dir(&backups).unwrap();
    init_with_users(&data, &[]);
    let config = root.join("hearth.toml");
    std::fs::write(
        &config,
        format!(
            "[backup]\ninterval = \"1s\"\nkeep = 2\ndir = {:?}\n",
            backups.display().to_string()
        ),
    )
    .unwrap();
    (data, backups, config)
}

/// The backup work folders in `dir`.
fn work_folders(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".hearth-backup-")
        })
        .collect()
}

/// Waits until a scheduled backup has written `bytes` of its archive.
fn wait_for_archiving(backups: &Path, bytes: u64) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let written =
        |work: &PathBuf| std::fs::metadata(work.join("archive.tar.gz")).map_or(0, |m| m.len());
    while !work_folders(backups).iter().any(|w| written(w) >= bytes) {
        assert!(Instant::now() < deadline, "no backup started archiving");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm(child: &Child) {
    let pid = child.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn a_server_stopped_during_a_scheduled_backup_exits_promptly_and_leaves_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (data, backups, config) = scheduled(root.path());
    // Many files, each archived in well under a second; all of them take far longer.
    attachments(&data, 32, 1 << 20);
    let server = Server::start(
        &data,
        &[
            ("HEARTH_CONFIG", config.to_str().unwrap()),
            ("HEARTH_LOG", "info"),
        ],
    );
    wait_for_archiving(&backups, 1);
    let stopping = Instant::now();
    let (status, log) = server.terminate();
    let took = stopping.elapsed();
    assert!(status.success(), "{log}");
    assert!(
        took < Duration::from_secs(5),
        "stopping took {took:?}: {log}"
    );
    assert!(log.contains("scheduled backup stopped"), "{log}");
    let left: Vec<_> = std::fs::read_dir(&backups).unwrap().collect();
    assert!(left.is_empty(), "the cancelled backup left {left:?}");
}

#[test]
fn the_data_dir_stays_locked_until_the_process_has_exited() {
    let root = tempfile::tempdir().unwrap();
    let (data, backups, config) = scheduled(root.path());
    // One file that takes longer to archive than the grace time: the backup cannot stop
    // within it, and the process ends while it still runs.
    attachments(&data, 1, 32 << 20);
    let mut server = Server::start(&data, &[("HEARTH_CONFIG", config.to_str().unwrap())]);
    // Well into the big file (the database before it is small).
    wait_for_archiving(&backups, 2 << 20);
    let stopping = Instant::now();
    sigterm(&server.child);
    let deadline = stopping + Duration::from_secs(30);
    let exited = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        if hearth::ops::lock::holder(&data).unwrap().is_none() {
            // Free: the process must be gone, or about to be (the kernel lets go of the lock
            // as the process ends, a moment before it can be waited for).
            std::thread::sleep(Duration::from_millis(300));
            let status = server.child.try_wait().unwrap();
            assert!(
                status.is_some(),
                "the data dir was free {:?} after SIGTERM while the server still ran",
                stopping.elapsed()
            );
            break status.unwrap();
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(exited.success(), "{exited:?}");
    assert!(
        stopping.elapsed() < Duration::from_secs(15),
        "stopping took {:?}",
        stopping.elapsed()
    );
}

#[test]
fn work_folders_of_killed_backups_are_removed_at_start() {
    let root = tempfile::tempdir().unwrap();
    let (data, backups, config) = scheduled(root.path());
    let config_text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("interval = \"1s\"", "interval = \"1d\"");
    std::fs::write(&config, config_text).unwrap();
    // What a backup killed midway leaves: its work folder, with a snapshot and a lock file
    // that no one holds any more.
    let killed = backups.join(".hearth-backup-Ab12Cd");
    std::fs::create_dir(&killed).unwrap();
    std::fs::write(killed.join("hearth.db"), "half a snapshot").unwrap();
    std::fs::write(killed.join("in-use.lock"), "").unwrap();
    let archive = backups.join("hearth-backup-2026-01-01T00-00-00.000Z.tar.gz");
    std::fs::write(&archive, "an older backup").unwrap();

    let server = Server::start(
        &data,
        &[
            ("HEARTH_CONFIG", config.to_str().unwrap()),
            ("HEARTH_LOG", "info"),
        ],
    );
    assert!(
        !killed.exists(),
        "the leftover is gone once the server is up"
    );
    assert!(archive.exists(), "finished backups are not touched");
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("removed the work folder of an unfinished backup")
            && log.contains(".hearth-backup-Ab12Cd"),
        "{log}"
    );
}
