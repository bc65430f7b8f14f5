//! gcdt's documented `defaults` keys (the "defaults - structure" of each tool's and plugin's
//! config in the gcdt and fink guides): read where fink has the setting, warned about where it
//! has not, so nothing in them is ignored without a word. `defaults.validate` is the host's.

use fink_plugin_api::warn;
use serde_json::{Map, Value};

/// A `defaults` key fink reads: (section, key, where fink reads it, relative to the section).
const READ: [(&str, &str, &[&str]); 4] = [
    ("code", "log_group", &["deployment", "LogGroup"]),
    ("plugins.lookups", "lookups", &["lookups"]),
    ("plugins.slack", "slack_webhook", &["slack_webhook"]),
    ("plugins.datadog", "datadog_api_key", &["datadog_api_key"]),
];

/// A `defaults` key fink has no setting for, its gcdt default, and why: (section, key, default, why).
const FIXED: [(&str, &str, &str, &str); 3] = [
    (
        "cloud",
        "non_config_commands",
        r#"["stop","start","list"]"#,
        "fink knows which cloud commands need a config (list needs none; stop and start read the stack's)",
    ),
    ("code", "settings_file", r#""settings.json""#, "the bundle's settings file is always settings.json"),
    ("code", "stack_output_file", r#""stack_output.yml""#, "the bundle's stack output file is always stack_output.yml"),
];

/// Applies the `defaults` of every tool and plugin section of `config` (read from `file`).
pub fn apply(config: &mut Map<String, Value>, file: &str) {
    let mut sections: Vec<String> = ["cloud", "lambda", "code", "api"].iter().map(|s| s.to_string()).collect();
    if let Some(Value::Object(plugins)) = config.get("plugins") {
        sections.extend(plugins.keys().map(|k| format!("plugins.{k}")));
    }
    for path in sections {
        let Some(section) = section_mut(config, &path) else { continue };
        let Some(Value::Object(defaults)) = section.get("defaults").cloned() else { continue };
        for (key, value) in defaults {
            if key == "validate" {
                continue;
            }
            if let Some((_, _, target)) = READ.iter().find(|(s, k, _)| *s == path && *k == key) {
                if set_unless_given(section, target, value) {
                    warn!("{file}: '{path}.defaults.{key}' is read as '{path}.{}'; move it there", target.join("."));
                }
                continue;
            }
            if let Some((_, _, default, why)) = FIXED.iter().find(|(s, k, _, _)| *s == path && *k == key) {
                if serde_json::from_str::<Value>(default).ok().as_ref() != Some(&value) {
                    warn!("{file}: '{path}.defaults.{key}' is not read: {why}");
                }
                continue;
            }
            warn!("{file}: '{path}.defaults.{key}' is not a setting fink reads; it is ignored");
        }
    }
}

/// The object at `path` (`plugins.slack` is `config["plugins"]["slack"]`).
fn section_mut<'a>(config: &'a mut Map<String, Value>, path: &str) -> Option<&'a mut Map<String, Value>> {
    let mut parts = path.split('.');
    let mut current = config.get_mut(parts.next()?)?.as_object_mut()?;
    for part in parts {
        current = current.get_mut(part)?.as_object_mut()?;
    }
    Some(current)
}

/// Sets `section[target...]` to `value` unless the section gives it (or, for the webhook and key,
/// today's name of it); says whether it did.
fn set_unless_given(section: &mut Map<String, Value>, target: &[&str], value: Value) -> bool {
    let today = match target {
        ["slack_webhook"] => Some("webhook"),
        ["datadog_api_key"] => Some("api_key"),
        _ => None,
    };
    if today.is_some_and(|k| section.contains_key(k)) {
        return false;
    }
    let Some((last, parents)) = target.split_last() else { return false };
    let mut current = section;
    for part in parents {
        let entry = current.entry(part.to_string()).or_insert_with(|| Value::Object(Map::new()));
        let Some(next) = entry.as_object_mut() else { return false };
        current = next;
    }
    if current.contains_key(*last) {
        return false;
    }
    current.insert(last.to_string(), value);
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_defaults_are_read_or_left_with_a_reason() {
        let Value::Object(mut config) = json!({
            "code": {"defaults": {"log_group": "/app/log", "settings_file": "settings.json", "validate": false}},
            "cloud": {"defaults": {"non_config_commands": ["list"]}},
            "plugins": {"lookups": {"defaults": {"lookups": ["stack"]}},
                        "slack": {"webhook": "https://x", "defaults": {"slack_webhook": "lookup:secret:other"}}}
        }) else {
            panic!()
        };
        apply(&mut config, "gcdt_dev.json");
        assert_eq!(config["code"]["deployment"]["LogGroup"], "/app/log");
        assert_eq!(config["plugins"]["lookups"]["lookups"], json!(["stack"]));
        // The section's own webhook wins over its defaults.
        assert!(config["plugins"]["slack"].get("slack_webhook").is_none());
    }
}
