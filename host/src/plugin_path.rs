//! Where fink looks for plugins, first match wins:
//! `--plugins-dir` (repeatable), `FINK_PLUGIN_PATH`, the project's `.fink/plugins/`, the user's
//! data dir (`~/.local/share/fink/plugins` on Linux), and the install's `<prefix>/lib/fink/plugins`
//! (the binary lives in `<prefix>/bin`).

use std::path::{Path, PathBuf};

/// Puts the `--plugins-dir` folders (made absolute) in front of `FINK_PLUGIN_PATH`, so a fink that
/// this one starts (`cloud deploy --all` runs one per project, a hook may run one) finds the same
/// plugins first. Called once at startup, before any thread is started.
pub fn export_for_children(cli_dirs: &[PathBuf]) {
    if cli_dirs.is_empty() {
        return;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut dirs: Vec<PathBuf> = cli_dirs.iter().map(|d| cwd.join(d)).collect();
    if let Some(value) = std::env::var_os("FINK_PLUGIN_PATH") {
        dirs.extend(std::env::split_paths(&value));
    }
    if let Ok(joined) = std::env::join_paths(dirs) {
        std::env::set_var("FINK_PLUGIN_PATH", joined);
    }
}

/// One folder on the search path and why it is there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchDir {
    pub path: PathBuf,
    pub origin: &'static str,
}

/// The search path, in priority order, without duplicates.
pub fn search_dirs(cli_dirs: &[PathBuf], project_dir: &Path) -> Vec<SearchDir> {
    let mut dirs = Vec::new();
    for dir in cli_dirs {
        dirs.push(SearchDir { path: dir.clone(), origin: "--plugins-dir" });
    }
    if let Some(value) = std::env::var_os("FINK_PLUGIN_PATH") {
        for dir in std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()) {
            dirs.push(SearchDir { path: dir, origin: "FINK_PLUGIN_PATH" });
        }
    }
    dirs.push(SearchDir { path: project_folder(project_dir), origin: "project" });
    if let Some(user) = user_folder() {
        dirs.push(SearchDir { path: user, origin: "user" });
    }
    if let Some(bundled) = bundled_dir() {
        dirs.push(SearchDir { path: bundled, origin: "bundled" });
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let key = d.path.canonicalize().unwrap_or_else(|_| d.path.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    dirs
}

/// The project's plugins folder, `<project>/.fink/plugins`.
pub fn project_folder(project_dir: &Path) -> PathBuf {
    project_dir.join(".fink").join("plugins")
}

/// The user's plugins folder, `<data dir>/fink/plugins`.
pub fn user_folder() -> Option<PathBuf> {
    dirs::data_dir().map(|data| data.join("fink").join("plugins"))
}

/// `<prefix>/lib/fink/plugins` for a binary at `<prefix>/bin/fink`.
pub fn bundled_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let prefix = exe.parent()?.parent()?;
    Some(prefix.join("lib").join("fink").join("plugins"))
}

/// The plugin libraries in `dir` (`*.so` on Linux, `*.dylib` on macOS), sorted by file name.
/// Folders named like a library are skipped with a note at `-v`; a symlink that points nowhere
/// is a broken install and gets a warning naming where it points.
pub fn plugin_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == std::env::consts::DLL_EXTENSION))
        .collect();
    names.sort();
    names.into_iter().filter(|path| is_library_file(path)).collect()
}

fn is_library_file(path: &Path) -> bool {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_file() => true,
        Ok(meta) if meta.is_dir() => {
            tracing::debug!("skipping {}: a folder, not a plugin library", path.display());
            false
        }
        Ok(_) => {
            tracing::debug!("skipping {}: not a regular file", path.display());
            false
        }
        Err(error) => {
            match std::fs::read_link(path) {
                Ok(target) => tracing::warn!(
                    "broken plugin install: {} is a symlink to {}, which does not exist; skipped",
                    path.display(),
                    target.display()
                ),
                Err(_) => tracing::warn!("skipping plugin file {}: {error}", path.display()),
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_dirs_come_first_and_duplicates_go() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("a");
        std::fs::create_dir(&a).unwrap();
        let dirs = search_dirs(&[a.clone(), a.clone()], tmp.path());
        assert_eq!(dirs[0].path, a);
        assert_eq!(dirs.iter().filter(|d| d.path == a).count(), 1);
        assert!(dirs.iter().any(|d| d.path == tmp.path().join(".fink/plugins")));
    }

    #[test]
    fn only_libraries_are_candidates() {
        let tmp = tempfile::tempdir().unwrap();
        let lib = format!("b.{}", std::env::consts::DLL_EXTENSION);
        std::fs::write(tmp.path().join(&lib), b"x").unwrap();
        std::fs::write(tmp.path().join("notes.txt"), b"x").unwrap();
        assert_eq!(plugin_files(tmp.path()), vec![tmp.path().join(lib)]);
    }

    #[cfg(unix)]
    #[test]
    fn folders_and_dangling_symlinks_are_not_candidates() {
        let tmp = tempfile::tempdir().unwrap();
        let ext = std::env::consts::DLL_EXTENSION;
        std::fs::create_dir(tmp.path().join(format!("dir.{ext}"))).unwrap();
        std::os::unix::fs::symlink(tmp.path().join("gone"), tmp.path().join(format!("dangling.{ext}"))).unwrap();
        let real = tmp.path().join(format!("real.{ext}"));
        std::fs::write(&real, b"x").unwrap();
        std::os::unix::fs::symlink(&real, tmp.path().join(format!("link.{ext}"))).unwrap();
        assert_eq!(plugin_files(tmp.path()), vec![tmp.path().join(format!("link.{ext}")), real]);
    }
}
