//! The `code` section of the config, with gcdt/fink's key names: `code.codedeploy` (where to
//! deploy), `code.bundling`, `code.deployment`, `code.stack_output` and `code.settings`. The
//! schema in `lib.rs` has checked the types, so serde only fills in the defaults.

use fink_plugin_api::{Error, Result, Value};
use serde::Deserialize;

/// The deployment config CodeDeploy uses when the config names none.
pub const DEFAULT_DEPLOYMENT_CONFIG: &str = "CodeDeployDefault.AllAtOnce";

/// The log group read on failure when `deployment.LogGroup` is not set (gcdt's default).
pub const DEFAULT_LOG_GROUP: &str = "/var/log/messages";

/// The bundle written when `bundling.file` is not set.
pub const DEFAULT_FILE: &str = "bundle.tar.gz";

/// The folder bundled when `bundling.folders` is not set, at the bundle root.
pub const DEFAULT_FOLDER: &str = "./codedeploy";

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CodeDeploy {
    pub application_name: String,
    pub deployment_group_name: String,
    #[serde(default)]
    pub deployment_config_name: Option<String>,
    #[serde(default)]
    pub artifacts_bucket: Option<String>,
    /// The region of the application, when it is not the profile's.
    #[serde(default)]
    pub region: Option<String>,
}

/// `code.bundling`: the file to write; `folders` and the rest are the bundler's (see `crate::bundle`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Bundling {
    #[serde(default)]
    pub file: Option<String>,
    /// gcdt's name for the bundle's file (tenkai's `bundling.zip`); `file` wins when both are set.
    #[serde(default)]
    pub zip: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Deployment {
    #[serde(default, rename = "LogGroup", alias = "logGroup")]
    pub log_group: Option<String>,
}

/// `config.code` as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Section {
    #[serde(default)]
    pub codedeploy: CodeDeploy,
    #[serde(default)]
    pub bundling: Bundling,
    #[serde(default)]
    pub deployment: Deployment,
    /// After lookups: the outputs of a stack (`lookup:stack:<stack>`), for `stack_output.yml`.
    #[serde(default)]
    pub stack_output: Option<Value>,
}

impl Section {
    pub fn deployment_config(&self) -> &str {
        self.codedeploy.deployment_config_name.as_deref().unwrap_or(DEFAULT_DEPLOYMENT_CONFIG)
    }

    pub fn log_group(&self) -> &str {
        self.deployment.log_group.as_deref().unwrap_or(DEFAULT_LOG_GROUP)
    }

    pub fn file(&self) -> &str {
        self.bundling.file.as_deref().or(self.bundling.zip.as_deref()).unwrap_or(DEFAULT_FILE)
    }

    /// The bucket the bundle is uploaded to; `deploy` cannot go on without it.
    pub fn bucket(&self) -> Result<&str> {
        self.codedeploy.artifacts_bucket.as_deref().ok_or_else(|| {
            Error::new("code.codedeploy.artifactsBucket is missing: deploy uploads the bundle there").with_help(
                "set it to an S3 bucket the instances can read, often a lookup: lookup:stack:<stack>:<output>",
            )
        })
    }

    /// `stack_output.yml`: the stack's outputs as YAML with sorted keys, when configured.
    pub fn stack_output_yaml(&self) -> Result<Option<String>> {
        let outputs = match &self.stack_output {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Object(map)) => map,
            Some(Value::String(s)) => {
                return Err(Error::new(format!(
                    "code.stack_output must be the outputs of a stack, got the string '{s}'"
                ))
                .with_help("write it as a lookup, lookup:stack:<stack>, and keep the lookups plugin enabled"))
            }
            Some(other) => {
                return Err(Error::new(format!("code.stack_output must be the outputs of a stack, got {other}")))
            }
        };
        let sorted: std::collections::BTreeMap<&String, &Value> = outputs.iter().collect();
        serde_yaml::to_string(&sorted).map(Some).map_err(|e| Error::new(format!("cannot write stack_output.yml: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    fn section(value: Value) -> Section {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn defaults_are_gcdts() {
        let s = section(json!({"codedeploy": {"applicationName": "a", "deploymentGroupName": "g"}}));
        assert_eq!(s.deployment_config(), "CodeDeployDefault.AllAtOnce");
        assert_eq!(s.log_group(), "/var/log/messages");
        assert_eq!(s.file(), "bundle.tar.gz");
        assert_eq!(
            s.bucket().unwrap_err().message(),
            "code.codedeploy.artifactsBucket is missing: deploy uploads the bundle there"
        );
        assert_eq!(s.stack_output_yaml().unwrap(), None);
    }

    #[test]
    fn stack_output_is_sorted_yaml() {
        let s = section(json!({"stack_output": {"Url": "https://x", "Bucket": "b", "Port": "80"}}));
        assert_eq!(s.stack_output_yaml().unwrap().unwrap(), "Bucket: b\nPort: '80'\nUrl: https://x\n");
        let s = section(json!({"stack_output": "lookup:stack:infra"}));
        assert!(s.stack_output_yaml().unwrap_err().message().contains("got the string 'lookup:stack:infra'"));
    }

    #[test]
    fn the_log_group_takes_gcdts_spelling() {
        let s = section(json!({"deployment": {"LogGroup": "/my/group"}}));
        assert_eq!(s.log_group(), "/my/group");
    }
}
