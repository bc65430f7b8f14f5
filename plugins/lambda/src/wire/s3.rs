//! S3 bucket notifications invoking the alias, merged into the bucket's other notifications.
//!
//! Ours are the `LambdaFunctionConfigurations` whose Id is `fink-<function>-<hash of events and
//! filters>` and whose target is the alias; everything else on the bucket is kept as it is.

use aws_config::SdkConfig;
use aws_sdk_s3::operation::get_bucket_notification_configuration::GetBucketNotificationConfigurationOutput;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, LambdaFunctionConfiguration, NotificationConfiguration,
    NotificationConfigurationFilter, S3KeyFilter,
};
use aws_sdk_s3::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::sources::Source;
use super::{derived_id, fnv, Outcome, Target};

struct Wanted<'a> {
    bucket: &'a str,
    events: &'a [String],
    prefix: Option<&'a str>,
    suffix: Option<&'a str>,
}

impl Wanted<'_> {
    fn from(source: &Source) -> Result<Wanted<'_>> {
        match source {
            Source::S3 { bucket, events, prefix, suffix } => {
                Ok(Wanted { bucket, events, prefix: prefix.as_deref(), suffix: suffix.as_deref() })
            }
            _ => Err(Error::new("not an S3 source")),
        }
    }

    /// The notification's Id: the same events and filters give the same Id.
    fn id(&self, target: &Target) -> String {
        let key = format!("{}|{}|{}", self.events.join(","), self.prefix.unwrap_or(""), self.suffix.unwrap_or(""));
        format!("{}-{:08x}", derived_id("fink-", &target.function, 64), fnv(&key) as u32)
    }

    fn config(&self, id: &str, target: &Target) -> Result<LambdaFunctionConfiguration> {
        let mut rules = Vec::new();
        for (name, value) in [(FilterRuleName::Prefix, self.prefix), (FilterRuleName::Suffix, self.suffix)] {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                rules.push(FilterRule::builder().name(name).value(value).build());
            }
        }
        let filter = (!rules.is_empty()).then(|| {
            NotificationConfigurationFilter::builder()
                .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
                .build()
        });
        LambdaFunctionConfiguration::builder()
            .id(id)
            .lambda_function_arn(&target.arn)
            .set_events(Some(self.events.iter().map(|e| Event::from(e.as_str())).collect()))
            .set_filter(filter)
            .build()
            .map_err(|e| Error::new(format!("cannot build the notification for bucket '{}': {e}", self.bucket)))
    }
}

fn statement_id(bucket: &str) -> String {
    derived_id("fink-s3-", bucket, 100)
}

pub async fn wire(config: &SdkConfig, target: &mut Target, source: &Source) -> Result<Outcome> {
    let wanted = Wanted::from(source)?;
    let client = Client::new(config);
    let current = current(&client, wanted.bucket).await?;
    let id = wanted.id(target);
    // S3 checks that it may invoke the function when the notification is put: permission first.
    let allowed = target
        .allow(&statement_id(wanted.bucket), "s3.amazonaws.com", &format!("arn:aws:s3:::{}", wanted.bucket))
        .await?;
    let mut lambdas: Vec<LambdaFunctionConfiguration> = current.lambda_function_configurations().to_vec();
    if lambdas.iter().any(|c| c.id() == Some(id.as_str()) && c.lambda_function_arn() == target.arn) {
        return Ok(if allowed { Outcome::Updated } else { Outcome::AlreadyWired });
    }
    lambdas.retain(|c| c.id() != Some(id.as_str()));
    lambdas.push(wanted.config(&id, target)?);
    put(&client, wanted.bucket, &current, lambdas).await?;
    Ok(Outcome::Created)
}

pub async fn unwire(config: &SdkConfig, target: &mut Target, source: &Source) -> Result<Outcome> {
    let wanted = Wanted::from(source)?;
    let client = Client::new(config);
    let current = match client.get_bucket_notification_configuration().bucket(wanted.bucket).send().await {
        Ok(current) => current,
        Err(e) if fink_aws::code(&e) == Some("NoSuchBucket") => {
            let revoked = target.revoke(&statement_id(wanted.bucket)).await?;
            return Ok(if revoked { Outcome::Removed } else { Outcome::NotWired });
        }
        Err(e) => return Err(fink_aws::explain(&e)),
    };
    let id = wanted.id(target);
    let mut lambdas: Vec<LambdaFunctionConfiguration> = current.lambda_function_configurations().to_vec();
    let before = lambdas.len();
    lambdas.retain(|c| !(c.id() == Some(id.as_str()) && c.lambda_function_arn() == target.arn));
    let mut removed = lambdas.len() < before;
    if removed {
        put(&client, wanted.bucket, &current, lambdas).await?;
    }
    // The permission serves every notification of ours on this bucket: keep it while one is left.
    let still_ours = current
        .lambda_function_configurations()
        .iter()
        .any(|c| c.lambda_function_arn() == target.arn && c.id() != Some(id.as_str()));
    if !still_ours && target.revoke(&statement_id(wanted.bucket)).await? {
        removed = true;
    }
    Ok(if removed { Outcome::Removed } else { Outcome::NotWired })
}

async fn current(client: &Client, bucket: &str) -> Result<GetBucketNotificationConfigurationOutput> {
    client.get_bucket_notification_configuration().bucket(bucket).send().await.map_err(|e| {
        if fink_aws::code(&e) == Some("NoSuchBucket") {
            Error::new(format!("bucket '{bucket}' does not exist"))
        } else {
            fink_aws::explain(&e)
        }
    })
}

/// Puts the bucket's notifications with `lambdas` in place of its Lambda configurations.
async fn put(
    client: &Client,
    bucket: &str,
    current: &GetBucketNotificationConfigurationOutput,
    lambdas: Vec<LambdaFunctionConfiguration>,
) -> Result<()> {
    let config = NotificationConfiguration::builder()
        .set_topic_configurations(Some(current.topic_configurations().to_vec()))
        .set_queue_configurations(Some(current.queue_configurations().to_vec()))
        .set_lambda_function_configurations(Some(lambdas))
        .set_event_bridge_configuration(current.event_bridge_configuration().cloned())
        .build();
    client
        .put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(config)
        .send()
        .await
        .explained()?;
    Ok(())
}
