//! apigateway: the api tool (gcdt's yugen). Deploys an API Gateway REST API from a swagger
//! template next to the config, to one stage, with its cache and method settings, API key,
//! custom domain and the permissions to invoke the Lambda functions it integrates with.
//!
//! `register` lists the commands; each lives in `commands/` with its `spec()` and `run()`:
//! `settings` reads `config.api`, `template` fills in and checks the swagger file, `deploy`
//! creates or updates the API and its stage (`stage` holds the settings and the no-change
//! check), `functions` the entries and their permissions, `usage_plan` the API key,
//! `custom_domain` the domain, base path and CNAME, `rest_apis`, `api_keys` and `export` the rest.

mod api_keys;
mod commands;
mod custom_domain;
mod delete;
mod deploy;
mod export;
mod functions;
mod rest_apis;
mod settings;
mod stage;
mod template;
mod usage_plan;

use fink_plugin_api::{export_plugin, json, Event, Registration, Result, Signal, Tool, DEFAULT_ORDER};

use crate::settings::{Entry, Section};
use crate::template::{Template, Values};

export_plugin! {
    name: "apigateway",
    description: "The api tool: deploy API Gateway REST APIs from a swagger template",
    register: register,
}

/// Lists everything this plugin does: the `api` tool, the schema of its section and the check
/// of the swagger template before the deploy talks to API Gateway.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.add_tool(tool());
    plugin.config_schema("api", schema());
    // After the schema check and the lookups: the section's values are final.
    plugin.on_for_tool("api", Signal::CONFIG_VALIDATION_FINALIZED, DEFAULT_ORDER, check_template);
    Ok(())
}

/// The tool's commands, in the order `fink api --help` lists them (gcdt's yugen order).
fn tool() -> Tool {
    use commands::{
        apikey_create, apikey_delete, apikey_list, custom_domain_create, delete, deploy, export, list, version,
    };
    Tool::new("api", "Deploy and manage API Gateway REST APIs from a swagger file")
        // gcdt's name for the tool.
        .alias("yugen")
        .command(deploy::spec(), deploy::run)
        .command(delete::spec(), delete::run)
        .command(export::spec(), export::run)
        .command(list::spec(), list::run)
        .command(apikey_create::spec(), apikey_create::run)
        .command(apikey_list::spec(), apikey_list::run)
        .command(apikey_delete::spec(), apikey_delete::run)
        .command(custom_domain_create::spec(), custom_domain_create::run)
        .command(version::spec(), version::run)
}

/// The schema of `config.api`: a missing `targetStage` is one line naming the key.
fn schema() -> fink_plugin_api::Value {
    let name = json!({"type": "string", "minLength": 1});
    let text = json!({"type": "string"});
    json!({"type": "object", "required": ["api"], "properties": {
        "api": {"type": "object", "required": ["name", "targetStage"], "properties": {
            "name": name,
            "description": text,
            "targetStage": name,
            "apiKey": text,
            "cacheClusterEnabled": {"type": "boolean"},
            "cacheClusterSize": {"type": ["string", "number"]},
            "methodSettings": {"type": "object", "additionalProperties": {"type": "object"}}
        }},
        "customDomain": {"type": "object", "required": ["domainName", "certificateName", "certificateArn"], "properties": {
            "domainName": name,
            "basePath": text,
            "certificateName": name,
            "certificateArn": name,
            "hostedDomainZoneId": text,
            "route53Record": text,
            "ensureCname": {"type": "boolean"}
        }},
        "lambda": {"type": "object", "properties": {
            "entries": {"type": "array", "items": {"type": "object", "required": ["name"], "properties": {
                "name": name,
                "alias": text,
                "swaggerRef": text
            }}}
        }},
        "swaggerFile": name
    }})
}

/// `config_validation_finalized` of `api deploy`: the swagger file exists, every placeholder is
/// known, the result is a Swagger 2.0 / OpenAPI 3 document titled as the API, and the stage
/// settings are valid, before any API Gateway call.
fn check_template(event: &mut Event) -> Result<()> {
    if event.tool() != Some("api") || event.command() != Some("deploy") || event.config().get("api").is_none() {
        return Ok(());
    }
    let section = event.section::<Section>("api")?;
    stage::Wanted::from_section(&section)?;
    let entries = settings::entries(&section, event.config())?;
    let template = Template::find(&event.project_path(), section.swagger_file.as_deref())?;
    template.check(&stand_ins(&section, &entries))
}

/// The placeholders' values with a made-up invocation URI for each entry.
fn stand_ins(section: &Section, entries: &[Entry]) -> Values {
    let functions: Vec<functions::Function> = entries
        .iter()
        .map(|entry| functions::Function {
            entry: entry.clone(),
            alias_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{}:{}", entry.name, entry.alias()),
        })
        .collect();
    deploy::values(section, &functions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_listed_once_in_help_order() {
        assert_eq!(
            tool().spec().command_names(),
            [
                "deploy",
                "delete",
                "export",
                "list",
                "apikey-create",
                "apikey-list",
                "apikey-delete",
                "custom-domain-create",
                "version"
            ]
        );
    }

    #[test]
    fn the_schema_requires_name_and_stage() {
        assert_eq!(schema()["properties"]["api"]["required"], json!(["name", "targetStage"]));
    }
}
