//! The `plugins.datadog` section: its schema (with the defaults the host fills in) and reading it.

use std::time::Duration;

use fink_plugin_api::{json, Value};

/// Where the API key comes from unless the project says otherwise: the Secrets Manager secret
/// `datadog` (key `api_key`), resolved by the lookups plugin; empty when it doesn't exist.
pub const DEFAULT_API_KEY: &str = "lookup:secret:datadog.api_key:CONTINUE_IF_NOT_FOUND";

/// Datadog's US site.
pub const DEFAULT_SITE: &str = "datadoghq.com";

/// Commands that also get an event by default: the ones that change something.
pub const EVENT_COMMANDS: &[&str] = fink_notify::CHANGE_COMMANDS;

/// The JSON Schema of `plugins.datadog`.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "enabled": {"type": "boolean"},
            "defaults": {"type": "object"},
            "api_key": {
                "type": "string",
                "default": DEFAULT_API_KEY,
                "description": "Datadog API key; empty sends nothing"
            },
            "datadog_api_key": {"type": "string", "description": "gcdt's name for api_key; wins when given"},
            "site": {
                "type": "string",
                "minLength": 1,
                "default": DEFAULT_SITE,
                "description": "Datadog site (datadoghq.com, datadoghq.eu, us5.datadoghq.com, ...) or the API's base URL"
            },
            "tags": {"type": "array", "items": {"type": "string"}, "description": "extra tags, `key:value`"},
            "commands": fink_notify::commands_schema(
                &["*"],
                "commands to report: `command` (any tool) or `tool command`; `*` matches any"
            ),
            "events": fink_notify::commands_schema(
                EVENT_COMMANDS,
                "reported commands that also get an event, written like `commands`"
            ),
            "timeout": fink_notify::timeout_schema()
        },
        "additionalProperties": false
    })
}

/// What `plugins.datadog.api_key` holds by the time a report is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiKey {
    Key(String),
    /// Nothing configured, or empty (a `CONTINUE_IF_NOT_FOUND` lookup that found nothing).
    Missing,
    /// Still a `lookup:` string: the lookups plugin is missing, off, or the run failed before it.
    Unresolved,
}

/// The settings of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub api_key: ApiKey,
    /// The API's base URL, without a trailing `/`.
    pub base_url: String,
    pub tags: Vec<String>,
    pub commands: Vec<String>,
    /// The reported commands that also get an event.
    pub events: Vec<String>,
    pub timeout: Duration,
}

/// Reads `plugins.datadog` (the section itself, or `None` when the config has none).
pub fn read(section: Option<&Value>) -> Settings {
    let get = |key: &str| section.and_then(|s| s.get(key));
    let strings = |key: &str| -> Option<Vec<String>> {
        get(key).and_then(Value::as_array).map(|l| l.iter().filter_map(Value::as_str).map(String::from).collect())
    };
    Settings {
        api_key: api_key(get("datadog_api_key").or_else(|| get("api_key")).and_then(Value::as_str)),
        base_url: base_url(get("site").and_then(Value::as_str).unwrap_or(DEFAULT_SITE)),
        tags: strings("tags").unwrap_or_default(),
        commands: strings("commands").unwrap_or_else(|| vec!["*".to_string()]),
        events: strings("events").unwrap_or_else(|| EVENT_COMMANDS.iter().map(|c| c.to_string()).collect()),
        timeout: fink_notify::timeout(section),
    }
}

/// Today's and gcdt's name of the API key.
pub const KEY_NAMES: [&str; 2] = ["api_key", "datadog_api_key"];

fn api_key(value: Option<&str>) -> ApiKey {
    match value.map(str::trim) {
        None | Some("") => ApiKey::Missing,
        Some(v) if v.starts_with("lookup:") => ApiKey::Unresolved,
        Some(v) => ApiKey::Key(v.to_string()),
    }
}

/// `datadoghq.eu` → `https://api.datadoghq.eu`; a URL stays as it is (tests, proxies).
pub fn base_url(site: &str) -> String {
    let site = site.trim().trim_end_matches('/');
    if site.starts_with("https://") || site.starts_with("http://") {
        site.to_string()
    } else {
        format!("https://api.{site}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_report_everything_to_the_us_site() {
        let settings = read(Some(&json!({})));
        assert_eq!(settings.api_key, ApiKey::Missing);
        assert_eq!(settings.base_url, "https://api.datadoghq.com");
        assert!(fink_notify::listed(&settings.commands, "cloud", "list"));
        assert_eq!(settings.timeout, Duration::from_secs(5));
    }

    #[test]
    fn sites_and_urls() {
        assert_eq!(base_url("datadoghq.eu"), "https://api.datadoghq.eu");
        assert_eq!(base_url("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    }

    #[test]
    fn the_key_is_a_key_only_once_resolved() {
        assert_eq!(read(Some(&json!({"api_key": DEFAULT_API_KEY}))).api_key, ApiKey::Unresolved);
        assert_eq!(read(Some(&json!({"api_key": " k3y "}))).api_key, ApiKey::Key("k3y".into()));
        // gcdt's name wins when given.
        let both = json!({"api_key": DEFAULT_API_KEY, "datadog_api_key": "old"});
        assert_eq!(read(Some(&both)).api_key, ApiKey::Key("old".into()));
    }
}
