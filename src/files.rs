//! Owner-only files: Hearth makes its folders 0700 and its files 0600 whatever the umask,
//! because they hold every message and password hash of the community.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

#[cfg(unix)]
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};

/// Creates `path` and its missing parents, each readable by the owner only.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(path)
}

/// Creates the folder `path` (its parent must exist; an existing one is an error), readable
/// by the owner only.
pub fn create_dir(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(path)
}

/// Creates (or truncates) a file readable by the owner only.
pub fn create_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)
}

/// Creates a new file readable by the owner only; an existing one is an error.
pub fn create_new(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)
}

/// Opens a file for reading and writing, creating it readable by the owner only.
pub fn open_or_create(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)
}

/// The permission bits of `path` when group or others have any of them (`None` when it is
/// owner-only, missing, or on a system without them).
pub fn open_to_others(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
        (mode & 0o077 != 0).then_some(mode)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Takes group and other permissions away from an existing file (one an older Hearth made
/// under a umask of 022). A missing file is left missing.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(mode) = open_to_others(path) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_owner_only_and_wider_ones_are_found_and_narrowed() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_dir_all(&nested).unwrap();
        assert_eq!((mode(&dir.path().join("a")), mode(&nested)), (0o700, 0o700));
        let file = nested.join("f");
        create_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(open_to_others(&file), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(open_to_others(&file), Some(0o644));
        restrict(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        restrict(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        restrict(&dir.path().join("missing")).unwrap();
        let other = nested.join("g");
        open_or_create(&other).unwrap();
        assert_eq!(mode(&other), 0o600);
    }
}
