//! The binary as an operator runs it outside its systemd unit: under a careless umask its files
//! stay owner-only; a data dir left open to others is warned about; a low open-file limit
//! lowers the connection cap, and reaching the cap says so in the log.

#[path = "common/ops.rs"]
mod ops_support;

use ops_support::{PASSWORD, Server, hearth, ok, run};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// `cmd`, run by a shell that first runs `prelude`.
fn after(prelude: &str, cmd: &Command) -> Command {
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(format!("{prelude} && exec \"$0\" \"$@\""))
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(value) => shell.env(key, value),
            None => shell.env_remove(key),
        };
    }
    shell
}

#[test]
fn every_file_is_owner_only_under_umask_000() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let mut init = hearth(&data);
    init.args(["init", "--admin", "root", "--password-stdin"]);
    let out = run(&mut after("umask 000", &init), PASSWORD);
    assert!(out.ok, "{}", out.stderr);
    // An attachment on disk, as an upload leaves it.
    let blob = b"a picture of a cat".repeat(50);
    let sha = hex::encode(Sha256::digest(&blob));
    let blob_path = data.join("attachments").join(&sha[..2]).join(&sha);
    std::fs::create_dir_all(blob_path.parent().unwrap()).unwrap();
    std::fs::write(&blob_path, &blob).unwrap();
    rusqlite::Connection::open(data.join("hearth.db"))
        .unwrap()
        .execute(
            "INSERT INTO attachments (uploader_id, sha256, size, mime, filename, created_at)
             VALUES (1, ?1, ?2, 'image/png', 'cat.png', 0)",
            rusqlite::params![sha, blob.len() as i64],
        )
        .unwrap();

    let server = Server::start_after(&data, "umask 000", &[]);
    assert_eq!(mode(&data), 0o700);
    for file in ["hearth.db", "hearth.db-wal", "hearth.db-shm", "hearth.lock"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    // A backup taken while it runs, to the configured folder inside the data dir.
    let mut backup = hearth(&data);
    backup.arg("backup");
    ok(&mut after("umask 000", &backup));
    let backups = data.join("backups");
    assert_eq!(mode(&backups), 0o700);
    let archives: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(archives.len(), 1, "{archives:?}");
    assert_eq!(mode(&archives[0]), 0o600);
    let (status, err) = server.terminate();
    assert!(status.success(), "{err}");

    // Restored somewhere new: the database and the attachment, owner-only.
    let elsewhere = root.path().join("restored");
    let mut restore = hearth(&elsewhere);
    restore.arg("restore").arg(&archives[0]);
    ok(&mut after("umask 000", &restore));
    assert_eq!(mode(&elsewhere), 0o700);
    assert_eq!(mode(&elsewhere.join("hearth.db")), 0o600);
    let restored = elsewhere.join("attachments").join(&sha[..2]);
    assert_eq!(mode(&elsewhere.join("attachments")), 0o700);
    assert_eq!(mode(&restored), 0o700);
    assert_eq!(mode(&restored.join(&sha)), 0o600);
    assert_eq!(std::fs::read(restored.join(&sha)).unwrap(), blob);
}

#[test]
fn a_database_left_readable_is_narrowed_and_a_wide_data_dir_is_warned_about() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    ops_support::init_with_users(&data, &[]);
    // As an older Hearth left them under umask 022.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let db = data.join("hearth.db");
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    let server = Server::start(&data, &[]);
    assert_eq!(mode(&db), 0o600, "the database is narrowed");
    assert_eq!(
        mode(&data),
        0o755,
        "the operator's folder is not changed behind their back"
    );
    let (_, err) = server.terminate();
    assert!(
        err.contains("the data dir is open to other users (mode 755)")
            && err.contains(&format!("chmod 700 {}", data.display())),
        "{err}"
    );
    // Once narrowed, no warning.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (_, err) = Server::start(&data, &[]).terminate();
    assert!(!err.contains("open to other users"), "{err}");
}

#[test]
fn the_connection_cap_fits_the_open_file_limit_and_reaching_it_is_logged() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    ops_support::init_with_users(&data, &[]);
    let server = Server::start_after(&data, "ulimit -n 70", &[]);
    // 70 open files leave room for 6 connections; hold them all, then one more.
    let mut held = Vec::new();
    for _ in 0..6 {
        held.push(std::net::TcpStream::connect(&server.addr).unwrap());
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = std::net::TcpStream::connect(&server.addr).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let started = Instant::now();
    let _ = extra.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(started.elapsed() < Duration::from_secs(4));
    drop(held);
    let (status, err) = server.terminate();
    assert!(status.success(), "{err}");
    assert!(
        err.contains("max_connections lowered to 6 to fit the open-file limit"),
        "{err}"
    );
    assert!(
        err.contains("connection limit reached: 6 connections are open"),
        "{err}"
    );
}
