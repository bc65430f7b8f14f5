//! Minisign signatures for plugin files, written by fink's release tooling (`scripts/dist.sh`
//! through the `fink-sign` binary) and by the tests with throwaway keys. The format is minisign's
//! own (<https://jedisct1.github.io/minisign/>), so keys made with `minisign -G -W` sign here and
//! signatures made here verify with `minisign -V` and with fink (`minisign-verify`).
//!
//! Only unencrypted secret keys are read: a release pipeline keeps the key in its secret store
//! and hands it over through the environment, with no password prompt.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use blake2::{Blake2b512, Digest};
use ed25519_dalek::{Signer, SigningKey};

/// Why a secret key cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// A minisign key pair.
pub struct KeyPair {
    key_id: [u8; 8],
    signing: SigningKey,
}

impl KeyPair {
    /// A new random key pair.
    pub fn generate() -> Result<KeyPair, KeyError> {
        let mut seed = [0u8; 32];
        let mut key_id = [0u8; 8];
        getrandom::getrandom(&mut seed).map_err(|e| KeyError(format!("no randomness: {e}")))?;
        getrandom::getrandom(&mut key_id).map_err(|e| KeyError(format!("no randomness: {e}")))?;
        Ok(KeyPair { key_id, signing: SigningKey::from_bytes(&seed) })
    }

    /// The key id as minisign prints it (16 hex digits).
    pub fn key_id(&self) -> String {
        key_id_hex(&self.key_id)
    }

    /// The public key as one base64 line (what `minisign -P` takes).
    pub fn public_base64(&self) -> String {
        let mut bytes = Vec::with_capacity(42);
        bytes.extend_from_slice(b"Ed");
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(self.signing.verifying_key().as_bytes());
        STANDARD.encode(bytes)
    }

    /// The public key file (`minisign.pub`).
    pub fn public_file(&self) -> String {
        format!("untrusted comment: minisign public key {}\n{}\n", self.key_id(), self.public_base64())
    }

    /// The unencrypted secret key file, as `minisign -G -W` writes it.
    pub fn secret_file(&self) -> String {
        let mut secret = Vec::with_capacity(64);
        secret.extend_from_slice(self.signing.as_bytes());
        secret.extend_from_slice(self.signing.verifying_key().as_bytes());
        let mut checksum_input = Vec::new();
        checksum_input.extend_from_slice(b"Ed");
        checksum_input.extend_from_slice(&self.key_id);
        checksum_input.extend_from_slice(&secret);
        let checksum = blake2b_256(&checksum_input);
        let mut bytes = Vec::with_capacity(158);
        bytes.extend_from_slice(b"Ed");
        bytes.extend_from_slice(&[0, 0]); // no key derivation: not encrypted
        bytes.extend_from_slice(b"B2");
        bytes.extend_from_slice(&[0u8; 32]); // salt
        bytes.extend_from_slice(&[0u8; 16]); // ops and mem limits
        bytes.extend_from_slice(&self.key_id);
        bytes.extend_from_slice(&secret);
        bytes.extend_from_slice(&checksum);
        format!("untrusted comment: minisign secret key (unencrypted)\n{}\n", STANDARD.encode(bytes))
    }

    /// Reads an unencrypted minisign secret key file.
    pub fn from_secret_file(text: &str) -> Result<KeyPair, KeyError> {
        let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("untrusted comment:"));
        let line = line.ok_or_else(|| KeyError("no key in the secret key file".into()))?;
        let bytes = STANDARD.decode(line).map_err(|e| KeyError(format!("not a minisign secret key: {e}")))?;
        if bytes.len() != 158 || &bytes[0..2] != b"Ed" || &bytes[4..6] != b"B2" {
            return Err(KeyError("not a minisign Ed25519 secret key".into()));
        }
        if bytes[2..4] != [0, 0] {
            return Err(KeyError(
                "the secret key is encrypted with a password; make one without (`minisign -G -W`) for unattended signing"
                    .into(),
            ));
        }
        let mut key_id = [0u8; 8];
        key_id.copy_from_slice(&bytes[54..62]);
        let secret = &bytes[62..126];
        let mut checksum_input = Vec::new();
        checksum_input.extend_from_slice(b"Ed");
        checksum_input.extend_from_slice(&key_id);
        checksum_input.extend_from_slice(secret);
        if blake2b_256(&checksum_input)[..] != bytes[126..158] {
            return Err(KeyError("the secret key's checksum does not match: the file is damaged".into()));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&secret[..32]);
        Ok(KeyPair { key_id, signing: SigningKey::from_bytes(&seed) })
    }

    /// The `.minisig` text for `data` (prehashed, as minisign signs by default), with
    /// `trusted_comment` (one line) signed along.
    pub fn sign(&self, data: &[u8], trusted_comment: &str) -> String {
        let hash = Blake2b512::digest(data);
        let signature = self.signing.sign(&hash);
        let mut line = Vec::with_capacity(74);
        line.extend_from_slice(b"ED");
        line.extend_from_slice(&self.key_id);
        line.extend_from_slice(&signature.to_bytes());
        let comment = trusted_comment.replace(['\n', '\r'], " ");
        let mut global = signature.to_bytes().to_vec();
        global.extend_from_slice(comment.as_bytes());
        let global = self.signing.sign(&global);
        format!(
            "untrusted comment: signature from fink-sign, key {}\n{}\ntrusted comment: {comment}\n{}\n",
            self.key_id(),
            STANDARD.encode(line),
            STANDARD.encode(global.to_bytes())
        )
    }
}

/// Minisign's key id: the 8 bytes as one little-endian number, in hex.
fn key_id_hex(bytes: &[u8; 8]) -> String {
    bytes.iter().rev().map(|b| format!("{b:02X}")).collect()
}

fn blake2b_256(data: &[u8]) -> [u8; 32] {
    use blake2::digest::{Update, VariableOutput};
    let mut hasher = blake2::Blake2bVar::new(32).expect("32 bytes is a valid BLAKE2b output size");
    hasher.update(data);
    let mut out = [0u8; 32];
    hasher.finalize_variable(&mut out).expect("the buffer has the output size");
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_signature_verifies_with_minisign_verify_and_not_for_other_data() {
        let pair = KeyPair::generate().unwrap();
        let public = minisign_verify::PublicKey::decode(&pair.public_file()).unwrap();
        let signature = minisign_verify::Signature::decode(&pair.sign(b"plugin bytes", "file:libx.so")).unwrap();
        public.verify(b"plugin bytes", &signature, false).unwrap();
        assert!(public.verify(b"other bytes", &signature, false).is_err());
        assert_eq!(signature.trusted_comment(), "file:libx.so");
    }

    #[test]
    fn the_secret_key_file_reads_back_and_signs_for_the_same_public_key() {
        let pair = KeyPair::generate().unwrap();
        let again = KeyPair::from_secret_file(&pair.secret_file()).unwrap();
        assert_eq!((again.key_id(), again.public_base64()), (pair.key_id(), pair.public_base64()));
        let public = minisign_verify::PublicKey::from_base64(&pair.public_base64()).unwrap();
        let signature = minisign_verify::Signature::decode(&again.sign(b"x", "t")).unwrap();
        public.verify(b"x", &signature, false).unwrap();
        let mut damaged = pair.secret_file().into_bytes();
        let at = damaged.len() - 10;
        damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
        let error = KeyPair::from_secret_file(&String::from_utf8(damaged).unwrap()).err().unwrap();
        assert!(error.0.contains("checksum") || error.0.contains("not a minisign"), "{error}");
    }
}
