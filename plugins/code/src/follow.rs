//! Following a deployment to its end: the overall status and each instance's lifecycle events
//! (ApplicationStop … ValidateService) with the elapsed time, a spinner line on a terminal and
//! plain lines otherwise; on failure a summary of the failed instances, the failed event with its
//! diagnostics, and the last lines of the instances' logs.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use aws_sdk_codedeploy::types::{DeploymentStatus, InstanceTarget, LifecycleEvent};
use aws_sdk_codedeploy::Client;
use fink_aws::interrupt::{Interrupts, EXIT_INTERRUPTED};
use fink_aws::Explained;
use fink_plugin_api::{debug, warn, Error, Result};

/// How often the deployment is polled.
const POLL: Duration = Duration::from_secs(2);

/// How many log lines of each failed instance the summary shows.
const LOG_LINES: i32 = 20;

/// What the summary needs from the instances' logs.
pub struct Logs<'a> {
    pub client: &'a aws_sdk_cloudwatchlogs::Client,
    pub group: &'a str,
}

/// Prints new lines above a spinner (terminal) or as they come (otherwise).
struct Output {
    started: Instant,
    spinner: Option<indicatif::ProgressBar>,
}

impl Output {
    fn new() -> Output {
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Output { started: Instant::now(), spinner }
    }

    fn line(&self, text: &str) {
        let line = format!("{:>7}  {text}", elapsed(self.started));
        match &self.spinner {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn status(&self, text: &str) {
        if let Some(bar) = &self.spinner {
            bar.set_message(format!("{text} ({})", elapsed(self.started)));
        }
    }

    fn done(&mut self) {
        if let Some(bar) = self.spinner.take() {
            bar.finish_and_clear();
        }
    }
}

fn elapsed(since: Instant) -> String {
    let secs = since.elapsed().as_secs();
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// What was last shown, so each change is printed once.
#[derive(Default)]
struct Seen {
    status: String,
    /// (instance, event) → status.
    events: BTreeMap<(String, String), String>,
    /// ListDeploymentTargets failed once: the overall status is all there is.
    no_targets: bool,
}

/// Follows deployment `id` until it succeeds, fails or stops. Ctrl-C (or SIGTERM) stops it with
/// a rollback and waits for that (or, when it cannot be stopped, goes on following it); a second
/// one stops waiting.
pub async fn follow(client: &Client, id: &str, logs: &Logs<'_>, interrupts: &mut Interrupts) -> Result<()> {
    let mut out = Output::new();
    let mut seen = Seen::default();
    loop {
        let status = poll(client, id, &out, &mut seen).await?;
        match status {
            DeploymentStatus::Succeeded => {
                out.done();
                return Ok(());
            }
            DeploymentStatus::Failed | DeploymentStatus::Stopped => {
                out.done();
                return Err(failure(client, id, logs).await);
            }
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = interrupts.next() => return stop(client, id, logs, &mut out, &mut seen, interrupts).await,
        }
    }
}

/// One look at the deployment: prints what changed, returns the overall status.
async fn poll(client: &Client, id: &str, out: &Output, seen: &mut Seen) -> Result<DeploymentStatus> {
    let info = client.get_deployment().deployment_id(id).send().await.explained()?;
    let info = info.deployment_info().ok_or_else(|| Error::new(format!("deployment {id} has no information")))?;
    let status = info.status().cloned().unwrap_or(DeploymentStatus::Created);
    let counts = info
        .deployment_overview()
        .map(|o| {
            format!(
                "{} pending, {} in progress, {} succeeded, {} failed",
                o.pending(),
                o.in_progress(),
                o.succeeded(),
                o.failed()
            )
        })
        .unwrap_or_default();
    let text = format!(
        "deployment {id}: {}{}",
        status.as_str(),
        if counts.is_empty() { String::new() } else { format!(" ({counts})") }
    );
    if status.as_str() != seen.status {
        seen.status = status.as_str().to_string();
        out.line(&text);
    }
    out.status(&text);
    if !seen.no_targets {
        match targets(client, id).await {
            Ok(targets) => {
                for target in &targets {
                    show_events(target, out, seen);
                }
            }
            Err(err) => {
                debug!("cannot list the deployment's instances: {}", err.message());
                seen.no_targets = true;
            }
        }
    }
    Ok(status)
}

fn show_events(target: &InstanceTarget, out: &Output, seen: &mut Seen) {
    let instance = target.target_id().unwrap_or("?");
    for event in target.lifecycle_events() {
        let name = event.lifecycle_event_name().unwrap_or("?");
        let status = event.status().map(|s| s.as_str()).unwrap_or("Pending");
        let key = (instance.to_string(), name.to_string());
        if status == "Pending" || seen.events.get(&key).map(String::as_str) == Some(status) {
            continue;
        }
        seen.events.insert(key, status.to_string());
        let took = match (event.start_time(), event.end_time()) {
            (Some(start), Some(end)) => format!(" ({:.1} s)", (end.as_secs_f64() - start.as_secs_f64()).max(0.0)),
            _ => String::new(),
        };
        out.line(&format!("{instance}  {name}  {status}{took}"));
    }
}

/// The deployment's instances with their lifecycle events.
async fn targets(client: &Client, id: &str) -> Result<Vec<InstanceTarget>> {
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = client.list_deployment_targets().deployment_id(id).set_next_token(token).send().await.explained()?;
        ids.extend(page.target_ids().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    let mut found = Vec::new();
    // BatchGetDeploymentTargets takes at most 25 ids.
    for chunk in ids.chunks(25) {
        let out = client
            .batch_get_deployment_targets()
            .deployment_id(id)
            .set_target_ids(Some(chunk.to_vec()))
            .send()
            .await
            .explained()?;
        found.extend(out.deployment_targets().iter().filter_map(|t| t.instance_target().cloned()));
    }
    found.sort_by(|a, b| a.target_id().cmp(&b.target_id()));
    Ok(found)
}

/// The first interrupt: StopDeployment with a rollback, then wait for it to stop; the second
/// stops waiting. Both end with exit code 130. When StopDeployment fails, the deployment goes on
/// unchanged: it is followed to its end as before (its outcome decides), and a second interrupt
/// detaches saying so.
async fn stop(
    client: &Client,
    id: &str,
    logs: &Logs<'_>,
    out: &mut Output,
    seen: &mut Seen,
    interrupts: &mut Interrupts,
) -> Result<()> {
    warn!("interrupted: stopping deployment {id} with a rollback (Ctrl-C again to stop waiting)");
    let stopping = match client.stop_deployment().deployment_id(id).auto_rollback_enabled(true).send().await {
        Ok(_) => true,
        Err(err) => {
            warn!(
                "could not stop deployment {id} ({}): it goes on unchanged; following it (Ctrl-C again to stop following)",
                fink_aws::explain(&err).message()
            );
            false
        }
    };
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = interrupts.next() => {
                out.done();
                let message = if stopping {
                    format!("interrupted again: stopped waiting; deployment {id} goes on stopping")
                } else {
                    format!("interrupted again: stopped following; deployment {id} goes on (it could not be stopped)")
                };
                return Err(Error::new(message)
                    .with_help(format!("watch it with `fink code list` or `aws deploy get-deployment --deployment-id {id}`"))
                    .with_exit_code(EXIT_INTERRUPTED));
            }
        }
        let status = poll(client, id, out, seen).await?;
        let ended =
            matches!(status, DeploymentStatus::Succeeded | DeploymentStatus::Failed | DeploymentStatus::Stopped);
        if ended && stopping {
            out.done();
            return Err(Error::new(format!("interrupted: deployment {id} stopped; it is {}", status.as_str()))
                .with_exit_code(EXIT_INTERRUPTED));
        }
        if ended {
            // Not stopped by fink: the deployment ended on its own, and its outcome is the command's.
            out.done();
            return match status {
                DeploymentStatus::Succeeded => Ok(()),
                _ => Err(failure(client, id, logs).await),
            };
        }
    }
}

/// The summary of a failed or stopped deployment: its error, each failed instance with the
/// failed lifecycle event and diagnostics, and the tail of the instance's log.
async fn failure(client: &Client, id: &str, logs: &Logs<'_>) -> Error {
    let info = client.get_deployment().deployment_id(id).send().await.ok().and_then(|o| o.deployment_info);
    let status =
        info.as_ref().and_then(|i| i.status()).map(|s| s.as_str().to_string()).unwrap_or_else(|| "Failed".into());
    let mut message = format!("deployment {id} {}", status.to_lowercase());
    if let Some(error) = info.as_ref().and_then(|i| i.error_information()) {
        let code = error.code().map(|c| c.as_str()).unwrap_or("");
        let text = error.message().unwrap_or("");
        message.push_str(&format!(": {}{}{text}", code, if code.is_empty() || text.is_empty() { "" } else { ": " }));
    }
    let started = info.as_ref().and_then(|i| i.create_time()).map(|t| t.to_millis().unwrap_or(0));
    let failed: Vec<InstanceTarget> = match targets(client, id).await {
        Ok(targets) => targets.into_iter().filter(|t| t.status().map(|s| s.as_str()) == Some("Failed")).collect(),
        Err(err) => {
            debug!("cannot list the deployment's instances: {}", err.message());
            Vec::new()
        }
    };
    for target in &failed {
        let instance = target.target_id().unwrap_or("?");
        message.push_str(&format!("\n  instance {instance} failed"));
        if let Some(event) = target.lifecycle_events().iter().find(|e| e.status().map(|s| s.as_str()) == Some("Failed"))
        {
            message.push_str(&diagnostics(event));
        }
        for line in log_tail(logs, instance, started).await {
            message.push_str(&format!("\n      {line}"));
        }
    }
    Error::new(message)
}

/// ` in BeforeInstall: ScriptFailed, script scripts/install.sh: message` and the script's log tail.
fn diagnostics(event: &LifecycleEvent) -> String {
    let mut text = format!(" in {}", event.lifecycle_event_name().unwrap_or("?"));
    let Some(diag) = event.diagnostics() else { return text };
    if let Some(code) = diag.error_code() {
        text.push_str(&format!(": {}", code.as_str()));
    }
    if let Some(script) = diag.script_name().filter(|s| !s.is_empty()) {
        text.push_str(&format!(", script {script}"));
    }
    if let Some(message) = diag.message().filter(|s| !s.is_empty()) {
        text.push_str(&format!(": {message}"));
    }
    if let Some(tail) = diag.log_tail().filter(|s| !s.trim().is_empty()) {
        text.push_str("\n    script output:");
        for line in tail.lines().filter(|l| !l.trim().is_empty()) {
            text.push_str(&format!("\n      {line}"));
        }
    }
    text
}

/// The last lines of `instance`'s stream in the log group since the deployment started, with a
/// heading; nothing when the group or the stream does not exist.
async fn log_tail(logs: &Logs<'_>, instance: &str, since: Option<i64>) -> Vec<String> {
    let request = logs
        .client
        .get_log_events()
        .log_group_name(logs.group)
        .log_stream_name(instance)
        .set_start_time(since)
        .limit(LOG_LINES)
        .start_from_head(false);
    match request.send().await {
        Ok(out) if !out.events().is_empty() => {
            let mut lines = vec![format!("last lines of {} / {instance}:", logs.group)];
            lines.extend(out.events().iter().filter_map(|e| e.message()).map(|m| format!("  {}", m.trim_end())));
            lines
        }
        Ok(_) => Vec::new(),
        Err(err) => {
            debug!("no log lines of {instance} in {}: {}", logs.group, fink_aws::explain(&err).message());
            Vec::new()
        }
    }
}
