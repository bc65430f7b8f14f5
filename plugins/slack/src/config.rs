//! The `plugins.slack` section: its schema (with the defaults the host fills in) and reading it.

use std::time::Duration;

use fink_plugin_api::{json, Value};

/// Where the webhook comes from unless the project says otherwise: the SSM parameter
/// `slack.webhook`, resolved by the lookups plugin; empty when the parameter doesn't exist.
pub const DEFAULT_WEBHOOK: &str = "lookup:parameter:slack.webhook:CONTINUE_IF_NOT_FOUND";

/// gcdt's default webhook, used in a gcdt project: the credstash secret `slack.webhook` (a gcdt
/// project's `lookup:secret:` reads credstash), empty when it doesn't exist.
pub const GCDT_DEFAULT_WEBHOOK: &str = "lookup:secret:slack.webhook:CONTINUE_IF_NOT_FOUND";

/// Commands announced by default: the ones that change something, of every tool.
pub const DEFAULT_COMMANDS: &[&str] = fink_notify::CHANGE_COMMANDS;

/// The JSON Schema of `plugins.slack`.
pub fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "enabled": {"type": "boolean"},
            "defaults": {"type": "object"},
            "webhook": {
                "type": "string",
                "default": DEFAULT_WEBHOOK,
                "description": "Slack incoming-webhook URL; empty sends nothing"
            },
            "slack_webhook": {"type": "string", "description": "gcdt's name for webhook; wins when given"},
            "channel": {"type": "string", "description": "channel to post to, for webhooks that allow overriding it"},
            "commands": fink_notify::commands_schema(
                DEFAULT_COMMANDS,
                "commands to announce: `command` (any tool) or `tool command`; `*` matches any"
            ),
            "timeout": fink_notify::timeout_schema()
        },
        "additionalProperties": false
    })
}

/// What `plugins.slack.webhook` holds by the time a message is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Webhook {
    /// A URL to post to.
    Url(String),
    /// Nothing configured, or empty (a `CONTINUE_IF_NOT_FOUND` lookup that found nothing).
    Missing,
    /// Still a `lookup:` string: the lookups plugin is missing, off, or the run failed before it.
    Unresolved,
    /// Something that is not an http(s) URL.
    Invalid,
}

/// The settings of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub webhook: Webhook,
    pub channel: Option<String>,
    /// `command` or `tool command` entries; `*` matches anything.
    pub commands: Vec<String>,
    pub timeout: Duration,
}

/// Reads `plugins.slack` (the section itself, or `None` when the config has none).
pub fn read(section: Option<&Value>) -> Settings {
    let text = |key: &str| section.and_then(|s| s.get(key)).and_then(Value::as_str);
    let commands = match section.and_then(|s| s.get("commands")).and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_str).map(String::from).collect(),
        None => DEFAULT_COMMANDS.iter().map(|c| c.to_string()).collect(),
    };
    Settings {
        webhook: webhook(text("slack_webhook").or(text("webhook"))),
        channel: text("channel").map(str::trim).filter(|c| !c.is_empty()).map(String::from),
        commands,
        timeout: fink_notify::timeout(section),
    }
}

/// Today's and gcdt's name of the webhook.
pub const WEBHOOK_NAMES: [&str; 2] = ["webhook", "slack_webhook"];

fn webhook(value: Option<&str>) -> Webhook {
    match value.map(str::trim) {
        None | Some("") => Webhook::Missing,
        Some(v) if v.starts_with("lookup:") => Webhook::Unresolved,
        Some(v) if v.starts_with("https://") || v.starts_with("http://") => Webhook::Url(v.to_string()),
        Some(_) => Webhook::Invalid,
    }
}

/// Whether `tool command` is one of the commands to announce.
pub fn announces(commands: &[String], tool: &str, command: &str) -> bool {
    fink_notify::listed(commands, tool, command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn defaults_announce_deploy_style_commands_of_every_tool_only() {
        let settings = read(None);
        for (tool, command) in [("cloud", "deploy"), ("lambda", "rollback"), ("lambda", "wire"), ("cloud", "stop")] {
            assert!(announces(&settings.commands, tool, command), "{tool} {command}");
        }
        for (tool, command) in [("cloud", "list"), ("lambda", "info"), ("cloud", "config"), ("demo", "run")] {
            assert!(!announces(&settings.commands, tool, command), "{tool} {command}");
        }
        assert_eq!(settings.webhook, Webhook::Missing);
        assert_eq!(settings.timeout, Duration::from_secs(5));
    }

    #[test]
    fn entries_name_a_command_or_a_tool_and_command() {
        let commands = list(&["run", "cloud deploy", "lambda *"]);
        assert!(announces(&commands, "demo", "run"));
        assert!(announces(&commands, "cloud", "deploy"));
        assert!(!announces(&commands, "code", "deploy"));
        assert!(announces(&commands, "lambda", "logs"));
        assert!(!announces(&[], "cloud", "deploy"));
        assert!(announces(&list(&["*"]), "any", "thing"));
    }

    #[test]
    fn the_webhook_is_a_url_missing_unresolved_or_invalid() {
        let read_hook = |v: Value| read(Some(&v)).webhook;
        assert_eq!(
            read_hook(json!({"webhook": "https://hooks.slack.com/x"})),
            Webhook::Url("https://hooks.slack.com/x".into())
        );
        assert_eq!(read_hook(json!({"webhook": ""})), Webhook::Missing);
        assert_eq!(read_hook(json!({})), Webhook::Missing);
        assert_eq!(read_hook(json!({"webhook": DEFAULT_WEBHOOK})), Webhook::Unresolved);
        assert_eq!(read_hook(json!({"webhook": "hooks.slack.com/x"})), Webhook::Invalid);
    }

    #[test]
    fn gcdts_slack_webhook_wins_over_the_default() {
        let section = json!({"webhook": DEFAULT_WEBHOOK, "slack_webhook": "https://old.example/x"});
        assert_eq!(read(Some(&section)).webhook, Webhook::Url("https://old.example/x".into()));
        assert_eq!(fink_notify::secret_values(Some(&section), &WEBHOOK_NAMES), vec!["https://old.example/x"]);
    }

    #[test]
    fn channel_commands_and_timeout_are_read() {
        let section = json!({"channel": " #deploys ", "commands": ["run"], "timeout": 9});
        let settings = read(Some(&section));
        assert_eq!(settings.channel.as_deref(), Some("#deploys"));
        assert_eq!(settings.commands, list(&["run"]));
        assert_eq!(settings.timeout, Duration::from_secs(5), "capped at 5 s");
        assert_eq!(read(Some(&json!({"timeout": 0.5}))).timeout, Duration::from_millis(500));
    }

    #[test]
    fn the_schema_fills_what_read_falls_back_to() {
        let schema = schema();
        assert_eq!(schema["properties"]["webhook"]["default"], json!(DEFAULT_WEBHOOK));
        assert_eq!(schema["properties"]["commands"]["default"], json!(DEFAULT_COMMANDS));
        assert!(schema["properties"]["enabled"].is_object(), "the host's switch must stay valid");
    }
}
