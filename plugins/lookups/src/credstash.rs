//! Reading secrets from credstash, gcdt's and the Python fink's secret store: a DynamoDB table
//! (default `credential-store`) with one item per name and version, each holding a KMS-encrypted
//! 64-byte data key, the AES-256-CTR ciphertext and its HMAC. Reading only; `credstash put`
//! writes them.
//!
//! An item (as credstash 1.x writes it): `name`, `version` (zero-padded to 19 digits, so the
//! highest sorts last), `key` (base64 of the KMS ciphertext of the data key), `contents` (base64
//! of the ciphertext), `hmac` (hex of the HMAC of the ciphertext, as a string or as binary
//! holding the hex text), `digest` (the HMAC's hash, default `SHA256`). The first half of the
//! data key encrypts (AES-256 in CTR mode, the counter starting at 1), the second half
//! authenticates. The HMAC is checked before anything is decrypted.

use std::collections::HashMap;

use aes::Aes256;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use ctr::cipher::{KeyIvInit, StreamCipher};
use fink_plugin_api::Error;
use hmac::{Hmac, Mac};
use sha2::{Sha224, Sha256, Sha384, Sha512};

use crate::fetch::Fetch;

/// The table credstash uses unless told otherwise.
pub const DEFAULT_TABLE: &str = "credential-store";

/// credstash's counter block: the nonce it calls `LEGACY_NONCE`, 1 as a 128-bit big-endian number.
const COUNTER: [u8; 16] = {
    let mut block = [0u8; 16];
    block[15] = 1;
    block
};

/// The fields of one stored version of a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Material {
    pub version: String,
    /// The KMS ciphertext of the data key.
    pub key: Vec<u8>,
    pub contents: Vec<u8>,
    /// The HMAC's bytes.
    pub hmac: Vec<u8>,
    pub digest: String,
}

/// The latest version of secret `name` in `table`, decrypted: `Ok(None)` when there is no such
/// secret. Errors name the secret and, for a missing table, the table.
pub async fn secret(
    dynamodb: &aws_sdk_dynamodb::Client,
    kms: &aws_sdk_kms::Client,
    table: &str,
    name: &str,
) -> Fetch<String> {
    let out = dynamodb
        .query()
        .table_name(table)
        .key_condition_expression("#name = :name")
        .expression_attribute_names("#name", "name")
        .expression_attribute_values(":name", AttributeValue::S(name.to_string()))
        .scan_index_forward(false)
        .limit(1)
        .consistent_read(true)
        .send()
        .await
        .map_err(|err| match fink_aws::code(&err) {
            Some("ResourceNotFoundException") => Error::new(format!("credstash table '{table}' does not exist"))
                .with_help("create it with `credstash setup`, or name yours in plugins.lookups.credstashTable"),
            _ => fink_aws::explain(&err),
        })?;
    let Some(item) = out.items().first() else { return Ok(None) };
    let material = material(item).map_err(|why| corrupt(name, table, &why))?;
    let data_key =
        kms.decrypt().ciphertext_blob(aws_sdk_kms::primitives::Blob::new(material.key.clone())).send().await.map_err(
            |err| {
                let why = fink_aws::explain(&err);
                Error::new(format!("credstash secret '{name}': KMS cannot decrypt its data key: {}", why.message()))
            },
        )?;
    let data_key = data_key.plaintext().map(|blob| blob.as_ref().to_vec()).unwrap_or_default();
    open(&material, &data_key).map(Some).map_err(|why| corrupt(name, table, &why))
}

fn corrupt(name: &str, table: &str, why: &str) -> Error {
    Error::new(format!("credstash secret '{name}' in table '{table}' {why}"))
}

/// The fields of a credstash item; `Err` says what is wrong with it.
pub fn material(item: &HashMap<String, AttributeValue>) -> Result<Material, String> {
    let text = |field: &str| match item.get(field) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        Some(AttributeValue::B(b)) => String::from_utf8(b.as_ref().to_vec())
            .map_err(|_| format!("is not a credstash item: '{field}' is not text")),
        Some(_) => Err(format!("is not a credstash item: '{field}' is neither a string nor binary")),
        None => Err(format!("is not a credstash item: it has no '{field}'")),
    };
    let base64 = |field: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(text(field)?.trim())
            .map_err(|_| format!("is not a credstash item: '{field}' is not base64"))
    };
    let hmac = hex(text("hmac")?.trim()).ok_or("is not a credstash item: 'hmac' is not hex")?;
    Ok(Material {
        version: text("version").unwrap_or_default(),
        key: base64("key")?,
        contents: base64("contents")?,
        hmac,
        digest: if item.contains_key("digest") { text("digest")? } else { "SHA256".to_string() },
    })
}

/// Checks the HMAC with the second half of `data_key`, then decrypts with the first half.
pub fn open(material: &Material, data_key: &[u8]) -> Result<String, String> {
    if data_key.len() != 64 {
        return Err(format!("has a data key of {} bytes; credstash's are 64", data_key.len()));
    }
    let (encryption_key, hmac_key) = data_key.split_at(32);
    let version = version_text(&material.version);
    if !hmac_matches(&material.digest, hmac_key, &material.contents, &material.hmac)? {
        return Err(format!(
            "fails its integrity check{version}: the HMAC does not match, so the stored secret was \
             changed or damaged; store it again with `credstash put`"
        ));
    }
    let mut plain = material.contents.clone();
    ctr::Ctr128BE::<Aes256>::new_from_slices(encryption_key, &COUNTER)
        .map_err(|_| "cannot be decrypted: bad key length".to_string())?
        .apply_keystream(&mut plain);
    String::from_utf8(plain).map_err(|_| format!("is not text{version}: only text secrets can be looked up"))
}

/// ` (version 2)` for the padded `0000000000000000002`; nothing without a version.
fn version_text(version: &str) -> String {
    if version.is_empty() {
        return String::new();
    }
    let number = version.trim_start_matches('0');
    format!(" (version {})", if number.is_empty() { "0" } else { number })
}

/// Whether `expected` is the HMAC of `data` under `key` with the hash credstash names `digest`;
/// compared in constant time.
fn hmac_matches(digest: &str, key: &[u8], data: &[u8], expected: &[u8]) -> Result<bool, String> {
    macro_rules! verify {
        ($hash:ty) => {{
            let mut mac = <Hmac<$hash> as Mac>::new_from_slice(key).map_err(|_| "has an unusable HMAC key")?;
            mac.update(data);
            Ok(mac.verify_slice(expected).is_ok())
        }};
    }
    match digest {
        "SHA256" => verify!(Sha256),
        "SHA224" => verify!(Sha224),
        "SHA384" => verify!(Sha384),
        "SHA512" => verify!(Sha512),
        other => Err(format!(
            "uses the digest '{other}', which fink does not read (SHA224, SHA256, SHA384, SHA512); \
             store it again with `credstash put -d SHA256`"
        )),
    }
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::primitives::Blob;

    /// The data key of the vectors below: bytes 0..64.
    fn data_key() -> Vec<u8> {
        (0..64).collect()
    }

    /// Sealed by credstash 1.17.1's own `_seal_aes_ctr` with the data key above.
    fn sealed(contents: &str, hmac: &str, digest: &str) -> Material {
        Material {
            version: "0000000000000000002".into(),
            key: vec![1, 2, 3],
            contents: base64::engine::general_purpose::STANDARD.decode(contents).unwrap(),
            hmac: hex(hmac).unwrap(),
            digest: digest.into(),
        }
    }

    fn sha256_vector() -> Material {
        sealed("mCgY2i/LrcVlSvXy56FZWWs=", "fc3c5e9fe336be93aabdb7e7dbde3b377c27ca80c6940bb6b7f6d0cbf445372f", "SHA256")
    }

    #[test]
    fn opens_what_credstash_sealed() {
        assert_eq!(open(&sha256_vector(), &data_key()).unwrap(), "hunter2 ünïcode");
        let sha512 = sealed(
            "gzUXm3uLv5bDlelUPA==",
            "cda398ee0ccbe55784cf0abaf01c46c184131370ea383ef854522367e45caa88\
             23f1b6f722ca8e33d29648208e2404300419c30f66f036b051f4e77a183029f7",
            "SHA512",
        );
        assert_eq!(open(&sha512, &data_key()).unwrap(), "sha512 secret");
    }

    #[test]
    fn a_changed_ciphertext_or_hmac_fails_the_integrity_check() {
        let mut changed = sha256_vector();
        changed.contents[0] ^= 1;
        let why = open(&changed, &data_key()).unwrap_err();
        assert!(why.starts_with("fails its integrity check (version 2): the HMAC does not match"), "{why}");
        let mut changed = sha256_vector();
        changed.hmac[31] ^= 1;
        assert!(open(&changed, &data_key()).unwrap_err().contains("HMAC does not match"));
        let mut other_key = data_key();
        other_key[40] ^= 1;
        assert!(open(&sha256_vector(), &other_key).unwrap_err().contains("HMAC does not match"));
    }

    #[test]
    fn unsupported_digests_and_key_sizes_are_named() {
        let mut md5 = sha256_vector();
        md5.digest = "MD5".into();
        assert!(open(&md5, &data_key()).unwrap_err().starts_with("uses the digest 'MD5'"));
        assert_eq!(open(&sha256_vector(), &[0; 32]).unwrap_err(), "has a data key of 32 bytes; credstash's are 64");
    }

    #[test]
    fn items_are_read_with_hmac_as_string_or_binary_and_sha256_by_default() {
        let mut item = HashMap::from([
            ("name".to_string(), AttributeValue::S("db.password".into())),
            ("version".to_string(), AttributeValue::S("0000000000000000001".into())),
            ("key".to_string(), AttributeValue::S("AQID".into())),
            ("contents".to_string(), AttributeValue::S("mCgY2i/LrcVlSvXy56FZWWs=".into())),
            ("hmac".to_string(), AttributeValue::B(Blob::new(b"0aff".to_vec()))),
        ]);
        let read = material(&item).unwrap();
        assert_eq!((read.key, read.hmac, read.digest.as_str()), (vec![1, 2, 3], vec![0x0a, 0xff], "SHA256"));
        item.insert("hmac".into(), AttributeValue::S("0AFF".into()));
        assert_eq!(material(&item).unwrap().hmac, vec![0x0a, 0xff]);
        item.insert("hmac".into(), AttributeValue::S("xyz".into()));
        assert_eq!(material(&item).unwrap_err(), "is not a credstash item: 'hmac' is not hex");
        item.insert("hmac".into(), AttributeValue::S("0aff".into()));
        item.remove("contents");
        assert_eq!(material(&item).unwrap_err(), "is not a credstash item: it has no 'contents'");
    }
}
