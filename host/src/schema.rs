//! Config schemas declared by plugins: fill in defaults after config reading, validate at
//! `config_validation_init`, reporting every violation with its path.

use serde_json::{Map, Value};

use crate::registry::Registry;

/// The value at a dotted section path, e.g. `plugins.slack`.
fn section<'v>(config: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(config, |v, key| v.get(key))
}

/// The section at `path`, created (as objects along the way) when missing.
fn section_mut<'v>(config: &'v mut Value, path: &str) -> Option<&'v mut Value> {
    let mut current = config;
    for key in path.split('.') {
        let map = current.as_object_mut()?;
        current = map.entry(key.to_string()).or_insert_with(|| Value::Object(Map::new()));
    }
    Some(current)
}

/// Fills missing keys from the schema's `default`s, recursing through `properties`.
fn fill_defaults(schema: &Value, value: &mut Value) {
    let (Some(props), Some(map)) = (schema.get("properties").and_then(Value::as_object), value.as_object_mut()) else {
        return;
    };
    for (key, prop) in props {
        match map.get_mut(key) {
            Some(existing) => fill_defaults(prop, existing),
            None => {
                if let Some(default) = prop.get("default") {
                    map.insert(key.clone(), default.clone());
                } else if prop.get("properties").is_some_and(has_defaults) && prop.get("type") == Some(&"object".into())
                {
                    let mut nested = Value::Object(Map::new());
                    fill_defaults(prop, &mut nested);
                    map.insert(key.clone(), nested);
                }
            }
        }
    }
}

fn has_defaults(props: &Value) -> bool {
    props.as_object().is_some_and(|p| {
        p.values().any(|s| s.get("default").is_some() || s.get("properties").is_some_and(has_defaults))
    })
}

/// Applies every enabled plugin's schema defaults to the sections the project has. A missing
/// section stays missing: a tool section must be written to use the tool, and a plugin section
/// (e.g. `plugins.slack: {}`) opts into a plugin's defaulted behaviour, such as slack's webhook
/// lookup, so projects without it make no AWS calls for it.
pub fn apply_defaults(registry: &Registry, config: &mut Value) {
    for plugin in registry.plugins.iter().filter(|p| p.enabled) {
        for schema in &plugin.schemas {
            if section(config, &schema.section).is_none() {
                continue;
            }
            if let Some(target) = section_mut(config, &schema.section) {
                fill_defaults(&schema.schema, target);
            }
        }
    }
}

/// Validates every present section that has a schema, unless the section says
/// `defaults.validate: false`. Returns one line per violation: `<path>: <problem>`.
pub fn validate(registry: &Registry, config: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for plugin in registry.plugins.iter().filter(|p| p.enabled) {
        for schema in &plugin.schemas {
            let Some(value) = section(config, &schema.section) else { continue };
            if value.pointer("/defaults/validate") == Some(&Value::Bool(false)) {
                tracing::debug!("validation of '{}' switched off by defaults.validate", schema.section);
                continue;
            }
            let validator = match jsonschema::validator_for(&schema.schema) {
                Ok(v) => v,
                Err(e) => {
                    problems
                        .push(format!("{}: plugin '{}' declared an invalid schema: {e}", schema.section, plugin.name));
                    continue;
                }
            };
            for error in validator.iter_errors(value) {
                let path = dotted(&schema.section, error.instance_path.as_str());
                problems.push(format!("{path}: {}", describe(&error)));
            }
        }
    }
    problems
}

/// `lambda` + `/lambda/memorySize` → `lambda.lambda.memorySize`; list indexes as `[0]`.
fn dotted(section: &str, pointer: &str) -> String {
    let mut out = section.to_string();
    for raw in pointer.split('/').skip(1) {
        let key = raw.replace("~1", "/").replace("~0", "~");
        if key.chars().all(|c| c.is_ascii_digit()) && !key.is_empty() {
            out.push_str(&format!("[{key}]"));
        } else {
            out.push('.');
            out.push_str(&key);
        }
    }
    out
}

fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    use jsonschema::error::{TypeKind, ValidationErrorKind};
    match &error.kind {
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(" or "),
            };
            format!("expected {expected}, got {}", error.instance)
        }
        ValidationErrorKind::Required { property } => format!("missing required key {property}"),
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            format!("unknown key(s) {}", unexpected.join(", "))
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_fill_missing_keys_only() {
        let schema = json!({"type":"object","properties":{
            "a":{"type":"integer","default":1},
            "b":{"type":"object","properties":{"c":{"default":"x"}}}}});
        let mut value = json!({"a": 5});
        fill_defaults(&schema, &mut value);
        assert_eq!(value, json!({"a": 5, "b": {"c": "x"}}));
    }

    #[test]
    fn paths_are_dotted_with_list_indexes() {
        assert_eq!(dotted("lambda", "/lambda/memorySize"), "lambda.lambda.memorySize");
        assert_eq!(dotted("cloud", "/tags/0/a~1b"), "cloud.tags[0].a/b");
        assert_eq!(dotted("plugins.slack", ""), "plugins.slack");
    }
}
