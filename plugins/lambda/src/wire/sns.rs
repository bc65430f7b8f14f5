//! SNS subscriptions (protocol `lambda`) with the alias as endpoint.

use aws_config::SdkConfig;
use aws_sdk_sns::Client;
use fink_aws::Explained;
use fink_plugin_api::Result;

use super::{derived_id, Outcome, Target};

fn statement_id(topic_arn: &str) -> String {
    let name = topic_arn.rsplit(':').next().unwrap_or_default();
    let id = derived_id("fink-sns-", name, 90);
    format!("{id}-{:08x}", super::fnv(topic_arn) as u32)
}

/// A client in the topic's region (its ARN's fourth field), which may differ from the function's.
fn client(config: &SdkConfig, topic_arn: &str) -> Client {
    match topic_arn.split(':').nth(3).filter(|r| !r.is_empty()) {
        Some(region) if config.region().map(|r| r.as_ref()) != Some(region) => {
            Client::new(&fink_aws::in_region(config, region))
        }
        _ => Client::new(config),
    }
}

pub async fn wire(config: &SdkConfig, target: &mut Target, topic_arn: &str) -> Result<Outcome> {
    let client = client(config, topic_arn);
    let allowed = target.allow(&statement_id(topic_arn), "sns.amazonaws.com", topic_arn).await?;
    if !ours(&client, topic_arn, &target.arn).await?.is_empty() {
        return Ok(if allowed { Outcome::Updated } else { Outcome::AlreadyWired });
    }
    client.subscribe().topic_arn(topic_arn).protocol("lambda").endpoint(&target.arn).send().await.explained()?;
    Ok(Outcome::Created)
}

pub async fn unwire(config: &SdkConfig, target: &mut Target, topic_arn: &str) -> Result<Outcome> {
    let client = client(config, topic_arn);
    let mut removed = false;
    for subscription in ours(&client, topic_arn, &target.arn).await? {
        client.unsubscribe().subscription_arn(subscription).send().await.explained()?;
        removed = true;
    }
    if target.revoke(&statement_id(topic_arn)).await? {
        removed = true;
    }
    Ok(if removed { Outcome::Removed } else { Outcome::NotWired })
}

/// The ARNs of the topic's lambda subscriptions to `endpoint` (none when the topic is gone).
async fn ours(client: &Client, topic_arn: &str, endpoint: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut token = None;
    loop {
        let out = match client.list_subscriptions_by_topic().topic_arn(topic_arn).set_next_token(token).send().await {
            Ok(out) => out,
            Err(e) if fink_aws::code(&e) == Some("NotFound") => return Ok(found),
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        for s in out.subscriptions() {
            if s.protocol() == Some("lambda") && s.endpoint() == Some(endpoint) {
                // A pending subscription has no ARN yet; lambda subscriptions are confirmed at once.
                if let Some(arn) = s.subscription_arn().filter(|a| a.starts_with("arn:")) {
                    found.push(arn.to_string());
                }
            }
        }
        token = out.next_token().filter(|t| !t.is_empty()).map(String::from);
        if token.is_none() {
            return Ok(found);
        }
    }
}
