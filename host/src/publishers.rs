//! The plugin publishers the user trusts: minisign public keys added with `fink plugin key add`,
//! kept in `<data dir>/fink/publisher-keys.json` (never in a project). `fink plugin install`
//! refuses a file without a valid signature (`<file>.minisig`) from one of them unless
//! `--allow-unsigned` is given; `fink plugins` shows who published each plugin.

use std::io::Read;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use minisign_verify::{PublicKey, Signature};
use serde::{Deserialize, Serialize};

use crate::{atomic, trust};

/// One trusted publisher key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The name the user gave it (shown as the publisher).
    pub name: String,
    /// Minisign's key id, 16 hex digits.
    pub id: String,
    /// The public key, one base64 line.
    pub public_key: String,
}

/// The trusted publisher keys.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    #[serde(default)]
    pub keys: Vec<Key>,
}

/// Who signed a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    pub name: String,
    pub key_id: String,
}

impl std::fmt::Display for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (key {})", self.name, self.key_id)
    }
}

/// Why a file's signature does not vouch for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unverified {
    /// No `<file>.minisig` next to it.
    NoSignature(PathBuf),
    /// The `.minisig` is not a minisign signature.
    Unreadable { signature: PathBuf, why: String },
    /// Signed with a key the user does not trust.
    UnknownKey(String),
    /// Signed with a trusted key, but the signature does not match the file.
    BadSignature(Publisher),
}

impl std::fmt::Display for Unverified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unverified::NoSignature(path) => write!(f, "no signature ({} does not exist)", path.display()),
            Unverified::Unreadable { signature, why } => {
                write!(f, "unreadable signature {}: {why}", signature.display())
            }
            Unverified::UnknownKey(id) => write!(
                f,
                "signed with key {id}, which is not among your publisher keys (`fink plugin key add` trusts a publisher's key)"
            ),
            Unverified::BadSignature(publisher) => {
                write!(f, "bad signature: it does not match the file (signed as {publisher})")
            }
        }
    }
}

impl Keys {
    /// The store's path, in the user's data folder.
    pub fn path() -> Option<PathBuf> {
        dirs::data_dir().map(|d| d.join("fink").join("publisher-keys.json"))
    }

    /// Reads the keys; none when there is no store. A store someone else could change is not used.
    pub fn read() -> Keys {
        let Some(path) = Keys::path() else { return Keys::default() };
        let Ok(text) = std::fs::read_to_string(&path) else { return Keys::default() };
        if let Err(error) = trust::check_file(&path) {
            tracing::warn!("not using your publisher keys {}: {error}", path.display());
            return Keys::default();
        }
        serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!("{} is damaged ({e}); no publisher is trusted", path.display());
            Keys::default()
        })
    }

    /// Writes the keys in one step, private to the user.
    pub fn write(&self) -> std::io::Result<PathBuf> {
        let path = Keys::path().ok_or_else(|| std::io::Error::other("there is no data folder (HOME is not set)"))?;
        if let Some(folder) = path.parent() {
            atomic::create_folder(folder, 0o700)?;
        }
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        atomic::write(&path, format!("{text}\n").as_bytes(), 0o600)?;
        Ok(path)
    }

    /// Adds a key given as a base64 line or a `minisign.pub` file's text, named `name` (default:
    /// its id). The same key again replaces the entry; another key may not take a name in use.
    pub fn add(&mut self, text: &str, name: Option<&str>) -> Result<Key, String> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"))
            .ok_or("no public key given")?;
        PublicKey::from_base64(line).map_err(|e| format!("not a minisign public key: {e}"))?;
        let id = key_id(line).ok_or("not a minisign public key")?;
        let name = name.map(str::to_string).unwrap_or_else(|| id.clone());
        if name.is_empty() || name.chars().any(|c| c.is_control()) {
            return Err(format!("invalid publisher name {name:?}"));
        }
        if let Some(other) = self.keys.iter().find(|k| k.name == name && k.id != id) {
            return Err(format!("the name '{name}' is already used by key {}; remove that key first", other.id));
        }
        let key = Key { name, id: id.clone(), public_key: line.to_string() };
        self.keys.retain(|k| k.id != id);
        self.keys.push(key.clone());
        Ok(key)
    }

    /// Removes the key with this name or id.
    pub fn remove(&mut self, name_or_id: &str) -> Option<Key> {
        let position = self.keys.iter().position(|k| k.name == name_or_id || k.id.eq_ignore_ascii_case(name_or_id))?;
        Some(self.keys.remove(position))
    }

    /// Checks `file` against its `<file>.minisig` and the trusted keys, reading the file in
    /// pieces (signatures are prehashed, as minisign makes them).
    pub fn verify(&self, file: &Path, signature_of: &Path) -> Result<Publisher, Unverified> {
        let signature_path = signature_path(signature_of);
        let text = match std::fs::read_to_string(&signature_path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Unverified::NoSignature(signature_path)),
            Err(e) => return Err(Unverified::Unreadable { signature: signature_path, why: e.to_string() }),
        };
        let unreadable = |why: String| Unverified::Unreadable { signature: signature_path.clone(), why };
        let signature = Signature::decode(&text).map_err(|e| unreadable(e.to_string()))?;
        let signed_with = text.lines().nth(1).and_then(key_id).ok_or_else(|| unreadable("no key id".into()))?;
        let Some(key) = self.keys.iter().find(|k| k.id == signed_with) else {
            return Err(Unverified::UnknownKey(signed_with));
        };
        let publisher = Publisher { name: key.name.clone(), key_id: key.id.clone() };
        let public =
            PublicKey::from_base64(&key.public_key).map_err(|e| unreadable(format!("your key is damaged: {e}")))?;
        let mut verifier = public.verify_stream(&signature).map_err(|_| Unverified::BadSignature(publisher.clone()))?;
        let mut reader = std::fs::File::open(file).map_err(|e| unreadable(format!("cannot read the file: {e}")))?;
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buffer).map_err(|e| unreadable(format!("cannot read the file: {e}")))?;
            if n == 0 {
                break;
            }
            verifier.update(&buffer[..n]);
        }
        verifier.finalize().map_err(|_| Unverified::BadSignature(publisher.clone()))?;
        Ok(publisher)
    }
}

/// Where the signature of `file` is: `<file>.minisig`.
pub fn signature_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".minisig");
    file.with_file_name(name)
}

/// Minisign's key id (16 hex digits) of a base64 public key or signature line: bytes 2..10, a
/// little-endian number.
fn key_id(base64_line: &str) -> Option<String> {
    let bytes = STANDARD.decode(base64_line.trim()).ok()?;
    let id = bytes.get(2..10)?;
    Some(id.iter().rev().map(|b| format!("{b:02X}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_added_by_text_or_file_named_and_removed_by_name_or_id() {
        let pair = fink_sign::KeyPair::generate().unwrap();
        let mut keys = Keys::default();
        let key = keys.add(&pair.public_file(), Some("acme")).unwrap();
        assert_eq!((key.name.as_str(), key.id.clone()), ("acme", pair.key_id()));
        let other = fink_sign::KeyPair::generate().unwrap();
        assert!(keys.add(&other.public_base64(), Some("acme")).unwrap_err().contains("already used by key"));
        assert_eq!(keys.add(&other.public_base64(), None).unwrap().name, other.key_id());
        assert!(keys.add("RWQ not a key", None).is_err());
        assert_eq!(keys.remove(&other.key_id().to_lowercase()).map(|k| k.id), Some(other.key_id()));
        assert_eq!(keys.remove("acme").map(|k| k.id), Some(pair.key_id()));
        assert!(keys.keys.is_empty());
    }

    #[test]
    fn a_file_verifies_only_with_its_own_signature_from_a_trusted_key() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("libx.so");
        std::fs::write(&file, vec![7u8; 200_000]).unwrap();
        let pair = fink_sign::KeyPair::generate().unwrap();
        let mut keys = Keys::default();

        assert!(matches!(keys.verify(&file, &file), Err(Unverified::NoSignature(_))));
        std::fs::write(signature_path(&file), pair.sign(&std::fs::read(&file).unwrap(), "file:libx.so")).unwrap();
        assert_eq!(keys.verify(&file, &file), Err(Unverified::UnknownKey(pair.key_id())));
        keys.add(&pair.public_base64(), Some("acme")).unwrap();
        let publisher = keys.verify(&file, &file).unwrap();
        assert_eq!(publisher.to_string(), format!("acme (key {})", pair.key_id()));

        std::fs::write(&file, vec![8u8; 200_000]).unwrap();
        assert_eq!(keys.verify(&file, &file), Err(Unverified::BadSignature(publisher)));
        std::fs::write(signature_path(&file), "junk").unwrap();
        assert!(matches!(keys.verify(&file, &file), Err(Unverified::Unreadable { .. })));
    }
}
