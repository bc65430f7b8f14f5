//! Which projects the user trusts to run their own code: the libraries in `.fink/plugins`, command
//! hooks, Python hooks, templates and configs, template generators, pre-bundle scripts. Recorded
//! by `fink trust DIR` in the user's data folder (`~/.local/share/fink/trusted-projects.json`),
//! never in a project, keyed by canonical path; a trusted folder covers the projects below it.
//! Trust of a plugins folder is tied to its content: the sha256 of every library in each
//! `.fink/plugins` below the trusted folder is recorded, and a library added or changed since
//! needs `fink trust` again. `FINK_TRUSTED_PATHS` (a path list) trusts folders for one run, for CI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hash_cache::HashCache;
use crate::{atomic, plugin_path, trust};

/// The environment variable that trusts folders (and the projects below them) for one run.
pub const TRUSTED_PATHS_VAR: &str = "FINK_TRUSTED_PATHS";

/// The store's file name in `<data dir>/fink`.
const STORE_FILE: &str = "trusted-projects.json";

/// How deep `fink trust DIR` looks for `.fink/plugins` folders below DIR.
const MAX_DEPTH: usize = 8;

/// Folders never searched for projects: tools' caches and dependencies, not projects.
const SKIPPED_FOLDERS: &[&str] = &[".git", "node_modules", "target", ".venv", "venv", "__pycache__", ".tox"];

/// One trusted folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The canonical path.
    pub path: PathBuf,
    /// Seconds since the epoch when it was trusted.
    pub trusted_at: u64,
    /// Every project plugin library below it when it was trusted: canonical file path → sha256.
    #[serde(default)]
    pub plugins: BTreeMap<PathBuf, String>,
}

/// The user's trusted folders.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Store {
    #[serde(default)]
    pub projects: Vec<Entry>,
}

/// Why a project is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// `fink trust <folder>` covers it; project plugins must match the recorded hashes.
    Recorded(Entry),
    /// A folder in `FINK_TRUSTED_PATHS` covers it, content and all.
    Environment(PathBuf),
}

/// The verdict on one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTrust {
    /// The project directory (canonical where possible).
    pub dir: PathBuf,
    /// `None`: not trusted.
    pub grant: Option<Grant>,
}

/// Why a project plugin library is not covered by the project's trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Added,
    Changed,
}

impl ProjectTrust {
    /// Whether the project's own code may run.
    pub fn trusted(&self) -> bool {
        self.grant.is_some()
    }

    /// The command that trusts the project, as the user would type it.
    pub fn trust_command(&self) -> String {
        format!("fink trust {}", trust::shell_quote(&self.dir.display().to_string()))
    }

    /// A trusted project's plugin library with hash `sha256`: `None` if trust covers it, else
    /// whether it was added or changed since the folder was trusted.
    pub fn library_change(&self, file: &Path, sha256: &str) -> Option<Change> {
        match &self.grant {
            Some(Grant::Environment(_)) => None,
            Some(Grant::Recorded(entry)) => {
                let file = canonical(file);
                match entry.plugins.get(&file) {
                    Some(recorded) if recorded == sha256 => None,
                    Some(_) => Some(Change::Changed),
                    None => Some(Change::Added),
                }
            }
            None => Some(Change::Added),
        }
    }
}

/// The one warning of an untrusted project: what fink skipped (the libraries it did not open,
/// what plugins reported they did not run) and the command that trusts the project.
pub fn untrusted_warning(project: &ProjectTrust, libraries: &[PathBuf], skipped: &[String]) -> Option<String> {
    if project.trusted() || (libraries.is_empty() && skipped.is_empty()) {
        return None;
    }
    let mut parts = Vec::new();
    if !libraries.is_empty() {
        let names: Vec<String> = libraries
            .iter()
            .map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
            .collect();
        parts.push(format!("its plugin libraries in .fink/plugins ({})", names.join(", ")));
    }
    for item in skipped {
        if !parts.contains(item) {
            parts.push(item.clone());
        }
    }
    Some(format!(
        "{} is not a trusted project, so fink skipped {}; if you trust its code, run `{}`",
        project.dir.display(),
        parts.join(", "),
        project.trust_command()
    ))
}

impl Store {
    /// The store's path, in the user's data folder.
    pub fn path() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("fink").join(STORE_FILE))
    }

    /// Reads the store; a missing one is empty. A store someone else could change, or that is
    /// not readable as JSON, trusts nothing (with a warning).
    pub fn read() -> Store {
        let Some(path) = Store::path() else { return Store::default() };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Store::default(),
            Err(e) => {
                tracing::warn!("cannot read {} ({e}); no project is trusted", path.display());
                return Store::default();
            }
        };
        if let Err(error) = trust::check_file(&path) {
            tracing::warn!("not using {}: {error}; no project is trusted", path.display());
            return Store::default();
        }
        serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!("{} is damaged ({e}); no project is trusted until `fink trust` rewrites it", path.display());
            Store::default()
        })
    }

    /// Writes the store in one step, private to the user.
    pub fn write(&self) -> std::io::Result<PathBuf> {
        let path = Store::path().ok_or_else(|| std::io::Error::other("there is no data folder (HOME is not set)"))?;
        if let Some(folder) = path.parent() {
            atomic::create_folder(folder, 0o700)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        atomic::write(&path, format!("{text}\n").as_bytes(), 0o600)?;
        Ok(path)
    }

    /// The verdict on `project_dir`: the nearest trusted folder at or above it, from the store or
    /// from `FINK_TRUSTED_PATHS`.
    pub fn verdict(&self, project_dir: &Path) -> ProjectTrust {
        let dir = canonical(project_dir);
        let recorded = self
            .projects
            .iter()
            .filter(|e| dir.starts_with(&e.path))
            .max_by_key(|e| e.path.components().count())
            .cloned()
            .map(Grant::Recorded);
        let grant =
            recorded.or_else(|| environment_paths().into_iter().find(|p| dir.starts_with(p)).map(Grant::Environment));
        ProjectTrust { dir, grant }
    }

    /// Trusts `dir` with the project plugin libraries below it as they are now; returns the entry.
    pub fn trust(&mut self, dir: &Path, hashes: &mut HashCache) -> std::io::Result<Entry> {
        let dir = canonical(dir);
        let mut plugins = BTreeMap::new();
        for folder in plugin_folders_below(&dir) {
            for file in plugin_path::plugin_files(&folder) {
                let file = canonical(&file);
                let hash = hashes.sha256(&file)?;
                plugins.insert(file, hash);
            }
        }
        let trusted_at =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let entry = Entry { path: dir.clone(), trusted_at, plugins };
        self.projects.retain(|e| e.path != dir);
        self.projects.push(entry.clone());
        self.projects.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(entry)
    }

    /// Drops the entry for exactly `dir`; whether there was one.
    pub fn untrust(&mut self, dir: &Path) -> bool {
        let dir = canonical(dir);
        let before = self.projects.len();
        self.projects.retain(|e| e.path != dir);
        before != self.projects.len()
    }
}

/// The folders `FINK_TRUSTED_PATHS` names, canonical.
pub fn environment_paths() -> Vec<PathBuf> {
    let Some(value) = std::env::var_os(TRUSTED_PATHS_VAR) else { return Vec::new() };
    std::env::split_paths(&value)
        .filter(|p| !p.as_os_str().is_empty() && p.is_absolute())
        .map(|p| canonical(&p))
        .collect()
}

/// `path` canonical, or as given when it does not exist.
pub fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Every `.fink/plugins` folder at or below `dir` (symlinks not followed, tool folders skipped).
pub fn plugin_folders_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(dir, 0, &mut found);
    found
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let plugins = plugin_path::project_folder(dir);
    if plugins.is_dir() {
        found.push(plugins);
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut children: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            !name.starts_with('.') && !SKIPPED_FOLDERS.contains(&name.as_str())
        })
        .map(|e| e.path())
        .collect();
    children.sort();
    for child in children {
        walk(&child, depth + 1, found);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_what_was_skipped_once_and_the_command() {
        let project = ProjectTrust { dir: PathBuf::from("/home/ana/my shop"), grant: None };
        let skipped = vec![
            "command hooks (hooks.command_finalized)".to_string(),
            "command hooks (hooks.command_finalized)".to_string(),
        ];
        let warning =
            untrusted_warning(&project, &[PathBuf::from("/home/ana/my shop/.fink/plugins/libx.so")], &skipped).unwrap();
        assert_eq!(
            warning,
            "/home/ana/my shop is not a trusted project, so fink skipped its plugin libraries in .fink/plugins (libx.so), command hooks (hooks.command_finalized); if you trust its code, run `fink trust '/home/ana/my shop'`"
        );
        assert_eq!(untrusted_warning(&project, &[], &[]), None, "nothing skipped, nothing said");
    }

    fn entry(path: &str, plugins: &[(&str, &str)]) -> Entry {
        Entry {
            path: PathBuf::from(path),
            trusted_at: 0,
            plugins: plugins.iter().map(|(f, h)| (PathBuf::from(f), h.to_string())).collect(),
        }
    }

    #[test]
    fn the_nearest_trusted_folder_at_or_above_a_project_decides() {
        let store = Store {
            projects: vec![
                entry("/work", &[("/work/a/.fink/plugins/liba.so", "1")]),
                entry("/work/b", &[("/work/b/.fink/plugins/libb.so", "2")]),
            ],
        };
        let a = store.verdict(Path::new("/work/a"));
        assert!(a.trusted());
        assert_eq!(a.library_change(Path::new("/work/a/.fink/plugins/liba.so"), "1"), None);
        assert_eq!(a.library_change(Path::new("/work/a/.fink/plugins/liba.so"), "9"), Some(Change::Changed));
        assert_eq!(a.library_change(Path::new("/work/a/.fink/plugins/new.so"), "1"), Some(Change::Added));
        let b = store.verdict(Path::new("/work/b/sub"));
        assert!(matches!(&b.grant, Some(Grant::Recorded(e)) if e.path == Path::new("/work/b")));
        let elsewhere = store.verdict(Path::new("/workshop"));
        assert!(!elsewhere.trusted(), "a prefix of the name is not a parent folder");
        assert_eq!(elsewhere.trust_command(), "fink trust /workshop");
    }

    #[test]
    fn trusting_records_every_project_library_below_and_untrusting_drops_exactly_that_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let ext = std::env::consts::DLL_EXTENSION;
        for project in ["one", "two/deep", "node_modules/x"] {
            let folder = root.join(project).join(".fink/plugins");
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(format!("libp.{ext}")), project.as_bytes()).unwrap();
        }
        let mut store = Store::default();
        let entry = store.trust(&root, &mut HashCache::disabled()).unwrap();
        let files: Vec<String> =
            entry.plugins.keys().map(|p| p.strip_prefix(&root).unwrap().display().to_string()).collect();
        assert_eq!(files, vec![format!("one/.fink/plugins/libp.{ext}"), format!("two/deep/.fink/plugins/libp.{ext}")]);
        assert!(store.verdict(&root.join("two/deep")).trusted());
        assert!(!store.untrust(&root.join("one")), "only the trusted folder itself can be untrusted");
        assert!(store.untrust(&root));
        assert!(!store.verdict(&root.join("one")).trusted());
    }
}
