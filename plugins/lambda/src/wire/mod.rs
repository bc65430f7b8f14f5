//! `lambda wire` / `lambda unwire`: connect `lambda.lambda.events` to the function's ACTIVE alias,
//! and take those connections away again. Both are idempotent: each event source is looked up
//! before anything is created or removed, and reported as created, updated, already wired,
//! removed or not wired.
//!
//! `sources` reads the config; `rules` (EventBridge), `s3`, `sns` and `mappings` (Kinesis,
//! DynamoDB streams, SQS) do the wiring; this file resolves the alias and keeps its
//! resource-based policy (the permissions the services need to invoke it).

mod mappings;
mod rules;
mod s3;
mod sns;
mod sources;

use std::collections::HashSet;
use std::fmt;

use aws_config::SdkConfig;
use aws_sdk_lambda::Client as Lambda;
use fink_plugin_api::{debug, info, outln, warn, Error, Result, Value};

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

/// The alias event sources invoke, and the statement ids of its resource-based policy.
///
/// Permissions are added and removed with the alias ARN as FunctionName (no separate Qualifier):
/// AWS accepts that, and moto 5.2.5's RemovePermission ignores the Qualifier parameter.
pub struct Target {
    pub lambda: Lambda,
    pub function: String,
    /// `<function arn>:ACTIVE`.
    pub arn: String,
    statements: HashSet<String>,
}

impl Target {
    async fn load(lambda: Lambda, function: &str, arn: String) -> Result<Target> {
        let statements = match lambda.get_policy().function_name(&arn).send().await {
            Ok(out) => statement_ids(out.policy().unwrap_or_default()),
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => HashSet::new(),
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        debug!("{arn} has policy statements {statements:?}");
        Ok(Target { lambda, function: function.to_string(), arn, statements })
    }

    /// Lets `principal` invoke the alias for `source_arn`; false when the statement was there.
    pub async fn allow(&mut self, sid: &str, principal: &str, source_arn: &str) -> Result<bool> {
        if self.statements.contains(sid) {
            return Ok(false);
        }
        let added = match self
            .lambda
            .add_permission()
            .function_name(&self.arn)
            .statement_id(sid)
            .action("lambda:InvokeFunction")
            .principal(principal)
            .source_arn(source_arn)
            .send()
            .await
        {
            Ok(_) => true,
            Err(e) if fink_aws::code(&e) == Some("ResourceConflictException") => false,
            Err(e) => return Err(fink_aws::explain(&e)),
        };
        if added {
            debug!("added permission {sid} for {principal} on {source_arn}");
        }
        self.statements.insert(sid.to_string());
        Ok(added)
    }

    /// Removes statement `sid`; false when it was not there.
    pub async fn revoke(&mut self, sid: &str) -> Result<bool> {
        if !self.statements.remove(sid) {
            return Ok(false);
        }
        match self.lambda.remove_permission().function_name(&self.arn).statement_id(sid).send().await {
            Ok(_) => Ok(true),
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => {
                warn!("permission {sid} of {} was already gone", self.arn);
                Ok(false)
            }
            Err(e) => Err(fink_aws::explain(&e)),
        }
    }
}

/// The `Sid`s of a policy document.
fn statement_ids(policy: &str) -> HashSet<String> {
    let doc: Value = serde_json::from_str(policy).unwrap_or_default();
    doc.get("Statement")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .map(String::from)
        .collect()
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

    #[test]
    fn reads_statement_ids() {
        let ids = statement_ids(r#"{"Version":"2012-10-17","Statement":[{"Sid":"a"},{"Sid":"b"},{}]}"#);
        assert_eq!(ids, HashSet::from(["a".to_string(), "b".to_string()]));
        assert!(statement_ids("not json").is_empty());
    }
}
