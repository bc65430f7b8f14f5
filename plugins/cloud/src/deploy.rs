//! `cloud deploy` and `cloud preview`: create or update through a change set.

use std::path::Path;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{info, outln, Error, Result, Secrets, Value};
use sha2::{Digest, Sha256};

use crate::events::{self, Watcher};
use crate::interrupt::{self, Interrupts};
use crate::parameters;
use crate::policy;
use crate::settings::Settings;
use crate::stack::{self, Change, Planned, Source};
use crate::template::Template;

/// CloudFormation's limit for an inline template body.
pub const INLINE_LIMIT: usize = 51_200;

/// What a deploy did.
pub enum Deployed {
    /// The stack's outputs after a create or update.
    Outputs(Vec<(String, String)>),
    NoChanges,
}

/// Creates or updates the stack; prints the plan, the events and the outputs.
pub async fn deploy(
    config: &SdkConfig,
    dir: &Path,
    settings: &Settings,
    template: &Template,
    override_policy: bool,
    secrets: &Secrets,
) -> Result<Deployed> {
    let params = parameters::for_stack(template, settings)?;
    let stack_policy = policy::stack_policy(dir, settings, template)?;
    let during_update = policy::during_update(dir, settings, template, override_policy)?;
    let client = Client::new(config);
    let name = settings.stack_name.as_str();
    let mut current = stack::current(&client, name).await?;
    if current.as_ref().is_some_and(|c| c.status == "REVIEW_IN_PROGRESS") {
        // An empty stack left by an earlier change set (a preview cut short): remove it first.
        info!("removing the empty stack '{name}' an earlier change set left in REVIEW_IN_PROGRESS");
        let mut watcher = Watcher::new(&client, name).await;
        client.delete_stack().stack_name(name).send().await.explained()?;
        watcher.wait(&client, name).await?;
        current = None;
    }
    if let Some(current) = &current {
        if current.status.ends_with("_IN_PROGRESS") {
            return Err(Error::new(format!(
                "stack '{name}' is busy ({}); try again when it has settled",
                current.status
            )));
        }
        if current.status == "ROLLBACK_COMPLETE" {
            return Err(Error::new(format!("stack '{name}' is in ROLLBACK_COMPLETE: its creation failed"))
                .with_help("delete it (`fink cloud delete -f`) and deploy again"));
        }
        if unchanged(&client, current, settings, template, &params).await? {
            ensure_policy(&client, name, &stack_policy).await?;
            info!("stack '{name}' is up to date: no changes to deploy");
            return Ok(Deployed::NoChanges);
        }
        print_parameter_diff(&current.parameters, &effective(template, settings, &params), template, secrets);
    }
    let source = source(config, settings, template).await?;
    let mut watcher = Watcher::new(&client, name).await;
    if crate::package::has_nested(&template.doc) {
        watcher.follow_nested(&client, name).await;
    }
    let mut interrupts = Interrupts::listen()?;
    if current.is_none() {
        print_changes(&template_additions(template));
        stack::create(&client, settings, &source, &params, &stack_policy).await?;
        info!("creating stack '{name}'");
    } else {
        // The change set shows what the update will do; the update itself carries the stack
        // policy for its duration, which executing a change set cannot.
        match stack::create_change_set(&client, settings, &source, &params, false).await? {
            Planned::NoChanges => {
                ensure_policy(&client, name, &stack_policy).await?;
                info!("stack '{name}' is up to date: no changes to deploy");
                return Ok(Deployed::NoChanges);
            }
            Planned::Ready { name: change_set, changes } => {
                print_changes(&changes);
                stack::delete_change_set(&client, name, &change_set).await;
            }
        }
        if !stack::update(&client, settings, &source, &params, &stack_policy, during_update.as_deref()).await? {
            ensure_policy(&client, name, &stack_policy).await?;
            info!("stack '{name}' is up to date: no changes to deploy");
            return Ok(Deployed::NoChanges);
        }
        info!("updating stack '{name}'");
    }
    let settled = tokio::select! {
        settled = watcher.wait(&client, name) => settled?,
        _ = interrupts.next() => {
            interrupt::interrupted(&client, &mut watcher, &mut interrupts, name, current.is_none()).await?
        }
    };
    if !settled.ok() {
        return Err(events::failure(name, &settled));
    }
    let outputs = stack::current(&client, name).await?.map(|c| c.outputs).unwrap_or_default();
    print_outputs(&outputs, secrets);
    Ok(Deployed::Outputs(outputs))
}

/// Prints what a deploy would change, then removes the change set (and, for a new stack, the
/// empty REVIEW_IN_PROGRESS stack the change set created), also when something failed.
pub async fn preview(config: &SdkConfig, settings: &Settings, template: &Template, secrets: &Secrets) -> Result<()> {
    let params = parameters::for_stack(template, settings)?;
    let client = Client::new(config);
    let name = settings.stack_name.as_str();
    let current = stack::current(&client, name).await?;
    let create = current.as_ref().is_none_or(|c| c.status == "REVIEW_IN_PROGRESS");
    if let Some(current) = current.as_ref().filter(|_| !create) {
        print_parameter_diff(&current.parameters, &effective(template, settings, &params), template, secrets);
    }
    let source = source(config, settings, template).await?;
    let result = match stack::create_change_set(&client, settings, &source, &params, create).await {
        Ok(Planned::NoChanges) => {
            outln!("stack '{name}': no changes");
            Ok(())
        }
        Ok(Planned::Ready { name: change_set, changes }) => {
            print_changes(&changes);
            stack::delete_change_set(&client, name, &change_set).await;
            Ok(())
        }
        Err(err) => Err(err),
    };
    if create {
        // The change set made an empty stack in REVIEW_IN_PROGRESS; remove it again.
        if let Err(err) = client.delete_stack().stack_name(name).send().await {
            fink_plugin_api::warn!("could not remove the empty stack '{name}': {}", fink_aws::explain(&err));
        }
    }
    result
}

/// Sets the stack policy when the stack's differs (a policy-only change).
async fn ensure_policy(client: &Client, name: &str, policy: &str) -> Result<()> {
    let out = client.get_stack_policy().stack_name(name).send().await.explained()?;
    let parse = |text: &str| serde_json::from_str::<Value>(text).ok();
    if out.stack_policy_body().and_then(parse) != parse(policy) {
        client.set_stack_policy().stack_name(name).stack_policy_body(policy).send().await.explained()?;
        info!("stack policy of '{name}' updated");
    }
    Ok(())
}

/// The parameters as the stack will have them: the sent values plus the template's defaults.
fn effective(template: &Template, settings: &Settings, params: &[(String, String)]) -> Vec<(String, String)> {
    let mut all = params.to_vec();
    for (key, spec) in template.parameters() {
        if settings.parameters.contains_key(&key) {
            continue;
        }
        if let Some(default) = spec.get("Default").and_then(|d| crate::settings::parameter_string(d).ok()) {
            all.push((key, default));
        }
    }
    all
}

/// A new stack adds every resource of the template.
fn template_additions(template: &Template) -> Vec<Change> {
    template
        .resources()
        .iter()
        .map(|(id, r)| Change {
            action: "Add".into(),
            logical_id: id.clone(),
            resource_type: r.get("Type").and_then(Value::as_str).unwrap_or_default().to_string(),
            replacement: String::new(),
        })
        .collect()
}

/// Same template, parameters, tags, role and notifications as deployed: nothing to do. NoEcho
/// parameters can't be compared (the API masks them), so their presence means "maybe changed".
async fn unchanged(
    client: &Client,
    current: &stack::Current,
    settings: &Settings,
    template: &Template,
    params: &[(String, String)],
) -> Result<bool> {
    if !parameters::no_echo(template).is_empty() {
        return Ok(false);
    }
    let mut old = current.parameters.clone();
    let mut new = params.to_vec();
    old.sort();
    new.sort();
    // Parameters left at their defaults are reported by the API but not sent by us.
    let defaults: Vec<(String, String)> = template
        .parameters()
        .iter()
        .filter(|(k, _)| !settings.parameters.contains_key(*k))
        .filter_map(|(k, spec)| crate::settings::parameter_string(spec.get("Default")?).ok().map(|d| (k.clone(), d)))
        .collect();
    old.retain(|p| !defaults.contains(p));
    let tags: Vec<(String, String)> = settings.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut old_tags = current.tags.clone();
    old_tags.sort();
    let same_settings = old == new
        && old_tags == tags
        && current.role_arn == settings.role_arn
        && settings.notification_arns.as_ref().is_none_or(|n| *n == current.notification_arns);
    Ok(same_settings && stack::template_body(client, &settings.stack_name).await?.trim() == template.body.trim())
}

/// Uploaded to `stack.artifactBucket` whenever it is set (as gcdt did); without it, inline, which
/// CloudFormation allows up to its limit.
async fn source(config: &SdkConfig, settings: &Settings, template: &Template) -> Result<Source> {
    let Some(bucket) = settings.artifact_bucket.as_deref().filter(|b| !b.trim().is_empty()) else {
        if template.body.len() <= INLINE_LIMIT {
            return Ok(Source::Body(template.body.clone()));
        }
        return Err(Error::new(format!(
            "the template is {} bytes, more than CloudFormation's inline limit of {INLINE_LIMIT}",
            template.body.len()
        ))
        .with_help("set cloud.stack.artifactBucket to an S3 bucket fink may upload the template to"));
    };
    let digest = Sha256::digest(template.body.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("fink/cloud/{}/{hex}.template", settings.stack_name);
    aws_sdk_s3::Client::new(config)
        .put_object()
        .bucket(bucket)
        .key(&key)
        .body(template.body.clone().into_bytes().into())
        .customize()
        .config_override(
            aws_sdk_s3::config::Builder::default()
                .timeout_config(fink_aws::timeouts::upload(template.body.len() as u64)),
        )
        .send()
        .await
        .map_err(|e| Error::new(format!("uploading the template to s3://{bucket}/{key}: {}", fink_aws::explain(&e))))?;
    let region = fink_aws::region(config)?;
    info!("template uploaded to s3://{bucket}/{key}");
    Ok(Source::Url(format!("https://{bucket}.s3.{region}.amazonaws.com/{key}")))
}

/// The parameter diff; NoEcho parameters and values holding a secret (e.g. from lookup:secret) are
/// shown as `****`.
fn print_parameter_diff(old: &[(String, String)], new: &[(String, String)], template: &Template, secrets: &Secrets) {
    let diff = parameters::diff(old, new, &parameters::no_echo(template), secrets);
    if diff.is_empty() {
        return;
    }
    let mut table = Table::new();
    table.set_header(["Parameter", "Old", "New"]);
    for (k, o, n) in diff {
        table.add_row([k, o, n]);
    }
    outln!("Parameter changes:\n{table}");
}

fn print_changes(changes: &[Change]) {
    if changes.is_empty() {
        outln!("Changes: no resource changes");
        return;
    }
    let mut table = Table::new();
    table.set_header(["Action", "Resource", "Type", "Replacement"]);
    for c in changes {
        table.add_row([c.action.as_str(), c.logical_id.as_str(), c.resource_type.as_str(), c.replacement.as_str()]);
    }
    outln!("Changes:\n{table}");
}

/// The outputs table; values that hold a secret (e.g. a name built from a secret parameter) are
/// masked by the one rule the host masks with.
fn print_outputs(outputs: &[(String, String)], secrets: &Secrets) {
    if outputs.is_empty() {
        return;
    }
    let mut table = Table::new();
    table.set_header(["Output", "Value"]);
    for (k, v) in outputs {
        table.add_row([k.clone(), secrets.mask(v)]);
    }
    outln!("Outputs:\n{table}");
}
