//! Talking to CloudFormation about one stack: its state, change sets, policy and outputs.

use std::time::Duration;

use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudformation::types::{Capability, ChangeAction, ChangeSetStatus, ChangeSetType, Parameter, Tag};
use aws_sdk_cloudformation::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use crate::settings::Settings;

/// The stack as it is now.
#[derive(Debug, Clone)]
pub struct Current {
    pub status: String,
    pub parameters: Vec<(String, String)>,
    pub outputs: Vec<(String, String)>,
    pub tags: Vec<(String, String)>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
}

/// The stack, or `None` when it does not exist.
pub async fn current(client: &Client, name: &str) -> Result<Option<Current>> {
    match client.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().map(|s| Current {
            status: s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default(),
            parameters: s
                .parameters()
                .iter()
                .map(|p| (p.parameter_key().unwrap_or_default().into(), p.parameter_value().unwrap_or_default().into()))
                .collect(),
            outputs: s
                .outputs()
                .iter()
                .map(|o| (o.output_key().unwrap_or_default().into(), o.output_value().unwrap_or_default().into()))
                .collect(),
            tags: s
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string()))
                .collect(),
            role_arn: s.role_arn().map(String::from),
            notification_arns: s.notification_arns().to_vec(),
        })),
        Err(err) if fink_aws::code(&err) == Some("ValidationError") => Ok(None),
        Err(err) => Err(fink_aws::explain(&err)),
    }
}

/// The template body the stack was last deployed with.
pub async fn template_body(client: &Client, name: &str) -> Result<String> {
    let out = client.get_template().stack_name(name).send().await.explained()?;
    Ok(out.template_body().unwrap_or_default().to_string())
}

/// Where the template comes from: inline, or an S3 URL (uploaded to `stack.artifactBucket`).
#[derive(Debug, Clone)]
pub enum Source {
    Body(String),
    Url(String),
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    pub replacement: String,
}

/// A change set that was created and is ready, or the news that nothing changes.
pub enum Planned {
    Ready { name: String, changes: Vec<Change> },
    NoChanges,
}

/// Creates a change set and waits until it is ready.
pub async fn create_change_set(
    client: &Client,
    settings: &Settings,
    source: &Source,
    parameters: &[(String, String)],
    create: bool,
) -> Result<Planned> {
    let name = format!(
        "fink-{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis()
    );
    let mut request = client
        .create_change_set()
        .stack_name(&settings.stack_name)
        .change_set_name(&name)
        .change_set_type(if create { ChangeSetType::Create } else { ChangeSetType::Update })
        .set_parameters(Some(parameter_list(parameters)))
        .set_capabilities(Some(capabilities(settings)))
        .set_role_arn(settings.role_arn.clone())
        .set_notification_arns(settings.notification_arns.clone())
        .set_tags(Some(tags(settings)))
        // Nested stacks get change sets of their own, listed below their stack resource.
        .include_nested_stacks(true);
    request = match source {
        Source::Body(body) => request.template_body(body),
        Source::Url(url) => request.template_url(url),
    };
    let created = match request.send().await {
        Ok(created) => created,
        // CloudFormation may refuse the change set outright instead of letting it fail (moto
        // does, for an unchanged stack with parameters): then no change set exists.
        Err(err) if no_updates(&err) => return Ok(Planned::NoChanges),
        Err(err) => return Err(fink_aws::explain(&err)),
    };
    // From here on the change set is addressed by its ARN: unambiguous even when an earlier stack
    // of the same name had a change set of the same name.
    let name = created.id().map(String::from).unwrap_or(name);

    loop {
        let out = client
            .describe_change_set()
            .stack_name(&settings.stack_name)
            .change_set_name(&name)
            .send()
            .await
            .explained()?;
        match out.status() {
            Some(ChangeSetStatus::CreatePending | ChangeSetStatus::CreateInProgress) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Some(ChangeSetStatus::Failed) => {
                let reason = out.status_reason().unwrap_or_default().to_string();
                delete_change_set(client, &settings.stack_name, &name).await;
                if nothing_to_change(&reason) {
                    return Ok(Planned::NoChanges);
                }
                return Err(Error::new(format!("change set for stack '{}' failed: {reason}", settings.stack_name)));
            }
            _ => {
                let mut changes = Vec::new();
                for r in out.changes().iter().filter_map(|c| c.resource_change()) {
                    let change = Change {
                        action: r.action().map(ChangeAction::as_str).unwrap_or("?").to_string(),
                        logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                        resource_type: r.resource_type().unwrap_or_default().to_string(),
                        replacement: r.replacement().map(|x| x.as_str().to_string()).unwrap_or_default(),
                    };
                    let nested = r.change_set_id().filter(|id| !id.is_empty()).map(String::from);
                    let prefix = format!("{}/", change.logical_id);
                    changes.push(change);
                    if let Some(id) = nested {
                        changes.extend(nested_changes(client, &id, &prefix, 0).await?);
                    }
                }
                // An empty list is still a change (e.g. of outputs or parameters only); a change set
                // without any change fails with "didn't contain changes" above.
                return Ok(Planned::Ready { name, changes });
            }
        }
    }
}

/// The changes of a nested stack's change set (and of its own nested ones), each logical id
/// behind `prefix` (`Network/Subnet`).
fn nested_changes<'a>(
    client: &'a Client,
    id: &'a str,
    prefix: &'a str,
    depth: usize,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Change>>> + 'a>> {
    Box::pin(async move {
        let out = client.describe_change_set().change_set_name(id).send().await.explained()?;
        let mut changes = Vec::new();
        for r in out.changes().iter().filter_map(|c| c.resource_change()) {
            let logical_id = format!("{prefix}{}", r.logical_resource_id().unwrap_or_default());
            changes.push(Change {
                action: r.action().map(ChangeAction::as_str).unwrap_or("?").to_string(),
                logical_id: logical_id.clone(),
                resource_type: r.resource_type().unwrap_or_default().to_string(),
                replacement: r.replacement().map(|x| x.as_str().to_string()).unwrap_or_default(),
            });
            if let Some(nested) = r.change_set_id().filter(|id| !id.is_empty() && depth < 4) {
                changes.extend(nested_changes(client, nested, &format!("{logical_id}/"), depth + 1).await?);
            }
        }
        Ok(changes)
    })
}

/// Deletes a change set; a failure here only leaves a harmless change set behind.
pub async fn delete_change_set(client: &Client, stack: &str, name: &str) {
    if let Err(err) = client.delete_change_set().stack_name(stack).change_set_name(name).send().await {
        fink_plugin_api::warn!("could not delete change set {name}: {}", fink_aws::explain(&err));
    }
}

fn parameter_list(parameters: &[(String, String)]) -> Vec<Parameter> {
    parameters.iter().map(|(k, v)| Parameter::builder().parameter_key(k).parameter_value(v).build()).collect()
}

fn capabilities(settings: &Settings) -> Vec<Capability> {
    settings.capabilities.iter().map(|c| Capability::from(c.as_str())).collect()
}

/// Creates the stack with its stack policy.
pub async fn create(
    client: &Client,
    settings: &Settings,
    source: &Source,
    parameters: &[(String, String)],
    policy: &str,
) -> Result<()> {
    let request = client
        .create_stack()
        .stack_name(&settings.stack_name)
        .set_parameters(Some(parameter_list(parameters)))
        .set_capabilities(Some(capabilities(settings)))
        .set_role_arn(settings.role_arn.clone())
        .set_notification_arns(settings.notification_arns.clone())
        .set_tags(Some(tags(settings)))
        .stack_policy_body(policy);
    let request = match source {
        Source::Body(body) => request.template_body(body),
        Source::Url(url) => request.template_url(url),
    };
    request.send().await.explained()?;
    Ok(())
}

/// Updates the stack, setting its stack policy and, for this update only, `during_update`.
/// Returns false when CloudFormation finds nothing to update.
pub async fn update(
    client: &Client,
    settings: &Settings,
    source: &Source,
    parameters: &[(String, String)],
    policy: &str,
    during_update: Option<&str>,
) -> Result<bool> {
    let request = client
        .update_stack()
        .stack_name(&settings.stack_name)
        .set_parameters(Some(parameter_list(parameters)))
        .set_capabilities(Some(capabilities(settings)))
        .set_role_arn(settings.role_arn.clone())
        .set_notification_arns(settings.notification_arns.clone())
        .set_tags(Some(tags(settings)))
        .stack_policy_body(policy)
        .set_stack_policy_during_update_body(during_update.map(String::from));
    let request = match source {
        Source::Body(body) => request.template_body(body),
        Source::Url(url) => request.template_url(url),
    };
    match request.send().await {
        Ok(_) => Ok(true),
        Err(err) if no_updates(&err) => Ok(false),
        Err(err) => Err(fink_aws::explain(&err)),
    }
}

/// CloudFormation's two ways of saying "nothing to do": a `ValidationError` "No updates are to be
/// performed." (UpdateStack, CreateChangeSet) and a change set that fails with "The submitted
/// information didn't contain changes. ...".
fn nothing_to_change(message: &str) -> bool {
    message.contains("didn't contain changes") || message.contains("No updates are to be performed")
}

fn no_updates<E: ProvideErrorMetadata>(err: &SdkError<E>) -> bool {
    fink_aws::code(err) == Some("ValidationError")
        && err.as_service_error().and_then(|e| e.message()).is_some_and(nothing_to_change)
}

fn tags(settings: &Settings) -> Vec<Tag> {
    settings.tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_no_change_answers_mean_nothing_to_change() {
        assert!(nothing_to_change("No updates are to be performed."));
        assert!(nothing_to_change(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(!nothing_to_change("Template format error: unsupported structure."));
        assert!(!nothing_to_change("Parameters: [Env] must have values"));
    }
}
