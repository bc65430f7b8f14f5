//! Auto Scaling groups: stop records min/max/desired as tags and scales to 0/0/0, then waits until
//! the group has no instances; start restores the recorded sizes, removes the record and waits
//! until the desired number of instances is in service.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_autoscaling::types::{AutoScalingGroup, LifecycleState, Tag};
use aws_sdk_autoscaling::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::record::{self, StopPlan, Values};
use super::{each, poll, Action, Change, Poll};

const KIND: &str = "Auto Scaling group";
const FIELDS: [&str; 3] = ["MinSize", "MaxSize", "DesiredCapacity"];
/// Instances take minutes to terminate or to pass their health checks.
const LIMIT: Duration = Duration::from_secs(20 * 60);

pub async fn run(config: &SdkConfig, action: Action, names: &[String]) -> Vec<super::Outcome> {
    let client = Client::new(config);
    let client = &client;
    match action {
        Action::Stop => each(KIND, names, |name| stop(client, name)).await,
        Action::Start => each(KIND, names, |name| start(client, name)).await,
    }
}

async fn stop(client: &Client, name: &str) -> Result<Change> {
    let group = describe(client, name).await?;
    let current = sizes(&group);
    let plan = record::plan_stop(&current, &tags(&group)).map_err(Error::new)?;
    let note = match plan {
        StopPlan::AlreadyZero => return Ok(Change::Already("at min/max/desired 0/0/0, nothing to record".into())),
        StopPlan::Keep(recorded) if record::is_zero(&current) => {
            return Ok(Change::Already(format!("at 0/0/0, original {} recorded", record::show(&recorded))))
        }
        StopPlan::Keep(recorded) => format!(" (original {} still recorded)", record::show(&recorded)),
        StopPlan::Record(tags) => {
            let tags = tags
                .into_iter()
                .map(|(key, value)| {
                    Tag::builder()
                        .resource_id(name)
                        .resource_type("auto-scaling-group")
                        .key(key)
                        .value(value)
                        .propagate_at_launch(false)
                        .build()
                })
                .collect();
            client.create_or_update_tags().set_tags(Some(tags)).send().await.explained()?;
            String::new()
        }
    };
    resize(client, name, &[("MinSize", 0), ("MaxSize", 0), ("DesiredCapacity", 0)]).await?;
    poll(LIMIT, || async {
        let group = describe(client, name).await?;
        Ok(match group.instances().len() {
            0 => Poll::Done,
            n => Poll::Wait(format!("waiting for {n} instance(s) to terminate")),
        })
    })
    .await?;
    Ok(Change::Done { from: format!("min/max/desired {}", record::show(&current)), to: format!("0/0/0{note}") })
}

async fn start(client: &Client, name: &str) -> Result<Change> {
    let group = describe(client, name).await?;
    let Some(recorded) = record::recorded(&FIELDS, &tags(&group)).map_err(Error::new)? else {
        return Ok(Change::Left(format!("no record of a stop (no {}* tags)", record::PREFIX)));
    };
    let current = sizes(&group);
    resize(client, name, &recorded).await?;
    let keys = record::keys(&FIELDS)
        .into_iter()
        .map(|key| Tag::builder().resource_id(name).resource_type("auto-scaling-group").key(key).build())
        .collect();
    client.delete_tags().set_tags(Some(keys)).send().await.explained()?;
    let desired = recorded.iter().find(|(f, _)| *f == "DesiredCapacity").map_or(0, |(_, v)| *v);
    poll(LIMIT, || async {
        let group = describe(client, name).await?;
        let ready =
            group.instances().iter().filter(|i| i.lifecycle_state() == Some(&LifecycleState::InService)).count();
        Ok(if ready >= desired.max(0) as usize {
            Poll::Done
        } else {
            Poll::Wait(format!("{ready} of {desired} instances in service"))
        })
    })
    .await?;
    Ok(Change::Done { from: format!("min/max/desired {}", record::show(&current)), to: record::show(&recorded) })
}

async fn describe(client: &Client, name: &str) -> Result<AutoScalingGroup> {
    let out = client.describe_auto_scaling_groups().auto_scaling_group_names(name).send().await.explained()?;
    out.auto_scaling_groups().first().cloned().ok_or_else(|| Error::new("not found"))
}

async fn resize(client: &Client, name: &str, values: &[(&str, i32)]) -> Result<()> {
    let get = |field: &str| values.iter().find(|(f, _)| *f == field).map(|(_, v)| *v);
    client
        .update_auto_scaling_group()
        .auto_scaling_group_name(name)
        .set_min_size(get("MinSize"))
        .set_max_size(get("MaxSize"))
        .set_desired_capacity(get("DesiredCapacity"))
        .send()
        .await
        .explained()?;
    Ok(())
}

fn sizes(group: &AutoScalingGroup) -> Values {
    vec![
        ("MinSize", group.min_size().unwrap_or(0)),
        ("MaxSize", group.max_size().unwrap_or(0)),
        ("DesiredCapacity", group.desired_capacity().unwrap_or(0)),
    ]
}

fn tags(group: &AutoScalingGroup) -> BTreeMap<String, String> {
    group
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string())))
        .collect()
}
