//! Writing a file the user named (`cloud generate`, `cloud dot`, `api export`, `lambda invoke
//! --outfile`) in one step: the content goes into a temporary file in the same folder and is
//! renamed over the name, so the file is the old one or the new one, never part of either, and a
//! failure leaves the old one as it was.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Tells apart the temporary files of one process.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// Replaces `path` with `bytes` atomically. A file that is there keeps its mode; a new one gets
/// the usual mode (0666 less the umask). A symbolic link is written through, as `fs::write` does.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let path = through_link(path);
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let temp = folder.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        if let Ok(meta) = fs::metadata(&path) {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, &path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Where a symbolic link at `path` points, else `path`.
fn through_link(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder under the system's temporary folder, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn tempdir() -> TempDir {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("fink-aws-file-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn an_existing_file_is_replaced_whole_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempdir();
        let path = dir.path().join("out.json");
        fs::write(&path, "old content that is longer than the new one\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
        assert_eq!(names(dir.path()), vec!["out.json"], "no temporary file is left");
        write_atomic(&dir.path().join("fresh.txt"), b"x").unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("fresh.txt")).unwrap(), "x");
    }

    #[test]
    fn a_link_is_written_through() {
        let dir = tempdir();
        fs::write(dir.path().join("target.txt"), "old").unwrap();
        std::os::unix::fs::symlink("target.txt", dir.path().join("link.txt")).unwrap();
        write_atomic(&dir.path().join("link.txt"), b"new").unwrap();
        assert_eq!(fs::read_to_string(dir.path().join("target.txt")).unwrap(), "new");
        assert!(fs::symlink_metadata(dir.path().join("link.txt")).unwrap().file_type().is_symlink());
    }

    #[test]
    fn a_failure_leaves_what_was_there_and_no_temporary_file() {
        // Renaming a file over a folder fails, whoever runs the test (root writes anywhere).
        let dir = tempdir();
        let path = dir.path().join("out.json");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside.txt"), "old").unwrap();
        assert!(write_atomic(&path, b"new").is_err());
        assert_eq!(fs::read_to_string(path.join("inside.txt")).unwrap(), "old");
        assert_eq!(names(dir.path()), vec!["out.json"], "the temporary file went");
    }
}
