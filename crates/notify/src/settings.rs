//! The config keys every notifier has: which commands it reports (`commands`, and datadog's
//! `events`) and the time limit per attempt (`timeout`), as JSON Schema and read; and its secret
//! (webhook, API key) under today's and gcdt's key.

use std::time::Duration;

use fink_plugin_api::{json, Value};

/// The commands that change something, of every tool: slack announces them by default, datadog
/// sends an event for them.
pub const CHANGE_COMMANDS: &[&str] = &["deploy", "delete", "rollback", "wire", "unwire", "stop", "start"];

/// The longest a single attempt may take.
pub const MAX_TIMEOUT_SECONDS: u64 = 5;

/// A list of `command` or `tool command` entries (`*` matches any name), with its default.
pub fn commands_schema(default: &[&str], description: &str) -> Value {
    json!({
        "type": "array",
        "items": {"type": "string", "pattern": "^[^ ]+( [^ ]+)?$"},
        "default": default,
        "description": description
    })
}

/// `timeout`: seconds per attempt, above 0, at most [`MAX_TIMEOUT_SECONDS`].
pub fn timeout_schema() -> Value {
    json!({
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": MAX_TIMEOUT_SECONDS,
        "default": MAX_TIMEOUT_SECONDS,
        "description": "seconds per attempt"
    })
}

/// The section's `timeout`, at most [`MAX_TIMEOUT_SECONDS`] (also the default).
pub fn timeout(section: Option<&Value>) -> Duration {
    let seconds = section
        .and_then(|s| s.get("timeout"))
        .and_then(Value::as_f64)
        .filter(|s| *s > 0.0)
        .map_or(MAX_TIMEOUT_SECONDS as f64, |s| s.min(MAX_TIMEOUT_SECONDS as f64));
    Duration::from_secs_f64(seconds)
}

/// The resolved values of `keys` in the section (a secret's spellings), for marking them secret:
/// neither empty nor a `lookup:` still to resolve.
pub fn secret_values(section: Option<&Value>, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|key| section.and_then(|s| s.get(*key)).and_then(Value::as_str))
        .map(str::trim)
        .filter(|v| !v.is_empty() && !v.starts_with("lookup:"))
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_is_capped_and_defaults_to_the_cap() {
        assert_eq!(timeout(None), Duration::from_secs(5));
        assert_eq!(timeout(Some(&json!({"timeout": 0.5}))), Duration::from_millis(500));
        assert_eq!(timeout(Some(&json!({"timeout": 60}))), Duration::from_secs(5));
    }

    #[test]
    fn secret_values_are_the_resolved_ones_under_any_spelling() {
        let section = json!({"key": "lookup:secret:x", "old_key": " s3cret ", "other": "plain", "empty": ""});
        assert_eq!(secret_values(Some(&section), &["key", "old_key", "empty", "missing"]), vec!["s3cret"]);
        assert!(secret_values(None, &["key"]).is_empty());
    }
}
