//! The `lambda` section of the config, read with gcdt/fink's key names:
//! `lambda.lambda` (the function), `lambda.bundling`, `lambda.deployment`, `lambda.settings`.

use std::collections::BTreeMap;

use fink_plugin_api::{Error, Result, Value};
use serde::Deserialize;

/// The runtime used when the config names none (gcdt's default, python2.7, no longer exists).
pub const DEFAULT_RUNTIME: &str = "python3.12";

/// The runtimes AWS Lambda offers for new functions and updates (its list of supported runtimes).
#[rustfmt::skip]
pub const SUPPORTED_RUNTIMES: &[&str] = &[
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
    "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
    "java8.al2", "java11", "java17", "java21", "java25",
    "dotnet8", "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
];

/// Runtimes Lambda no longer offers, gcdt's default (python2.7) and the nodejs versions of its
/// guide among them: a config naming one is an error, not a failed deploy.
#[rustfmt::skip]
pub const RETIRED_RUNTIMES: &[&str] = &[
    "python2.7", "python3.6", "python3.7", "python3.8",
    "nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x",
    "nodejs14.x", "nodejs16.x", "java8", "dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
    "dotnetcore3.1", "dotnet5.0", "dotnet6", "dotnet7", "ruby2.5", "ruby2.7", "go1.x", "provided",
];

/// Lambda's allowed log retention values, in days.
pub const RETENTION_DAYS: &[i64] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// The function as `lambda.lambda` describes it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Function {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    /// `module.function` (Python) or `file.export` (Node).
    #[serde(default, alias = "handler")]
    pub handler_function: Option<String>,
    /// The handler's source file, added at the root of the bundle.
    #[serde(default)]
    pub handler_file: Option<String>,
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub timeout: Option<i32>,
    #[serde(default)]
    pub memory_size: Option<i32>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub vpc: Option<Vpc>,
    #[serde(default)]
    pub layers: Vec<String>,
    #[serde(default)]
    pub logs: Option<Logs>,
    /// Event sources for `lambda wire` (gcdt's list form or the `s3Sources`/`timeSchedules` map).
    #[serde(default)]
    pub events: Option<Value>,
    /// Ping the new version after deploy (implied by `failDeploymentOnUnsuccessfulPing`).
    #[serde(default)]
    pub ping: bool,
    #[serde(default)]
    pub fail_deployment_on_unsuccessful_ping: bool,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Vpc {
    #[serde(default)]
    pub subnet_ids: Vec<String>,
    #[serde(default, alias = "securityGroupIds")]
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Logs {
    #[serde(default)]
    pub retention_in_days: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub artifact_bucket: Option<String>,
    #[serde(default)]
    pub fail_deployment_on_unsuccessful_ping: bool,
}

/// `lambda.bundling`: lambda reads only the zip's name; the bundler reads the rest.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Bundling {
    pub zip: Option<String>,
}

/// `config.lambda` as written, read with `call.tool_section::<Section>()` (or
/// `event.section("lambda")`): a wrong type is an error naming its key path, e.g.
/// `config 'lambda.lambda.timeout': invalid type: string "3", expected i32`. The values
/// themselves (ranges, retention days, a non-empty name) are checked by the config schema in
/// `lib.rs` before any command runs.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Section {
    /// `lambda.lambda`: the function. Commands by function name run without it.
    pub lambda: Option<Function>,
    pub deployment: Deployment,
    pub bundling: Bundling,
    /// gcdt read `failDeploymentOnUnsuccessfulPing` at the top of the tool section
    /// (`ramuda.failDeploymentOnUnsuccessfulPing`); it means what `lambda.deployment`'s does.
    #[serde(rename = "failDeploymentOnUnsuccessfulPing")]
    pub fail_deployment_on_unsuccessful_ping: bool,
}

impl Section {
    /// The settings of the configured function; `lambda.lambda` must be there.
    pub fn settings(self) -> Result<Settings> {
        let function = self.lambda.ok_or_else(|| {
            Error::new("lambda.lambda is missing").with_help("describe the function in lambda.lambda")
        })?;
        if let Some(runtime) = function.runtime.as_deref().filter(|r| RETIRED_RUNTIMES.contains(r)) {
            return Err(Error::new(format!(
                "lambda.lambda.runtime: AWS Lambda no longer offers '{runtime}'; it supports {}",
                SUPPORTED_RUNTIMES.join(", ")
            ))
            .with_help(format!("name a supported runtime (fink's default is {DEFAULT_RUNTIME})")));
        }
        let zip = self.bundling.zip.filter(|z| !z.is_empty()).unwrap_or_else(|| "bundle.zip".to_string());
        let mut deployment = self.deployment;
        deployment.fail_deployment_on_unsuccessful_ping |= self.fail_deployment_on_unsuccessful_ping;
        Ok(Settings { function, deployment, zip })
    }
}

/// Everything the lambda tool reads from `config.lambda` about the configured function.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    pub function: Function,
    pub deployment: Deployment,
    /// The bundle's file name (`lambda.bundling.zip`, default `bundle.zip`).
    pub zip: String,
}

impl Settings {
    pub fn runtime(&self) -> &str {
        self.function.runtime.as_deref().unwrap_or(DEFAULT_RUNTIME)
    }

    /// Whether deploy pings the new version before pointing ACTIVE at it.
    pub fn ping_after_deploy(&self) -> bool {
        self.function.ping || self.fail_on_bad_ping()
    }

    pub fn fail_on_bad_ping(&self) -> bool {
        self.function.fail_deployment_on_unsuccessful_ping || self.deployment.fail_deployment_on_unsuccessful_ping
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::{json, Invocation};

    /// Reads `lambda` the way the commands do.
    fn read(section: Value) -> Result<Settings> {
        let config = json!({ "lambda": section }).to_string();
        let call = Invocation::new("deploy", r#"{"tool":"lambda"}"#, &config);
        call.tool_section::<Section>()?.settings()
    }

    #[test]
    fn reads_gcdt_names_and_defaults() {
        let s = read(json!({
            "lambda": {"name": "f", "handlerFunction": "handler.handle", "handlerFile": "handler.py",
                       "memorySize": 256, "vpc": {"subnetIds": ["a"], "securityGroups": ["sg"]}},
            "deployment": {"artifactBucket": "b"},
            "bundling": {"folders": [{"source": "src"}]}
        }))
        .unwrap();
        assert_eq!(s.function.memory_size, Some(256));
        assert_eq!(s.function.vpc.unwrap().security_groups, vec!["sg"]);
        assert_eq!(s.deployment.artifact_bucket.as_deref(), Some("b"));
        assert_eq!(s.zip, "bundle.zip");
        assert_eq!(read(json!({"lambda": {"name": "f"}, "bundling": {"zip": "f.zip"}})).unwrap().zip, "f.zip");
    }

    #[test]
    fn problems_name_the_key() {
        let err = read(json!({"deployment": {}})).unwrap_err();
        assert!(err.to_string().contains("lambda.lambda is missing"), "{err}");
        let err = read(json!({"lambda": {"name": "f", "timeout": "3"}})).unwrap_err();
        assert_eq!(err.to_string(), r#"config 'lambda.lambda.timeout': invalid type: string "3", expected i32"#);
        let err = read(json!({"lambda": {"name": "f", "vpc": {"subnetIds": [1]}}})).unwrap_err();
        assert!(err.to_string().starts_with("config 'lambda.lambda.vpc.subnetIds[0]': invalid type"), "{err}");
    }
}
