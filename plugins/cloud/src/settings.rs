//! The `cloud` section of the config, read with gcdt/fink's key names.

use std::collections::BTreeMap;

use fink_plugin_api::{Error, Result, Value};

/// What the cloud tool needs from `config.cloud`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub stack_name: String,
    pub role_arn: Option<String>,
    pub notification_arns: Option<Vec<String>>,
    pub tags: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    pub artifact_bucket: Option<String>,
    /// A template file relative to the project dir (default: the first of the usual names).
    pub template: Option<String>,
    /// A command printing the template on stdout.
    pub generator: Option<String>,
    /// Parameter values as CloudFormation strings.
    pub parameters: BTreeMap<String, String>,
    pub disable_stop: bool,
    /// Stack policy files (JSON), relative to the project dir.
    pub policy_file: Option<String>,
    pub policy_during_update_file: Option<String>,
}

/// Capabilities every deploy gets unless the config lists its own.
pub const DEFAULT_CAPABILITIES: &[&str] = &["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"];

impl Settings {
    /// Reads `config.cloud`; every problem names its key.
    pub fn from_section(section: &Value) -> Result<Settings> {
        let stack = section.get("stack").cloned().unwrap_or(Value::Null);
        let get = |keys: &[&str]| keys.iter().find_map(|k| stack.get(*k)).filter(|v| !v.is_null());
        let string = |keys: &[&str]| -> Result<Option<String>> {
            match get(keys) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(Error::new(format!("cloud.stack.{}: expected a string, got {other}", keys[0]))),
            }
        };
        let stack_name = string(&["StackName", "stackName"])?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::new("cloud.stack.StackName is missing").with_help("name the stack in the config"))?;
        let notification_arns = match get(&["NotificationARNs"]) {
            None => None,
            Some(v) => Some(
                string_list(v).ok_or_else(|| Error::new("cloud.stack.NotificationARNs: expected a list of ARNs"))?,
            ),
        };
        let capabilities = match get(&["capabilities", "Capabilities"]) {
            None => DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect(),
            Some(v) => {
                string_list(v).ok_or_else(|| Error::new("cloud.stack.capabilities: expected a list of strings"))?
            }
        };
        let tags = match get(&["tags", "Tags"]) {
            None => BTreeMap::new(),
            Some(v) => tags(v)?,
        };
        let mut parameters = BTreeMap::new();
        if let Some(params) = section.get("parameters").and_then(Value::as_object) {
            for (key, value) in params {
                parameters.insert(
                    key.clone(),
                    parameter_string(value).map_err(|e| Error::new(format!("cloud.parameters.{key}: {e}")))?,
                );
            }
        }
        let deployment = section.get("deployment");
        let policy = section.get("stackPolicy");
        Ok(Settings {
            stack_name,
            role_arn: string(&["RoleARN", "roleARN"])?,
            notification_arns,
            tags,
            capabilities,
            artifact_bucket: string(&["artifactBucket", "ArtifactBucket"])?,
            template: string(&["template", "TemplateBody", "templateFile"])?,
            generator: string(&["generator"])?,
            parameters,
            disable_stop: deployment.and_then(|d| d.get("DisableStop")).and_then(Value::as_bool).unwrap_or(false),
            policy_file: policy
                .and_then(|p| p.get("file").or(p.get("stack")))
                .and_then(Value::as_str)
                .map(String::from),
            policy_during_update_file: policy
                .and_then(|p| p.get("duringUpdate").or(p.get("update")))
                .and_then(Value::as_str)
                .map(String::from),
        })
    }
}

fn string_list(value: &Value) -> Option<Vec<String>> {
    value.as_array()?.iter().map(|v| v.as_str().map(String::from)).collect()
}

/// Tags as `{"Key": "Value"}` or gcdt's `[{"Key": k, "Value": v}]`.
fn tags(value: &Value) -> Result<BTreeMap<String, String>> {
    let bad = || Error::new("cloud.stack.tags: expected {\"Key\": \"Value\", ...} or [{\"Key\": .., \"Value\": ..}]");
    match value {
        Value::Object(map) => {
            map.iter().map(|(k, v)| Ok((k.clone(), parameter_string(v).map_err(|_| bad())?))).collect()
        }
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let key = item.get("Key").and_then(Value::as_str).ok_or_else(bad)?;
                let value = item.get("Value").map(parameter_string).transpose().map_err(|_| bad())?.unwrap_or_default();
                Ok((key.to_string(), value))
            })
            .collect(),
        _ => Err(bad()),
    }
}

/// A config value as CloudFormation wants it: strings as they are, numbers and booleans as
/// text, lists joined with commas (CommaDelimitedList / List<...> parameters).
pub fn parameter_string(value: &Value) -> std::result::Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Array(items) => {
            let parts: std::result::Result<Vec<String>, String> = items
                .iter()
                .map(|v| match v {
                    Value::Array(_) | Value::Object(_) => Err("lists may hold only plain values".to_string()),
                    other => parameter_string(other),
                })
                .collect();
            Ok(parts?.join(","))
        }
        Value::Null => Err("expected a value, got null".into()),
        Value::Object(_) => Err("expected a string, number, boolean or list, got an object".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn reads_gcdt_keys_and_converts_parameters() {
        let s = Settings::from_section(&json!({
            "stack": {"StackName": "s", "RoleARN": "arn:role", "NotificationARNs": ["arn:sns"],
                      "Tags": [{"Key": "team", "Value": "a"}], "artifactBucket": "b"},
            "parameters": {"Count": 2, "Subnets": ["a", "b"], "Flag": true, "Name": "x"},
            "deployment": {"DisableStop": true}
        }))
        .unwrap();
        assert_eq!(s.stack_name, "s");
        assert_eq!(s.role_arn.as_deref(), Some("arn:role"));
        assert_eq!(s.notification_arns, Some(vec!["arn:sns".to_string()]));
        assert_eq!(s.tags["team"], "a");
        assert_eq!(s.parameters["Count"], "2");
        assert_eq!(s.parameters["Subnets"], "a,b");
        assert_eq!(s.parameters["Flag"], "true");
        assert!(s.disable_stop);
        assert_eq!(s.capabilities.len(), 3);
    }

    #[test]
    fn problems_name_their_keys() {
        let err = Settings::from_section(&json!({"stack": {}})).unwrap_err();
        assert!(err.message().contains("cloud.stack.StackName"));
        let err =
            Settings::from_section(&json!({"stack": {"StackName": "s"}, "parameters": {"P": {"a": 1}}})).unwrap_err();
        assert!(err.message().starts_with("cloud.parameters.P: expected a string"), "{}", err.message());
    }
}
