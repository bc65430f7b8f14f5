//! `lambda wire` / `lambda unwire`: connect `lambda.lambda.events` to the function's ACTIVE alias,
//! and take those connections away again. Both are idempotent: each event source is looked up
//! before anything is created or removed, and reported as created, updated, already wired,
//! removed or not wired.
//!
//! `sources` reads the config; `rules` (EventBridge), `s3`, `sns` and `mappings` (Kinesis,
//! DynamoDB streams, SQS) do the wiring; this file resolves the alias and keeps its
//! resource-based policy (the permissions the services need to invoke it).

mod cloudfront;
mod mappings;
mod rules;
mod s3;
mod sns;
mod sources;

use std::fmt;

use aws_config::SdkConfig;
use aws_sdk_lambda::Client as Lambda;
use fink_lambda_policy::Policy;
use fink_plugin_api::{info, outln, Error, Result};

use crate::settings::Settings;
use sources::Source;

/// The alias event sources target.
const ALIAS: &str = "ACTIVE";

/// What wire or unwire did for one event source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Created,
    Updated,
    AlreadyWired,
    Removed,
    NotWired,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Created => "created",
            Outcome::Updated => "updated",
            Outcome::AlreadyWired => "already wired",
            Outcome::Removed => "removed",
            Outcome::NotWired => "not wired",
        })
    }
}

pub async fn wire(config: &SdkConfig, settings: &Settings) -> Result<()> {
    let name = settings.function.name.as_str();
    let sources = sources::parse(settings.function.events.as_ref())?;
    if sources.is_empty() {
        outln!("function '{name}' has no event sources (lambda.lambda.events): nothing to wire");
        return Ok(());
    }
    let lambda = Lambda::new(config);
    require_function(&lambda, name).await?;
    let arn = alias_arn(&lambda, name).await?.ok_or_else(|| {
        Error::new(format!("function '{name}' has no {ALIAS} alias: deploy it first"))
            .with_help("run `fink lambda deploy`; event sources are wired to the ACTIVE alias")
    })?;
    let mut target = Target::load(lambda, name, arn).await?;
    info!("wiring {} event source(s) to {}", sources.len(), target.arn);
    for source in &sources {
        let outcome = match source {
            Source::Rule { .. } => rules::wire(config, &mut target, source).await?,
            Source::S3 { .. } => s3::wire(config, &mut target, source).await?,
            Source::Sns { topic_arn } => sns::wire(config, &mut target, topic_arn).await?,
            Source::Mapping { .. } => mappings::wire(&target, source).await?,
            Source::CloudFront(trigger) => cloudfront::wire(config, &target, trigger).await?,
        };
        outln!("{}: {outcome}", source.label());
    }
    Ok(())
}

pub async fn unwire(config: &SdkConfig, settings: &Settings) -> Result<()> {
    let name = settings.function.name.as_str();
    let sources = sources::parse(settings.function.events.as_ref())?;
    if sources.is_empty() {
        outln!("function '{name}' has no event sources (lambda.lambda.events): nothing to unwire");
        return Ok(());
    }
    let lambda = Lambda::new(config);
    require_function(&lambda, name).await?;
    let Some(arn) = alias_arn(&lambda, name).await? else {
        outln!("function '{name}' has no {ALIAS} alias: nothing to unwire");
        return Ok(());
    };
    let mut target = Target::load(lambda, name, arn).await?;
    let mut removed = 0;
    for source in &sources {
        let outcome = match source {
            Source::Rule { name: rule, .. } => rules::unwire(config, &mut target, rule).await?,
            Source::S3 { .. } => s3::unwire(config, &mut target, source).await?,
            Source::Sns { topic_arn } => sns::unwire(config, &mut target, topic_arn).await?,
            Source::Mapping { arn, .. } => mappings::unwire(&target, arn).await?,
            Source::CloudFront(trigger) => cloudfront::unwire(config, &target, trigger).await?,
        };
        if outcome == Outcome::Removed {
            removed += 1;
        }
        outln!("{}: {outcome}", source.label());
    }
    if removed == 0 {
        outln!("nothing to unwire for function '{name}'");
    }
    Ok(())
}

/// Fails with "function 'NAME' does not exist" unless Lambda knows the function.
pub async fn require_function(lambda: &Lambda, name: &str) -> Result<()> {
    match lambda.get_function().function_name(name).send().await {
        Ok(_) => Ok(()),
        Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => {
            Err(Error::new(format!("function '{name}' does not exist"))
                .with_help("check the name and the region (`fink lambda list` shows the functions)"))
        }
        Err(e) => Err(fink_aws::explain(&e)),
    }
}

/// The ACTIVE alias's ARN, if the function has one.
async fn alias_arn(lambda: &Lambda, name: &str) -> Result<Option<String>> {
    match lambda.get_alias().function_name(name).name(ALIAS).send().await {
        Ok(out) => Ok(out.alias_arn().map(String::from)),
        Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(fink_aws::explain(&e)),
    }
}

/// The alias event sources invoke, and its resource-based policy (the permissions the services
/// need to invoke it; see `fink_lambda_policy`).
pub struct Target {
    pub lambda: Lambda,
    pub function: String,
    /// `<function arn>:ACTIVE`.
    pub arn: String,
    policy: Policy,
}

impl Target {
    async fn load(lambda: Lambda, function: &str, arn: String) -> Result<Target> {
        let policy = Policy::load(lambda.clone(), &arn).await?;
        Ok(Target { lambda, function: function.to_string(), arn, policy })
    }

    /// Lets `principal` invoke the alias for `source_arn`; false when the statement was there.
    pub async fn allow(&mut self, sid: &str, principal: &str, source_arn: &str) -> Result<bool> {
        self.policy.allow(sid, principal, source_arn).await
    }

    /// Removes statement `sid`; false when it was not there.
    pub async fn revoke(&mut self, sid: &str) -> Result<bool> {
        self.policy.revoke(sid).await
    }
}

/// A deterministic id: `prefix` + `text` with characters outside `[A-Za-z0-9._-]` replaced,
/// shortened to `max` with a hash of `text` so different texts stay apart.
pub fn derived_id(prefix: &str, text: &str, max: usize) -> String {
    let clean: String =
        text.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' }).collect();
    let id = format!("{prefix}{clean}");
    if id.len() <= max && clean == text {
        return id;
    }
    let hash = format!("-{:08x}", fnv(text) as u32);
    let keep = max.saturating_sub(hash.len());
    format!("{}{hash}", &id[..keep.min(id.len())])
}

/// FNV-1a: stable across runs and platforms (std's hasher is not).
pub fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_valid_and_stable() {
        assert_eq!(derived_id("fink-s3-", "photos.example", 100), "fink-s3-photos.example");
        let long = derived_id("fink-", &"f".repeat(64), 64);
        assert_eq!(long.len(), 64);
        assert_eq!(long, derived_id("fink-", &"f".repeat(64), 64));
        let a = derived_id("fink-sns-", "arn:aws:sns:eu-west-1:1:a", 100);
        let b = derived_id("fink-sns-", "arn:aws:sns:eu-west-1:1:a.", 100);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{a}");
        assert_ne!(a, b);
    }
}
