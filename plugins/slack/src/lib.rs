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
    // Before the host fills in the schema's defaults (after this signal) and before lookups.
    plugin.on(fink_plugin_api::Signal::CONFIG_READ_FINALIZED, gcdt_default);
    fink_notify::subscribe(plugin, hide_webhook, announce);
    Ok(())
}

/// The config-reader's mark of a gcdt project (a `gcdt_<env>.*` file or gcdt's section names).
const GCDT_PROJECT: &str = fink_plugin_api::context::GCDT_PROJECT;

/// In a gcdt project, slack announces as gcdt-slack-integration did once installed: with no
/// `plugins.slack` section, or one without a webhook, the webhook is gcdt's default
/// (`lookup:secret:slack.webhook:CONTINUE_IF_NOT_FOUND`, from credstash in a gcdt project).
fn gcdt_default(event: &mut Event) -> Result<()> {
    if event.context().get(GCDT_PROJECT).is_none() {
        return Ok(());
    }
    let config = event.config_mut();
    let plugins = config.entry("plugins").or_insert_with(|| fink_plugin_api::json!({}));
    let Some(plugins) = plugins.as_object_mut() else { return Ok(()) };
    let section = plugins.entry("slack").or_insert_with(|| fink_plugin_api::json!({}));
    if let Some(section) = section.as_object_mut() {
        if !config::WEBHOOK_NAMES.iter().any(|name| section.contains_key(*name)) {
            debug!("a gcdt project: the Slack webhook is gcdt's default, {}", config::GCDT_DEFAULT_WEBHOOK);
            section.insert("webhook".into(), config::GCDT_DEFAULT_WEBHOOK.into());
        }
    }
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
    /// No message although the project asked for Slack (a `plugins.slack` section, or a gcdt
    /// project): said once at normal verbosity.
    Silent(String),
    /// No message, because the config is wrong.
    Warn(String),
}

/// Sends the message for a finished tool command, if it is one to announce and a webhook is set.
fn announce(event: &mut Event, outcome: Outcome, duration: Option<Duration>) {
    match plan(event, outcome, duration) {
        Plan::Skip(None) => {}
        Plan::Skip(Some(why)) => debug!("{why}"),
        Plan::Silent(why) => fink_plugin_api::info!("{why}"),
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
    // A project that asked for Slack hears why nothing was sent; one that did not, only at -v.
    let asked = event.plugin_config("slack").is_some() || event.context().get(GCDT_PROJECT).is_some();
    let silent = |why: String| if asked { Plan::Silent(why) } else { Plan::Skip(Some(why)) };
    let url = match webhook {
        Webhook::Url(url) => url,
        Webhook::Missing => {
            return silent(format!(
                "no Slack webhook configured (plugins.slack.webhook is empty or missing, or its lookup found nothing): no message for '{run}'"
            ))
        }
        Webhook::Unresolved => {
            return silent(format!(
                "plugins.slack.webhook is still a lookup (no lookups plugin, or the run stopped before lookups): no message for '{run}'"
            ))
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
        // The project has a plugins.slack section: it hears why at normal verbosity.
        let Plan::Silent(why) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, empty) else { panic!() };
        assert!(why.starts_with("no Slack webhook configured"), "{why}");
        let lookup = format!(r#"{{"plugins": {{"slack": {{"webhook": "{}"}}}}}}"#, config::DEFAULT_WEBHOOK);
        let Plan::Silent(why) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, &lookup) else { panic!() };
        assert!(why.contains("still a lookup"), "{why}");
        // Without a section, only at -v.
        let Plan::Skip(Some(why)) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, "{}") else { panic!() };
        assert!(why.starts_with("no Slack webhook configured"), "{why}");
        let odd = r#"{"plugins": {"slack": {"webhook": "hooks.example/T/B/x"}}}"#;
        let Plan::Warn(why) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, odd) else { panic!() };
        assert!(!why.contains("hooks.example"), "{why}");
    }
}
