//! datadog: reports every tool command to Datadog, as gcdt-datadog-integration did: the metrics
//! `fink.command.count` and `fink.command.duration` tagged with tool, command, env, status, fink
//! version, AWS account and target, and for commands that change something an event.
//!
//! `config` reads `plugins.datadog`, `payload` builds both bodies from the run's facts
//! (`fink_notify::Facts`), and `fink_notify::post` sends them, both at once. A report never
//! changes a run's outcome: every handler returns `Ok`.

mod config;
mod payload;

use std::time::Duration;

use fink_notify::{Facts, Outcome};
use fink_plugin_api::{debug, export_plugin, warn, Event, Registration, Result};

use crate::config::{ApiKey, Settings};

export_plugin! {
    name: "datadog",
    description: "Reports tool commands to Datadog as metrics and events",
    register: register,
}

/// The schema of `plugins.datadog`, and the notifier's signals (`fink_notify::subscribe`): the
/// API key as a secret and the reports.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.config_schema("plugins.datadog", config::schema());
    // Before the host fills in the schema's defaults (after this signal) and before lookups.
    plugin.on(fink_plugin_api::Signal::CONFIG_READ_FINALIZED, gcdt_default);
    fink_notify::subscribe(plugin, hide_key, report);
    Ok(())
}

/// The config-reader's mark of a gcdt project (a `gcdt_<env>.*` file or gcdt's section names).
const GCDT_PROJECT: &str = fink_plugin_api::context::GCDT_PROJECT;

/// In a gcdt project, datadog reports as gcdt-datadog-integration did once installed: a missing
/// `plugins.datadog` section is an empty one, so the default key
/// (`lookup:secret:datadog.api_key:CONTINUE_IF_NOT_FOUND`, credstash in a gcdt project) applies.
fn gcdt_default(event: &mut Event) -> Result<()> {
    if event.context().get(GCDT_PROJECT).is_none() {
        return Ok(());
    }
    let config = event.config_mut();
    let plugins = config.entry("plugins").or_insert_with(|| fink_plugin_api::json!({}));
    if let Some(plugins) = plugins.as_object_mut() {
        plugins.entry("datadog").or_insert_with(|| fink_plugin_api::json!({}));
    }
    Ok(())
}

/// Marks the API key secret, so the host masks it in `fink config` and in log output.
fn hide_key(event: &mut Event) -> Result<()> {
    for key in fink_notify::secret_values(event.plugin_config("datadog"), &config::KEY_NAMES) {
        event.mark_secret(&key);
    }
    Ok(())
}

/// One request to send.
#[derive(Debug, Clone, PartialEq)]
struct Request {
    what: &'static str,
    url: String,
    body: String,
}

/// What to do at the end of a run.
#[derive(Debug, PartialEq)]
enum Plan {
    Send {
        run: String,
        key: String,
        requests: Vec<Request>,
        timeout: Duration,
    },
    /// Nothing to send, for a reason worth a debug line (or none, for runs without a tool).
    Skip(Option<String>),
    /// Nothing sent although the project asked for Datadog: said once at normal verbosity.
    Silent(String),
}

fn report(event: &mut Event, outcome: Outcome, duration: Option<Duration>) {
    match plan(event, outcome, duration) {
        Plan::Skip(None) => {}
        Plan::Skip(Some(why)) => debug!("{why}"),
        Plan::Silent(why) => fink_plugin_api::info!("{why}"),
        Plan::Send { run, key, requests, timeout } => send(&run, &key, requests, timeout),
    }
}

fn plan(event: &Event, outcome: Outcome, duration: Option<Duration>) -> Plan {
    let Some(section) = event.plugin_config("datadog") else { return Plan::Skip(None) };
    let Some(facts) = Facts::gather(event.context(), event.config(), outcome, duration) else {
        return Plan::Skip(None);
    };
    let Settings { api_key, base_url, tags, commands, events, timeout } = config::read(Some(section));
    let run = format!("{} {}", facts.tool, facts.command);
    if !fink_notify::listed(&commands, &facts.tool, &facts.command) {
        return Plan::Skip(Some(format!("'{run}' is not among plugins.datadog.commands: not reported")));
    }
    let key = match api_key {
        ApiKey::Key(key) => key,
        ApiKey::Missing => {
            return Plan::Silent(format!(
                "no Datadog API key configured (plugins.datadog.api_key is empty or missing, or its lookup found nothing): '{run}' not reported"
            ))
        }
        ApiKey::Unresolved => {
            return Plan::Silent(format!(
                "plugins.datadog.api_key is still a lookup (no lookups plugin, or the run stopped before lookups): '{run}' not reported"
            ))
        }
    };
    let secrets = event.secret_values();
    let fink_version = event.context().get("fink_version").and_then(|v| v.as_str());
    let tags = payload::tags(&facts, fink_version, &tags, &secrets);
    let mut requests = vec![Request {
        what: "metrics",
        url: format!("{base_url}/api/v2/series"),
        body: payload::series(&facts, &tags).to_string(),
    }];
    if fink_notify::listed(&events, &facts.tool, &facts.command) {
        requests.push(Request {
            what: "event",
            url: format!("{base_url}/api/v1/events"),
            body: payload::event(&facts, &tags, &secrets).to_string(),
        });
    }
    Plan::Send { run, key, requests, timeout }
}

/// Sends the requests at the same time, so a slow Datadog costs its latency once; a failure is a
/// warning without the key.
fn send(run: &str, key: &str, requests: Vec<Request>, timeout: Duration) {
    std::thread::scope(|scope| {
        let sent: Vec<_> = requests
            .iter()
            .map(|request| {
                let headers = [("DD-API-KEY", key)];
                (request.what, scope.spawn(move || fink_notify::post(&request.url, &headers, &request.body, timeout)))
            })
            .collect();
        for (what, handle) in sent {
            match handle.join() {
                Ok(Ok(attempts)) => debug!("reported '{run}' to Datadog ({what}, {})", fink_notify::attempts(attempts)),
                Ok(Err(failed)) => warn!(
                    "could not report '{run}' to Datadog ({what}): {} ({}, {} each); the command's result is unchanged",
                    failed.why,
                    fink_notify::attempts(failed.attempts),
                    fink_plugin_api::human::seconds(timeout)
                ),
                Err(_) => warn!("could not report '{run}' to Datadog ({what}): the sender stopped"),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::Signal;

    fn plan_for(context: &str, config: &str) -> Plan {
        let mut event = Event::new(Signal::ERROR, context, config);
        hide_key(&mut event).unwrap();
        plan(&event, Outcome::Failed, Some(Duration::from_secs(2)))
    }

    const KEY: &str = r#"{"plugins": {"datadog": {"api_key": "k3y-123456", "site": "http://127.0.0.1:9"}}}"#;

    #[test]
    fn a_deploy_sends_metrics_and_an_event_a_list_only_metrics() {
        let Plan::Send { run, key, requests, timeout } =
            plan_for(r#"{"tool": "cloud", "command": "deploy", "env": "dev", "error": "boom k3y-123456"}"#, KEY)
        else {
            panic!("nothing to send")
        };
        assert_eq!((run.as_str(), key.as_str(), timeout), ("cloud deploy", "k3y-123456", Duration::from_secs(5)));
        let urls: Vec<&str> = requests.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(urls, ["http://127.0.0.1:9/api/v2/series", "http://127.0.0.1:9/api/v1/events"]);
        assert!(requests.iter().all(|r| !r.body.contains("k3y-123456")), "{requests:?}");
        assert!(requests[1].body.contains("boom ****"), "{}", requests[1].body);

        let Plan::Send { requests, .. } = plan_for(r#"{"tool": "cloud", "command": "list"}"#, KEY) else { panic!() };
        assert_eq!(requests.iter().map(|r| r.what).collect::<Vec<_>>(), ["metrics"]);
    }

    #[test]
    fn without_a_section_a_key_or_a_tool_nothing_is_sent() {
        assert_eq!(plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, "{}"), Plan::Skip(None));
        assert_eq!(plan_for(r#"{"command": "config"}"#, KEY), Plan::Skip(None));
        // With a section, the project hears why at normal verbosity.
        let Plan::Silent(why) =
            plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, r#"{"plugins": {"datadog": {}}}"#)
        else {
            panic!()
        };
        assert!(why.starts_with("no Datadog API key configured"), "{why}");
        let lookup = format!(r#"{{"plugins": {{"datadog": {{"api_key": "{}"}}}}}}"#, config::DEFAULT_API_KEY);
        let Plan::Silent(why) = plan_for(r#"{"tool": "cloud", "command": "deploy"}"#, &lookup) else { panic!() };
        assert!(why.contains("still a lookup"), "{why}");
    }
}
