//! The single-instance lock: an advisory lock on `<data dir>/hearth.lock`, held by `serve`
//! for its lifetime (and by `restore` while it works). The file says who holds it, so the
//! one refused can name the one running. The kernel drops the lock when its holder dies,
//! even by `kill -9`, so a stale file never blocks a restart.

use fs2::FileExt;
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::io_error;
use crate::error::{Error, Result};

pub const LOCK_FILE: &str = "hearth.lock";

/// Held while alive; dropping it releases the lock (the file stays, harmlessly).
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
    role: String,
}

impl InstanceLock {
    /// Takes the lock of `data_dir` (created if missing) for `role` ("serve", "restore"),
    /// or says who holds it.
    pub fn acquire(data_dir: &Path, role: &str) -> Result<InstanceLock> {
        crate::files::create_dir_all(data_dir).map_err(|e| {
            Error::Database(format!(
                "cannot create data dir {}: {e}",
                data_dir.display()
            ))
        })?;
        let path = data_dir.join(LOCK_FILE);
        let mut file = crate::files::open_or_create(&path)
            .map_err(|e| io_error(format_args!("cannot open {}", path.display()), e))?;
        // Called through the trait: std's own `File` locks are newer than our rust-version.
        if FileExt::try_lock_exclusive(&file).is_err() {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            return Err(Error::Conflict(format!(
                "another Hearth ({}) is using data dir {}",
                describe(&text),
                data_dir.display()
            )));
        }
        let lock = InstanceLock {
            file,
            path,
            role: role.to_owned(),
        };
        lock.write(None)?;
        Ok(lock)
    }

    /// Records the address the server listens on, for the message a second one gets.
    pub fn set_listening(&self, url: &str) -> Result<()> {
        self.write(Some(url))
    }

    fn write(&self, url: Option<&str>) -> Result<()> {
        let mut text = format!("pid {}\nrole {}\n", std::process::id(), self.role);
        if let Some(url) = url {
            text.push_str(&format!("listen {url}\n"));
        }
        let mut file = &self.file;
        let fail = |e| io_error(format_args!("cannot write {}", self.path.display()), e);
        file.set_len(0).map_err(fail)?;
        file.rewind().map_err(fail)?;
        file.write_all(text.as_bytes()).map_err(fail)?;
        Ok(())
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        let _ = FileExt::unlock(&self.file);
    }
}

/// Who holds the lock of `data_dir`, if anyone (without taking it for long).
pub fn holder(data_dir: &Path) -> Result<Option<String>> {
    let path = data_dir.join(LOCK_FILE);
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(format_args!("cannot open {}", path.display()), e)),
    };
    if FileExt::try_lock_shared(&file).is_ok() {
        let _ = FileExt::unlock(&file);
        return Ok(None);
    }
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    Ok(Some(describe(&text)))
}

/// "pid 42, serving http://127.0.0.1:8080" from the lock file's lines.
fn describe(text: &str) -> String {
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
            .filter(|v| !v.is_empty())
    };
    let pid = field("pid ").map_or_else(|| "pid unknown".to_owned(), |p| format!("pid {p}"));
    match (field("role ").as_deref(), field("listen ")) {
        (_, Some(url)) => format!("{pid}, listening on {url}"),
        (Some("restore"), None) => format!("{pid}, restoring a backup"),
        (Some(role), None) => format!("{pid}, hearth {role}"),
        (None, None) => pid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_ones_name() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(holder(dir.path()).unwrap(), None);
        let first = InstanceLock::acquire(dir.path(), "serve").unwrap();
        first.set_listening("http://127.0.0.1:1234").unwrap();
        let err = InstanceLock::acquire(dir.path(), "serve")
            .unwrap_err()
            .to_string();
        let me = std::process::id();
        assert!(
            err.contains(&format!("pid {me}, listening on http://127.0.0.1:1234")),
            "{err}"
        );
        assert!(
            holder(dir.path())
                .unwrap()
                .unwrap()
                .contains("127.0.0.1:1234")
        );
        drop(first);
        assert_eq!(holder(dir.path()).unwrap(), None);
        let again = InstanceLock::acquire(dir.path(), "restore").unwrap();
        let err = InstanceLock::acquire(dir.path(), "serve")
            .unwrap_err()
            .to_string();
        assert!(err.contains("restoring a backup"), "{err}");
        drop(again);
    }
}
