//! Finds every lookup string in the config tree: nested objects, lists, plugin sections.

use serde_json::Value;

use crate::grammar::{self, Lookup};

/// One lookup string and where it sits.
#[derive(Debug)]
pub struct Found {
    /// Dotted path for messages, e.g. `cloud.parameters.VpcId` or `api.hosts[1]`.
    pub path: String,
    /// JSON pointer for replacing the value.
    pub pointer: String,
    /// The lookup string as written.
    pub raw: String,
    /// The parsed lookup, or what is wrong with it.
    pub parsed: Result<Lookup, String>,
}

/// All lookups in `config`, in document order.
pub fn collect(config: &Value) -> Vec<Found> {
    let mut found = Vec::new();
    walk(config, String::new(), String::new(), &mut found);
    found
}

fn walk(value: &Value, path: String, pointer: String, found: &mut Vec<Found>) {
    match value {
        Value::String(s) if grammar::is_lookup(s) => {
            found.push(Found { path, pointer, raw: s.clone(), parsed: grammar::parse(s) });
        }
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                let escaped = key.replace('~', "~0").replace('/', "~1");
                walk(child, child_path, format!("{pointer}/{escaped}"), found);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, format!("{path}[{i}]"), format!("{pointer}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookups_are_found_at_any_depth_with_paths_and_pointers() {
        let config = json!({
            "cloud": {"parameters": {"VpcId": "lookup:stack:infra:VpcId", "Plain": "x"}},
            "api": {"hosts": ["a", "lookup:acm:a.example.com", {"deep": "lookup:parameter:/p"}]},
            "plugins": {"slack": {"webhook": "lookup:secret:slack.webhook"}},
            "odd/key": "lookup:stack:s"
        });
        let found = collect(&config);
        let paths: Vec<(&str, &str)> = found.iter().map(|f| (f.path.as_str(), f.pointer.as_str())).collect();
        assert_eq!(
            paths,
            [
                ("api.hosts[1]", "/api/hosts/1"),
                ("api.hosts[2].deep", "/api/hosts/2/deep"),
                ("cloud.parameters.VpcId", "/cloud/parameters/VpcId"),
                ("odd/key", "/odd~1key"),
                ("plugins.slack.webhook", "/plugins/slack/webhook"),
            ]
        );
        for f in &found {
            assert_eq!(config.pointer(&f.pointer), Some(&json!(f.raw)));
        }
    }
}
