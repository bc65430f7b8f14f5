//! The stage's settings: the cache cluster and `api.api.methodSettings`, turned into the
//! UpdateStage patch operations API Gateway takes (`/~1pets/GET/caching/enabled`), and compared
//! with what the stage has so an unchanged stage is left alone.
//!
//! Which document a stage serves is recorded in its deployment's description as the document's
//! SHA-256: API Gateway's export of an API is normalised (and differs from what was imported), so
//! comparing it with the template would never find them equal.

use aws_sdk_apigateway::types::{MethodSetting, Op, PatchOperation, Stage};
use fink_plugin_api::{Error, Result, Value};
use sha2::{Digest, Sha256};

use crate::settings::Section;

/// The prefix of the deployment description that records the document.
const RECORD: &str = "fink: document sha256 ";

/// The kind of value a method setting takes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Number,
    Text,
}

/// Each method setting: its config name (as in the MethodSetting API type), its patch path and kind.
const METHOD_SETTINGS: &[(&str, &str, Kind)] = &[
    ("cachingEnabled", "caching/enabled", Kind::Bool),
    ("cacheTtlInSeconds", "caching/ttlInSeconds", Kind::Number),
    ("cacheDataEncrypted", "caching/dataEncrypted", Kind::Bool),
    ("requireAuthorizationForCacheControl", "caching/requireAuthorizationForCacheControl", Kind::Bool),
    ("unauthorizedCacheControlHeaderStrategy", "caching/unauthorizedCacheControlHeaderStrategy", Kind::Text),
    ("loggingLevel", "logging/loglevel", Kind::Text),
    ("dataTraceEnabled", "logging/dataTrace", Kind::Bool),
    ("metricsEnabled", "metrics/enabled", Kind::Bool),
    ("throttlingBurstLimit", "throttling/burstLimit", Kind::Number),
    ("throttlingRateLimit", "throttling/rateLimit", Kind::Number),
];

const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY", "*"];

/// One wanted method setting.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodValue {
    /// The stage's key for the method, `~1pets/GET` (or `*/*`).
    pub method_key: String,
    /// The config's name of the setting, e.g. `cachingEnabled`.
    pub setting: &'static str,
    /// The patch path after the method key, e.g. `caching/enabled`.
    pub suffix: &'static str,
    pub value: String,
    kind: Kind,
}

impl MethodValue {
    fn path(&self) -> String {
        format!("/{}/{}", self.method_key, self.suffix)
    }
}

/// What the stage should look like.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted {
    pub cache_enabled: bool,
    pub cache_size: String,
    pub methods: Vec<MethodValue>,
}

impl Wanted {
    /// From `api.api`, checking each methodSettings key and setting.
    pub fn from_section(section: &Section) -> Result<Wanted> {
        let mut methods = Vec::new();
        for (key, settings) in &section.api.method_settings {
            let method_key = method_key(key)?;
            for (name, value) in settings {
                let Some((setting, suffix, kind)) = METHOD_SETTINGS.iter().find(|(n, ..)| n == name) else {
                    let names: Vec<&str> = METHOD_SETTINGS.iter().map(|(n, ..)| *n).collect();
                    return Err(Error::new(format!("api.api.methodSettings['{key}'].{name}: unknown method setting"))
                        .with_help(format!("the settings are {}", names.join(", "))));
                };
                let value = text(value, *kind).ok_or_else(|| {
                    Error::new(format!(
                        "api.api.methodSettings['{key}'].{name}: expected {}, got {value}",
                        match kind {
                            Kind::Bool => "true or false",
                            Kind::Number => "a number",
                            Kind::Text => "a string",
                        }
                    ))
                })?;
                methods.push(MethodValue { method_key: method_key.clone(), setting, suffix, value, kind: *kind });
            }
        }
        Ok(Wanted { cache_enabled: section.api.cache_cluster_enabled, cache_size: section.cache_size()?, methods })
    }

    /// The patch operations that make `stage` (None: a new stage with defaults) look like this.
    pub fn changes(&self, stage: Option<&Stage>) -> Vec<PatchOperation> {
        let mut ops = Vec::new();
        let enabled = stage.is_some_and(Stage::cache_cluster_enabled);
        if enabled != self.cache_enabled {
            ops.push(replace("/cacheClusterEnabled", &self.cache_enabled.to_string()));
        }
        let size = stage.and_then(Stage::cache_cluster_size).map(|s| s.as_str().to_string());
        if self.cache_enabled && size.as_deref() != Some(&self.cache_size) {
            ops.push(replace("/cacheClusterSize", &self.cache_size));
        }
        let current = stage.and_then(Stage::method_settings);
        for wanted in &self.methods {
            let setting = current
                .and_then(|map| map.get(&wanted.method_key).or_else(|| map.get(&wanted.method_key.replace("~1", "/"))));
            let now = setting.and_then(|s| current_value(s, wanted.setting));
            if !now.is_some_and(|now| same(&now, &wanted.value, wanted.kind)) {
                ops.push(replace(&wanted.path(), &wanted.value));
            }
        }
        ops
    }
}

/// `/pets/{id}/GET` → `~1pets~1{id}/GET`; `*/*` stays.
fn method_key(key: &str) -> Result<String> {
    let bad = || {
        Error::new(format!("api.api.methodSettings['{key}']: the key is <resource path>/<HTTP method>"))
            .with_help("e.g. \"/pets/GET\", or \"*/*\" for every method")
    };
    let (path, method) = key.rsplit_once('/').ok_or_else(bad)?;
    if !METHODS.contains(&method) {
        return Err(bad());
    }
    if path == "*" {
        return Ok(format!("*/{method}"));
    }
    if !path.starts_with('/') {
        return Err(bad());
    }
    Ok(format!("{}/{method}", path.replace('/', "~1")))
}

fn replace(path: &str, value: &str) -> PatchOperation {
    PatchOperation::builder().op(Op::Replace).path(path).value(value).build()
}

/// The config's value as the patch operation's text.
fn text(value: &Value, kind: Kind) -> Option<String> {
    match (kind, value) {
        (Kind::Bool, Value::Bool(b)) => Some(b.to_string()),
        (Kind::Bool, Value::String(s)) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
            Some(s.to_lowercase())
        }
        (Kind::Number, Value::Number(n)) => Some(n.to_string()),
        (Kind::Number, Value::String(s)) if s.trim().parse::<f64>().is_ok() => Some(s.trim().to_string()),
        (Kind::Text, Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn current_value(setting: &MethodSetting, name: &str) -> Option<String> {
    Some(match name {
        "cachingEnabled" => setting.caching_enabled().to_string(),
        "cacheTtlInSeconds" => setting.cache_ttl_in_seconds().to_string(),
        "cacheDataEncrypted" => setting.cache_data_encrypted().to_string(),
        "requireAuthorizationForCacheControl" => setting.require_authorization_for_cache_control().to_string(),
        "unauthorizedCacheControlHeaderStrategy" => {
            setting.unauthorized_cache_control_header_strategy()?.as_str().to_string()
        }
        "loggingLevel" => setting.logging_level()?.to_string(),
        "dataTraceEnabled" => setting.data_trace_enabled().to_string(),
        "metricsEnabled" => setting.metrics_enabled().to_string(),
        "throttlingBurstLimit" => setting.throttling_burst_limit().to_string(),
        "throttlingRateLimit" => setting.throttling_rate_limit().to_string(),
        _ => return None,
    })
}

fn same(now: &str, wanted: &str, kind: Kind) -> bool {
    match kind {
        Kind::Number => now.parse::<f64>().ok() == wanted.parse::<f64>().ok(),
        Kind::Bool | Kind::Text => now.eq_ignore_ascii_case(wanted),
    }
}

/// The document's SHA-256, hex.
pub fn fingerprint(document: &str) -> String {
    Sha256::digest(document.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The deployment description that records the document.
pub fn description(fingerprint: &str) -> String {
    format!("{RECORD}{fingerprint}")
}

/// The document recorded in a deployment description, if fink made it.
pub fn recorded(description: &str) -> Option<&str> {
    description.strip_prefix(RECORD).map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_apigateway::types::CacheClusterSize;
    use fink_plugin_api::json;
    use std::collections::HashMap;

    fn wanted(api: Value) -> Result<Wanted> {
        let section: Section = serde_json::from_value(json!({"api": api})).unwrap();
        Wanted::from_section(&section)
    }

    fn paths(ops: &[PatchOperation]) -> Vec<(String, String)> {
        ops.iter().map(|o| (o.path().unwrap().to_string(), o.value().unwrap().to_string())).collect()
    }

    #[test]
    fn method_settings_become_patch_paths() {
        let w = wanted(json!({"cacheClusterEnabled": true, "cacheClusterSize": "1.6", "methodSettings": {
            "/pets/{id}/GET": {"cachingEnabled": true, "cacheTtlInSeconds": 60},
            "*/*": {"metricsEnabled": "true", "loggingLevel": "INFO"}
        }}))
        .unwrap();
        assert_eq!(
            paths(&w.changes(None)),
            [
                ("/cacheClusterEnabled", "true"),
                ("/cacheClusterSize", "1.6"),
                ("/*/*/logging/loglevel", "INFO"),
                ("/*/*/metrics/enabled", "true"),
                ("/~1pets~1{id}/GET/caching/ttlInSeconds", "60"),
                ("/~1pets~1{id}/GET/caching/enabled", "true"),
            ]
            .map(|(p, v)| (p.to_string(), v.to_string()))
        );
    }

    #[test]
    fn a_stage_that_has_the_settings_needs_no_change() {
        let w = wanted(json!({"cacheClusterEnabled": true, "methodSettings": {"/hi/GET": {"cachingEnabled": true, "throttlingRateLimit": 100}}}))
            .unwrap();
        let setting = MethodSetting::builder().caching_enabled(true).throttling_rate_limit(100.0).build();
        let stage = Stage::builder()
            .cache_cluster_enabled(true)
            .cache_cluster_size(CacheClusterSize::from("0.5"))
            .set_method_settings(Some(HashMap::from([("~1hi/GET".to_string(), setting)])))
            .build();
        assert!(w.changes(Some(&stage)).is_empty());
        let off = wanted(json!({"methodSettings": {"/hi/GET": {"cachingEnabled": false}}})).unwrap();
        assert_eq!(
            paths(&off.changes(Some(&stage))),
            [
                ("/cacheClusterEnabled".to_string(), "false".to_string()),
                ("/~1hi/GET/caching/enabled".to_string(), "false".to_string())
            ]
        );
    }

    #[test]
    fn bad_keys_and_settings_name_the_key() {
        let err = wanted(json!({"methodSettings": {"/hi": {"cachingEnabled": true}}})).unwrap_err();
        assert_eq!(err.message(), "api.api.methodSettings['/hi']: the key is <resource path>/<HTTP method>");
        let err = wanted(json!({"methodSettings": {"/hi/GET": {"caching": true}}})).unwrap_err();
        assert_eq!(err.message(), "api.api.methodSettings['/hi/GET'].caching: unknown method setting");
        let err = wanted(json!({"methodSettings": {"/hi/GET": {"cachingEnabled": "yes"}}})).unwrap_err();
        assert_eq!(
            err.message(),
            "api.api.methodSettings['/hi/GET'].cachingEnabled: expected true or false, got \"yes\""
        );
    }

    /// docs/api.md lists every method setting with its patch path, and nothing else.
    #[test]
    fn the_docs_table_lists_the_method_settings() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/api.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let start = doc.find("<!-- method-settings").unwrap();
        let end = doc.find("<!-- /method-settings -->").unwrap();
        let rows: Vec<(String, String)> = doc[start..end]
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(|c| c.trim().trim_matches('`')).collect();
                (cells[1].to_string(), cells[2].to_string())
            })
            .collect();
        let listed: Vec<(String, String)> =
            METHOD_SETTINGS.iter().map(|(n, p, _)| (n.to_string(), p.to_string())).collect();
        assert_eq!(rows, listed);
    }

    #[test]
    fn the_description_records_the_document() {
        let fp = fingerprint("openapi: 3.0.1\n");
        assert_eq!(fp.len(), 64);
        assert_eq!(recorded(&description(&fp)), Some(fp.as_str()));
        assert_eq!(recorded("made by hand"), None);
    }
}
