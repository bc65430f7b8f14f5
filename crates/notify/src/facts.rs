//! The facts of a finished tool command that a notification reports: tool, command, env, user,
//! AWS account and region, what it acted on, how it ended and how long it took. Read key by key from
//! the context and config, never by walking the context, so private (`_`-prefixed) keys cannot
//! get in. Each notifier scrubs secrets from the texts it builds from them.

use std::time::Duration;

use fink_plugin_api::Value;

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Succeeded,
    Failed,
}

impl Outcome {
    /// `succeeded` or `failed`.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
        }
    }
}

/// What the command acted on, per tool: (label, value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub label: &'static str,
    pub name: String,
}

/// Where each tool keeps the name of what it deploys.
const TARGETS: &[(&str, &str, &str)] = &[
    ("cloud", "/cloud/stack/StackName", "stack"),
    ("lambda", "/lambda/lambda/name", "function"),
    ("code", "/code/codedeploy/deploymentGroupName", "deployment group"),
    ("api", "/api/api/name", "api"),
];

/// The facts a message reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub tool: String,
    pub command: String,
    pub env: Option<String>,
    pub user: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub target: Option<Target>,
    /// Where the deployed thing answers, when the tool says (`api deploy`'s `api_url`).
    pub url: Option<String>,
    /// The deployment the command created (`code deploy`'s `deployment_id`), also after a failure.
    pub deployment: Option<String>,
    pub outcome: Outcome,
    pub duration: Option<Duration>,
    pub error: Option<String>,
}

impl Facts {
    /// The facts of a tool command's run; `None` for runs without a tool (e.g. `fink config`).
    pub fn gather(context: &Value, config: &Value, outcome: Outcome, duration: Option<Duration>) -> Option<Facts> {
        let text = |key: &str| context.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
        let tool = text("tool")?;
        let target = TARGETS.iter().find(|(t, ..)| *t == tool).and_then(|(_, pointer, label)| {
            let name = config.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())?;
            Some(Target { label, name: name.to_string() })
        });
        Some(Facts {
            command: text("command").unwrap_or_default(),
            env: text("env"),
            user: text("user"),
            account: text("aws_account"),
            region: text("aws_region"),
            target,
            url: text(fink_plugin_api::context::API_URL),
            deployment: text(fink_plugin_api::context::DEPLOYMENT_ID),
            outcome,
            duration,
            error: match outcome {
                Outcome::Failed => Some(text("error").unwrap_or_else(|| "unknown error".into())),
                Outcome::Succeeded => None,
            },
            tool,
        })
    }

    /// One line: `cloud deploy succeeded for stack 'shop' in dev`.
    pub fn headline(&self) -> String {
        let mut line = format!("{} {} {}", self.tool, self.command, self.outcome.word());
        if let Some(target) = &self.target {
            line.push_str(&format!(" for {} '{}'", target.label, target.name));
        }
        if let Some(env) = &self.env {
            line.push_str(&format!(" in {env}"));
        }
        line
    }
}

/// Whether `tool command` is in a notifier's `commands` list: entries are `command` (any tool)
/// or `tool command`, and `*` matches any name.
pub fn listed(commands: &[String], tool: &str, command: &str) -> bool {
    let matches = |pattern: &str, name: &str| pattern == "*" || pattern == name;
    commands.iter().any(|entry| match entry.split_once(' ') {
        Some((t, c)) => matches(t, tool) && matches(c, command),
        None => matches(entry, command),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn the_target_follows_the_tool_and_private_keys_stay_out() {
        let context = json!({"tool": "code", "command": "deploy", "env": "dev", "_secrets": ["x"], "aws_account": "1"});
        let config = json!({"code": {"codedeploy": {"deploymentGroupName": "web"}}});
        let facts = Facts::gather(&context, &config, Outcome::Succeeded, None).unwrap();
        assert_eq!(facts.target, Some(Target { label: "deployment group", name: "web".into() }));
        assert_eq!(facts.headline(), "code deploy succeeded for deployment group 'web' in dev");
        assert_eq!(facts.account.as_deref(), Some("1"));
        assert_eq!(Facts::gather(&json!({"command": "config"}), &config, Outcome::Failed, None), None);
    }

    #[test]
    fn commands_are_listed_by_name_or_by_tool_and_name() {
        let only = vec!["cloud deploy".to_string(), "rollback".to_string()];
        assert!(listed(&only, "cloud", "deploy") && listed(&only, "lambda", "rollback"));
        assert!(!listed(&only, "lambda", "deploy"));
        assert!(listed(&["*".to_string()], "code", "list"));
        assert!(
            listed(&["lambda *".to_string()], "lambda", "ping") && !listed(&["lambda *".to_string()], "cloud", "ping")
        );
    }
}
