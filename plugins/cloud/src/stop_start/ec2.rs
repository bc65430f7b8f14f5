//! EC2 instances: stop running ones, start stopped ones, and wait with the SDK's waiters. Instances
//! in any other state (pending, stopping, terminated, ...) are left as they are.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::InstanceStateName;
use aws_sdk_ec2::waiters::instance_stopped::WaitUntilInstanceStoppedError;
use aws_sdk_ec2::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::{each, minutes, Action, Change};

const KIND: &str = "EC2 instance";
const LIMIT: Duration = Duration::from_secs(10 * 60);

pub async fn run(config: &SdkConfig, action: Action, ids: &[String]) -> Vec<super::Outcome> {
    let client = Client::new(config);
    let client = &client;
    each(KIND, ids, |id| one(client, action, id)).await
}

async fn one(client: &Client, action: Action, id: &str) -> Result<Change> {
    let current = state(client, id).await?;
    let (from, to) = match action {
        Action::Stop => (InstanceStateName::Running, InstanceStateName::Stopped),
        Action::Start => (InstanceStateName::Stopped, InstanceStateName::Running),
    };
    if current == to {
        return Ok(Change::Already(to.as_str().to_string()));
    }
    if current != from {
        return Ok(Change::Left(format!("is {}", current.as_str())));
    }
    let waited = match action {
        Action::Stop => {
            client.stop_instances().instance_ids(id).send().await.explained()?;
            client.wait_until_instance_stopped().instance_ids(id).wait(LIMIT).await.map(|_| ())
        }
        Action::Start => {
            client.start_instances().instance_ids(id).send().await.explained()?;
            // Same error type: both waiters poll DescribeInstances.
            client.wait_until_instance_running().instance_ids(id).wait(LIMIT).await.map(|_| ())
        }
    };
    if let Err(err) = waited {
        let now = state(client, id).await.map(|s| s.as_str().to_string()).unwrap_or_else(|_| "unknown".into());
        return Err(wait_failed(err, to.as_str(), &now));
    }
    Ok(Change::Done { from: from.as_str().to_string(), to: to.as_str().to_string() })
}

async fn state(client: &Client, id: &str) -> Result<InstanceStateName> {
    let out = client.describe_instances().instance_ids(id).send().await.explained()?;
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .find_map(|i| i.state().and_then(|s| s.name()).cloned())
        .ok_or_else(|| Error::new("not found"))
}

fn wait_failed(err: WaitUntilInstanceStoppedError, target: &str, now: &str) -> Error {
    match err {
        WaitUntilInstanceStoppedError::ExceededMaxWait(_) => {
            Error::new(format!("not {target} after {} (now {now})", minutes(LIMIT)))
        }
        WaitUntilInstanceStoppedError::OperationFailed(failed) => fink_aws::explain(failed.error()),
        _ => Error::new(format!("will not become {target} (now {now})")),
    }
}
