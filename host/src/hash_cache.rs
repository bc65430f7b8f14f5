//! The sha256 of plugin files, remembered by file identity (device, inode, size, modification
//! and change times) in `<cache dir>/fink/plugin-hashes`, so that a pinned folder costs a `stat`
//! per file instead of reading every library on every run. The change time cannot be set back by
//! anyone but root, so a rewritten file always misses. A cache someone else could change is not
//! used.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{atomic, pins, trust};

/// Entries kept at most; the oldest go first.
const KEEP: usize = 2000;

/// What identifies a file's content without reading it.
type Key = String;

/// The hashes known so far, read on first use.
#[derive(Default)]
pub struct HashCache {
    path: Option<PathBuf>,
    loaded: bool,
    entries: Vec<(Key, String)>,
    index: HashMap<Key, usize>,
    changed: bool,
}

impl HashCache {
    /// The cache in the user's cache folder (`~/.cache/fink/plugin-hashes` on Linux).
    pub fn new() -> HashCache {
        HashCache { path: dirs::cache_dir().map(|d| d.join("fink").join("plugin-hashes")), ..HashCache::default() }
    }

    /// A cache that reads and writes nothing (every hash is computed).
    pub fn disabled() -> HashCache {
        HashCache { loaded: true, ..HashCache::default() }
    }

    /// The sha256 of the file at `path`, from the cache when the file is unchanged.
    pub fn sha256(&mut self, path: &Path) -> std::io::Result<String> {
        let key = key_of(path)?;
        self.load();
        if let Some(hash) = key.as_ref().and_then(|k| self.index.get(k)).map(|&i| self.entries[i].1.clone()) {
            return Ok(hash);
        }
        let hash = pins::sha256_file(path)?;
        // The file may have changed while it was read: only an unchanged identity is remembered.
        let after = key_of(path).ok().flatten();
        if let Some(key) = key.filter(|k| after.as_ref() == Some(k)) {
            self.index.insert(key.clone(), self.entries.len());
            self.entries.push((key, hash.clone()));
            self.changed = true;
        }
        Ok(hash)
    }

    /// The sha256 of an open file, from the cache when its identity (its `fstat`) is known: the
    /// hash is of the very file that will be loaded, whatever the path points at by then.
    pub fn sha256_open(&mut self, file: &std::fs::File) -> std::io::Result<String> {
        use std::io::{Seek, SeekFrom};
        let key = key_of_meta(&file.metadata()?);
        self.load();
        if let Some(hash) = key.as_ref().and_then(|k| self.index.get(k)).map(|&i| self.entries[i].1.clone()) {
            return Ok(hash);
        }
        let mut reader = file;
        reader.seek(SeekFrom::Start(0))?;
        let hash = pins::sha256_reader(&mut reader)?;
        let after = key_of_meta(&file.metadata()?);
        if let Some(key) = key.filter(|k| after.as_ref() == Some(k)) {
            self.index.insert(key.clone(), self.entries.len());
            self.entries.push((key, hash.clone()));
            self.changed = true;
        }
        Ok(hash)
    }

    fn load(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let Some(path) = &self.path else { return };
        let Ok(text) = std::fs::read_to_string(path) else { return };
        if let Err(error) = trust::check_file(path) {
            tracing::warn!("not using the plugin hash cache {}: {error}", path.display());
            return;
        }
        for line in text.lines() {
            if let Some((key, hash)) = line.rsplit_once(' ') {
                if hash.len() == 64 && !self.index.contains_key(key) {
                    self.index.insert(key.to_string(), self.entries.len());
                    self.entries.push((key.to_string(), hash.to_string()));
                }
            }
        }
    }

    /// Writes the cache back if it learnt something (errors only logged: it is a cache).
    pub fn save(&self) {
        let Some(path) = self.path.as_ref().filter(|_| self.changed) else { return };
        let skip = self.entries.len().saturating_sub(KEEP);
        let text: String = self.entries[skip..].iter().map(|(k, h)| format!("{k} {h}\n")).collect();
        let written = path.parent().map_or(Ok(()), |dir| atomic::create_folder(dir, 0o700));
        if let Err(error) = written.and_then(|()| atomic::write(path, text.as_bytes(), 0o600)) {
            tracing::debug!("could not write the plugin hash cache {}: {error}", path.display());
        }
    }
}

/// `dev ino size mtime ctime` (nanoseconds) of the file `path` leads to; `None` where there is
/// no such identity (not Unix).
fn key_of(path: &Path) -> std::io::Result<Option<Key>> {
    Ok(key_of_meta(&std::fs::metadata(path)?))
}

/// The identity key of a file's metadata.
pub fn key_of_meta(meta: &std::fs::Metadata) -> Option<Key> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let nanos = |s: i64, ns: i64| i128::from(s) * 1_000_000_000 + i128::from(ns);
        Some(format!(
            "{} {} {} {} {}",
            meta.dev(),
            meta.ino(),
            meta.size(),
            nanos(meta.mtime(), meta.mtime_nsec()),
            nanos(meta.ctime(), meta.ctime_nsec())
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unchanged_file_is_read_once_and_a_rewritten_one_again() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("libx.so");
        std::fs::write(&file, b"abc").unwrap();
        let cache_path = tmp.path().join("cache/fink/plugin-hashes");
        let mut cache = HashCache { path: Some(cache_path.clone()), ..HashCache::default() };
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(cache.sha256(&file).unwrap(), abc);
        cache.save();
        let saved = std::fs::read_to_string(&cache_path).unwrap();
        assert!(saved.ends_with(&format!(" {abc}\n")), "{saved}");

        // A fresh run reads the cache: a made-up hash for the same identity is what it returns.
        let key = key_of(&file).unwrap().unwrap();
        atomic::write(&cache_path, format!("{key} {}\n", "f".repeat(64)).as_bytes(), 0o600).unwrap();
        let mut cache = HashCache { path: Some(cache_path.clone()), ..HashCache::default() };
        assert_eq!(cache.sha256(&file).unwrap(), "f".repeat(64));

        // Rewriting the file changes its change time, so the cache misses.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&file, b"abc").unwrap();
        let mut cache = HashCache { path: Some(cache_path), ..HashCache::default() };
        assert_eq!(cache.sha256(&file).unwrap(), abc);
    }
}
