//! The one rule for keeping secret values out of everything fink prints or sends.
//!
//! A value is masked as `****` wherever it appears whole. Inside a longer text an occurrence is
//! masked when it stands on its own: the characters before and after it are not letters or digits
//! (`postgres://u:pw@h`, `token=ab`), or the secret is long enough ([`MIN_EMBEDDED`]) that it
//! cannot be an ordinary word. So a two-letter secret never mangles words that contain its letters.
//!
//! The host, `fink config`, the tools and the notification plugins all use [`Secrets`].

use serde_json::Value;

/// What a masked value is replaced with.
pub const MASK: &str = "****";

/// Secrets at least this long are masked wherever they occur, even inside words.
pub const MIN_EMBEDDED: usize = 6;

/// A set of secret values, longest first so that a secret containing another is masked whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: Vec<String>,
}

impl Secrets {
    /// The secrets among `values` (empty strings are ignored).
    pub fn new<I, S>(values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut values: Vec<String> = values.into_iter().map(Into::into).filter(|v| !v.is_empty()).collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        Secrets { values }
    }

    /// The secrets listed in a context's private key `_secrets`.
    pub fn from_context(context: &Value) -> Self {
        match context.get(crate::context::SECRETS) {
            Some(Value::Array(items)) => Secrets::new(items.iter().filter_map(Value::as_str)),
            _ => Secrets::default(),
        }
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `value` is itself one of the secrets.
    pub fn contains(&self, value: &str) -> bool {
        self.values.iter().any(|s| s == value)
    }

    /// `text` with every secret masked by the rule above.
    pub fn mask(&self, text: &str) -> String {
        if self.contains(text) {
            return MASK.to_string();
        }
        let mut out = text.to_string();
        for secret in &self.values {
            if out.contains(secret.as_str()) {
                out = mask_occurrences(&out, secret);
            }
        }
        out
    }

    /// Masks every string inside a JSON value (object keys stay: they are config names).
    pub fn mask_json(&self, value: &mut Value) {
        match value {
            Value::String(s) if !self.is_empty() => *s = self.mask(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.mask_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.mask_json(v)),
            _ => {}
        }
    }
}

fn mask_occurrences(text: &str, secret: &str) -> String {
    let long = secret.chars().count() >= MIN_EMBEDDED;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(secret) {
        let head = &rest[..at];
        let prev = head.chars().next_back().or(before);
        let tail = &rest[at + secret.len()..];
        let next = tail.chars().next();
        let alone = !prev.is_some_and(char::is_alphanumeric) && !next.is_some_and(char::is_alphanumeric);
        out.push_str(head);
        if long || alone {
            out.push_str(MASK);
        } else {
            out.push_str(secret);
        }
        before = secret.chars().next_back();
        rest = tail;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_whole_value_is_masked_whatever_its_length() {
        let secrets = Secrets::new(["ab"]);
        assert_eq!(secrets.mask("ab"), "****");
    }

    #[test]
    fn a_short_secret_does_not_mangle_words() {
        let secrets = Secrets::new(["ab"]);
        assert_eq!(secrets.mask("deployed cabin-lab by abe"), "deployed cabin-lab by abe");
        // ...but is masked where it stands on its own.
        assert_eq!(secrets.mask("token=ab, user ab."), "token=****, user ****.");
        assert_eq!(secrets.mask("postgres://u:ab@h"), "postgres://u:****@h");
    }

    #[test]
    fn a_long_secret_is_masked_inside_any_text() {
        let secrets = Secrets::new(["s3cr3tvalue"]);
        assert_eq!(secrets.mask("xs3cr3tvaluex and s3cr3tvalue"), "x****x and ****");
    }

    #[test]
    fn a_secret_containing_another_is_masked_whole() {
        let secrets = Secrets::new(["sm-secret", "ssm-secret"]);
        assert_eq!(secrets.mask("ssm-secret"), "****");
        assert_eq!(secrets.mask("v=ssm-secret;"), "v=****;");
    }

    #[test]
    fn json_strings_are_masked_keys_are_not() {
        let secrets = Secrets::new(["s3cr3t"]);
        let mut config = json!({"s3cr3t": "s3cr3t", "b": ["x", "postgres://u:s3cr3t@h"], "c": {"d": 1}});
        secrets.mask_json(&mut config);
        assert_eq!(config, json!({"s3cr3t": "****", "b": ["x", "postgres://u:****@h"], "c": {"d": 1}}));
    }

    #[test]
    fn secrets_come_from_the_private_context_key() {
        let secrets = Secrets::from_context(&json!({"_secrets": ["pw", ""], "env": "dev"}));
        assert!(secrets.contains("pw"));
        assert!(!secrets.contains(""));
    }
}
