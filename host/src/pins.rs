//! Optional pinning: a `plugins.lock` in a plugins folder lists `<plugin name> <sha256>` per line
//! (`#` starts a comment). With it present, a file of that folder whose hash is not listed is
//! refused before it is opened, naming both hashes when the lock pins another one for it. Without
//! it nothing is hashed.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::LoadError;
use crate::{atomic, trust};

/// The lock's file name, in the plugins folder it pins.
pub const LOCK_FILE: &str = "plugins.lock";

const HEADER: &str = "# The plugins fink may load from this folder: `<plugin name> <sha256>` per line.\n\
# `fink plugin install` and `fink plugin remove` keep it up to date.\n";

/// One line of the lock, kept as written so comments survive an update.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// A pin; `publisher` is who signed the file when `fink plugin install` verified it, kept as
    /// a `# publisher: ...` comment so that older fink versions read the lock unchanged.
    Pin {
        name: String,
        hash: String,
        publisher: Option<String>,
    },
    Other(String),
}

/// The comment that records a pin's publisher.
const PUBLISHER: &str = "publisher: ";

/// A folder's `plugins.lock`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    pub path: PathBuf,
    lines: Vec<Line>,
}

impl Lock {
    /// The lock of `dir`, if it has one; a lock someone else could change is refused like a
    /// plugin file.
    pub fn read(dir: &Path) -> Result<Option<Lock>, LoadError> {
        let path = dir.join(LOCK_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(LoadError::BadLock { lock: path, problem: format!("cannot be read: {e}") }),
        };
        if let Err(error) = trust::check_lock(&path) {
            return Err(LoadError::BadLock { lock: path, problem: error.to_string() });
        }
        Lock::parse(path, &text).map(Some)
    }

    /// A lock with no pins yet, to be written at `path`.
    pub fn empty(path: PathBuf) -> Lock {
        Lock { path, lines: HEADER.lines().map(|l| Line::Other(l.to_string())).collect() }
    }

    fn parse(path: PathBuf, text: &str) -> Result<Lock, LoadError> {
        let mut lines: Vec<Line> = Vec::new();
        for (number, raw) in text.lines().enumerate() {
            let (content, comment) = raw.split_once('#').unwrap_or((raw, ""));
            let content = content.trim();
            let publisher = comment.trim().strip_prefix(PUBLISHER).map(|p| p.trim().to_string());
            if content.is_empty() {
                lines.push(Line::Other(raw.to_string()));
                continue;
            }
            let bad = |what: String| LoadError::BadLock {
                lock: path.clone(),
                problem: format!("line {}: {what}", number + 1),
            };
            let words: Vec<&str> = content.split_whitespace().collect();
            let [name, hash] = words[..] else {
                return Err(bad(format!("expected `<plugin name> <sha256>`, got `{content}`")));
            };
            if hash.len() != 64 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(format!("`{hash}` is not a sha256 (64 hex digits)")));
            }
            if lines.iter().any(|l| matches!(l, Line::Pin { name: n, .. } if n == name)) {
                return Err(bad(format!("plugin '{name}' is pinned twice")));
            }
            lines.push(Line::Pin { name: name.to_string(), hash: hash.to_ascii_lowercase(), publisher });
        }
        Ok(Lock { path, lines })
    }

    fn pins(&self) -> impl Iterator<Item = (&str, &str)> {
        self.lines.iter().filter_map(|l| match l {
            Line::Pin { name, hash, .. } => Some((name.as_str(), hash.as_str())),
            Line::Other(_) => None,
        })
    }

    /// The hash pinned for plugin `name`.
    pub fn pinned(&self, name: &str) -> Option<&str> {
        self.pins().find(|(n, _)| *n == name).map(|(_, h)| h)
    }

    /// The plugin the file at `path` with hash `actual` is pinned as, or why it is refused. A hash
    /// that is not listed is compared with the pin of the plugin the file is named after
    /// (`libfink_plugin_say_hello.so` for `say-hello`), so that both hashes can be named.
    pub fn check(&self, path: &Path, actual: &str) -> Result<String, LoadError> {
        if let Some((name, _)) = self.pins().find(|(_, h)| *h == actual) {
            return Ok(name.to_string());
        }
        match self.named_after(path) {
            Some((name, pinned)) => Err(LoadError::PinMismatch {
                name: name.to_string(),
                lock: self.path.clone(),
                pinned: pinned.to_string(),
                actual: actual.to_string(),
            }),
            None => Err(LoadError::NotPinned { lock: self.path.clone(), actual: actual.to_string() }),
        }
    }

    /// The pin whose plugin name, dashes as underscores, is the file's stem or its longest
    /// `_`-separated ending.
    fn named_after(&self, path: &Path) -> Option<(&str, &str)> {
        let stem = path.file_stem()?.to_string_lossy();
        let stem = stem.strip_prefix(std::env::consts::DLL_PREFIX).unwrap_or(&stem);
        self.pins()
            .filter(|(name, _)| {
                let name = name.replace('-', "_");
                stem == name || stem.ends_with(&format!("_{name}"))
            })
            .max_by_key(|(name, _)| name.len())
    }

    /// Who signed the pinned file of `name`, as `fink plugin install` recorded it.
    pub fn publisher(&self, name: &str) -> Option<&str> {
        self.lines.iter().find_map(|l| match l {
            Line::Pin { name: n, publisher, .. } if n == name => publisher.as_deref(),
            _ => None,
        })
    }

    /// Pins `name` to `hash` (signed by `publisher`, if verified), in place of its old pin.
    pub fn set(&mut self, name: &str, hash: &str, publisher: Option<&str>) {
        let pin = Line::Pin { name: name.to_string(), hash: hash.to_string(), publisher: publisher.map(String::from) };
        match self.lines.iter_mut().find(|l| matches!(l, Line::Pin { name: n, .. } if n == name)) {
            Some(line) => *line = pin,
            None => self.lines.push(pin),
        }
    }

    /// Drops the pin of `name`.
    pub fn remove(&mut self, name: &str) {
        self.lines.retain(|l| !matches!(l, Line::Pin { name: n, .. } if n == name));
    }

    /// The lock as text.
    pub fn render(&self) -> String {
        let mut text = String::new();
        for line in &self.lines {
            match line {
                Line::Pin { name, hash, publisher: None } => text.push_str(&format!("{name} {hash}\n")),
                Line::Pin { name, hash, publisher: Some(p) } => {
                    text.push_str(&format!("{name} {hash}  # {PUBLISHER}{p}\n"))
                }
                Line::Other(raw) => text.push_str(&format!("{raw}\n")),
            }
        }
        text
    }

    /// Writes the lock in one step, mode 0644.
    pub fn write(&self) -> std::io::Result<()> {
        atomic::write(&self.path, self.render().as_bytes(), 0o644)
    }
}

/// The sha256 of a file, as 64 lowercase hex digits.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    sha256_reader(&mut std::fs::File::open(path)?)
}

/// The sha256 of what `reader` gives, as 64 lowercase hex digits.
pub fn sha256_reader(reader: &mut impl std::io::Read) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    std::io::copy(reader, &mut hasher)?;
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn lock(text: &str) -> Result<Lock, LoadError> {
        Lock::parse(PathBuf::from("/p/plugins.lock"), text)
    }

    #[test]
    fn a_listed_hash_names_its_plugin_and_another_names_both_hashes() {
        let lock = lock(&format!("# team pins\nsay-hello {A}\n\nhello {B}  # the greeter\n")).unwrap();
        let file = Path::new("/p/libfink_plugin_say_hello.so");
        assert_eq!(lock.check(file, A).unwrap(), "say-hello");
        let other = "c".repeat(64);
        match lock.check(file, &other) {
            Err(LoadError::PinMismatch { name, pinned, actual, .. }) => {
                assert_eq!((name.as_str(), pinned.as_str(), actual.as_str()), ("say-hello", A, other.as_str()));
            }
            other => panic!("expected a mismatch, got {other:?}"),
        }
        assert!(matches!(lock.check(Path::new("/p/libunknown.so"), &other), Err(LoadError::NotPinned { .. })));
        assert_eq!(lock.pinned("hello"), Some(B));
    }

    #[test]
    fn unreadable_lines_name_the_line() {
        let error = lock(&format!("say-hello {A}\nsay-hello\n")).unwrap_err().to_string();
        assert!(
            error.starts_with("/p/plugins.lock: line 2: expected `<plugin name> <sha256>`, got `say-hello`"),
            "{error}"
        );
        let error = lock("x 1234\n").unwrap_err().to_string();
        assert!(error.starts_with("/p/plugins.lock: line 1: `1234` is not a sha256"), "{error}");
        let error = lock(&format!("x {A}\nx {B}\n")).unwrap_err().to_string();
        assert!(error.starts_with("/p/plugins.lock: line 2: plugin 'x' is pinned twice"), "{error}");
    }

    #[test]
    fn updates_keep_comments_and_replace_the_pin_in_place() {
        let mut lock = lock(&format!("# mine\na {A}\nb {B}\n")).unwrap();
        lock.set("a", B, None);
        lock.set("c", A, Some("acme (key 0123456789ABCDEF)"));
        lock.remove("b");
        assert_eq!(lock.render(), format!("# mine\na {B}\nc {A}  # publisher: acme (key 0123456789ABCDEF)\n"));
        let again = Lock::parse(PathBuf::from("/p/plugins.lock"), &lock.render()).unwrap();
        assert_eq!(again.publisher("c"), Some("acme (key 0123456789ABCDEF)"));
        assert_eq!(again.publisher("a"), None);
        let mut fresh = Lock::empty(PathBuf::from("/p/plugins.lock"));
        fresh.set("a", A, None);
        assert!(
            fresh.render().starts_with("# The plugins fink may load") && fresh.render().ends_with(&format!("a {A}\n"))
        );
    }

    #[test]
    fn sha256_of_a_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(sha256_file(&path).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
