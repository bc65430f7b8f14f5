//! Waiting for a stack to settle while showing its new events (all pages, oldest first), coloured
//! by status, with the elapsed time; a spinner on a terminal, plain lines otherwise.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::StackEvent;
use aws_sdk_cloudformation::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

/// How long to wait before asking again: often at first, so a small stack is seen done as soon
/// as it is (and a tree of them deploys at CloudFormation's pace), then less often (as the CDK's 5 s).
fn poll_delay(waited: Duration) -> Duration {
    match waited.as_secs() {
        0..=2 => Duration::from_millis(200),
        3..=9 => Duration::from_millis(500),
        10..=59 => Duration::from_secs(2),
        _ => Duration::from_secs(5),
    }
}

/// Where a wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub status: String,
    /// The first failed resources and their reasons, oldest first.
    pub failures: Vec<String>,
}

impl Settled {
    pub fn ok(&self) -> bool {
        matches!(self.status.as_str(), "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "IMPORT_COMPLETE" | "DELETE_COMPLETE")
    }
}

/// Events already shown, so each is printed once.
pub struct Watcher {
    seen: HashSet<String>,
    started: Instant,
    spinner: Option<indicatif::ProgressBar>,
    /// Also show the events of the stack's nested stacks (see [`Watcher::follow_nested`]).
    nested: bool,
}

impl Watcher {
    /// A watcher that treats the stack's current events as already seen.
    pub async fn new(client: &Client, stack: &str) -> Watcher {
        let seen = all_events(client, stack).await.unwrap_or_default().into_iter().filter_map(|e| e.event_id).collect();
        let spinner = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Watcher { seen, started: Instant::now(), spinner, nested: false }
    }

    /// Shows the nested stacks' events too, each resource as `<nested logical id>/<resource>`;
    /// the events they have now count as seen.
    pub async fn follow_nested(&mut self, client: &Client, stack: &str) {
        self.nested = true;
        for (_, id) in nested_stacks(client, stack).await {
            let events = all_events(client, &id).await.unwrap_or_default();
            self.seen.extend(events.into_iter().filter_map(|e| e.event_id));
        }
    }

    /// Polls until the stack's status is no longer *_IN_PROGRESS; a stack that is gone counts
    /// as DELETE_COMPLETE.
    pub async fn wait(&mut self, client: &Client, stack: &str) -> Result<Settled> {
        let mut failures = Vec::new();
        loop {
            let status = match client.describe_stacks().stack_name(stack).send().await {
                Ok(out) => out.stacks().first().and_then(|s| s.stack_status()).map(|s| s.as_str().to_string()),
                Err(err) if fink_aws::code(&err) == Some("ValidationError") => None,
                Err(err) => return Err(fink_aws::explain(&err)),
            };
            self.show_new(client, stack, &mut failures).await;
            let status = status.unwrap_or_else(|| "DELETE_COMPLETE".to_string());
            if let Some(bar) = &self.spinner {
                bar.set_message(format!("{stack}: {status} ({})", elapsed(self.started)));
            }
            if !status.ends_with("_IN_PROGRESS") {
                if let Some(bar) = self.spinner.take() {
                    bar.finish_and_clear();
                }
                return Ok(Settled { status, failures });
            }
            tokio::time::sleep(poll_delay(self.started.elapsed())).await;
        }
    }

    async fn show_new(&mut self, client: &Client, stack: &str, failures: &mut Vec<String>) {
        self.show_events(client, stack, "", failures).await;
        if self.nested {
            for (prefix, id) in nested_stacks(client, stack).await {
                self.show_events(client, &id, &format!("{prefix}/"), failures).await;
            }
        }
    }

    /// The new events of one stack; `prefix` names a nested stack's resources.
    async fn show_events(&mut self, client: &Client, stack: &str, prefix: &str, failures: &mut Vec<String>) {
        let Ok(events) = all_events(client, stack).await else { return };
        // The API lists newest first.
        for event in events.into_iter().rev() {
            let Some(id) = event.event_id.clone() else { continue };
            if !self.seen.insert(id) {
                continue;
            }
            let status = event.resource_status().map(|s| s.as_str()).unwrap_or("?");
            let resource = format!("{prefix}{}", event.logical_resource_id().unwrap_or("?"));
            let kind = event.resource_type().unwrap_or("");
            let reason = event.resource_status_reason().unwrap_or("");
            if status.ends_with("_FAILED") && failures.len() < 5 && !reason.is_empty() {
                failures.push(format!("{resource} ({kind}): {reason}"));
            }
            let line = format!("{:>7}  {}  {resource}  {kind}  {reason}", elapsed(self.started), paint(status));
            match &self.spinner {
                Some(bar) => bar.println(line.trim_end()),
                None => eprintln!("{}", line.trim_end()),
            }
        }
    }
}

/// The nested stacks under a stack (their nested stacks too, a few levels deep): the logical id
/// path (`Network/Subnets`) and the stack's id.
async fn nested_stacks(client: &Client, stack: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![(String::new(), stack.to_string(), 0)];
    while let Some((prefix, id, depth)) = pending.pop() {
        let Ok(out) = client.describe_stack_resources().stack_name(&id).send().await else { continue };
        for resource in out.stack_resources() {
            let (Some(logical), Some(physical)) = (resource.logical_resource_id(), resource.physical_resource_id())
            else {
                continue;
            };
            if resource.resource_type() != Some("AWS::CloudFormation::Stack") || physical.is_empty() {
                continue;
            }
            let path = if prefix.is_empty() { logical.to_string() } else { format!("{prefix}/{logical}") };
            found.push((path.clone(), physical.to_string()));
            if depth < NESTED_DEPTH {
                pending.push((path, physical.to_string(), depth + 1));
            }
        }
    }
    found.sort();
    found
}

/// How deep [`nested_stacks`] looks below the stack.
const NESTED_DEPTH: usize = 4;

/// Every event of the stack (all pages).
async fn all_events(client: &Client, stack: &str) -> Result<Vec<StackEvent>> {
    let mut events = Vec::new();
    let mut token = None;
    loop {
        let out = client.describe_stack_events().stack_name(stack).set_next_token(token).send().await.explained()?;
        events.extend(out.stack_events().iter().cloned());
        token = out.next_token().map(String::from);
        if token.is_none() {
            return Ok(events);
        }
    }
}

fn elapsed(since: Instant) -> String {
    let secs = since.elapsed().as_secs();
    format!("{}:{:02}", secs / 60, secs % 60)
}

/// Green for completion, red for failures and rollbacks, yellow while in progress.
fn paint(status: &str) -> String {
    if std::env::var_os("NO_COLOR").is_some() || !std::io::stderr().is_terminal() {
        return status.to_string();
    }
    let code = if status.contains("FAILED") || status.contains("ROLLBACK") {
        "31"
    } else if status.ends_with("_COMPLETE") {
        "32"
    } else {
        "33"
    };
    format!("\x1b[{code}m{status}\x1b[0m")
}

/// A failed wait as one error with the root causes: failures inside nested stacks first, before
/// the parent's "Embedded stack ... was not successfully created".
pub fn failure(stack: &str, settled: &Settled) -> Error {
    let mut message = format!("stack '{stack}' ended in {}", settled.status);
    if !settled.failures.is_empty() {
        let mut failures = settled.failures.clone();
        failures.sort_by_key(|f| !f.split(' ').next().is_some_and(|resource| resource.contains('/')));
        message.push_str(":\n  ");
        message.push_str(&failures.join("\n  "));
    }
    Error::new(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_inside_a_nested_stack_comes_first() {
        let settled = Settled {
            status: "ROLLBACK_COMPLETE".into(),
            failures: vec![
                "Net (AWS::CloudFormation::Stack): Embedded stack arn:x was not successfully created".into(),
                "Net/Queue (AWS::SQS::Queue): Invalid value for DelaySeconds".into(),
            ],
        };
        assert_eq!(
            failure("shop", &settled).message(),
            "stack 'shop' ended in ROLLBACK_COMPLETE:\n  Net/Queue (AWS::SQS::Queue): Invalid value for DelaySeconds\n  \
             Net (AWS::CloudFormation::Stack): Embedded stack arn:x was not successfully created"
        );
    }
}
