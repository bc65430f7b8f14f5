//! cloud: the CloudFormation tool (gcdt's kumo). Deploys the project's template per env as a
//! stack (showing a change set's changes first), previews changes, lists, deletes, stops and
//! starts a stack's resources, renders and graphs templates.
//!
//! `settings` reads `config.cloud`, `template` loads the template, `parameters` matches values,
//! `stack` talks to CloudFormation, `deploy` creates/updates, `events` waits and shows progress,
//! `commands` holds the smaller commands, `dot` draws the graph, `policy` the stack policies.

mod commands;
mod deploy;
mod dot;
mod events;
mod interrupt;
mod parameters;
mod policy;
mod settings;
mod stack;
mod stop_start;
mod template;

use std::path::PathBuf;

use fink_plugin_api::{export_plugin, json, ArgSpec, CommandSpec, Error, Invocation, Registration, Result, ToolSpec};

use crate::deploy::Deployed;
use crate::settings::Settings;

export_plugin! {
    name: "cloud",
    description: "The cloud tool: deploy CloudFormation stacks per environment",
    register: register,
}

fn register(plugin: &mut Registration) -> Result<()> {
    let tool = ToolSpec::new("cloud", "Deploy CloudFormation stacks")
        .command(
            CommandSpec::new("deploy", "Create or update the stack")
                .long_about(
                    "Creates the stack, or updates it: shows the parameter diff and the resource changes (from a \
                     change set it then removes), updates the stack and shows its events until it settles, then its \
                     outputs. No changes: says so and does nothing. Ctrl-C cancels an update; a second Ctrl-C stops \
                     waiting.",
                )
                .arg(ArgSpec::flag("override-stack-policy", "Allow every update (Update:*) during this deploy")),
        )
        .command(CommandSpec::new("preview", "Show what a deploy would change (creates and removes a change set)"))
        .command(
            CommandSpec::new("list", "List stacks with status and last update")
                .without_config()
                .arg(ArgSpec::flag("json", "Print JSON")),
        )
        .command(CommandSpec::new("delete", "Delete the stack").arg(ArgSpec::flag("force", "Really delete").short('f')))
        .command(CommandSpec::new("generate", "Write the rendered template as JSON").without_aws().arg(
            ArgSpec::positional(
                "file",
                "File to write, or - for stdout (default: <StackName>-generated-cf-template.json)",
            ),
        ))
        .command(CommandSpec::new("dot", "Draw the template's resources (cloudformation.dot/.svg)").without_aws())
        .command(CommandSpec::new("stop", "Stop the stack's ASGs, EC2 and RDS instances and ECS services").long_about(
            "Scales Auto Scaling groups and ECS services to zero (recording their sizes as fink:stopped:* tags), \
             stops EC2 and RDS instances, waits until they settle and reports each one. Refused when \
             deployment.DisableStop is true.",
        ))
        .command(CommandSpec::new("start", "Start what `cloud stop` stopped").long_about(
            "Starts the stack's RDS and EC2 instances and restores Auto Scaling groups and ECS services to the \
             sizes `cloud stop` recorded, waits until they settle and reports each one. Refused when \
             deployment.DisableStop is true.",
        ));
    plugin.tool(tool, run);
    plugin.config_schema(
        "cloud",
        json!({"type": "object", "properties": {
            "stack": {"type": "object", "properties": {
                "StackName": {"type": "string", "minLength": 1},
                "RoleARN": {"type": "string"},
                "NotificationARNs": {"type": "array", "items": {"type": "string"}},
                "artifactBucket": {"type": "string"},
                "template": {"type": "string"},
                "generator": {"type": "string"},
                "capabilities": {"type": "array", "items": {"type": "string"}}
            }},
            "parameters": {"type": "object"},
            "deployment": {"type": "object", "properties": {"DisableStop": {"type": "boolean"}}}
        }}),
    );
    Ok(())
}

fn run(call: &mut Invocation) -> Result<()> {
    let command = call.name().to_string();
    let dir = PathBuf::from(call.project_dir().unwrap_or("."));
    if command == "list" {
        let as_json = call.flag("json");
        return with_aws(|config| async move { commands::list(&config, as_json).await });
    }
    let section = call.tool_config().cloned().unwrap_or_default();
    let settings = Settings::from_section(&section)?;
    match command.as_str() {
        "delete" => {
            let force = call.flag("force");
            with_aws(|config| async move { commands::delete(&config, &settings, force).await })
        }
        "stop" => with_aws(|config| async move { stop_start::stop(&config, &settings).await }),
        "start" => with_aws(|config| async move { stop_start::start(&config, &settings).await }),
        "generate" | "dot" | "preview" | "deploy" => {
            let template = template::load(&dir, &settings, call.context(), call.config())?;
            match command.as_str() {
                "generate" => commands::generate(&dir, &settings, &template, call.value("file")),
                "dot" => commands::dot(&dir, &template),
                "preview" => {
                    let secrets = secrets(call);
                    with_aws(|config| async move { deploy::preview(&config, &settings, &template, &secrets).await })
                }
                _ => {
                    let override_policy = call.flag("override-stack-policy");
                    let secrets = secrets(call);
                    let deployed = with_aws(|config| async move {
                        deploy::deploy(&config, &dir, &settings, &template, override_policy, &secrets).await
                    })?;
                    if let Deployed::Outputs(outputs) = deployed {
                        call.set_context("stack_output", deploy::outputs_object(&outputs));
                    }
                    Ok(())
                }
            }
        }
        other => Err(Error::new(format!("unknown cloud command '{other}'"))),
    }
}

/// The values lookups marked secret, to mask them in what the tool prints.
fn secrets(call: &Invocation) -> Vec<String> {
    call.secrets().into_iter().map(String::from).collect()
}

/// Runs an AWS job on this plugin's own runtime with the standard SDK config.
fn with_aws<T, F, Fut>(job: F) -> Result<T>
where
    F: FnOnce(aws_config::SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    fink_aws::run(None, job)
}
