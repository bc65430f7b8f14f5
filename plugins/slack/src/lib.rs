//! slack: announces the outcome of deployment commands (`cloud deploy`, `lambda rollback`, ...) in
//! a Slack channel through an incoming webhook, as gcdt-slack-integration did.
//!
//! `config` reads `plugins.slack`, `message` builds the payload from the run's facts, and
//! `fink_notify::post` posts it (shared with the datadog plugin). A notification never changes a
//! run's outcome: every handler returns `Ok`.

mod config;
mod message;

use std::time::Duration;

use fink_plugin_api::{debug, export_plugin, warn, Event, Registration, Result};

use crate::config::{Settings, Webhook};
use crate::message::{Facts, Outcome};

export_plugin! {
    name: "slack",
    description: "Announces the outcome of deployment commands in Slack",
    register: register,
}

/// The schema of `plugins.slack`, and the notifier's signals (`fink_notify::subscribe`): the
/// webhook as a secret and the two announcements.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.config_schema("plugins.slack", config::schema());
    fink_notify::subscribe(plugin, hide_webhook, announce);
    Ok(())
}

/// Marks the webhook URL secret, so the host masks it in `fink config` and in log output.
fn hide_webhook(event: &mut Event) -> Result<()> {
    for url in fink_notify::secret_values(event.plugin_config("slack"), &config::WEBHOOK_NAMES) {
        event.mark_secret(&url);
    }
    Ok(())
}

/// What to do at the end of a run.
#[derive(Debug, PartialEq)]
enum Plan {
    /// Post `body` to `url`.
    Post { run: String, url: String, body: String, timeout: Duration },
    /// No message, for a reason worth a debug line (or none, for runs without a tool).
    Skip(Option<String>),
    /// No message, because the config is wrong.
    Warn(String),
}

/// Sends the message for a finished tool command, if it is one to announce and a webhook is set.
fn announce(event: &mut Event, outcome: Outcome, duration: Option<Duration>) {
    match plan(event, outcome, duration) {
        Plan::Skip(None) => {}
        Plan::Skip(Some(why)) => debug!("{why}"),
        Plan::Warn(why) => warn!("{why}"),
        Plan::Post { run, url, body, timeout } => match fink_notify::post(&url, &[], &body, timeout) {
            Ok(attempts) => debug!("announced '{run}' in Slack ({})", fink_notify::attempts(attempts)),
            Err(failed) => warn!(
                "could not announce '{run}' in Slack: {} ({}, {} each); the command's result is unchanged",
                failed.why,
                fink_notify::attempts(failed.attempts),
                fink_plugin_api::human::seconds(timeout)
            ),
        },
    }
}

fn plan(event: &Event, outcome: Outcome, duration: Option<Duration>) -> Plan {
    let Some(facts) = Facts::gather(event.context(), event.config(), outcome, duration) else {
        return Plan::Skip(None);
    };
    let settings = config::read(event.plugin_config("slack"));
    let run = format!("{} {}", facts.tool, facts.command);
    if !config::announces(&settings.commands, &facts.tool, &facts.command) {
        return Plan::Skip(Some(format!("'{run}' is not among plugins.slack.commands: no message")));
    }
    let Settings { webhook, channel, timeout, .. } = settings;
    let url = match webhook {
        Webhook::Url(url) => url,
        Webhook::Missing => {
            return Plan::Skip(Some(format!(
                "no Slack webhook configured (plugins.slack.webhook is empty or missing): no message for '{run}'"
            )))
        }
        Webhook::Unresolved => {
            return Plan::Skip(Some(format!(
                "plugins.slack.webhook is still a lookup (no lookups plugin, or the run stopped before lookups): no message for '{run}'"
            )))
        }
        Webhook::Invalid => {
            return Plan::Warn(format!("plugins.slack.webhook is not an http(s) URL: no message for '{run}'"))
        }
    };
    let body = message::payload(&facts, channel.as_deref(), &event.secret_values()).to_string();
    Plan::Post { run, url, body, timeout }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::Signal;

    #[test]
    fn the_webhook_becomes_a_secret_unless_it_is_still_a_lookup() {
        let config = r#"{"plugins": {"slack": {"webhook": "https://hooks.slack.com/services/T/B/x"}}}"#;
        let mut event = Event::new(Signal::LOOKUP_FINALIZED, "{}", config);
        hide_webhook(&mut event).unwrap();
        assert_eq!(event.secrets(), vec!["https://hooks.slack.com/services/T/B/x"]);

        let config = format!(r#"{{"plugins": {{"slack": {{"webhook": "{}"}}}}}}"#, config::DEFAULT_WEBHOOK);
        let mut event = Event::new(Signal::CONFIG_READ_FINALIZED, "{}", &config);
        hide_webhook(&mut event).unwrap();
        assert!(event.into_changes().context.is_none());
    }

    fn plan_for(context: &str, config: &str) -> Plan {
        let mut event = Event::new(Signal::ERROR, context, config);
        hide_webhook(&mut event).unwrap();
        plan(&event, Outcome::Failed, None)
    }

    const HOOK: &str = r##"{"plugins": {"slack": {"webhook": "https://hooks.example/T/B/x", "channel": "#ops"}}}"##;

    #[test]
    fn a_deploy_with_a_webhook_is_posted_without_the_url_in_the_body() {
        let context =
            r#"{"tool": "cloud", "command": "deploy", "env": "dev", "error": "boom at https://hooks.example/T/B/x"}"#;
        let Plan::Post { run, url, body, timeout } = plan_for(context, HOOK) else { panic!("no post") };
        assert_eq!(
            (run.as_str(), url.as_str(), timeout),
            ("cloud deploy", "https://hooks.example/T/B/x", Duration::from_secs(5))
        );
        assert!(body.contains("boom at ****") && body.contains("#ops"), "{body}");
        assert!(!body.contains("hooks.example"), "{body}");
    }

    #[test]
    fn runs_that_are_not_announced_say_why_at_debug_level() {
        assert_eq!(plan_for(r#"{"command": "config", "env": "dev"}"#, HOOK), Plan::Skip(None));
        let Plan::Skip(Some(why)) = plan_for(r#"{"tool": "cloud", "command": "list"}"#, HOOK) else { panic!() };
        assert!(why.contains("'cloud list' is not among plugins.slack.commands"), "{why}");
        let empty = r#"{"plugins": {"slack": {"webhook": ""}}}"#;
        let Plan::Skip(Some(why)) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, empty) else { panic!() };
        assert!(why.starts_with("no Slack webhook configured"), "{why}");
        let lookup = format!(r#"{{"plugins": {{"slack": {{"webhook": "{}"}}}}}}"#, config::DEFAULT_WEBHOOK);
        let Plan::Skip(Some(why)) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, &lookup) else { panic!() };
        assert!(why.contains("still a lookup"), "{why}");
        let odd = r#"{"plugins": {"slack": {"webhook": "hooks.example/T/B/x"}}}"#;
        let Plan::Warn(why) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, odd) else { panic!() };
        assert!(!why.contains("hooks.example"), "{why}");
    }
}
