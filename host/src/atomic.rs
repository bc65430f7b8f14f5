//! Replacing a file in one step: the new content goes into a temporary file in the same folder,
//! is flushed to disk with its mode set, and is renamed over the old name. Another fink starting
//! meanwhile sees the old file or the new one, never part of one.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Tells apart the temporary files of one process.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// A file written next to its destination, not yet in place; removed if dropped uncommitted.
pub struct Staged {
    tmp: PathBuf,
    dest: PathBuf,
    committed: bool,
}

impl Staged {
    /// A copy of `from` staged for `dest`, with `mode` (the umask does not apply).
    pub fn copy(from: &Path, dest: &Path, mode: u32) -> io::Result<Staged> {
        let mut source = File::open(from)?;
        Staged::write_with(dest, mode, |file| io::copy(&mut source, file).map(drop))
    }

    /// `bytes` staged for `dest`, with `mode`.
    pub fn bytes(dest: &Path, bytes: &[u8], mode: u32) -> io::Result<Staged> {
        Staged::write_with(dest, mode, |file| file.write_all(bytes))
    }

    fn write_with(dest: &Path, mode: u32, fill: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<Staged> {
        let folder = dest.parent().unwrap_or(Path::new("."));
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // A dot name ending in .tmp: never taken for a plugin library while it is being written.
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = folder.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        // A stale one from a crashed run with this pid goes; a new one is created, never followed.
        let _ = std::fs::remove_file(&tmp);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        // Private until it is complete; its final mode comes after.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        let staged = Staged { tmp, dest: dest.to_path_buf(), committed: false };
        fill(&mut file)?;
        set_mode(&file, mode)?;
        file.sync_all()?;
        Ok(staged)
    }

    /// Where the staged content is now (to check it before it goes into place).
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Renames the file into place and flushes the folder entry.
    pub fn commit(mut self) -> io::Result<()> {
        std::fs::rename(&self.tmp, &self.dest)?;
        self.committed = true;
        sync_folder(&self.dest)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes `bytes` to `dest` in one step, with `mode`.
pub fn write(dest: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    Staged::bytes(dest, bytes, mode)?.commit()
}

/// Removes `path` and flushes its folder entry.
pub fn remove(path: &Path) -> io::Result<()> {
    std::fs::remove_file(path)?;
    sync_folder(path)
}

/// Creates `dir` (and its parents) if needed; a folder it creates gets `mode`.
pub fn create_folder(dir: &Path, mode: u32) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::create_dir(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(())
}

#[cfg(unix)]
fn set_mode(file: &File, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
    Ok(())
}

fn sync_folder(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    if let Some(folder) = path.parent() {
        File::open(folder)?.sync_all()?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_staged_file_has_its_mode_whatever_the_umask_and_is_gone_if_not_committed() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dest = tmp.path().join("libx.so");
        let staged = Staged::bytes(&dest, b"new", 0o644).unwrap();
        assert!(!dest.exists());
        let mode = std::fs::metadata(staged.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
        let tmp_path = staged.path().to_path_buf();
        drop(staged);
        assert!(!tmp_path.exists());

        std::fs::write(&dest, b"old").unwrap();
        write(&dest, b"new", 0o644).unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"new");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }
}
