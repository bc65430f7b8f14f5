//! A plugin file opened once: the owner and mode check, the header check and the hash all run on
//! the open file, and that same open file is what the dynamic loader maps (on Linux through
//! `/proc/self/fd/N`). A file swapped at its path between the checks and the load is never
//! loaded: the path is not opened a second time.
//!
//! macOS has no `/proc`: there the loader is given the path, and the gap between check and load
//! is closed only by the owner and mode checks (nobody else may write the file or its folders).

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::LoadError;
use crate::hash_cache::HashCache;
use crate::library_check::{self, Problem};
use crate::trust;

/// An open plugin file that passed the checks that need no hash.
#[derive(Debug)]
pub struct CheckedFile {
    path: PathBuf,
    file: File,
}

impl CheckedFile {
    /// Opens `path` and checks the open file: a regular file nobody else may change (with the
    /// folder of a symlink's target), whose headers fit the file.
    pub fn open(path: &Path) -> Result<CheckedFile, LoadError> {
        let file = File::open(path).map_err(|e| LoadError::Damaged { reason: format!("cannot be read: {e}") })?;
        let meta = file.metadata().map_err(|e| LoadError::Damaged { reason: format!("cannot be read: {e}") })?;
        if !meta.is_file() {
            return Err(LoadError::Damaged { reason: "not a regular file".into() });
        }
        trust::check_open_file(path, &meta)?;
        // A truncated file would crash dlopen (SIGBUS), so its headers are checked first.
        if let Err(Problem::Damaged(reason)) = library_check::check_open(&file) {
            return Err(LoadError::Damaged { reason });
        }
        Ok(CheckedFile { path: path.to_path_buf(), file })
    }

    /// Opens a file that is not in a plugins folder yet (`fink plugin install` checks a build
    /// output before copying it): the headers are checked, its owner and mode are not.
    pub fn open_to_inspect(path: &Path) -> Result<CheckedFile, LoadError> {
        let file = File::open(path).map_err(|e| LoadError::Damaged { reason: format!("cannot be read: {e}") })?;
        if let Err(Problem::Damaged(reason)) = library_check::check_open(&file) {
            return Err(LoadError::Damaged { reason });
        }
        Ok(CheckedFile { path: path.to_path_buf(), file })
    }

    /// The path the file was found at (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sha256 of the open file's content.
    pub fn sha256(&self, hashes: &mut HashCache) -> Result<String, LoadError> {
        hashes.sha256_open(&self.file).map_err(|e| LoadError::Damaged { reason: format!("cannot be read: {e}") })
    }

    /// The identity of the open file (device, inode, size, times), for the metadata cache.
    pub fn identity(&self) -> Option<String> {
        self.file.metadata().ok().and_then(|m| crate::hash_cache::key_of_meta(&m))
    }

    /// Keeps the file open for the rest of the process (see [`crate::loader::open`]).
    pub fn keep_open(self) {
        std::mem::forget(self.file);
    }

    /// What to hand the dynamic loader so that it maps this open file.
    #[cfg(target_os = "linux")]
    pub fn loader_path(&self) -> PathBuf {
        use std::os::unix::io::AsRawFd;
        PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()))
    }

    /// What to hand the dynamic loader: the path (see the module documentation).
    #[cfg(not(target_os = "linux"))]
    pub fn loader_path(&self) -> PathBuf {
        self.path.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn own_binary() -> Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_swapped_after_the_checks_is_not_what_gets_loaded() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = tmp.path().join("libchecked.so");
        let checked_bytes = own_binary();
        std::fs::write(&path, &checked_bytes).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let checked = CheckedFile::open(&path).unwrap();
        let hash = checked.sha256(&mut HashCache::disabled()).unwrap();

        // Another file renamed over the path after the checks.
        let swapped = tmp.path().join("evil");
        std::fs::write(&swapped, b"\x7fELF swapped in after the check").unwrap();
        std::fs::rename(&swapped, &path).unwrap();

        // The loader's path still leads to the file that was checked and hashed.
        let loaded = std::fs::read(checked.loader_path()).unwrap();
        assert_eq!(loaded.len(), checked_bytes.len());
        assert!(loaded == checked_bytes, "the loader would map the swapped file");
        assert_eq!(crate::pins::sha256_reader(&mut loaded.as_slice()).unwrap(), hash);
        assert_ne!(std::fs::read(&path).unwrap(), checked_bytes, "the path does hold the other file now");
        // And the checked file's hash is still the checked content's, however often it is asked.
        assert_eq!(checked.sha256(&mut HashCache::disabled()).unwrap(), hash);
    }

    #[cfg(unix)]
    #[test]
    fn a_file_others_may_write_is_refused_on_the_open_file() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("libx.so");
        std::fs::write(&path, own_binary()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        let error = CheckedFile::open(&path).unwrap_err().to_string();
        assert!(error.starts_with("not trusted: it is group- and world-writable"), "{error}");
        std::fs::write(tmp.path().join("libcut.so"), &own_binary()[..200]).unwrap();
        std::fs::set_permissions(tmp.path().join("libcut.so"), std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = CheckedFile::open(&tmp.path().join("libcut.so")).unwrap_err().to_string();
        assert!(error.starts_with("damaged library, truncated"), "{error}");
    }
}
