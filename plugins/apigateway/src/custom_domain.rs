//! `api.customDomain`: the domain name with its certificate, the base path mapping to the stage
//! and the Route 53 CNAME pointing at the domain's CloudFront name. Each part is looked up first
//! and changed only when it differs, so running it again changes nothing.

use aws_sdk_apigateway::types::{Op, PatchOperation};
use aws_sdk_apigateway::Client;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
use fink_aws::Explained;
use fink_plugin_api::{outln, Error, Result};

use crate::settings::CustomDomain;

/// The TTL of the CNAME fink writes.
const CNAME_TTL: i64 = 300;

/// API Gateway's name of the empty base path.
const NO_BASE_PATH: &str = "(none)";

/// Makes the domain serve `stage` of the API at its base path; prints what it changed.
pub async fn ensure(
    config: &aws_config::SdkConfig,
    client: &Client,
    domain: &CustomDomain,
    api_id: &str,
    stage: &str,
) -> Result<()> {
    let name = domain.domain_name.as_str();
    let (target, created) = domain_name(client, domain).await?;
    base_path(client, domain, api_id, stage, created).await?;
    if let Some((zone, record)) = domain.cname() {
        let Some(target) = target else {
            return Err(Error::new(format!("custom domain {name} has no CloudFront name to point {record} at")));
        };
        cname(&aws_sdk_route53::Client::new(config), zone, record, &target).await?;
    }
    Ok(())
}

/// Creates the domain name, or updates its certificate; returns its CloudFront name and whether
/// it was created now.
async fn domain_name(client: &Client, domain: &CustomDomain) -> Result<(Option<String>, bool)> {
    let name = domain.domain_name.as_str();
    match client.get_domain_name().domain_name(name).send().await {
        Ok(found) => {
            if found.certificate_arn() == Some(domain.certificate_arn.as_str()) {
                outln!("custom domain {name}: unchanged");
            } else {
                let ops =
                    [("/certificateArn", &domain.certificate_arn), ("/certificateName", &domain.certificate_name)]
                        .map(|(path, value)| PatchOperation::builder().op(Op::Replace).path(path).value(value).build());
                client
                    .update_domain_name()
                    .domain_name(name)
                    .set_patch_operations(Some(ops.to_vec()))
                    .send()
                    .await
                    .explained()?;
                outln!("custom domain {name}: certificate changed to {}", domain.certificate_arn);
            }
            Ok((found.distribution_domain_name().map(String::from), false))
        }
        Err(e) if fink_aws::code(&e) == Some("NotFoundException") => {
            let made = client
                .create_domain_name()
                .domain_name(name)
                .certificate_name(&domain.certificate_name)
                .certificate_arn(&domain.certificate_arn)
                .send()
                .await
                .explained()?;
            outln!("custom domain {name}: created");
            Ok((made.distribution_domain_name().map(String::from), true))
        }
        Err(e) => Err(fink_aws::explain(&e)),
    }
}

/// Maps the base path to the API's stage. A domain created in this run has no mappings to look
/// up (and moto 5.2.5 fails to list those of a domain without any).
async fn base_path(client: &Client, domain: &CustomDomain, api_id: &str, stage: &str, fresh: bool) -> Result<()> {
    let name = domain.domain_name.as_str();
    let path = domain.base_path.trim_matches('/');
    let key = if path.is_empty() { NO_BASE_PATH } else { path };
    let shown = format!("https://{name}/{path}");
    let mappings = if fresh {
        Vec::new()
    } else {
        client.get_base_path_mappings().domain_name(name).limit(500).send().await.explained()?.items().to_vec()
    };
    match mappings.iter().find(|m| m.base_path().unwrap_or(NO_BASE_PATH) == key) {
        Some(m) if m.rest_api_id() == Some(api_id) && m.stage() == Some(stage) => {
            outln!("base path {shown}: unchanged");
        }
        Some(_) => {
            let ops = [("/restapiId", api_id), ("/stage", stage)]
                .map(|(path, value)| PatchOperation::builder().op(Op::Replace).path(path).value(value).build());
            client
                .update_base_path_mapping()
                .domain_name(name)
                .base_path(key)
                .set_patch_operations(Some(ops.to_vec()))
                .send()
                .await
                .explained()?;
            outln!("base path {shown}: now stage {stage} of API {api_id}");
        }
        None => {
            let mut create = client.create_base_path_mapping().domain_name(name).rest_api_id(api_id).stage(stage);
            if !path.is_empty() {
                create = create.base_path(path);
            }
            create.send().await.explained()?;
            outln!("base path {shown}: mapped to stage {stage} of API {api_id}");
        }
    }
    Ok(())
}

/// Removes the base path mapping when it points at `api_id` (before the API is deleted).
pub async fn unmap(client: &Client, domain: &CustomDomain, api_id: &str) -> Result<bool> {
    let name = domain.domain_name.as_str();
    let path = domain.base_path.trim_matches('/');
    let key = if path.is_empty() { NO_BASE_PATH } else { path };
    let mappings = match client.get_base_path_mappings().domain_name(name).limit(500).send().await {
        Ok(out) => out,
        Err(e) if fink_aws::code(&e) == Some("NotFoundException") => return Ok(false),
        Err(e) => return Err(fink_aws::explain(&e)),
    };
    let ours = mappings
        .items()
        .iter()
        .any(|m| m.base_path().unwrap_or(NO_BASE_PATH) == key && m.rest_api_id() == Some(api_id));
    if ours {
        client.delete_base_path_mapping().domain_name(name).base_path(key).send().await.explained()?;
    }
    Ok(ours)
}

/// Points `record` at `target` with a CNAME in `zone`.
async fn cname(route53: &aws_sdk_route53::Client, zone: &str, record: &str, target: &str) -> Result<()> {
    let fqdn = |name: &str| format!("{}.", name.trim_end_matches('.').to_lowercase());
    let found = route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(record)
        .start_record_type(RrType::Cname)
        .max_items(1)
        .send()
        .await
        .explained()?;
    let current = found
        .resource_record_sets()
        .iter()
        .find(|set| fqdn(set.name()) == fqdn(record) && set.r#type() == &RrType::Cname)
        .and_then(|set| set.resource_records().first())
        .map(|r| fqdn(r.value()));
    if current.as_deref() == Some(fqdn(target).as_str()) {
        outln!("route53 record {record}: unchanged");
        return Ok(());
    }
    let set = ResourceRecordSet::builder()
        .name(record)
        .r#type(RrType::Cname)
        .ttl(CNAME_TTL)
        .resource_records(ResourceRecord::builder().value(target).build().map_err(built)?)
        .build()
        .map_err(built)?;
    let change = Change::builder().action(ChangeAction::Upsert).resource_record_set(set).build().map_err(built)?;
    let batch = ChangeBatch::builder().changes(change).build().map_err(built)?;
    route53.change_resource_record_sets().hosted_zone_id(zone).change_batch(batch).send().await.explained()?;
    outln!("route53 record {record}: CNAME to {target}");
    Ok(())
}

fn built(e: aws_sdk_route53::error::BuildError) -> Error {
    Error::new(format!("cannot build the Route 53 change: {e}"))
}
