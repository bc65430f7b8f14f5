//! `lambda deploy`: create or update the function, publish a version, ping it when configured and
//! point the `ACTIVE` alias at that version.
//!
//! Only what differs is sent: the code when the bundle's sha256 differs from the function's
//! CodeSha256 (the bundler's zips are deterministic, so equal means unchanged), the configuration
//! when a managed field differs. Waits use the SDK's waiters.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, FunctionConfiguration, Runtime, VpcConfig};
use aws_sdk_lambda::Client;
use fink_aws::timeouts::Timeouts;
use fink_aws::Explained;
use fink_plugin_api::{human, info, json, outln, warn, Bundle, Error, Result, Value};
use sha2::{Digest, Sha256};

use crate::functions::{active_version, set_active};
use crate::invoke;
use crate::settings::Settings;

/// How long the waiters wait for the function to settle.
const WAIT: Duration = Duration::from_secs(600);

/// The configuration fink manages, in a form that compares equal when nothing needs updating.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Managed {
    pub role: Option<String>,
    pub handler: Option<String>,
    pub runtime: Option<String>,
    pub timeout: Option<i32>,
    pub memory_size: Option<i32>,
    pub description: Option<String>,
    pub environment: BTreeMap<String, String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub layers: Vec<String>,
}

impl Managed {
    /// What the config asks for.
    pub fn wanted(settings: &Settings) -> Managed {
        let f = &settings.function;
        let mut subnet_ids = f.vpc.as_ref().map(|v| v.subnet_ids.clone()).unwrap_or_default();
        let mut security_group_ids = f.vpc.as_ref().map(|v| v.security_groups.clone()).unwrap_or_default();
        subnet_ids.sort();
        security_group_ids.sort();
        Managed {
            role: f.role.clone(),
            handler: f.handler_function.clone(),
            runtime: Some(settings.runtime().to_string()),
            timeout: f.timeout,
            memory_size: f.memory_size,
            description: f.description.clone(),
            environment: f.environment.clone(),
            subnet_ids,
            security_group_ids,
            layers: f.layers.clone(),
        }
    }

    /// What the function has.
    pub fn current(c: &FunctionConfiguration) -> Managed {
        let vpc = c.vpc_config();
        let mut subnet_ids = vpc.map(|v| v.subnet_ids().to_vec()).unwrap_or_default();
        let mut security_group_ids = vpc.map(|v| v.security_group_ids().to_vec()).unwrap_or_default();
        subnet_ids.sort();
        security_group_ids.sort();
        Managed {
            role: c.role().map(String::from),
            handler: c.handler().map(String::from),
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            timeout: c.timeout(),
            memory_size: c.memory_size(),
            description: c.description().map(String::from),
            environment: c
                .environment()
                .and_then(|e| e.variables())
                .map(|v| v.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default(),
            subnet_ids,
            security_group_ids,
            layers: c.layers().iter().filter_map(|l| l.arn().map(String::from)).collect(),
        }
    }

    /// The fields where `self` (wanted) differs from `current`. Unset optional values are not
    /// managed (the function keeps what it has); maps and lists are (empty removes them).
    pub fn differences(&self, current: &Managed) -> Vec<&'static str> {
        let mut out = Vec::new();
        let differs = |wanted: &Option<String>, have: &Option<String>| wanted.is_some() && wanted != have;
        if differs(&self.role, &current.role) {
            out.push("role");
        }
        if differs(&self.handler, &current.handler) {
            out.push("handler");
        }
        if differs(&self.runtime, &current.runtime) {
            out.push("runtime");
        }
        if self.timeout.is_some() && self.timeout != current.timeout {
            out.push("timeout");
        }
        if self.memory_size.is_some() && self.memory_size != current.memory_size {
            out.push("memorySize");
        }
        if self.description.is_some()
            && self.description.as_deref().unwrap_or("") != current.description.as_deref().unwrap_or("")
        {
            out.push("description");
        }
        if self.environment != current.environment {
            out.push("environment");
        }
        if self.subnet_ids != current.subnet_ids || self.security_group_ids != current.security_group_ids {
            out.push("vpc");
        }
        if self.layers != current.layers {
            out.push("layers");
        }
        out
    }

    fn environment(&self) -> Environment {
        let vars: HashMap<String, String> = self.environment.clone().into_iter().collect();
        Environment::builder().set_variables(Some(vars)).build()
    }

    fn vpc(&self) -> VpcConfig {
        VpcConfig::builder()
            .set_subnet_ids(Some(self.subnet_ids.clone()))
            .set_security_group_ids(Some(self.security_group_ids.clone()))
            .build()
    }
}

/// Deploys; returns what happened (for the context's `lambda_output`).
pub async fn deploy(config: &SdkConfig, settings: &Settings, built: &Bundle) -> Result<Value> {
    let client = Client::new(config);
    let name = settings.function.name.as_str();
    let wanted = Managed::wanted(settings);
    let code = code(config, settings, built).await?;

    let existing = crate::functions::configuration(&client, name).await?;
    let (created, code_updated, changed) = match &existing {
        None => {
            create(&client, name, &wanted, code, built.size).await?;
            (true, true, Vec::new())
        }
        Some(current) => {
            let code_updated = current.code_sha256() != Some(built.sha256.as_str());
            if code_updated {
                info!("updating code of function '{name}' ({})", human::bytes(built.size));
                let request = client.update_function_code().function_name(name);
                let request = match code {
                    Code::Zip(bytes) => request.zip_file(Blob::new(bytes)),
                    Code::S3 { bucket, key } => request.s3_bucket(bucket).s3_key(key),
                };
                request
                    .customize()
                    .config_override(code_bounds(Timeouts::from_env()?, built.size))
                    .send()
                    .await
                    .explained()?;
                wait_updated(&client, name).await?;
            } else {
                info!("code of function '{name}' unchanged (sha256 {}), not uploading", built.sha256);
            }
            let changed = wanted.differences(&Managed::current(current));
            if !changed.is_empty() {
                info!("updating configuration of function '{name}': {}", changed.join(", "));
                update_configuration(&client, name, &wanted).await?;
                wait_updated(&client, name).await?;
            }
            (false, code_updated, changed)
        }
    };

    let published = client.publish_version().function_name(name).send().await.explained()?;
    let version = published.version().unwrap_or("$LATEST").to_string();
    let previous = active_version(&client, name).await?;

    // A version that is already ACTIVE was checked when it became so.
    if settings.ping_after_deploy() && previous.as_deref() != Some(version.as_str()) {
        let timeout = wanted.timeout.or_else(|| existing.as_ref().and_then(FunctionConfiguration::timeout));
        match invoke::ping(&client, name, Some(&version), timeout).await {
            Ok(()) => info!("version {version} answered the ping"),
            Err(err) if settings.fail_on_bad_ping() => {
                let stays = previous.as_deref().map(|v| format!("version {v}")).unwrap_or_else(|| "unset".into());
                return Err(Error::new(format!("ping of function '{name}' version {version} failed: {err}"))
                    .with_help(format!("ACTIVE stays at {stays}")));
            }
            Err(err) => warn!("ping of function '{name}' version {version} failed: {err}"),
        }
    }

    if previous.as_deref() != Some(version.as_str()) {
        set_active(&client, name, &version, previous.is_some()).await?;
    }
    if let Some(days) = settings.function.logs.as_ref().and_then(|l| l.retention_in_days) {
        retention(config, name, days).await?;
    }

    let what = if created {
        "created".to_string()
    } else if !code_updated && changed.is_empty() {
        "unchanged".to_string()
    } else {
        let mut parts = Vec::new();
        if code_updated {
            parts.push("code".to_string());
        }
        parts.extend(changed.iter().map(|c| c.to_string()));
        format!("updated ({})", parts.join(", "))
    };
    match previous.as_deref() {
        Some(p) if p == version => outln!("function '{name}' {what}: ACTIVE stays at version {version}"),
        Some(p) => outln!("function '{name}' {what}: ACTIVE now at version {version} (was {p})"),
        None => outln!("function '{name}' {what}: ACTIVE at version {version}"),
    }
    Ok(json!({
        "function": name,
        "arn": published.function_arn(),
        "version": version,
        "previous_version": previous,
        "code_sha256": built.sha256,
        "code_updated": code_updated,
        "configuration_updated": changed,
    }))
}

/// Where the code comes from: the zip itself, or an S3 object when `deployment.artifactBucket` is set.
enum Code {
    Zip(Vec<u8>),
    S3 { bucket: String, key: String },
}

async fn code(config: &SdkConfig, settings: &Settings, built: &Bundle) -> Result<Code> {
    let bytes = std::fs::read(&built.path)
        .map_err(|e| Error::new(format!("cannot read the bundle {}: {e}", built.path.display())))?;
    let Some(bucket) = settings.deployment.artifact_bucket.clone() else {
        return Ok(Code::Zip(bytes));
    };
    let region = fink_aws::region(config)?;
    // Keyed by content, so an unchanged bundle is not uploaded twice.
    let hex: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("fink/lambda/{region}/{}/{hex}.zip", settings.function.name);
    let size = bytes.len() as u64;
    let s3 = aws_sdk_s3::Client::new(config);
    if s3.head_object().bucket(&bucket).key(&key).send().await.is_ok() {
        info!("bundle already in s3://{bucket}/{key}");
    } else {
        info!("uploading bundle to s3://{bucket}/{key} ({})", human::bytes(built.size));
        s3.put_object()
            .bucket(&bucket)
            .key(&key)
            .body(aws_sdk_s3::primitives::ByteStream::from(bytes))
            .customize()
            // The bound of one call, plus the time the body takes on a slow line.
            .config_override(aws_sdk_s3::config::Builder::default().timeout_config(fink_aws::timeouts::upload(size)))
            .send()
            .await
            .map_err(|e| {
                Error::new(format!("cannot upload the bundle to s3://{bucket}/{key}: {}", fink_aws::explain(&e)))
                    .with_help("check lambda.deployment.artifactBucket")
            })?;
    }
    Ok(Code::S3 { bucket, key })
}

/// The SDK timeouts of CreateFunction and UpdateFunctionCode for a bundle of `size` bytes: the
/// bound of one call plus the time the zip takes at 64 KiB/s. Sent in the body or read by Lambda
/// from S3, the whole zip is read and checked before the answer (which carries its CodeSha256).
fn code_bounds(timeouts: Timeouts, size: u64) -> aws_sdk_lambda::config::Builder {
    aws_sdk_lambda::config::Builder::default().timeout_config(timeouts.upload(size))
}

async fn create(client: &Client, name: &str, wanted: &Managed, code: Code, size: u64) -> Result<()> {
    let role = wanted.role.clone().ok_or_else(|| {
        Error::new("lambda.lambda.role is missing").with_help("a new function needs the ARN of its execution role")
    })?;
    let handler = wanted.handler.clone().ok_or_else(|| {
        Error::new("lambda.lambda.handlerFunction is missing").with_help("e.g. \"handler.handle\" for handler.py")
    })?;
    info!("creating function '{name}'");
    let code = match code {
        Code::Zip(bytes) => FunctionCode::builder().zip_file(Blob::new(bytes)).build(),
        Code::S3 { bucket, key } => FunctionCode::builder().s3_bucket(bucket).s3_key(key).build(),
    };
    client
        .create_function()
        .function_name(name)
        .role(role)
        .handler(handler)
        .set_runtime(wanted.runtime.as_deref().map(Runtime::from))
        .set_timeout(wanted.timeout)
        .set_memory_size(wanted.memory_size)
        .set_description(wanted.description.clone())
        .environment(wanted.environment())
        .vpc_config(wanted.vpc())
        .set_layers(Some(wanted.layers.clone()).filter(|l| !l.is_empty()))
        .code(code)
        .customize()
        .config_override(code_bounds(Timeouts::from_env()?, size))
        .send()
        .await
        .explained()?;
    client
        .wait_until_function_active_v2()
        .function_name(name)
        .wait(WAIT)
        .await
        .map_err(|e| waiter_error(name, "active", &e))?;
    Ok(())
}

async fn update_configuration(client: &Client, name: &str, wanted: &Managed) -> Result<()> {
    client
        .update_function_configuration()
        .function_name(name)
        .set_role(wanted.role.clone())
        .set_handler(wanted.handler.clone())
        .set_runtime(wanted.runtime.as_deref().map(Runtime::from))
        .set_timeout(wanted.timeout)
        .set_memory_size(wanted.memory_size)
        .set_description(wanted.description.clone())
        .environment(wanted.environment())
        .vpc_config(wanted.vpc())
        .set_layers(Some(wanted.layers.clone()))
        .send()
        .await
        .explained()?;
    Ok(())
}

async fn wait_updated(client: &Client, name: &str) -> Result<()> {
    client
        .wait_until_function_updated_v2()
        .function_name(name)
        .wait(WAIT)
        .await
        .map_err(|e| waiter_error(name, "updated", &e))?;
    Ok(())
}

fn waiter_error(name: &str, state: &str, err: &dyn std::error::Error) -> Error {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text = format!("{text}: {inner}");
        cause = inner.source();
    }
    Error::new(format!("function '{name}' did not become {state}: {text}"))
}

/// Sets the retention of the function's log group, creating the group when needed.
async fn retention(config: &SdkConfig, name: &str, days: i64) -> Result<()> {
    let logs = aws_sdk_cloudwatchlogs::Client::new(config);
    let group = format!("/aws/lambda/{name}");
    let found = logs.describe_log_groups().log_group_name_prefix(&group).send().await.explained()?;
    let current = found.log_groups().iter().find(|g| g.log_group_name() == Some(group.as_str()));
    match current {
        Some(g) if g.retention_in_days() == Some(days as i32) => {
            fink_plugin_api::debug!("log group {group} already keeps events for {days} days");
            return Ok(());
        }
        Some(_) => {}
        None => {
            if let Err(err) = logs.create_log_group().log_group_name(&group).send().await {
                // Created meanwhile (e.g. by the function's first run): fine.
                if fink_aws::code(&err) != Some("ResourceAlreadyExistsException") {
                    return Err(fink_aws::explain(&err));
                }
            }
        }
    }
    logs.put_retention_policy().log_group_name(&group).retention_in_days(days as i32).send().await.explained()?;
    info!("log group {group} keeps events for {days} days");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Section, Settings};

    fn settings(function: Value) -> Settings {
        serde_json::from_value::<Section>(json!({ "lambda": function })).unwrap().settings().unwrap()
    }

    #[test]
    fn nothing_differs_when_the_function_matches() {
        let wanted =
            Managed::wanted(&settings(json!({"name": "f", "role": "r", "handlerFunction": "h.h", "memorySize": 256})));
        let mut current = wanted.clone();
        current.timeout = Some(3); // not configured: not managed
        assert!(wanted.differences(&current).is_empty());
    }

    #[test]
    fn code_uploads_get_time_for_the_zip() {
        // The default 20 s an attempt and 50 s a call, plus 10 MiB at 64 KiB/s (160 s).
        let config = code_bounds(Timeouts::default(), 10 * 1024 * 1024).build();
        let bounds = config.timeout_config().unwrap();
        assert_eq!(bounds.operation_attempt_timeout(), Some(Duration::from_secs(180)));
        assert_eq!(bounds.read_timeout(), Some(Duration::from_secs(180)));
        assert_eq!(bounds.operation_timeout(), Some(Duration::from_secs(210)));
        assert_eq!(bounds.connect_timeout(), Some(Duration::from_secs(5)));
        // A small zip keeps about the default bounds.
        let small = code_bounds(Timeouts::default(), 1000).build();
        assert_eq!(small.timeout_config().unwrap().operation_timeout(), Some(Duration::from_secs(51)));
        // FINK_AWS_TIMEOUT=2: the body's time is added to the smaller bounds.
        let short = code_bounds(Timeouts { call: Duration::from_secs(2) }, 640 * 1024).build();
        assert_eq!(short.timeout_config().unwrap().operation_timeout(), Some(Duration::from_secs(12)));
    }

    #[test]
    fn names_each_differing_field() {
        let wanted = Managed::wanted(&settings(json!({
            "name": "f", "memorySize": 256, "environment": {"A": "1"}, "vpc": {"subnetIds": ["b", "a"]}
        })));
        let current = Managed { memory_size: Some(128), runtime: wanted.runtime.clone(), ..Default::default() };
        assert_eq!(wanted.differences(&current), vec!["memorySize", "environment", "vpc"]);
    }
}
