//! RDS DB instances: stop available ones, start stopped ones, wait until settled (the SDK's waiter
//! for `available`; RDS has none for `stopped`, so that is polled). Instances in a DB cluster
//! (Aurora) are stopped with their cluster, which is not a stack resource kind handled here.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_rds::client::Waiters;
use aws_sdk_rds::types::DbInstance;
use aws_sdk_rds::waiters::db_instance_available::WaitUntilDbInstanceAvailableError;
use aws_sdk_rds::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::{each, minutes, poll, Action, Change, Poll};

const KIND: &str = "RDS DB instance";
/// Stopping and starting a database takes minutes, sometimes many.
const LIMIT: Duration = Duration::from_secs(40 * 60);

/// States a database waiting to stop will not leave by itself.
const STUCK: &[&str] = &["failed", "deleting", "deleted", "incompatible-parameters", "incompatible-restore"];

pub async fn run(config: &SdkConfig, action: Action, ids: &[String]) -> Vec<super::Outcome> {
    let client = Client::new(config);
    let client = &client;
    each(KIND, ids, |id| one(client, action, id)).await
}

async fn one(client: &Client, action: Action, id: &str) -> Result<Change> {
    let db = describe(client, id).await?;
    if let Some(cluster) = db.db_cluster_identifier() {
        return Ok(Change::Left(format!("belongs to DB cluster {cluster}; stop or start the cluster instead")));
    }
    let status = db.db_instance_status().unwrap_or("unknown").to_string();
    let (from, to) = match action {
        Action::Stop => ("available", "stopped"),
        Action::Start => ("stopped", "available"),
    };
    if status == to {
        return Ok(Change::Already(status));
    }
    if status != from {
        return Ok(Change::Left(format!("is {status}")));
    }
    match action {
        Action::Stop => {
            client.stop_db_instance().db_instance_identifier(id).send().await.explained()?;
            poll(LIMIT, || async {
                let status = describe(client, id).await?.db_instance_status().unwrap_or("unknown").to_string();
                Ok(match status.as_str() {
                    "stopped" => Poll::Done,
                    s if STUCK.contains(&s) => Poll::Fail(format!("is {s}, will not stop")),
                    _ => Poll::Wait(status),
                })
            })
            .await?;
        }
        Action::Start => {
            client.start_db_instance().db_instance_identifier(id).send().await.explained()?;
            if let Err(err) = client.wait_until_db_instance_available().db_instance_identifier(id).wait(LIMIT).await {
                let now = describe(client, id)
                    .await
                    .ok()
                    .and_then(|db| db.db_instance_status().map(String::from))
                    .unwrap_or_else(|| "unknown".into());
                return Err(wait_failed(err, &now));
            }
        }
    }
    Ok(Change::Done { from: from.to_string(), to: to.to_string() })
}

async fn describe(client: &Client, id: &str) -> Result<DbInstance> {
    let out = client.describe_db_instances().db_instance_identifier(id).send().await.explained()?;
    out.db_instances().first().cloned().ok_or_else(|| Error::new("not found"))
}

fn wait_failed(err: WaitUntilDbInstanceAvailableError, now: &str) -> Error {
    match err {
        WaitUntilDbInstanceAvailableError::ExceededMaxWait(_) => {
            Error::new(format!("not available after {} (now {now})", minutes(LIMIT)))
        }
        WaitUntilDbInstanceAvailableError::OperationFailed(failed) => fink_aws::explain(failed.error()),
        _ => Error::new(format!("will not become available (now {now})")),
    }
}
