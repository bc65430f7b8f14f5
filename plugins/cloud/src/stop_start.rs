//! `cloud stop` / `cloud start`: scale the stack's Auto Scaling groups and ECS services to zero
//! and stop its EC2 and RDS instances, then bring them back. What stop changes is recorded on the
//! resources themselves (tags, see `record`), so start restores exactly the original values.
//!
//! One module per resource kind; this file finds the resources, runs the kinds in order (apps
//! before databases on stop, the reverse on start) and prints one line per resource and a summary.

mod asg;
mod ec2;
mod ecs;
mod rds;
mod record;

use std::future::Future;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use fink_plugin_api::{info, Error, Result};

use crate::settings::Settings;

/// Which way the resources go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Stop,
    Start,
}

impl Action {
    fn verb(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::Start => "start",
        }
    }

    fn ing(self) -> &'static str {
        match self {
            Action::Stop => "stopping",
            Action::Start => "starting",
        }
    }

    fn past(self) -> &'static str {
        match self {
            Action::Stop => "stopped",
            Action::Start => "started",
        }
    }
}

/// What happened to one resource.
#[derive(Debug)]
pub enum Change {
    /// Moved from one state to another.
    Done { from: String, to: String },
    /// Already where it should be (`already <state>`).
    Already(String),
    /// Left as it is, and why.
    Left(String),
}

/// One resource's line in the report.
#[derive(Debug)]
pub struct Outcome {
    pub kind: &'static str,
    pub id: String,
    pub result: Result<Change>,
}

impl Outcome {
    fn line(&self) -> String {
        let state = match &self.result {
            Ok(Change::Done { from, to }) => format!("{from} → {to}"),
            Ok(Change::Already(state)) => format!("already {state}"),
            Ok(Change::Left(why)) => format!("left as is: {why}"),
            Err(err) => format!("FAILED: {}", err.message()),
        };
        format!("{:<18}  {}  {state}", self.kind, self.id)
    }
}

/// The stack's resources this command acts on, by kind (physical ids).
#[derive(Debug, Default)]
struct Resources {
    groups: Vec<String>,
    instances: Vec<String>,
    databases: Vec<String>,
    services: Vec<String>,
    clusters: Vec<String>,
}

impl Resources {
    fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.instances.is_empty() && self.databases.is_empty() && self.services.is_empty()
    }
}

/// `cloud stop`: ECS services and Auto Scaling groups to zero, then EC2 and RDS instances stopped.
pub async fn stop(config: &SdkConfig, settings: &Settings) -> Result<()> {
    run(config, settings, Action::Stop).await
}

/// `cloud start`: RDS and EC2 instances started, then groups and services restored from the records.
pub async fn start(config: &SdkConfig, settings: &Settings) -> Result<()> {
    run(config, settings, Action::Start).await
}

async fn run(config: &SdkConfig, settings: &Settings, action: Action) -> Result<()> {
    let name = settings.stack_name.as_str();
    if settings.disable_stop {
        return Err(Error::new(format!(
            "not {} stack '{name}': cloud.deployment.DisableStop is true for this environment",
            action.ing()
        ))
        .with_help("remove `DisableStop` from the `cloud.deployment` section of the config to allow stop and start"));
    }
    let resources = resources(&Client::new(config), name).await?;
    if resources.is_empty() {
        fink_plugin_api::outln!(
            "stack '{name}' has nothing to {}: no Auto Scaling groups, EC2 instances, RDS DB instances or ECS services",
            action.verb()
        );
        return Ok(());
    }
    info!("{} the resources of stack '{name}'", action.ing());
    let mut outcomes = Vec::new();
    let kinds: [Kind; 4] = match action {
        Action::Stop => [Kind::Services, Kind::Groups, Kind::Instances, Kind::Databases],
        Action::Start => [Kind::Databases, Kind::Instances, Kind::Groups, Kind::Services],
    };
    for kind in kinds {
        let done = match kind {
            Kind::Services => ecs::run(config, action, &resources.services, &resources.clusters).await,
            Kind::Groups => asg::run(config, action, &resources.groups).await,
            Kind::Instances => ec2::run(config, action, &resources.instances).await,
            Kind::Databases => rds::run(config, action, &resources.databases).await,
        };
        for outcome in &done {
            fink_plugin_api::outln!("{}", outcome.line());
        }
        outcomes.extend(done);
    }
    fink_plugin_api::outln!("{}", summary(name, action, &outcomes));
    let failed: Vec<String> =
        outcomes.iter().filter(|o| o.result.is_err()).map(|o| format!("{} {}", o.kind, o.id)).collect();
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::new(format!("could not {} {}", action.verb(), failed.join(", "))))
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Services,
    Groups,
    Instances,
    Databases,
}

/// E.g. `stack 'app': 3 stopped, 1 already stopped, 0 left as is, 0 failed`.
fn summary(stack: &str, action: Action, outcomes: &[Outcome]) -> String {
    let count = |f: fn(&Result<Change>) -> bool| outcomes.iter().filter(|o| f(&o.result)).count();
    let past = action.past();
    format!(
        "stack '{stack}': {} {past}, {} already {past}, {} left as is, {} failed",
        count(|r| matches!(r, Ok(Change::Done { .. }))),
        count(|r| matches!(r, Ok(Change::Already(_)))),
        count(|r| matches!(r, Ok(Change::Left(_)))),
        count(|r| r.is_err()),
    )
}

/// Every resource of the stack (all pages), sorted by kind.
async fn resources(client: &Client, stack: &str) -> Result<Resources> {
    let mut found = Resources::default();
    let mut token = None;
    loop {
        let out = match client.list_stack_resources().stack_name(stack).set_next_token(token).send().await {
            Ok(out) => out,
            Err(err) if fink_aws::code(&err) == Some("ValidationError") => {
                return Err(Error::new(format!("stack '{stack}' does not exist"))
                    .with_help("deploy it first with `fink cloud deploy`"))
            }
            Err(err) => return Err(fink_aws::explain(&err)),
        };
        for resource in out.stack_resource_summaries() {
            let (Some(kind), Some(id)) = (resource.resource_type(), resource.physical_resource_id()) else {
                continue;
            };
            if id.is_empty() || resource.resource_status().is_some_and(|s| s.as_str() == "DELETE_COMPLETE") {
                continue;
            }
            let list = match kind {
                "AWS::AutoScaling::AutoScalingGroup" => &mut found.groups,
                "AWS::EC2::Instance" => &mut found.instances,
                "AWS::RDS::DBInstance" => &mut found.databases,
                "AWS::ECS::Service" => &mut found.services,
                "AWS::ECS::Cluster" => &mut found.clusters,
                _ => continue,
            };
            list.push(id.to_string());
        }
        token = out.next_token().map(String::from);
        if token.is_none() {
            return Ok(found);
        }
    }
}

/// Runs `one` for every id of a kind at once (stops and waits overlap) and keeps the ids' order.
async fn each<'a, F, Fut>(kind: &'static str, ids: &'a [String], one: F) -> Vec<Outcome>
where
    F: Fn(&'a str) -> Fut,
    Fut: Future<Output = Result<Change>>,
{
    let results = futures::future::join_all(ids.iter().map(|id| one(id))).await;
    ids.iter().zip(results).map(|(id, result)| Outcome { kind, id: id.clone(), result }).collect()
}

/// How a resource looks while waiting for it.
pub enum Poll {
    Done,
    /// Not there yet; the current state.
    Wait(String),
    /// Will not get there; why.
    Fail(String),
}

/// How often `poll` looks.
const POLL: Duration = Duration::from_secs(5);

/// Asks `check` until it says done (the first time right away), for at most `limit`.
pub async fn poll<F, Fut>(limit: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll>>,
{
    let started = Instant::now();
    loop {
        match check().await? {
            Poll::Done => return Ok(()),
            Poll::Fail(why) => return Err(Error::new(why)),
            Poll::Wait(state) if started.elapsed() >= limit => {
                return Err(Error::new(format!("still {state} after {}", minutes(limit))))
            }
            Poll::Wait(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// `10 min` for messages about waits.
pub fn minutes(limit: Duration) -> String {
    format!("{} min", limit.as_secs() / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(result: Result<Change>) -> Outcome {
        Outcome { kind: "EC2 instance", id: "i-1".into(), result }
    }

    #[test]
    fn lines_show_old_and_new_state_or_why_not() {
        let done = outcome(Ok(Change::Done { from: "running".into(), to: "stopped".into() }));
        assert_eq!(done.line(), "EC2 instance        i-1  running → stopped");
        let already = outcome(Ok(Change::Already("stopped".into())));
        assert!(already.line().ends_with("i-1  already stopped"));
        let left = outcome(Ok(Change::Left("is pending".into())));
        assert!(left.line().ends_with("left as is: is pending"));
        let failed = outcome(Err(Error::new("boom")));
        assert!(failed.line().ends_with("i-1  FAILED: boom"));
    }

    #[test]
    fn summary_counts_each_result() {
        let outcomes = vec![
            outcome(Ok(Change::Done { from: "a".into(), to: "b".into() })),
            outcome(Ok(Change::Done { from: "a".into(), to: "b".into() })),
            outcome(Ok(Change::Already("b".into()))),
            outcome(Err(Error::new("x"))),
        ];
        assert_eq!(
            summary("app", Action::Start, &outcomes),
            "stack 'app': 2 started, 1 already started, 0 left as is, 1 failed"
        );
    }

    #[tokio::test]
    async fn poll_stops_at_done_fail_or_the_limit() {
        let mut calls = 0;
        poll(Duration::from_secs(60), || {
            calls += 1;
            async { Ok(Poll::Done) }
        })
        .await
        .unwrap();
        assert_eq!(calls, 1, "the first look is immediate");
        let err = poll(Duration::ZERO, || async { Ok(Poll::Fail("gone".into())) }).await.unwrap_err();
        assert_eq!(err.message(), "gone");
        let err = poll(Duration::ZERO, || async { Ok(Poll::Wait("stopping".into())) }).await.unwrap_err();
        assert_eq!(err.message(), "still stopping after 0 min");
    }
}
