//! Lambda event source mappings (Kinesis, DynamoDB streams, SQS) for the alias, found by source
//! ARN and function.

use aws_sdk_lambda::types::{EventSourceMappingConfiguration, EventSourcePosition};
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

use super::sources::Source;
use super::{Outcome, Target};

pub async fn wire(target: &Target, source: &Source) -> Result<Outcome> {
    let Source::Mapping { arn, starting_position, batch_size, enabled } = source else {
        return Err(Error::new("not an event source mapping"));
    };
    let existing = ours(target, arn).await?;
    if let Some(mapping) = existing.first() {
        let uuid = mapping.uuid().unwrap_or_default();
        let size_differs = batch_size.is_some() && mapping.batch_size() != *batch_size;
        // A disabled mapping is "Disabled"; moving ones ("Enabling", "Updating", ...) are left alone.
        let state = mapping.state().unwrap_or_default();
        let enabled_differs = (*enabled && state == "Disabled") || (!*enabled && state == "Enabled");
        if !size_differs && !enabled_differs {
            return Ok(Outcome::AlreadyWired);
        }
        target
            .lambda
            .update_event_source_mapping()
            .uuid(uuid)
            .set_batch_size(*batch_size)
            .enabled(*enabled)
            .send()
            .await
            .explained()?;
        return Ok(Outcome::Updated);
    }
    target
        .lambda
        .create_event_source_mapping()
        .event_source_arn(arn)
        .function_name(&target.arn)
        .set_starting_position(starting_position.as_deref().map(EventSourcePosition::from))
        .set_batch_size(*batch_size)
        .enabled(*enabled)
        .send()
        .await
        .explained()?;
    Ok(Outcome::Created)
}

pub async fn unwire(target: &Target, arn: &str) -> Result<Outcome> {
    let mut removed = false;
    for mapping in ours(target, arn).await? {
        let Some(uuid) = mapping.uuid() else { continue };
        match target.lambda.delete_event_source_mapping().uuid(uuid).send().await {
            Ok(_) => removed = true,
            Err(e) if fink_aws::code(&e) == Some("ResourceNotFoundException") => {}
            Err(e) => return Err(fink_aws::explain(&e)),
        }
    }
    Ok(if removed { Outcome::Removed } else { Outcome::NotWired })
}

/// The mappings from `source_arn` to the alias.
async fn ours(target: &Target, source_arn: &str) -> Result<Vec<EventSourceMappingConfiguration>> {
    let mut found = Vec::new();
    let mut marker = None;
    loop {
        let out = target
            .lambda
            .list_event_source_mappings()
            .event_source_arn(source_arn)
            .function_name(&target.arn)
            .set_marker(marker)
            .send()
            .await
            .explained()?;
        found.extend(
            out.event_source_mappings()
                .iter()
                .filter(|m| m.event_source_arn() == Some(source_arn))
                .filter(|m| !matches!(m.state(), Some("Deleting")))
                .cloned(),
        );
        marker = out.next_marker().filter(|m| !m.is_empty()).map(String::from);
        if marker.is_none() {
            return Ok(found);
        }
    }
}
