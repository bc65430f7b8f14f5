//! `api deploy`: fill in the swagger template, create the REST API (ImportRestApi) or overwrite
//! it (PutRestApi), deploy it to the stage with the cache and method settings, let it invoke the
//! entries' aliases, wire the API key and the custom domain, and print the URL.
//!
//! A stage whose deployment was made from the same document (see `crate::stage`) and whose
//! settings match is left alone: no PutRestApi, no CreateDeployment.

use aws_config::SdkConfig;
use aws_sdk_apigateway::primitives::Blob;
use aws_sdk_apigateway::types::{CacheClusterSize, PutMode, Stage};
use aws_sdk_apigateway::Client;
use fink_aws::timeouts::Timeouts;
use fink_aws::Explained;
use fink_plugin_api::{debug, outln, warn, Result};

use crate::functions::{self, Function};
use crate::settings::{Entry, Section};
use crate::stage::{self, Wanted};
use crate::template::{Document, RenderFailure, Template, Values};
use crate::{custom_domain, rest_apis, usage_plan};

/// What `deploy` needs besides AWS.
pub struct Inputs {
    pub section: Section,
    pub entries: Vec<Entry>,
    pub template: Template,
    /// The caller's account (from the credentials check), for the permissions' source ARN.
    pub account: Option<String>,
}

/// The deployed API.
pub struct Deployed {
    pub id: String,
    pub url: String,
}

pub async fn deploy(config: &SdkConfig, inputs: Inputs) -> Result<Deployed> {
    let Inputs { section, entries, template, account } = inputs;
    let region = fink_aws::region(config)?;
    let client = Client::new(config);
    let lambda = aws_sdk_lambda::Client::new(config);
    let (name, stage_name) = (section.api.name.as_str(), section.api.target_stage.as_str());
    let wanted = Wanted::from_section(&section)?;
    let functions = functions::resolve(&lambda, &entries).await?;
    let mut values = values(&section, &functions);

    let existing = rest_apis::find(&client, name).await?;
    let domain = section.custom_domain.as_ref().map(|d| d.domain_name.clone());
    values.hostname =
        domain.clone().or_else(|| existing.as_ref().and_then(|a| a.id()).map(|id| rest_apis::hostname(id, &region)));

    let id = match existing.and_then(|a| a.id().map(String::from)) {
        Some(id) => {
            let document = render(&template, &values)?;
            let fingerprint = stage::fingerprint(&document.text);
            let current = get_stage(&client, &id, stage_name).await?;
            if serves(&client, &id, current.as_ref(), &fingerprint).await? {
                let changes = wanted.changes(current.as_ref());
                if changes.is_empty() {
                    outln!("API '{name}' ({id}) is up to date: {} and the stage settings are unchanged", template.name);
                } else {
                    let count = changes.len();
                    client
                        .update_stage()
                        .rest_api_id(&id)
                        .stage_name(stage_name)
                        .set_patch_operations(Some(changes))
                        .send()
                        .await
                        .explained()?;
                    outln!("API '{name}' ({id}) is unchanged; stage {stage_name}: {count} setting(s) changed");
                }
            } else {
                overwrite(&client, &id, &template, &document).await?;
                outln!("API '{name}' ({id}) updated from {}", template.name);
                deploy_stage(&client, &id, stage_name, &wanted, &fingerprint).await?;
            }
            id
        }
        None => {
            let (id, document) = create(&client, &template, &mut values, &section, &region).await?;
            outln!("API '{name}' ({id}) created from {}", template.name);
            deploy_stage(&client, &id, stage_name, &wanted, &stage::fingerprint(&document.text)).await?;
            id
        }
    };

    for alias in functions::allow(&lambda, &functions, &id, account.as_deref()).await? {
        outln!("permission for the API to invoke {alias}: added");
    }
    if let Some(key) = section.api.api_key.as_deref().filter(|k| !k.is_empty()) {
        match usage_plan::wire(&client, key, name, &id, stage_name).await? {
            usage_plan::Wired::Already(plan) => debug!("API key {key} is in usage plan {plan} of stage {stage_name}"),
            usage_plan::Wired::Now { plan, created } => {
                let made = if created { " (created)" } else { "" };
                outln!("API key {key}: wired to stage {stage_name} through usage plan {plan}{made}");
            }
        }
    }
    if let Some(domain) = &section.custom_domain {
        custom_domain::ensure(config, &client, domain, &id, stage_name).await?;
    }
    let url = match &section.custom_domain {
        Some(domain) => format!("https://{}/{}", domain.domain_name, domain.base_path.trim_matches('/')),
        None => format!("https://{}/{stage_name}", rest_apis::hostname(&id, &region)),
    };
    outln!("URL: {url}");
    Ok(Deployed { id, url })
}

/// The placeholders' values; the hostname is set by the caller.
pub fn values(section: &Section, functions: &[Function]) -> Values {
    Values {
        name: section.api.name.clone(),
        description: section.description().to_string(),
        base_path: section.base_path(),
        hostname: None,
        refs: functions
            .iter()
            .filter_map(|f| f.entry.swagger_ref.clone().filter(|r| !r.is_empty()).map(|r| (r, f.invocation_uri())))
            .collect(),
    }
}

fn render(template: &Template, values: &Values) -> Result<Document> {
    match template.render(values) {
        Ok(text) => template.parse(text, Some(&values.name)),
        Err(RenderFailure::Failed(e)) => Err(e),
        // The hostname is known for an existing API.
        Err(RenderFailure::NeedsHostname) => {
            Err(fink_plugin_api::Error::new(format!("{}: apiHostname has no value", template.name)))
        }
    }
}

/// A new API: imported from the document, or, when the document needs the API's own hostname,
/// created empty first so the hostname is known, then filled with PutRestApi.
async fn create(
    client: &Client,
    template: &Template,
    values: &mut Values,
    section: &Section,
    region: &str,
) -> Result<(String, Document)> {
    match template.render(values) {
        Ok(text) => {
            let document = template.parse(text, Some(&values.name))?;
            let out = client
                .import_rest_api()
                .body(Blob::new(document.text.as_bytes()))
                .customize()
                .config_override(document_bounds(Timeouts::from_env()?, &document))
                .send()
                .await
                .explained()?;
            report_warnings(template, out.warnings());
            Ok((out.id().unwrap_or_default().to_string(), document))
        }
        Err(RenderFailure::Failed(e)) => Err(e),
        Err(RenderFailure::NeedsHostname) => {
            // Check the document before anything is created.
            template.check(values)?;
            let made = client
                .create_rest_api()
                .name(&values.name)
                .description(section.description())
                .send()
                .await
                .explained()?;
            let id = made.id().unwrap_or_default().to_string();
            values.hostname = Some(rest_apis::hostname(&id, region));
            let document = render(template, values)?;
            overwrite(client, &id, template, &document).await?;
            Ok((id, document))
        }
    }
}

/// Deploys the API to the stage (creating it), recording the document, then applies the settings
/// the deployment did not.
async fn deploy_stage(client: &Client, id: &str, stage_name: &str, wanted: &Wanted, fingerprint: &str) -> Result<()> {
    let mut create = client
        .create_deployment()
        .rest_api_id(id)
        .stage_name(stage_name)
        .description(stage::description(fingerprint))
        .cache_cluster_enabled(wanted.cache_enabled);
    if wanted.cache_enabled {
        create = create.cache_cluster_size(CacheClusterSize::from(wanted.cache_size.as_str()));
    }
    let deployment = create.send().await.explained()?;
    outln!("stage {stage_name}: deployment {}", deployment.id().unwrap_or_default());
    let current = get_stage(client, id, stage_name).await?;
    let changes = wanted.changes(current.as_ref());
    if !changes.is_empty() {
        let count = changes.len();
        client
            .update_stage()
            .rest_api_id(id)
            .stage_name(stage_name)
            .set_patch_operations(Some(changes))
            .send()
            .await
            .explained()?;
        outln!("stage {stage_name}: {count} setting(s) applied");
    }
    Ok(())
}

async fn get_stage(client: &Client, id: &str, stage_name: &str) -> Result<Option<Stage>> {
    match client.get_stage().rest_api_id(id).stage_name(stage_name).send().await {
        Ok(out) => Ok(Some(
            Stage::builder()
                .set_deployment_id(out.deployment_id().map(String::from))
                .set_stage_name(out.stage_name().map(String::from))
                .set_cache_cluster_enabled(Some(out.cache_cluster_enabled()))
                .set_cache_cluster_size(out.cache_cluster_size().cloned())
                .set_method_settings(out.method_settings().cloned())
                .build(),
        )),
        Err(e) if fink_aws::code(&e) == Some("NotFoundException") => Ok(None),
        Err(e) => Err(fink_aws::explain(&e)),
    }
}

/// Whether the stage serves a deployment fink made from this document.
async fn serves(client: &Client, id: &str, stage: Option<&Stage>, fingerprint: &str) -> Result<bool> {
    let Some(deployment) = stage.and_then(Stage::deployment_id) else { return Ok(false) };
    let out = match client.get_deployment().rest_api_id(id).deployment_id(deployment).send().await {
        Ok(out) => out,
        Err(e) if fink_aws::code(&e) == Some("NotFoundException") => return Ok(false),
        Err(e) => return Err(fink_aws::explain(&e)),
    };
    let recorded = out.description().and_then(stage::recorded);
    debug!("stage deployment {deployment} records document {recorded:?}; this one is {fingerprint}");
    Ok(recorded == Some(fingerprint))
}

/// Replaces the API's definition with the document (PutRestApi, mode overwrite).
async fn overwrite(client: &Client, id: &str, template: &Template, document: &Document) -> Result<()> {
    let out = client
        .put_rest_api()
        .rest_api_id(id)
        .mode(PutMode::Overwrite)
        .body(Blob::new(document.text.as_bytes()))
        .customize()
        .config_override(document_bounds(Timeouts::from_env()?, document))
        .send()
        .await
        .explained()?;
    report_warnings(template, out.warnings());
    Ok(())
}

/// The SDK timeouts of ImportRestApi and PutRestApi, which send the whole document: the bound of
/// one call plus the time the document takes at 64 KiB/s.
fn document_bounds(timeouts: Timeouts, document: &Document) -> aws_sdk_apigateway::config::Builder {
    aws_sdk_apigateway::config::Builder::default().timeout_config(timeouts.upload(document.text.len() as u64))
}

fn report_warnings(template: &Template, warnings: &[String]) {
    for warning in warnings {
        warn!("{}: API Gateway: {warning}", template.name);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_document_sent_whole_gets_time_for_its_size() {
        let document = |len: usize| Document { text: "x".repeat(len), value: fink_plugin_api::Value::Null };
        // The default 20 s an attempt and 50 s a call, plus 2 MiB at 64 KiB/s (32 s).
        let config = document_bounds(Timeouts::default(), &document(2 * 1024 * 1024)).build();
        let bounds = config.timeout_config().unwrap();
        assert_eq!(bounds.operation_attempt_timeout(), Some(Duration::from_secs(52)));
        assert_eq!(bounds.read_timeout(), Some(Duration::from_secs(52)));
        assert_eq!(bounds.operation_timeout(), Some(Duration::from_secs(82)));
        assert_eq!(bounds.connect_timeout(), Some(Duration::from_secs(5)));
        // A small document: a second more than the default.
        let small = document_bounds(Timeouts::default(), &document(3000)).build();
        assert_eq!(small.timeout_config().unwrap().operation_timeout(), Some(Duration::from_secs(51)));
    }
}
