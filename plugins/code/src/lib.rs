//! code: the CodeDeploy tool (gcdt's tenkai). Bundles the project's `codedeploy` folder as a
//! tar.gz through the bundler plugin, uploads it to S3 keyed by its content, creates a deployment
//! and follows it to the end, explaining a failure from the instances' lifecycle events and logs.
//!
//! `register` lists the commands; each lives in `commands/` with its `spec()` and `run()`:
//! `settings` reads `config.code`, `bundle` asks the bundler for the tar.gz (and checks the
//! appspec before anything talks to AWS), `deploy` uploads and creates the deployment, `follow`
//! watches it and builds the failure summary, `deployments` lists them.

mod bundle;
mod commands;
mod deploy;
mod deployments;
mod follow;
mod settings;

use fink_plugin_api::payload::bundling_schema;
use fink_plugin_api::{export_plugin, json, Registration, Result, Signal, Tool, DEFAULT_ORDER};

export_plugin! {
    name: "code",
    description: "The code tool: deploy applications to EC2 with AWS CodeDeploy",
    register: register,
}

/// Lists everything this plugin does: the `code` tool, the schema of its section, the appspec
/// check and the request for a bundle.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.add_tool(tool());
    plugin.config_schema("code", schema());
    // Right after the config is read: before the credential check and the lookups call AWS.
    plugin.on_for_tool("code", Signal::CONFIG_READ_FINALIZED, DEFAULT_ORDER, bundle::check_appspec);
    // Before the bundler (order 1000) so it finds the request at bundle_pre.
    plugin.on_for_tool("code", Signal::BUNDLE_PRE, 100, bundle::request);
    Ok(())
}

/// The tool's commands, in the order `fink code --help` lists them.
fn tool() -> Tool {
    use commands::{bundle, deploy, list, version};
    Tool::new("code", "Deploy applications to EC2 instances with AWS CodeDeploy")
        // gcdt's name for the tool.
        .alias("tenkai")
        .command(bundle::spec(), bundle::run)
        .command(deploy::spec(), deploy::run)
        .command(list::spec(), list::run)
        .command(version::spec(), version::run)
}

/// The schema of `config.code`, checked before any command runs: a missing
/// `deploymentGroupName` is one line naming the key.
fn schema() -> fink_plugin_api::Value {
    let name = json!({"type": "string", "minLength": 1});
    json!({"type": "object", "required": ["codedeploy"], "properties": {
        "codedeploy": {"type": "object", "required": ["applicationName", "deploymentGroupName"], "properties": {
            "applicationName": name,
            "deploymentGroupName": name,
            "deploymentConfigName": name,
            "artifactsBucket": name,
            "region": {"type": "string"}
        }},
        "bundling": bundling_schema(json!({
            "file": {"type": "string", "minLength": 1},
            "zip": {"type": "string", "minLength": 1, "description": "gcdt's name for file"}
        })),
        "deployment": {"type": "object", "properties": {
            "LogGroup": {"type": "string", "minLength": 1}
        }},
        "stack_output": {"type": ["object", "string"]},
        "settings": {"type": "object"}
    }})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_command_is_listed_once_in_help_order() {
        assert_eq!(tool().spec().command_names(), ["bundle", "deploy", "list", "version"]);
    }

    #[test]
    fn the_schema_requires_the_group() {
        let schema = schema();
        assert_eq!(schema["properties"]["codedeploy"]["required"], json!(["applicationName", "deploymentGroupName"]));
    }
}
