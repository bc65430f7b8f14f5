//! Local paths made safe and turned into bytes: a path must stay inside the project folder (also
//! through symlinks), a folder becomes a deterministic zip written by the bundler's archive
//! (`fink-archive`: entries sorted, a fixed timestamp, modes 0644/0755, no directory entries), and
//! the bytes' SHA-256 names the S3 object.

use std::path::{Path, PathBuf};

use fink_archive::Entry;
use fink_plugin_api::{Error, Result};
use sha2::{Digest, Sha256};

/// A local path that resolved to a file or folder inside the project.
#[derive(Debug, Clone)]
pub struct Local {
    /// As written in the template.
    pub written: String,
    /// Canonical (symlinks resolved).
    pub path: PathBuf,
    pub is_dir: bool,
}

/// Whether a property value names a local path (not an S3 or HTTP(S) location, not empty).
pub fn is_local(value: &str) -> bool {
    let v = value.trim();
    !(v.is_empty() || v.starts_with("s3://") || v.starts_with("https://") || v.starts_with("http://"))
}

/// `written` relative to `base` (the template's folder), checked to exist and to stay in `root`.
pub fn resolve(root: &Path, base: &Path, written: &str, place: &str) -> Result<Local> {
    let joined = base.join(written.trim());
    let path = match std::fs::canonicalize(&joined) {
        Ok(path) => path,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(format!("{place}: local path '{written}' does not exist ({})", joined.display())))
        }
        Err(e) => return Err(Error::new(format!("{place}: cannot read local path '{written}': {e}"))),
    };
    inside(root, &path, &format!("{place}: local path '{written}'"))?;
    let is_dir = path.is_dir();
    Ok(Local { written: written.trim().to_string(), path, is_dir })
}

/// A canonical path must lie inside the project folder: a template is untrusted input.
fn inside(root: &Path, path: &Path, what: &str) -> Result<()> {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if path.starts_with(&root) {
        return Ok(());
    }
    Err(Error::new(format!("{what} leaves the project folder ({} is outside {})", path.display(), root.display())))
}

/// Reads a file, at most `limit` bytes (a bigger one is an error naming it): `noun` says what it
/// is in messages (`file`, `template`).
pub fn read(path: &Path, limit: u64, place: &str, noun: &str) -> Result<Vec<u8>> {
    let cannot = |e: std::io::Error| Error::new(format!("{place}: cannot read the {noun} {}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(cannot)?;
    if meta.len() > limit {
        return Err(Error::new(format!(
            "{place}: the {noun} {} is {} bytes, more than the {limit} allowed",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read(path).map_err(cannot)
}

/// The largest single artifact fink reads (5 GB is S3's limit for one PUT).
pub const ARTIFACT_LIMIT: u64 = 5 * 1024 * 1024 * 1024;

/// Whether the bytes are a zip already (a jar or a zip file).
pub fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The files of a folder (recursively), sorted by their `/`-separated name; each one checked to
/// stay in `root` (a symlink out of the project is an error; a folder reached again through a
/// symlink is an error too, as it would never end).
fn files(root: &Path, folder: &Path, place: &str) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    let mut pending = vec![(String::new(), folder.to_path_buf())];
    let mut visited = std::collections::HashSet::new();
    while let Some((prefix, dir)) = pending.pop() {
        if !visited.insert(dir.clone()) {
            return Err(Error::new(format!("{place}: {} is reached twice through a symlink", dir.display())));
        }
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Error::new(format!("{place}: cannot read {}: {e}", dir.display())))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::new(format!("{place}: cannot read {}: {e}", dir.display())))?;
            let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
            let real = std::fs::canonicalize(entry.path())
                .map_err(|e| Error::new(format!("{place}: cannot read {}: {e}", entry.path().display())))?;
            inside(root, &real, &format!("{place}: {}", entry.path().display()))?;
            if real.is_dir() {
                pending.push((format!("{name}/"), real));
            } else {
                out.push((name, real));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A deterministic zip of a folder's files, written by the bundler's archive (`fink-archive`):
/// the same files give the same bytes as a bundle of them would.
pub fn zip_folder(root: &Path, folder: &Path, place: &str) -> Result<Vec<u8>> {
    let mut entries = Vec::new();
    for (name, path) in files(root, folder, place)? {
        let size = std::fs::metadata(&path)
            .map_err(|e| Error::new(format!("{place}: cannot read {}: {e}", path.display())))?
            .len();
        if size > ARTIFACT_LIMIT {
            // The same refusal `read` gives, without reading the file.
            read(&path, ARTIFACT_LIMIT, place, "file")?;
        }
        entries.push(Entry::file(name, path)?);
    }
    zip(entries).map_err(|e| Error::new(format!("{place}: cannot zip {}: {}", folder.display(), e.message())))
}

/// A zip holding one file under its own name.
pub fn zip_file(path: &Path, bytes: Vec<u8>, place: &str) -> Result<Vec<u8>> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let executable = std::fs::metadata(path).map(|m| fink_archive::is_executable(&m)).unwrap_or(false);
    let entry = Entry { executable, ..Entry::bytes(name, bytes) };
    zip(vec![entry]).map_err(|e| Error::new(format!("{place}: cannot zip {}: {}", path.display(), e.message())))
}

fn zip(entries: Vec<Entry>) -> Result<Vec<u8>> {
    let (out, _) = fink_archive::write(entries, std::io::Cursor::new(Vec::new()))?;
    Ok(out.into_inner())
}

/// The SHA-256 of the bytes, in hex.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_zips_to_the_same_bytes_whatever_the_times() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        std::fs::create_dir_all(src.join("lib")).unwrap();
        std::fs::write(src.join("b.py"), "b").unwrap();
        std::fs::write(src.join("lib/a.py"), "a").unwrap();
        let one = zip_folder(dir.path(), &src, "t").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        std::fs::write(src.join("b.py"), "b").unwrap();
        assert_eq!(one, zip_folder(dir.path(), &src, "t").unwrap());
        assert!(is_zip(&one));
        let names: Vec<String> =
            zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap().file_names().map(String::from).collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"lib/a.py".to_string()) && names.contains(&"b.py".to_string()));
    }

    #[test]
    fn a_symlink_loop_in_a_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/sub")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("src"), dir.path().join("src/sub/up")).unwrap();
        let err = zip_folder(dir.path(), &dir.path().join("src"), "t").unwrap_err();
        assert!(err.message().contains("is reached twice through a symlink"), "{}", err.message());
    }

    #[test]
    fn paths_outside_the_project_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), project.join("link")).unwrap();
        for written in ["../secret", "link"] {
            let err = resolve(&project, &project, written, "t.yaml: resource F property Code").unwrap_err();
            assert!(err.message().contains("leaves the project folder"), "{}", err.message());
        }
        let err = resolve(&project, &project, "nope", "t.yaml: resource F property Code").unwrap_err();
        assert!(err.message().starts_with("t.yaml: resource F property Code: local path 'nope' does not exist"));
        assert!(is_local("./src") && !is_local("s3://b/k") && !is_local("https://x/y"));
    }
}
