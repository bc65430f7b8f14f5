//! ECS services: stop records the desired count as a tag and sets it to 0; start restores it and
//! removes the tag. Both wait with the SDK's `services_stable` waiter (running = desired).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_ecs::client::Waiters;
use aws_sdk_ecs::types::{Service, ServiceField, Tag};
use aws_sdk_ecs::waiters::services_stable::WaitUntilServicesStableError;
use aws_sdk_ecs::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::record::{self, StopPlan};
use super::{each, minutes, Action, Change};

const KIND: &str = "ECS service";
const FIELD: &str = "DesiredCount";
/// Tasks drain from load balancers and start on capacity that may itself be starting.
const LIMIT: Duration = Duration::from_secs(20 * 60);

/// `services` are the stack's service ARNs, `clusters` its clusters (names).
pub async fn run(config: &SdkConfig, action: Action, services: &[String], clusters: &[String]) -> Vec<super::Outcome> {
    let client = Client::new(config);
    let client = &client;
    let mut outcomes = each(KIND, services, |arn| one(client, action, arn, clusters)).await;
    for outcome in &mut outcomes {
        outcome.id = short(&outcome.id);
    }
    outcomes
}

async fn one(client: &Client, action: Action, arn: &str, stack_clusters: &[String]) -> Result<Change> {
    let (cluster, service) = find(client, arn, stack_clusters).await?;
    let status = service.status().unwrap_or("unknown");
    if status != "ACTIVE" {
        return Ok(Change::Left(format!("is {status}")));
    }
    let arn = service.service_arn().unwrap_or(arn).to_string();
    let desired = service.desired_count();
    let tags: BTreeMap<String, String> = service
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
        .collect();
    match action {
        Action::Stop => {
            let note = match record::plan_stop(&vec![(FIELD, desired)], &tags).map_err(Error::new)? {
                StopPlan::AlreadyZero => return Ok(Change::Already("at desired 0, nothing to record".into())),
                StopPlan::Keep(recorded) if desired == 0 => {
                    return Ok(Change::Already(format!("at desired 0, original {} recorded", record::show(&recorded))))
                }
                StopPlan::Keep(recorded) => format!(" (original {} still recorded)", record::show(&recorded)),
                StopPlan::Record(pairs) => {
                    let tags = pairs.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
                    client.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send().await.explained()?;
                    String::new()
                }
            };
            set_desired(client, &cluster, &arn, 0).await?;
            Ok(Change::Done { from: format!("desired {desired}"), to: format!("0{note}") })
        }
        Action::Start => {
            let Some(recorded) = record::recorded(&[FIELD], &tags).map_err(Error::new)? else {
                return Ok(Change::Left(format!("no record of a stop (no {} tag)", record::key(FIELD))));
            };
            let count = recorded.first().map_or(0, |(_, v)| *v);
            // Restore first: if that fails, the record is still there for the next try.
            client.update_service().cluster(&cluster).service(&arn).desired_count(count).send().await.explained()?;
            client.untag_resource().resource_arn(&arn).tag_keys(record::key(FIELD)).send().await.explained()?;
            wait(client, &cluster, &arn).await?;
            Ok(Change::Done { from: format!("desired {desired}"), to: count.to_string() })
        }
    }
}

async fn set_desired(client: &Client, cluster: &str, arn: &str, count: i32) -> Result<()> {
    client.update_service().cluster(cluster).service(arn).desired_count(count).send().await.explained()?;
    wait(client, cluster, arn).await
}

async fn wait(client: &Client, cluster: &str, arn: &str) -> Result<()> {
    match client.wait_until_services_stable().cluster(cluster).services(arn).wait(LIMIT).await {
        Ok(_) => Ok(()),
        Err(WaitUntilServicesStableError::ExceededMaxWait(_)) => {
            Err(Error::new(format!("running tasks did not reach the desired count within {}", minutes(LIMIT))))
        }
        Err(WaitUntilServicesStableError::OperationFailed(failed)) => Err(fink_aws::explain(failed.error())),
        Err(_) => Err(Error::new("the service became inactive or disappeared while waiting")),
    }
}

/// The service and the cluster it runs in, trying the clusters `candidates` names.
async fn find(client: &Client, arn: &str, stack_clusters: &[String]) -> Result<(String, Service)> {
    for cluster in candidates(arn, stack_clusters) {
        let out = client.describe_services().cluster(&cluster).services(arn).include(ServiceField::Tags).send().await;
        match out {
            Ok(out) => {
                if let Some(service) = out.services().first() {
                    return Ok((cluster, service.clone()));
                }
            }
            Err(err) if fink_aws::code(&err) == Some("ClusterNotFoundException") => {}
            Err(err) => return Err(fink_aws::explain(&err)),
        }
    }
    Err(Error::new("not found in the stack's clusters"))
}

/// Where to look for a service: the cluster named in its ARN
/// (`arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`); for old-style ARNs without one
/// (`service/<name>`), the stack's clusters and then `default`.
fn candidates(arn: &str, stack_clusters: &[String]) -> Vec<String> {
    let path = arn.rsplit_once(":service/").map_or(arn, |(_, path)| path);
    if let Some((cluster, _)) = path.split_once('/') {
        return vec![cluster.to_string()];
    }
    let mut list: Vec<String> = stack_clusters.iter().map(|c| short(c)).collect();
    list.push("default".to_string());
    list.dedup();
    list
}

/// `cluster/name` (or the name) from a service ARN; a cluster's name from its ARN.
fn short(arn: &str) -> String {
    match arn.rsplit_once(":service/").or_else(|| arn.rsplit_once(":cluster/")) {
        Some((_, path)) => path.to_string(),
        None => arn.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_comes_from_the_arn_or_the_stack() {
        let new = "arn:aws:ecs:eu-west-1:123456789012:service/app-Cluster-X/app-Svc-Y";
        assert_eq!(candidates(new, &["other".into()]), vec!["app-Cluster-X"]);
        assert_eq!(short(new), "app-Cluster-X/app-Svc-Y");
        let old = "arn:aws:ecs:eu-west-1:123456789012:service/app-Svc-Y";
        assert_eq!(
            candidates(old, &["arn:aws:ecs:eu-west-1:123456789012:cluster/c1".into(), "c2".into()]),
            vec!["c1", "c2", "default"]
        );
        assert_eq!(candidates(old, &[]), vec!["default"]);
        assert_eq!(short(old), "app-Svc-Y");
    }
}
