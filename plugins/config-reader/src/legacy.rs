//! gcdt's and older fink's spellings, read as today's with a warning: the tool sections `kumo`,
//! `ramuda`, `tenkai` and `yugen`, kumo's deprecated `cloudformation` form, and the slack and
//! datadog plugins' old section names. Applied to each file as it is read, so messages name that file.

use fink_plugin_api::{warn, Error, Result};
use serde_json::{Map, Value};

use crate::formats::describe;

/// gcdt's tool section names and fink's.
pub const TOOL_SECTIONS: [(&str, &str); 4] =
    [("kumo", "cloud"), ("ramuda", "lambda"), ("tenkai", "code"), ("yugen", "api")];

/// The keys of kumo's `cloudformation` form that go into `stack`; every other key is a parameter.
pub const STACK_KEYS: [&str; 4] = ["StackName", "TemplateBody", "artifactBucket", "RoleARN"];

/// Old names of `plugins.<name>` sections: gcdt's and the Python fink's package names.
pub const PLUGIN_SECTIONS: [(&str, &str); 8] = [
    ("gcdt_slack_integration", "slack"),
    ("fink_slack_integration", "slack"),
    ("fink.slack_integration", "slack"),
    ("slack_integration", "slack"),
    ("gcdt_datadog_integration", "datadog"),
    ("fink_datadog_integration", "datadog"),
    ("fink.datadog_integration", "datadog"),
    ("datadog_integration", "datadog"),
];

/// Rewrites the old spellings in the config of the file `file` (its name in messages) to today's.
/// Returns the gcdt names it found, as `(today's, gcdt's)`: tool sections (`("cloud", "kumo")`) and
/// plugin sections (`("plugins.slack", "plugins.gcdt_slack_integration")`), so a gcdt project can be
/// told apart and shown its own names (the hooks plugin hands Python hooks the config as written).
pub fn upgrade(config: &mut Map<String, Value>, file: &str) -> Result<Vec<(&'static str, &'static str)>> {
    let mut renamed = Vec::new();
    let mut found = Vec::new();
    for (old, new) in TOOL_SECTIONS {
        if rename(config, old, new, file, "")? {
            renamed.push(old);
            found.push((new, old));
        }
    }
    if let Some(Value::Object(cloud)) = config.get_mut("cloud") {
        // Messages name the section as the file wrote it, so the user finds it.
        let written = if renamed.contains(&"kumo") { "kumo" } else { "cloud" };
        convert_cloudformation(cloud, file, written)?;
    }
    // Anything but an object (e.g. YAML's empty `plugins:`) is left to the checks that follow.
    if let Some(Value::Object(plugins)) = config.get_mut("plugins") {
        for target in ["slack", "datadog"] {
            let old: Vec<&str> = PLUGIN_SECTIONS
                .iter()
                .filter(|(old, new)| *new == target && plugins.contains_key(*old))
                .map(|(old, _)| *old)
                .collect();
            if let [first, second, ..] = old.as_slice() {
                return Err(Error::new(format!(
                    "{file}: both 'plugins.{first}' and 'plugins.{second}' are given, old names of \
                     'plugins.{target}'; keep one, as 'plugins.{target}'"
                )));
            }
        }
        for (old, new) in PLUGIN_SECTIONS {
            if rename(plugins, old, new, file, "plugins.")? && old.starts_with("gcdt_") {
                found.push((new, old));
            }
        }
    }
    Ok(found)
}

/// Moves `map[old]` to `map[new]` with a warning, saying whether it did; both present is an error
/// naming both.
fn rename(map: &mut Map<String, Value>, old: &str, new: &str, file: &str, prefix: &str) -> Result<bool> {
    if !map.contains_key(old) {
        return Ok(false);
    }
    if map.contains_key(new) {
        return Err(Error::new(format!(
            "{file}: both '{prefix}{old}' and '{prefix}{new}' are given; keep '{prefix}{new}' \
             ('{prefix}{old}' is its old name)"
        )));
    }
    if let Some(value) = map.remove(old) {
        map.insert(new.to_owned(), value);
    }
    warn!("{file}: '{prefix}{old}' is read as '{prefix}{new}' (its old name); rename it to '{prefix}{new}'");
    Ok(true)
}

/// kumo's section as a tool-specific file (`settings_<env>.conf`) holds it: its `cloudformation`
/// form, if any, becomes `stack` and `parameters`.
pub fn upgrade_stack_section(section: &mut Map<String, Value>, file: &str) -> Result<()> {
    convert_cloudformation(section, file, "kumo")
}

/// kumo's deprecated `cloudformation` object becomes `stack` ([`STACK_KEYS`]) and `parameters`
/// (the rest), as gcdt converted it. `section` is the tool section's name as written.
fn convert_cloudformation(cloud: &mut Map<String, Value>, file: &str, section: &str) -> Result<()> {
    let Some(form) = cloud.remove("cloudformation") else { return Ok(()) };
    let Value::Object(form) = form else {
        return Err(Error::new(format!(
            "{file}: '{section}.cloudformation' must be an object, found {}",
            describe(&form)
        )));
    };
    for key in ["stack", "parameters"] {
        if cloud.contains_key(key) {
            return Err(Error::new(format!(
                "{file}: both '{section}.cloudformation' (deprecated) and '{section}.{key}' are given; \
                 move the keys of '{section}.cloudformation' into '{section}.stack' and '{section}.parameters'"
            )));
        }
    }
    let (mut stack, mut parameters) = (Map::new(), Map::new());
    for (key, value) in form {
        if STACK_KEYS.contains(&key.as_str()) {
            stack.insert(key, value);
        } else {
            parameters.insert(key, value);
        }
    }
    cloud.insert("stack".to_owned(), Value::Object(stack));
    cloud.insert("parameters".to_owned(), Value::Object(parameters));
    warn!(
        "{file}: '{section}.cloudformation' is deprecated; read as '{section}.stack' ({}) and \
         '{section}.parameters' (the other keys)",
        STACK_KEYS.join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upgraded(value: Value) -> Result<Value> {
        let Value::Object(mut map) = value else { panic!("objects only") };
        upgrade(&mut map, "gcdt_dev.json")?;
        Ok(Value::Object(map))
    }

    #[test]
    fn gcdt_tool_sections_get_their_new_names() {
        let config = upgraded(json!({
            "a": 1, "kumo": {"stack": {"StackName": "s"}}, "ramuda": {"lambda": {"name": "f"}},
            "tenkai": {"codedeploy": {}}, "yugen": {"api": {"name": "x"}}, "z": 2
        }))
        .unwrap();
        let mut keys: Vec<&String> = config.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["a", "api", "cloud", "code", "lambda", "z"]);
        assert_eq!(config["lambda"], json!({"lambda": {"name": "f"}}));
    }

    #[test]
    fn both_names_in_one_file_are_an_error_naming_both() {
        let err = upgraded(json!({"ramuda": {}, "lambda": {}})).unwrap_err();
        assert_eq!(
            err.message(),
            "gcdt_dev.json: both 'ramuda' and 'lambda' are given; keep 'lambda' ('ramuda' is its old name)"
        );
        let err = upgraded(json!({"plugins": {"gcdt_slack_integration": {}, "slack": {}}})).unwrap_err();
        assert!(err.message().starts_with("gcdt_dev.json: both 'plugins.gcdt_slack_integration' and 'plugins.slack'"));
    }

    #[test]
    fn the_cloudformation_form_splits_into_stack_and_parameters() {
        let config = upgraded(json!({"kumo": {"cloudformation": {
            "StackName": "app", "TemplateBody": "tpl.json", "artifactBucket": "b", "RoleARN": "arn:r",
            "InstanceType": "t2.micro", "Count": 2
        }}}))
        .unwrap();
        assert_eq!(
            config,
            json!({"cloud": {
                "stack": {"StackName": "app", "TemplateBody": "tpl.json", "artifactBucket": "b", "RoleARN": "arn:r"},
                "parameters": {"InstanceType": "t2.micro", "Count": 2}
            }})
        );
        // Also under the new name.
        let config = upgraded(json!({"cloud": {"cloudformation": {"StackName": "app"}}})).unwrap();
        assert_eq!(config, json!({"cloud": {"stack": {"StackName": "app"}, "parameters": {}}}));
    }

    #[test]
    fn the_cloudformation_form_beside_stack_or_a_non_object_is_an_error() {
        let err = upgraded(json!({"kumo": {"cloudformation": {}, "parameters": {}}})).unwrap_err();
        assert!(
            err.message()
                .starts_with("gcdt_dev.json: both 'kumo.cloudformation' (deprecated) and 'kumo.parameters' are given"),
            "{}",
            err.message()
        );
        let err = upgraded(json!({"cloud": {"cloudformation": "x"}})).unwrap_err();
        assert_eq!(err.message(), "gcdt_dev.json: 'cloud.cloudformation' must be an object, found a string");
    }

    #[test]
    fn old_slack_section_names_are_read_as_plugins_slack() {
        for old in ["gcdt_slack_integration", "fink_slack_integration", "fink.slack_integration"] {
            let config = upgraded(json!({"plugins": {old: {"channel": "#ops"}}})).unwrap();
            assert_eq!(config, json!({"plugins": {"slack": {"channel": "#ops"}}}), "{old}");
        }
        let err =
            upgraded(json!({"plugins": {"gcdt_slack_integration": {}, "fink.slack_integration": {}}})).unwrap_err();
        assert_eq!(
            err.message(),
            "gcdt_dev.json: both 'plugins.gcdt_slack_integration' and 'plugins.fink.slack_integration' are given, \
             old names of 'plugins.slack'; keep one, as 'plugins.slack'"
        );
        // Not an object: left as it is for the checks that follow.
        assert_eq!(upgraded(json!({"plugins": null})).unwrap(), json!({"plugins": null}));
    }

    #[test]
    fn old_datadog_section_names_are_read_as_plugins_datadog() {
        for old in ["gcdt_datadog_integration", "fink_datadog_integration", "fink.datadog_integration"] {
            let config = upgraded(json!({"plugins": {old: {"datadog_api_key": "k"}}})).unwrap();
            assert_eq!(config, json!({"plugins": {"datadog": {"datadog_api_key": "k"}}}), "{old}");
        }
        // One old name of each plugin is fine; two of one plugin are not.
        let config =
            upgraded(json!({"plugins": {"gcdt_datadog_integration": {}, "gcdt_slack_integration": {}}})).unwrap();
        assert_eq!(config, json!({"plugins": {"datadog": {}, "slack": {}}}));
        let err =
            upgraded(json!({"plugins": {"gcdt_datadog_integration": {}, "datadog_integration": {}}})).unwrap_err();
        assert!(err.message().ends_with("old names of 'plugins.datadog'; keep one, as 'plugins.datadog'"), "{err:?}");
    }

    #[test]
    fn todays_names_are_left_alone() {
        let config = json!({"cloud": {"stack": {"StackName": "s"}}, "plugins": {"slack": {}}, "kumo2": 1});
        assert_eq!(upgraded(config.clone()).unwrap(), config);
    }
}
