//! What each plugin declared, remembered per file so that `fink --help`, `version`,
//! `completions`, `plugins` and argument parsing initialise no plugin library: name, version,
//! description, API version, tools, signals and schemas, in `<cache dir>/fink/plugin-metadata.json`.
//!
//! An entry is written only after a load that passed every check, and is keyed by the file's
//! identity (device, inode, size, modification and change times of the open file; the change time
//! cannot be set back by anyone but root, so a rewritten file always misses) and, where fink
//! hashed the file anyway (a pinned folder, a project's plugins), its sha256: a changed file
//! misses, and is loaded and checked as if there were no cache. Files are not read whole just for
//! the cache. A cache someone else could change, or one written by another fink version, is not
//! used.

use std::collections::HashMap;
use std::path::PathBuf;

use fink_plugin_api::ToolSpec;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::loader::Scope;
use crate::{atomic, trust};

/// Entries kept at most; the oldest go first.
const KEEP: usize = 500;

/// What a plugin declared when it registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Described {
    pub name: String,
    pub version: String,
    pub description: String,
    pub api_version: String,
    pub tools: Vec<ToolSpec>,
    /// Each subscription.
    pub signals: Vec<Subscribed>,
    /// (section, JSON schema).
    pub schemas: Vec<(String, Value)>,
}

/// A subscription as a plugin declared it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subscribed {
    pub signal: String,
    pub order: i32,
    #[serde(default)]
    pub scope: Scope,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    identity: String,
    sha256: Option<String>,
    described: Described,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    /// The fink version that wrote it: another version's declarations checks may differ.
    fink: String,
    entries: Vec<Entry>,
}

/// The cache, read on first use.
#[derive(Default)]
pub struct PluginCache {
    path: Option<PathBuf>,
    loaded: bool,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    changed: bool,
}

impl PluginCache {
    /// The cache in the user's cache folder (`~/.cache/fink/plugin-metadata.json` on Linux).
    pub fn new() -> PluginCache {
        PluginCache {
            path: dirs::cache_dir().map(|d| d.join("fink").join("plugin-metadata.json")),
            ..PluginCache::default()
        }
    }

    /// A cache that remembers nothing.
    pub fn disabled() -> PluginCache {
        PluginCache { loaded: true, ..PluginCache::default() }
    }

    /// What the file with `identity` declared, if it was loaded before; with `sha256` (when the
    /// caller hashed the file anyway) the content must match too.
    pub fn get(&mut self, identity: &str, sha256: Option<&str>) -> Option<Described> {
        self.load();
        let entry = &self.entries[*self.index.get(identity)?];
        if sha256.is_some() && sha256 != entry.sha256.as_deref() {
            return None;
        }
        Some(entry.described.clone())
    }

    /// Remembers what the file with `identity` (and `sha256`, if known) declared after a load
    /// that passed.
    pub fn put(&mut self, identity: String, sha256: Option<String>, described: Described) {
        self.load();
        let entry = Entry { identity: identity.clone(), sha256, described };
        match self.index.get(&identity) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.index.insert(identity, self.entries.len());
                self.entries.push(entry);
            }
        }
        self.changed = true;
    }

    fn load(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let Some(path) = &self.path else { return };
        let Ok(text) = std::fs::read_to_string(path) else { return };
        if let Err(error) = trust::check_file(path) {
            tracing::warn!("not using the plugin metadata cache {}: {error}", path.display());
            return;
        }
        let Ok(file) = serde_json::from_str::<File>(&text) else {
            tracing::debug!("the plugin metadata cache {} is unreadable; starting afresh", path.display());
            return;
        };
        if file.fink != env!("CARGO_PKG_VERSION") {
            return;
        }
        for entry in file.entries {
            if !self.index.contains_key(&entry.identity) {
                self.index.insert(entry.identity.clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
    }

    /// Writes the cache back if it learnt something (errors only logged: it is a cache).
    pub fn save(&self) {
        let Some(path) = self.path.as_ref().filter(|_| self.changed) else { return };
        let skip = self.entries.len().saturating_sub(KEEP);
        let file = File { fink: env!("CARGO_PKG_VERSION").to_string(), entries: self.entries[skip..].to_vec() };
        let Ok(text) = serde_json::to_string(&file) else { return };
        let written = path.parent().map_or(Ok(()), |dir| atomic::create_folder(dir, 0o700));
        if let Err(error) = written.and_then(|()| atomic::write(path, text.as_bytes(), 0o600)) {
            tracing::debug!("could not write the plugin metadata cache {}: {error}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn described(name: &str) -> Described {
        Described {
            name: name.into(),
            version: "1.0.0".into(),
            description: String::new(),
            api_version: "1.3.0".into(),
            tools: vec![],
            signals: vec![Subscribed { signal: "initialized".into(), order: 5, scope: Scope::Any }],
            schemas: vec![],
        }
    }

    #[test]
    fn an_entry_is_found_by_identity_and_must_match_a_known_hash() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("fink/plugin-metadata.json");
        let mut cache = PluginCache { path: Some(path.clone()), ..PluginCache::default() };
        cache.put("1 2 3 4 5".into(), Some("a".repeat(64)), described("x"));
        cache.save();
        let mut again = PluginCache { path: Some(path.clone()), ..PluginCache::default() };
        assert_eq!(again.get("1 2 3 4 5", None).map(|d| d.name), Some("x".to_string()));
        assert!(again.get("1 2 3 4 5", Some(&"a".repeat(64))).is_some());
        assert!(again.get("1 2 3 4 5", Some(&"b".repeat(64))).is_none(), "another content is a miss");
        assert!(again.get("1 2 3 4 6", None).is_none(), "another identity is a miss");

        // Written by another fink: not used.
        let text = std::fs::read_to_string(&path).unwrap().replace(env!("CARGO_PKG_VERSION"), "0.0.0-other");
        std::fs::write(&path, text).unwrap();
        let mut other = PluginCache { path: Some(path), ..PluginCache::default() };
        assert!(other.get("1 2 3 4 5", None).is_none());
    }
}
