//! What to bundle: the tool's `bundle_request` from the context, and the tool section's `bundling`
//! and `settings` from the config. Every problem names its key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use fink_plugin_api::payload::{ArchiveFormat, OverLimit};
use fink_plugin_api::{BundleRequest, Error, Result, Value};

use crate::deps::STAGING_ROOT;

/// The context key a tool sets at `bundle_pre` to ask for a bundle.
pub const REQUEST_KEY: &str = "bundle_request";

/// The context key the bundler sets with the result.
pub const RESULT_KEY: &str = "bundle";

/// The env folder's name when the run has no env.
pub const NO_ENV: &str = "_";

/// A tool's request, as set in the context key `bundle_request` ([`BundleRequest`]), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The asking tool (`lambda`, `code`, ...); echoed in the result.
    pub tool: String,
    /// The config section that holds `bundling` and `settings`.
    pub section: String,
    /// Absolute path of the archive to write.
    pub output: PathBuf,
    /// A file (relative to the project dir) added at the archive root.
    pub handler_file: Option<String>,
    /// The runtime (`python3.12`, `nodejs20.x`, ...): decides how dependencies are installed.
    pub runtime: String,
    /// Reuse installed dependencies when their manifest did not change.
    pub keep: bool,
    /// Archives above this size need `bucket_key` set.
    pub direct_upload_limit: Option<u64>,
    /// The config key that names an upload bucket, for the size error's help.
    pub bucket_key: String,
    /// Whether that bucket is set.
    pub bucket_set: bool,
    /// What an archive above `direct_upload_limit` without the bucket is: an error, or a warning
    /// (when the tool only builds the bundle and the limit applies to a later deploy).
    pub over_limit: OverLimit,
    /// Zip or tar.gz.
    pub format: ArchiveFormat,
    /// Files added at the archive root, name → text.
    pub extra_files: BTreeMap<String, String>,
    /// The run's env (the context key `env`): names the staging folder's parent.
    pub env: Option<String>,
}

impl Request {
    /// Reads the request from the context; `None` when no tool asked for a bundle.
    pub fn from_context(context: &Value) -> Result<Option<Request>> {
        if matches!(context.get(REQUEST_KEY), None | Some(Value::Null)) {
            return Ok(None);
        }
        let asked: BundleRequest = serde_path_to_error::deserialize(&context[REQUEST_KEY]).map_err(|e| {
            let path = e.path().to_string();
            let key = if path == "." { REQUEST_KEY.to_string() } else { format!("{REQUEST_KEY}.{path}") };
            Error::new(format!("context '{key}': {}", e.into_inner()))
        })?;
        let missing = |key: &str| {
            Error::new(format!("{REQUEST_KEY}.{key} is missing"))
                .with_help("the tool that asked for a bundle must set it (see docs/bundler.md)")
        };
        if asked.tool.is_empty() {
            return Err(missing("tool"));
        }
        if !asked.tool.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            // The tool names the staging folder: keep it one plain path segment.
            return Err(Error::new(format!("{REQUEST_KEY}.tool must be a plain name, got '{}'", asked.tool)));
        }
        if asked.output.as_os_str().is_empty() {
            return Err(missing("output"));
        }
        if !asked.output.is_absolute() {
            return Err(Error::new(format!(
                "{REQUEST_KEY}.output must be an absolute path, got {}",
                asked.output.display()
            )));
        }
        let env = context.get("env").and_then(Value::as_str).filter(|e| !e.is_empty()).map(String::from);
        if let Some(env) = &env {
            check_env(env)?;
        }
        for name in asked.extra_files.keys() {
            if name.is_empty() || name.contains(['/', '\\']) || name == "." || name == ".." {
                return Err(Error::new(format!("{REQUEST_KEY}.extra_files: '{name}' must be a plain file name")));
            }
        }
        Ok(Some(Request {
            section: asked.section().to_string(),
            handler_file: asked.handler_file.filter(|h| !h.is_empty()),
            tool: asked.tool,
            output: asked.output,
            runtime: asked.runtime,
            keep: asked.keep,
            direct_upload_limit: asked.direct_upload_limit,
            bucket_key: asked.bucket_key,
            bucket_set: asked.bucket_set,
            over_limit: asked.over_limit,
            format: asked.format,
            extra_files: asked.extra_files,
            env,
        }))
    }

    /// This env's folder below the project dir: `.fink/bundle/<env>` (`.fink/bundle/_` without an env).
    pub fn env_folder(&self) -> String {
        format!("{STAGING_ROOT}/{}", self.env.as_deref().unwrap_or(NO_ENV))
    }

    /// The staging folder for installed dependencies: `<dir>/.fink/bundle/<env>/<tool>`.
    pub fn staging(&self, dir: &Path) -> PathBuf {
        dir.join(self.env_folder()).join(&self.tool)
    }

    /// [`Request::staging`] relative to the project dir, for messages.
    pub fn staging_shown(&self) -> String {
        format!("{}/{}", self.env_folder(), self.tool)
    }
}

/// The env names a folder: one plain path segment.
fn check_env(env: &str) -> Result<()> {
    let plain = env.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain && !env.starts_with('.') {
        return Ok(());
    }
    Err(Error::new(format!("the env '{env}' cannot name the bundle folder {STAGING_ROOT}/<env>"))
        .with_help("use letters, digits, '-', '_' and '.' in env names"))
}

/// One `bundling.folders` item: a source folder and where its files go in the zip.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    /// The source as configured (relative to the project dir).
    pub source: String,
    /// The folder inside the zip, `/`-separated; empty for the zip root.
    pub target: String,
    /// The config key of the item's source, for messages: `lambda.bundling.folders[0].source`.
    pub key: String,
}

/// The tool section's bundling config.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bundling {
    pub folders: Vec<Folder>,
    pub pre_bundle: Vec<String>,
    /// Top-level `ignore` followed by `<section>.bundling.ignore`.
    pub ignore: Vec<String>,
    /// `<section>.settings`, written as `settings.json`.
    pub settings: Option<Value>,
}

impl Bundling {
    /// Reads `config[section].bundling`, `config[section].settings` and the top-level `ignore`.
    pub fn from_config(config: &Value, section: &str) -> Result<Bundling> {
        let part = config.get(section);
        let bundling = part.and_then(|p| p.get("bundling"));
        let key = |name: &str| format!("{section}.bundling.{name}");
        let mut ignore = strings(config.get("ignore"), "ignore")?;
        ignore.extend(strings(bundling.and_then(|b| b.get("ignore")), &key("ignore"))?);
        let settings = match part.and_then(|p| p.get("settings")) {
            None | Some(Value::Null) => None,
            Some(value @ Value::Object(_)) => Some(value.clone()),
            Some(_) => return Err(Error::new(format!("{section}.settings must be an object"))),
        };
        Ok(Bundling {
            folders: folders(bundling.and_then(|b| b.get("folders")), &key("folders"))?,
            pre_bundle: strings(bundling.and_then(|b| b.get("preBundle")), &key("preBundle"))?,
            ignore,
            settings,
        })
    }
}

fn strings(value: Option<&Value>, key: &str) -> Result<Vec<String>> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Error::new(format!("{key} must be a list of strings"))),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_str().map(String::from).ok_or_else(|| Error::new(format!("{key}[{i}] must be a string")))
        })
        .collect()
}

fn folders(value: Option<&Value>, key: &str) -> Result<Vec<Folder>> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(Error::new(format!("{key} must be a list of {{source, target}}"))),
    };
    let mut folders = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let source_key = format!("{key}[{i}].source");
        let source = item
            .get("source")
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::new(format!("{source_key} is missing")))?
            .to_string();
        let target = match item.get("target") {
            None | Some(Value::Null) => default_target(&source),
            Some(Value::String(target)) => normal_target(target),
            Some(_) => return Err(Error::new(format!("{key}[{i}].target must be a string"))),
        };
        if target.split('/').any(|part| part == "..") {
            return Err(Error::new(format!("{key}[{i}].target must stay inside the zip, got {target}")));
        }
        folders.push(Folder { source, target, key: source_key });
    }
    Ok(folders)
}

/// A target without a value: the source's last path segment (`src/app` → `app`; `.` → the root).
pub fn default_target(source: &str) -> String {
    let last = Path::new(source.trim_end_matches(['/', '\\'])).file_name().map(|n| n.to_string_lossy().into_owned());
    last.map(|n| normal_target(&n)).unwrap_or_default()
}

/// `/`-separated, without leading/trailing slashes or `.` parts; `.` and `` mean the root.
pub fn normal_target(target: &str) -> String {
    target.split(['/', '\\']).filter(|part| !part.is_empty() && *part != ".").collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    fn lambda_request() -> Value {
        json!({"bundle_request": {"tool": "lambda", "section": "lambda", "output": "/p/bundle.zip",
            "handler_file": "handler.py", "runtime": "python3.12", "keep": true,
            "direct_upload_limit": 52428800, "bucket_key": "lambda.deployment.artifactBucket", "bucket_set": false}})
    }

    #[test]
    fn reads_the_lambda_request() {
        let request = Request::from_context(&lambda_request()).unwrap().unwrap();
        assert_eq!(request.tool, "lambda");
        assert_eq!(request.output, PathBuf::from("/p/bundle.zip"));
        assert_eq!(request.handler_file.as_deref(), Some("handler.py"));
        assert!(request.keep && !request.bucket_set);
        assert_eq!(request.direct_upload_limit, Some(52_428_800));
        assert_eq!(request.over_limit, OverLimit::Fail, "the default");
    }

    #[test]
    fn each_env_gets_its_own_staging_folder_and_a_path_like_env_is_refused() {
        let mut context = lambda_request();
        let request = Request::from_context(&context).unwrap().unwrap();
        assert_eq!(request.staging(Path::new("/p")), PathBuf::from("/p/.fink/bundle/_/lambda"));
        context["env"] = json!("prod");
        let request = Request::from_context(&context).unwrap().unwrap();
        assert_eq!(request.staging(Path::new("/p")), PathBuf::from("/p/.fink/bundle/prod/lambda"));
        assert_eq!(request.staging_shown(), ".fink/bundle/prod/lambda");
        for bad in ["../x", "a/b", ".hidden", "sp ace"] {
            context["env"] = json!(bad);
            let err = Request::from_context(&context).unwrap_err();
            assert_eq!(err.message(), format!("the env '{bad}' cannot name the bundle folder .fink/bundle/<env>"));
        }
    }

    #[test]
    fn over_limit_is_fail_or_warn() {
        let with = |value: Value| {
            let mut context = lambda_request();
            context["bundle_request"]["over_limit"] = value;
            Request::from_context(&context).map(|r| r.unwrap().over_limit)
        };
        assert_eq!(with(json!("warn")).unwrap(), OverLimit::Warn);
        assert_eq!(with(json!("fail")).unwrap(), OverLimit::Fail);
        assert_eq!(
            with(json!("ignore")).unwrap_err().message(),
            "context 'bundle_request.over_limit': unknown variant `ignore`, expected `fail` or `warn`"
        );
    }

    #[test]
    fn no_request_means_nothing_to_do() {
        assert_eq!(Request::from_context(&json!({"tool": "cloud"})).unwrap(), None);
    }

    #[test]
    fn a_request_without_output_names_the_key() {
        let err = Request::from_context(&json!({"bundle_request": {"tool": "code"}})).unwrap_err();
        assert_eq!(err.message(), "bundle_request.output is missing");
        let err = Request::from_context(&json!({"bundle_request": {"tool": "code", "output": "b.zip"}})).unwrap_err();
        assert!(err.message().contains("absolute"), "{}", err.message());
        let err = Request::from_context(&json!({"bundle_request": {"tool": "../x", "output": "/b.zip"}})).unwrap_err();
        assert_eq!(err.message(), "bundle_request.tool must be a plain name, got '../x'");
        let err = Request::from_context(&json!({"bundle_request": {"tool": "code", "output": "/b.tgz",
            "extra_files": {"../x.yml": ""}}}))
        .unwrap_err();
        assert_eq!(err.message(), "bundle_request.extra_files: '../x.yml' must be a plain file name");
        let err = Request::from_context(&json!({"bundle_request": {"tool": 3}})).unwrap_err();
        assert!(err.message().starts_with("context 'bundle_request.tool': invalid type"), "{}", err.message());
    }

    #[test]
    fn targets_default_to_the_last_segment_and_dot_is_the_root() {
        assert_eq!(default_target("src/app"), "app");
        assert_eq!(default_target("src/app/"), "app");
        assert_eq!(default_target("vendor"), "vendor");
        assert_eq!(default_target("."), "");
        assert_eq!(normal_target("."), "");
        assert_eq!(normal_target(""), "");
        assert_eq!(normal_target("./lib/x/"), "lib/x");
    }

    #[test]
    fn reads_folders_scripts_ignores_and_settings() {
        let config = json!({"ignore": ["*.pyc"], "lambda": {
            "bundling": {"folders": [{"source": "src/app"}, {"source": "lib", "target": "."}],
                         "preBundle": ["make"], "ignore": ["tests/"]},
            "settings": {"b": 1}}});
        let bundling = Bundling::from_config(&config, "lambda").unwrap();
        assert_eq!(bundling.folders[0].target, "app");
        assert_eq!(bundling.folders[1].target, "");
        assert_eq!(bundling.folders[1].key, "lambda.bundling.folders[1].source");
        assert_eq!(bundling.pre_bundle, vec!["make"]);
        assert_eq!(bundling.ignore, vec!["*.pyc", "tests/"]);
        assert_eq!(bundling.settings, Some(json!({"b": 1})));
    }

    #[test]
    fn bad_config_names_the_key() {
        let bad = |config: Value| Bundling::from_config(&config, "lambda").unwrap_err().message().to_string();
        assert_eq!(
            bad(json!({"lambda": {"bundling": {"folders": [{"target": "x"}]}}})),
            "lambda.bundling.folders[0].source is missing"
        );
        assert_eq!(
            bad(json!({"lambda": {"bundling": {"preBundle": "make"}}})),
            "lambda.bundling.preBundle must be a list of strings"
        );
        assert_eq!(bad(json!({"lambda": {"bundling": {"ignore": [1]}}})), "lambda.bundling.ignore[0] must be a string");
        assert_eq!(bad(json!({"lambda": {"settings": [1]}})), "lambda.settings must be an object");
        assert!(bad(json!({"lambda": {"bundling": {"folders": [{"source": "a", "target": "../x"}]}}}))
            .contains("inside the zip"));
    }
}
