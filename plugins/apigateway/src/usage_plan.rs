//! `api.api.apiKey`: an existing API key, wired to the stage through a usage plan (API Gateway
//! accepts a key only on stages of a plan the key is in). Idempotent: a key already in a plan
//! of the stage is left alone.

use aws_sdk_apigateway::types::{ApiStage, Op, PatchOperation, UsagePlan};
use aws_sdk_apigateway::Client;
use fink_aws::Explained;
use fink_plugin_api::{Error, Result};

/// What wiring the key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wired {
    /// A plan of the stage already had the key.
    Already(String),
    /// The key went into this plan (made for it when `created`).
    Now { plan: String, created: bool },
}

/// The usage plan fink keeps for a stage.
pub fn plan_name(api_name: &str, stage: &str) -> String {
    format!("{api_name}-{stage}")
}

pub async fn wire(client: &Client, key_id: &str, api_name: &str, api_id: &str, stage: &str) -> Result<Wired> {
    match client.get_api_key().api_key(key_id).send().await {
        Ok(_) => {}
        Err(e) if fink_aws::code(&e) == Some("NotFoundException") => {
            return Err(Error::new(format!("api.api.apiKey: there is no API key with id '{key_id}'"))
                .with_help("create one with `fink api apikey-create <name>` and put the id it prints here"))
        }
        Err(e) => return Err(fink_aws::explain(&e)),
    }
    let serves =
        |plan: &UsagePlan| plan.api_stages().iter().any(|s| s.api_id() == Some(api_id) && s.stage() == Some(stage));
    if let Some(plan) = plans(client, Some(key_id)).await?.iter().find(|p| serves(p)) {
        return Ok(Wired::Already(plan.name().unwrap_or_default().to_string()));
    }
    let name = plan_name(api_name, stage);
    let existing = plans(client, None).await?.into_iter().find(|p| p.name() == Some(name.as_str()));
    let (plan_id, created) = match existing {
        Some(plan) => {
            let id = plan.id().unwrap_or_default().to_string();
            if !serves(&plan) {
                let add =
                    PatchOperation::builder().op(Op::Add).path("/apiStages").value(format!("{api_id}:{stage}")).build();
                client.update_usage_plan().usage_plan_id(&id).patch_operations(add).send().await.explained()?;
            }
            (id, false)
        }
        None => {
            let out = client
                .create_usage_plan()
                .name(&name)
                .description(format!("API key access to stage {stage} of {api_name}, made by fink"))
                .api_stages(ApiStage::builder().api_id(api_id).stage(stage).build())
                .send()
                .await
                .explained()?;
            (out.id().unwrap_or_default().to_string(), true)
        }
    };
    match client.create_usage_plan_key().usage_plan_id(&plan_id).key_id(key_id).key_type("API_KEY").send().await {
        Ok(_) => {}
        // The key was in the plan already.
        Err(e) if fink_aws::code(&e) == Some("ConflictException") => {}
        Err(e) => return Err(fink_aws::explain(&e)),
    }
    Ok(Wired::Now { plan: name, created })
}

/// The usage plans (of the key, when given).
async fn plans(client: &Client, key_id: Option<&str>) -> Result<Vec<UsagePlan>> {
    let mut found = Vec::new();
    let mut position = None;
    loop {
        let page = client
            .get_usage_plans()
            .set_key_id(key_id.map(String::from))
            .limit(500)
            .set_position(position)
            .send()
            .await
            .explained()?;
        found.extend(page.items().iter().cloned());
        position = page.position().filter(|p| !p.is_empty()).map(String::from);
        if position.is_none() {
            return Ok(found);
        }
    }
}
