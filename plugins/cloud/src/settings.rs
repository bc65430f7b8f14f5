//! The `cloud` section of the config, with gcdt/fink's key names: the JSON schema fink checks
//! before any command runs, and the serde type the commands read it into
//! (`Invocation::tool_section`, so a wrong type names its key path).

use std::collections::BTreeMap;

use fink_plugin_api::{json, Error, Invocation, Result, Value};
use serde::{Deserialize, Deserializer};

/// What the cloud tool needs from `config.cloud`, each key's spellings resolved.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(from = "Section")]
pub struct Settings {
    /// Empty when the config names no stack (see [`Settings::read`]).
    pub stack_name: String,
    pub role_arn: Option<String>,
    pub notification_arns: Option<Vec<String>>,
    pub tags: BTreeMap<String, String>,
    pub capabilities: Vec<String>,
    pub artifact_bucket: Option<String>,
    /// Where packaged artifacts go in the bucket (default `fink/cloud/artifacts`).
    pub artifact_prefix: Option<String>,
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
    /// Reads `config.cloud`: a wrong type is an error naming its key path, a missing stack name
    /// (which the schema can't require: it has two spellings) says what to do.
    pub fn read(call: &Invocation) -> Result<Settings> {
        let settings: Settings = call.tool_section()?;
        if settings.stack_name.is_empty() {
            return Err(Error::new("cloud.stack.StackName is missing").with_help("name the stack in the config"));
        }
        Ok(settings)
    }
}

/// The schema fink checks (and reports every problem of) before the command runs: the first
/// spelling of each key; `Settings` reads the rest.
pub fn schema() -> Value {
    let string = || json!({"type": "string"});
    let strings = || json!({"type": "array", "items": {"type": "string"}});
    json!({"type": "object", "properties": {
        "stack": {"type": "object", "properties": {
            "StackName": {"type": "string", "minLength": 1},
            "RoleARN": string(),
            "NotificationARNs": strings(),
            "artifactBucket": string(),
            "artifactPrefix": string(),
            "template": string(),
            "generator": string(),
            "capabilities": strings()
        }},
        "parameters": {"type": "object"},
        "stackPolicy": {"type": "object", "properties": {"file": string(), "duringUpdate": string()}},
        "deployment": {"type": "object", "properties": {"DisableStop": {"type": "boolean"}}},
        // Folders of projects this one needs, for `--all` (see crate::workspace).
        "dependsOn": strings()
    }})
}

/// `config.cloud` as written, every spelling of a key apart (the first present one wins).
#[derive(Default, Deserialize)]
#[serde(default)]
struct Section {
    stack: Stack,
    parameters: BTreeMap<String, Parameter>,
    #[serde(rename = "stackPolicy")]
    stack_policy: StackPolicy,
    deployment: Deployment,
}

#[allow(non_snake_case)]
#[derive(Default, Deserialize)]
#[serde(default)]
struct Stack {
    StackName: Key<String>,
    stackName: Key<String>,
    RoleARN: Key<String>,
    roleARN: Key<String>,
    NotificationARNs: Key<Vec<String>>,
    tags: Key<Tags>,
    Tags: Key<Tags>,
    capabilities: Key<Vec<String>>,
    Capabilities: Key<Vec<String>>,
    artifactBucket: Key<String>,
    ArtifactBucket: Key<String>,
    artifactPrefix: Key<String>,
    template: Key<String>,
    TemplateBody: Key<String>,
    templateFile: Key<String>,
    generator: Key<String>,
}

#[allow(non_snake_case)]
#[derive(Default, Deserialize)]
#[serde(default)]
struct StackPolicy {
    file: Key<String>,
    stack: Key<String>,
    duringUpdate: Key<String>,
    update: Key<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct Deployment {
    #[serde(rename = "DisableStop")]
    disable_stop: Option<bool>,
}

impl From<Section> for Settings {
    fn from(section: Section) -> Settings {
        let Section { stack: s, parameters, stack_policy: p, deployment } = section;
        Settings {
            stack_name: s.StackName.or(s.stackName).get().unwrap_or_default(),
            role_arn: s.RoleARN.or(s.roleARN).get(),
            notification_arns: s.NotificationARNs.get(),
            tags: s.tags.or(s.Tags).get().map(|t| t.0).unwrap_or_default(),
            capabilities: s
                .capabilities
                .or(s.Capabilities)
                .get()
                .unwrap_or_else(|| DEFAULT_CAPABILITIES.iter().map(|c| c.to_string()).collect()),
            artifact_bucket: s.artifactBucket.or(s.ArtifactBucket).get(),
            artifact_prefix: s.artifactPrefix.get(),
            template: s.template.or(s.TemplateBody).or(s.templateFile).get(),
            generator: s.generator.get(),
            parameters: parameters.into_iter().map(|(k, v)| (k, v.0)).collect(),
            disable_stop: deployment.disable_stop.unwrap_or(false),
            policy_file: p.file.or(p.stack).get(),
            policy_during_update_file: p.duringUpdate.or(p.update).get(),
        }
    }
}

/// One spelling of a key: absent, `null` (counts as absent, but hides the later spellings) or set.
#[derive(Debug, Default)]
enum Key<T> {
    #[default]
    Absent,
    Null,
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Key<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(deserializer)?.map_or(Key::Null, Key::Set))
    }
}

impl<T> Key<T> {
    /// This spelling, or the next one when this one is absent.
    fn or(self, next: Key<T>) -> Key<T> {
        match self {
            Key::Absent => next,
            present => present,
        }
    }

    fn get(self) -> Option<T> {
        match self {
            Key::Set(value) => Some(value),
            Key::Absent | Key::Null => None,
        }
    }
}

/// A parameter value as CloudFormation wants it (see [`parameter_string`]).
#[derive(Deserialize)]
#[serde(try_from = "Value")]
struct Parameter(String);

impl TryFrom<Value> for Parameter {
    type Error = String;
    fn try_from(value: Value) -> std::result::Result<Self, String> {
        parameter_string(&value).map(Parameter)
    }
}

/// Tags as `{"Key": "Value"}` or gcdt's `[{"Key": k, "Value": v}]`.
#[derive(Deserialize)]
#[serde(try_from = "Value")]
struct Tags(BTreeMap<String, String>);

impl TryFrom<Value> for Tags {
    type Error = &'static str;
    fn try_from(value: Value) -> std::result::Result<Self, Self::Error> {
        const BAD: &str = "expected {\"Key\": \"Value\", ...} or [{\"Key\": .., \"Value\": ..}]";
        let tags = match value {
            Value::Object(map) => {
                map.iter().map(|(k, v)| Ok((k.clone(), parameter_string(v).map_err(|_| BAD)?))).collect()
            }
            Value::Array(items) => items
                .iter()
                .map(|item| {
                    let key = item.get("Key").and_then(Value::as_str).ok_or(BAD)?;
                    let value = item.get("Value").map(parameter_string).transpose().map_err(|_| BAD)?;
                    Ok((key.to_string(), value.unwrap_or_default()))
                })
                .collect(),
            _ => Err(BAD),
        };
        tags.map(Tags)
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

    fn read(cloud: Value) -> Result<Settings> {
        let config = json!({ "cloud": cloud }).to_string();
        Settings::read(&Invocation::new("deploy", r#"{"tool":"cloud"}"#, &config))
    }

    fn message(cloud: Value) -> String {
        read(cloud).unwrap_err().message().to_string()
    }

    #[test]
    fn reads_gcdt_keys_and_converts_parameters() {
        let s = read(json!({
            "stack": {"StackName": "s", "RoleARN": "arn:role", "NotificationARNs": ["arn:sns"],
                      "Tags": [{"Key": "team", "Value": "a"}], "artifactBucket": "b"},
            "parameters": {"Count": 2, "Subnets": ["a", "b"], "Flag": true, "Name": "x"},
            "stackPolicy": {"stack": "p.json", "duringUpdate": "u.json"},
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
        assert_eq!(s.artifact_bucket.as_deref(), Some("b"));
        assert_eq!(
            (s.policy_file.as_deref(), s.policy_during_update_file.as_deref()),
            (Some("p.json"), Some("u.json"))
        );
    }

    #[test]
    fn the_first_present_spelling_wins_and_null_counts_as_absent() {
        let s = read(json!({"stack": {"StackName": "a", "stackName": "b", "TemplateBody": "t.yaml",
                                      "templateFile": "f.yaml", "tags": {"n": 1}, "Capabilities": []}}))
        .unwrap();
        assert_eq!(s.stack_name, "a");
        assert_eq!(s.template.as_deref(), Some("t.yaml"));
        assert_eq!(s.tags["n"], "1");
        assert!(s.capabilities.is_empty());
        // null is absent, and the later spellings are not looked at.
        let s = read(json!({"stack": {"stackName": "b", "RoleARN": null, "roleARN": "r"}})).unwrap();
        assert_eq!((s.stack_name.as_str(), s.role_arn), ("b", None));
    }

    #[test]
    fn problems_name_their_keys() {
        assert_eq!(message(json!({"stack": {}})), "cloud.stack.StackName is missing");
        assert_eq!(message(json!({"stack": {"stackName": ""}})), "cloud.stack.StackName is missing");
        let s = json!("s");
        assert_eq!(
            message(json!({"stack": {"StackName": s}, "parameters": {"P": {"a": 1}}})),
            "config 'cloud.parameters.P': expected a string, number, boolean or list, got an object"
        );
        assert_eq!(
            message(json!({"stack": {"StackName": s}, "parameters": {"Size": null}})),
            "config 'cloud.parameters.Size': expected a value, got null"
        );
        assert_eq!(
            message(json!({"stack": {"StackName": s}, "parameters": {"Subnets": [["a"]]}})),
            "config 'cloud.parameters.Subnets': lists may hold only plain values"
        );
        assert_eq!(
            message(json!({"stack": {"StackName": s, "roleARN": 5}})),
            "config 'cloud.stack.roleARN': invalid type: integer `5`, expected a string"
        );
        assert_eq!(
            message(json!({"stack": {"StackName": s, "Tags": [{"Value": "x"}]}})),
            "config 'cloud.stack.Tags': expected {\"Key\": \"Value\", ...} or [{\"Key\": .., \"Value\": ..}]"
        );
        assert!(message(json!({"stack": {"StackName": s, "Capabilities": [1]}}))
            .starts_with("config 'cloud.stack.Capabilities[0]': invalid type: integer `1`"),);
    }
}
