//! What plugins hand each other through the context, as typed values: the tools' request to the
//! bundler and its answer, a stack's outputs, and a request for a generated template and its answer. Both sides use these types, so a field cannot be
//! written under one name and read under another.
//!
//! Read with [`Data::payload`](crate::Data::payload), write with
//! [`Data::set_payload`](crate::Data::set_payload); the context keys are in [`crate::context`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A value that lives under one context key.
pub trait Payload: Serialize + for<'de> Deserialize<'de> {
    /// The context key it is kept under.
    const KEY: &'static str;
}

/// A tool's request to the bundler, set at `bundle_pre` (before the bundler, order < 1000).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BundleRequest {
    /// The asking tool (`lambda`, `code`, ...); echoed in the answer. A plain name.
    pub tool: String,
    /// The config section that holds `bundling` and `settings` (default: the tool's name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
    /// Absolute path of the archive to write.
    pub output: PathBuf,
    /// A file (relative to the project dir) added at the archive root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handler_file: Option<String>,
    /// The runtime (`python3.12`, `nodejs20.x`, ...): decides how dependencies are installed.
    pub runtime: String,
    /// Reuse installed dependencies when their manifest did not change.
    pub keep: bool,
    /// Archives above this size can only be deployed through a bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_upload_limit: Option<u64>,
    /// The config key that names an upload bucket, for the size warning.
    pub bucket_key: String,
    /// Whether that bucket is set.
    pub bucket_set: bool,
    /// What an archive above `direct_upload_limit` without the bucket is (since 1.1).
    pub over_limit: OverLimit,
    /// The archive's format (since 1.1; older tools always got a zip).
    pub format: ArchiveFormat,
    /// Files the tool adds at the archive root, name → text (since 1.1), e.g. the code tool's
    /// `stack_output.yml`. Written 0644, like `settings.json`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_files: BTreeMap<String, String>,
}

/// What the bundler does with an archive above the direct-upload limit when no bucket is set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverLimit {
    /// An error (the archive is still written): the tool is about to deploy it.
    #[default]
    Fail,
    /// A warning naming the size and the bucket key: the tool only builds the bundle.
    Warn,
}

/// The archive a tool asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveFormat {
    /// A zip (Lambda).
    #[default]
    Zip,
    /// A gzip-compressed tar (CodeDeploy's `tgz` bundle type): keeps file modes for the agent.
    Tgz,
}

impl Payload for BundleRequest {
    const KEY: &'static str = crate::context::BUNDLE_REQUEST;
}

impl BundleRequest {
    /// The config section to read `bundling` from.
    pub fn section(&self) -> &str {
        self.section.as_deref().filter(|s| !s.is_empty()).unwrap_or(&self.tool)
    }
}

/// The bundler's answer, set at `bundle_init`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Bundle {
    /// The tool that asked.
    pub tool: String,
    /// The archive written.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Base64 of its sha256 (Lambda's CodeSha256 form).
    pub sha256: String,
    /// Number of files in it.
    pub files: u64,
    /// Where installed dependencies are staged, if any were.
    pub staging: Option<PathBuf>,
}

impl Payload for Bundle {
    const KEY: &'static str = crate::context::BUNDLE;
}

impl Bundle {
    /// What a tool's `bundle` command prints: `wrote /p/bundle.zip: 3 files, 51 MB`.
    pub fn summary(&self) -> String {
        let files = if self.files == 1 { "1 file".to_string() } else { format!("{} files", self.files) };
        format!("wrote {}: {files}, {}", self.path.display(), crate::human::bytes(self.size))
    }
}

/// The JSON schema of the `bundling` keys the bundler reads (`folders`, `preBundle`, `ignore`),
/// for a tool's section schema; `extra` adds the tool's own keys (e.g. lambda's `zip`).
pub fn bundling_schema(extra: serde_json::Value) -> serde_json::Value {
    let strings = serde_json::json!({"type": "array", "items": {"type": "string"}});
    let mut properties = serde_json::json!({
        "preBundle": strings,
        "ignore": strings,
        "folders": {"type": "array", "items": {"type": "object", "required": ["source"], "properties": {
            "source": {"type": "string"}, "target": {"type": "string"}
        }}}
    });
    if let (Some(map), serde_json::Value::Object(more)) = (properties.as_object_mut(), extra) {
        map.extend(more);
    }
    serde_json::json!({"type": "object", "properties": properties})
}

/// A deployed stack's outputs (`OutputKey` → `OutputValue`), set by `cloud deploy`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StackOutput(pub BTreeMap<String, String>);

impl Payload for StackOutput {
    const KEY: &'static str = crate::context::STACK_OUTPUT;
}

/// A tool's request for a template generated by project code (gcdt's `cloudformation.py`), set
/// at `config_validation_finalized` before order 1000 when the config names no template (since 1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TemplateRequest {
    /// The asking tool (`cloud`).
    pub tool: String,
}

impl Payload for TemplateRequest {
    const KEY: &'static str = crate::context::TEMPLATE_REQUEST;
}

/// The answer to a [`TemplateRequest`]: the template project code generated, and the stack
/// policies it defines (since 1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GeneratedTemplate {
    /// Where it came from, for messages: `cloudformation.py`.
    pub source: String,
    /// The template text (JSON or YAML).
    pub body: String,
    /// The stack policy the project code defines (JSON), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_policy: Option<String>,
    /// The policy during an update (JSON), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_policy_during_update: Option<String>,
}

impl Payload for GeneratedTemplate {
    const KEY: &'static str = crate::context::GENERATED_TEMPLATE;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_request_reads_what_older_tools_wrote() {
        let request: BundleRequest = serde_json::from_value(json!({
            "tool": "lambda", "output": "/p/bundle.zip", "runtime": "python3.12", "future": 1
        }))
        .unwrap();
        assert_eq!(request.section(), "lambda");
        assert_eq!(request.output, PathBuf::from("/p/bundle.zip"));
        assert!(!request.keep && request.direct_upload_limit.is_none());
        assert_eq!((request.over_limit, request.format), (OverLimit::Fail, ArchiveFormat::Zip));
    }

    #[test]
    fn choices_are_lowercase_words() {
        let request: BundleRequest =
            serde_json::from_value(json!({"tool": "code", "over_limit": "warn", "format": "tgz"})).unwrap();
        assert_eq!((request.over_limit, request.format), (OverLimit::Warn, ArchiveFormat::Tgz));
        let written = serde_json::to_value(&request).unwrap();
        assert_eq!((written["over_limit"].as_str(), written["format"].as_str()), (Some("warn"), Some("tgz")));
        assert!(written.get("extra_files").is_none(), "empty extra files are left out: {written}");
    }

    #[test]
    fn a_bundle_summary_reads_like_a_sentence() {
        let bundle = Bundle { path: "/p/b.zip".into(), files: 1, size: 2048, ..Bundle::default() };
        assert_eq!(bundle.summary(), "wrote /p/b.zip: 1 file, 2 KB");
        assert_eq!(Bundle { files: 3, ..bundle }.summary(), "wrote /p/b.zip: 3 files, 2 KB");
    }

    #[test]
    fn the_bundling_schema_takes_the_tools_own_keys() {
        let schema = bundling_schema(json!({"zip": {"type": "string"}}));
        let keys: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["folders", "ignore", "preBundle", "zip"]);
    }

    #[test]
    fn stack_output_is_a_plain_object() {
        let outputs = StackOutput([("Url".to_string(), "https://x".to_string())].into());
        assert_eq!(serde_json::to_value(&outputs).unwrap(), json!({"Url": "https://x"}));
    }
}
