//! `code list`: the deployment group's deployments, newest first: id, status, created, revision.

use aws_config::SdkConfig;
use aws_sdk_codedeploy::types::DeploymentInfo;
use aws_sdk_codedeploy::Client;
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{json, outln, Result, Value};

use crate::settings::Section;

/// How many deployments `list` shows.
const SHOWN: usize = 25;

pub async fn list(config: &SdkConfig, section: &Section, as_json: bool) -> Result<()> {
    let client = Client::new(config);
    let target = &section.codedeploy;
    let mut ids = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_deployments()
            .application_name(&target.application_name)
            .deployment_group_name(&target.deployment_group_name)
            .set_next_token(token)
            .send()
            .await
            .explained()?;
        ids.extend(page.deployments().iter().cloned());
        token = page.next_token().map(String::from);
        if token.is_none() || ids.len() >= SHOWN * 4 {
            break;
        }
    }
    let mut found: Vec<DeploymentInfo> = Vec::new();
    // BatchGetDeployments takes at most 25 ids.
    for chunk in ids.chunks(25) {
        let out = client.batch_get_deployments().set_deployment_ids(Some(chunk.to_vec())).send().await.explained()?;
        found.extend(out.deployments_info().iter().cloned());
    }
    found.sort_by_key(|d| std::cmp::Reverse(d.create_time().map(|t| (t.secs(), t.subsec_nanos()))));
    found.truncate(SHOWN);
    let rows: Vec<Value> = found.iter().map(row).collect();
    if as_json {
        outln!("{}", Value::Array(rows));
        return Ok(());
    }
    if rows.is_empty() {
        outln!("no deployments of group {} yet", target.deployment_group_name);
        return Ok(());
    }
    let mut table = Table::new();
    table.set_header(["Deployment", "Status", "Created", "Revision"]);
    for row in &rows {
        let cell = |key: &str| row[key].as_str().unwrap_or("-").to_string();
        table.add_row([cell("id"), cell("status"), cell("created"), cell("revision")]);
    }
    outln!("{table}");
    Ok(())
}

fn row(info: &DeploymentInfo) -> Value {
    let revision = info
        .revision()
        .and_then(|r| r.s3_location())
        .map(|s3| format!("s3://{}/{}", s3.bucket().unwrap_or_default(), s3.key().unwrap_or_default()));
    json!({
        "id": info.deployment_id(),
        "status": info.status().map(|s| s.as_str()),
        "created": info.create_time().and_then(|t| t.fmt(aws_sdk_codedeploy::primitives::DateTimeFormat::DateTime).ok()),
        "revision": revision,
        "description": info.description(),
    })
}
