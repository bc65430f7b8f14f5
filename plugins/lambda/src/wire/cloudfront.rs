//! CloudFront triggers (Lambda@Edge), as gcdt's cloudfront event source wired them: a published
//! version of the function (Lambda@Edge takes no alias and no `$LATEST`; fink uses the version
//! ACTIVE points at) associated with one cache behaviour of a distribution for one event type.
//! The function must live in us-east-1. Wiring replaces this function's association for that
//! event type (another version); another function's is an error naming it, since CloudFront
//! allows one per event type and behaviour.

use aws_config::SdkConfig;
use aws_sdk_cloudfront::types::{DistributionConfig, EventType, LambdaFunctionAssociation, LambdaFunctionAssociations};
use aws_sdk_cloudfront::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::{Outcome, Target, ALIAS};

/// Lambda@Edge functions live here.
pub const EDGE_REGION: &str = "us-east-1";

/// The event types CloudFront offers.
pub const EVENTS: [&str; 4] = ["viewer-request", "viewer-response", "origin-request", "origin-response"];

/// Where a trigger goes: the distribution, the behaviour (None: the default one), the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub distribution: String,
    pub path_pattern: Option<String>,
    pub event: String,
    pub include_body: bool,
}

impl Trigger {
    pub fn behaviour(&self) -> String {
        match &self.path_pattern {
            None => "default cache behaviour".to_string(),
            Some(path) => format!("cache behaviour '{path}'"),
        }
    }
}

pub async fn wire(config: &SdkConfig, target: &Target, trigger: &Trigger) -> Result<Outcome> {
    let region = config.region().map(|r| r.as_ref().to_string()).unwrap_or_default();
    if region != EDGE_REGION {
        return Err(Error::new(format!(
            "cloudfront distribution '{}': a CloudFront trigger (Lambda@Edge) needs the function in {EDGE_REGION}, \
             but function '{}' is in {region}",
            trigger.distribution, target.function
        ))
        .with_help(format!("deploy the function to {EDGE_REGION} (lambda.deployment.region)")));
    }
    let version = active_version(target).await?;
    let arn = format!("{}:{version}", unqualified(&target.arn));
    let client = Client::new(config);
    let (mut distribution, etag) = load(&client, &trigger.distribution).await?;
    let ours = association(&arn, trigger)?;
    let mut outcome = Outcome::AlreadyWired;
    let mut other = None;
    edit(&mut distribution, trigger, |associations| {
        let mut kept = Vec::new();
        let mut found = false;
        for a in associations.drain(..) {
            if a.event_type.as_str() != trigger.event {
                kept.push(a);
            } else if unqualified(&a.lambda_function_arn) != unqualified(&target.arn) {
                other = Some(a.lambda_function_arn.clone());
                kept.push(a);
            } else if a.lambda_function_arn == arn && a.include_body.unwrap_or(false) == trigger.include_body {
                found = true;
                kept.push(a);
            } else {
                outcome = Outcome::Updated;
            }
        }
        if !found && other.is_none() {
            kept.push(ours);
            if outcome != Outcome::Updated {
                outcome = Outcome::Created;
            }
        }
        *associations = kept;
    })?;
    if let Some(other) = other {
        return Err(Error::new(format!(
            "cloudfront distribution '{}': the {}'s {} trigger is {other}, another function",
            trigger.distribution,
            trigger.behaviour(),
            trigger.event
        ))
        .with_help("CloudFront takes one function per event type and cache behaviour: unwire that one first"));
    }
    if outcome != Outcome::AlreadyWired {
        save(&client, &trigger.distribution, distribution, &etag).await?;
    }
    Ok(outcome)
}

pub async fn unwire(config: &SdkConfig, target: &Target, trigger: &Trigger) -> Result<Outcome> {
    let client = Client::new(config);
    let (mut distribution, etag) = load(&client, &trigger.distribution).await?;
    let mut removed = false;
    edit(&mut distribution, trigger, |associations| {
        let before = associations.len();
        associations.retain(|a| {
            a.event_type.as_str() != trigger.event || unqualified(&a.lambda_function_arn) != unqualified(&target.arn)
        });
        removed = associations.len() != before;
    })?;
    if !removed {
        return Ok(Outcome::NotWired);
    }
    save(&client, &trigger.distribution, distribution, &etag).await?;
    Ok(Outcome::Removed)
}

/// A function ARN without its version or alias: `arn:aws:lambda:<region>:<account>:function:<name>`.
fn unqualified(arn: &str) -> &str {
    let parts: Vec<&str> = arn.splitn(8, ':').collect();
    if parts.len() == 8 {
        let cut = arn.len() - parts[7].len() - 1;
        return &arn[..cut];
    }
    arn
}

fn association(arn: &str, trigger: &Trigger) -> Result<LambdaFunctionAssociation> {
    LambdaFunctionAssociation::builder()
        .lambda_function_arn(arn)
        .event_type(EventType::from(trigger.event.as_str()))
        .include_body(trigger.include_body)
        .build()
        .map_err(|e| Error::new(format!("cloudfront distribution '{}': {e}", trigger.distribution)))
}

/// The version ACTIVE points at: Lambda@Edge needs a published one.
async fn active_version(target: &Target) -> Result<String> {
    let alias = target.lambda.get_alias().function_name(&target.function).name(ALIAS).send().await.explained()?;
    match alias.function_version() {
        Some(version) if version != "$LATEST" => Ok(version.to_string()),
        _ => Err(Error::new(format!(
            "function '{}': {ALIAS} points at $LATEST, but a CloudFront trigger needs a published version",
            target.function
        ))
        .with_help("run `fink lambda deploy`, which publishes a version and points ACTIVE at it")),
    }
}

async fn load(client: &Client, id: &str) -> Result<(DistributionConfig, String)> {
    let out = match client.get_distribution_config().id(id).send().await {
        Ok(out) => out,
        Err(e) if fink_aws::code(&e) == Some("NoSuchDistribution") => {
            return Err(Error::new(format!("cloudfront distribution '{id}' does not exist"))
                .with_help("check the distribution id in the event source's arn"))
        }
        Err(e) => return Err(fink_aws::explain(&e)),
    };
    let etag = out.e_tag().unwrap_or_default().to_string();
    let config = out
        .distribution_config()
        .cloned()
        .ok_or_else(|| Error::new(format!("cloudfront distribution '{id}': CloudFront sent no configuration")))?;
    Ok((config, etag))
}

async fn save(client: &Client, id: &str, config: DistributionConfig, etag: &str) -> Result<()> {
    client.update_distribution().id(id).if_match(etag).distribution_config(config).send().await.explained()?;
    Ok(())
}

/// Applies `change` to the associations of the trigger's cache behaviour in `config`; an unknown
/// path pattern is an error naming the ones there are.
fn edit(
    config: &mut DistributionConfig,
    trigger: &Trigger,
    change: impl FnOnce(&mut Vec<LambdaFunctionAssociation>),
) -> Result<()> {
    let slot = match &trigger.path_pattern {
        None => config.default_cache_behavior.as_mut().map(|b| &mut b.lambda_function_associations),
        Some(path) => {
            let behaviours = config.cache_behaviors.as_mut().and_then(|c| c.items.as_mut());
            let patterns: Vec<String> =
                behaviours.as_ref().map(|b| b.iter().map(|b| b.path_pattern.clone()).collect()).unwrap_or_default();
            match behaviours.and_then(|b| b.iter_mut().find(|b| &b.path_pattern == path)) {
                Some(behaviour) => Some(&mut behaviour.lambda_function_associations),
                None => {
                    return Err(Error::new(format!(
                        "cloudfront distribution '{}' has no cache behaviour '{path}' (it has: {})",
                        trigger.distribution,
                        if patterns.is_empty() { "only the default one".to_string() } else { patterns.join(", ") }
                    )))
                }
            }
        }
    };
    let Some(slot) = slot else {
        return Err(Error::new(format!(
            "cloudfront distribution '{}' has no default cache behaviour",
            trigger.distribution
        )));
    };
    let mut items = slot.as_ref().and_then(|a| a.items.clone()).unwrap_or_default();
    change(&mut items);
    let quantity = i32::try_from(items.len()).unwrap_or(i32::MAX);
    let associations = LambdaFunctionAssociations::builder()
        .quantity(quantity)
        .set_items(if items.is_empty() { None } else { Some(items) })
        .build()
        .map_err(|e| Error::new(format!("cloudfront distribution '{}': {e}", trigger.distribution)))?;
    *slot = Some(associations);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudfront::types::{CacheBehavior, CacheBehaviors, DefaultCacheBehavior};

    const FN: &str = "arn:aws:lambda:us-east-1:123456789012:function:edge";

    fn behaviour_with(associations: &[(&str, &str)]) -> Option<LambdaFunctionAssociations> {
        let items: Vec<_> = associations
            .iter()
            .map(|(arn, event)| {
                LambdaFunctionAssociation::builder()
                    .lambda_function_arn(*arn)
                    .event_type(EventType::from(*event))
                    .build()
                    .unwrap()
            })
            .collect();
        Some(LambdaFunctionAssociations::builder().quantity(items.len() as i32).set_items(Some(items)).build().unwrap())
    }

    fn config() -> DistributionConfig {
        let mut default = DefaultCacheBehavior::builder()
            .target_origin_id("o")
            .viewer_protocol_policy("allow-all".into())
            .build()
            .unwrap();
        default.lambda_function_associations = behaviour_with(&[
            (&format!("{FN}:3"), "origin-request"),
            ("arn:aws:lambda:us-east-1:1:function:other:1", "viewer-request"),
        ]);
        let img = CacheBehavior::builder()
            .path_pattern("/img/*")
            .target_origin_id("o")
            .viewer_protocol_policy("allow-all".into())
            .build()
            .unwrap();
        let mut config = DistributionConfig::builder()
            .caller_reference("x")
            .comment("")
            .enabled(true)
            .default_cache_behavior(default)
            .cache_behaviors(CacheBehaviors::builder().quantity(1).items(img).build().unwrap())
            .build()
            .unwrap();
        config.origins = None;
        config
    }

    fn trigger(path: Option<&str>, event: &str) -> Trigger {
        Trigger {
            distribution: "E1".into(),
            path_pattern: path.map(String::from),
            event: event.into(),
            include_body: false,
        }
    }

    #[test]
    fn unwiring_removes_only_this_functions_association_for_the_event() {
        let mut config = config();
        edit(&mut config, &trigger(None, "origin-request"), |a| {
            a.retain(|a| a.event_type.as_str() != "origin-request" || unqualified(&a.lambda_function_arn) != FN)
        })
        .unwrap();
        let left = config.default_cache_behavior.unwrap().lambda_function_associations.unwrap();
        assert_eq!(left.quantity, 1);
        assert_eq!(left.items.unwrap()[0].event_type.as_str(), "viewer-request");
    }

    #[test]
    fn a_path_pattern_picks_its_behaviour_and_an_unknown_one_is_named() {
        let mut config = config();
        edit(&mut config, &trigger(Some("/img/*"), "origin-response"), |a| {
            a.push(association(&format!("{FN}:4"), &trigger(Some("/img/*"), "origin-response")).unwrap())
        })
        .unwrap();
        let img = &config.cache_behaviors.as_ref().unwrap().items.as_ref().unwrap()[0];
        let associations = img.lambda_function_associations.as_ref().unwrap();
        assert_eq!(
            (associations.quantity, associations.items.as_ref().unwrap()[0].lambda_function_arn.as_str()),
            (1, "arn:aws:lambda:us-east-1:123456789012:function:edge:4")
        );
        let err = edit(&mut config, &trigger(Some("/api/*"), "origin-request"), |_| {}).unwrap_err();
        assert_eq!(err.message(), "cloudfront distribution 'E1' has no cache behaviour '/api/*' (it has: /img/*)");
    }

    #[test]
    fn unqualified_arns_drop_the_version_or_alias() {
        assert_eq!(unqualified(&format!("{FN}:3")), FN);
        assert_eq!(unqualified(&format!("{FN}:ACTIVE")), FN);
        assert_eq!(unqualified(FN), FN);
    }
}
