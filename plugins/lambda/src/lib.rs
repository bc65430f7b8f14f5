//! lambda: the AWS Lambda tool (gcdt's ramuda). Deploys the project's function per env from the
//! bundle the bundler plugin builds, publishes a version and points the `ACTIVE` alias at it;
//! lists, inspects, deletes, rolls back, invokes and pings functions, reads their logs and
//! metrics, and wires them to event sources.
//!
//! `settings` reads `config.lambda`, `bundle` asks the bundler for a bundle, `deploy` creates and
//! updates, `functions` holds list/info/delete/rollback, `invoke` invoke and ping, `logs`, `metrics`
//! and `wire` the rest.

mod bundle;
mod deploy;
mod functions;
mod invoke;
mod logs;
mod metrics;
mod settings;
mod wire;

use std::path::PathBuf;

use fink_plugin_api::{
    export_plugin, json, ArgSpec, CommandSpec, Error, Invocation, Registration, Result, Signal, ToolSpec,
};

use crate::settings::Settings;

export_plugin! {
    name: "lambda",
    description: "The lambda tool: deploy and operate AWS Lambda functions",
    register: register,
}

fn register(plugin: &mut Registration) -> Result<()> {
    let name = || ArgSpec::positional("lambda", "Function name").required();
    // `version` is reserved (fink --version), so the argument is named function-version.
    let version = || {
        ArgSpec::positional("function-version", "Published version (default: the one ACTIVE points at)")
            .value_name("VERSION")
    };
    let tool = ToolSpec::new("lambda", "Deploy and operate AWS Lambda functions")
        .command(CommandSpec::new("clean", "Remove bundle.zip and the bundler's staging folder").without_aws())
        .command(
            CommandSpec::new("bundle", "Build the function's bundle (bundle.zip) without deploying")
                .without_aws()
                .arg(ArgSpec::flag("keep", "Reuse installed dependencies from the last bundle")),
        )
        .command(
            CommandSpec::new("deploy", "Create or update the function, publish a version and point ACTIVE at it")
                .long_about(
                    "Bundles the code, creates the function or updates it: the code only when the bundle's sha256 \
                     differs from the function's CodeSha256, the configuration only when it differs. Publishes a \
                     version, pings it when configured, and points the ACTIVE alias at that version.",
                )
                .arg(ArgSpec::flag("keep", "Reuse installed dependencies from the last bundle")),
        )
        .command(
            CommandSpec::new("list", "List functions with runtime, memory, timeout and ACTIVE version")
                .without_config()
                .arg(ArgSpec::flag("json", "Print JSON")),
        )
        .command(
            CommandSpec::new("info", "Show the configured function: configuration, versions and aliases")
                .arg(ArgSpec::flag("json", "Print JSON")),
        )
        .command(
            CommandSpec::new("delete", "Delete a function")
                .without_config()
                .arg(ArgSpec::flag("force", "Really delete").short('f'))
                .arg(ArgSpec::flag("delete-logs", "Delete its log group too"))
                .arg(name()),
        )
        .command(
            CommandSpec::new("rollback", "Point ACTIVE at the given or the previous published version")
                .without_config()
                .arg(name())
                .arg(
                    ArgSpec::positional("function-version", "Version to point ACTIVE at (default: the one before)")
                        .value_name("VERSION"),
                ),
        )
        .command(
            CommandSpec::new("invoke", "Invoke a function and print its response")
                .without_config()
                .arg(name())
                .arg(version())
                .arg(
                    ArgSpec::option("invocation-type", "How to invoke")
                        .possible_values(["RequestResponse", "Event", "DryRun"])
                        .default_value("RequestResponse"),
                )
                .arg(ArgSpec::option("payload", "JSON payload, or file://FILE").required())
                .arg(ArgSpec::option("outfile", "Write the response to FILE")),
        )
        .command(
            CommandSpec::new("ping", "Invoke with {\"ramuda_action\": \"ping\"} and expect \"alive\"")
                .without_config()
                .arg(name())
                .arg(version()),
        )
        .command(
            CommandSpec::new("logs", "Print a function's log events")
                .without_config()
                .arg(name())
                .arg(ArgSpec::option(
                    "start",
                    "Start: '1d', '2h', '30m', '3w' ago or UTC '2017-06-28 14:23' (default 1d; 5m with --tail)",
                ))
                .arg(ArgSpec::option("end", "End, same forms as --start (default: now)"))
                .arg(ArgSpec::flag("tail", "Keep printing new events until Ctrl-C")),
        )
        .command(
            CommandSpec::new("metrics", "Show Duration, Errors, Invocations and Throttles")
                .without_config()
                .arg(name()),
        )
        .command(CommandSpec::new("wire", "Connect lambda.lambda.events to the ACTIVE alias"))
        .command(CommandSpec::new("unwire", "Remove what `lambda wire` connected"));
    plugin.tool(tool, run);
    plugin.config_schema("lambda", schema());
    // Before the bundler (order 1000) so it finds the request at bundle_pre.
    plugin.on_with_order(Signal::BUNDLE_PRE, 100, bundle::request);
    Ok(())
}

fn schema() -> fink_plugin_api::Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({"type": "object", "properties": {
        "lambda": {"type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "role": {"type": "string"},
            "handlerFunction": {"type": "string"},
            "handlerFile": {"type": "string"},
            "runtime": {"type": "string"},
            "timeout": {"type": "integer", "minimum": 1, "maximum": 900},
            "memorySize": {"type": "integer", "minimum": 128, "maximum": 10240},
            "environment": {"type": "object", "additionalProperties": {"type": "string"}},
            "vpc": {"type": "object", "properties": {"subnetIds": strings, "securityGroups": strings}},
            "layers": strings,
            "logs": {"type": "object", "properties": {
                "retentionInDays": {"type": "integer", "enum": settings::RETENTION_DAYS}
            }},
            "events": {"type": ["array", "object"]},
            "ping": {"type": "boolean"},
            "failDeploymentOnUnsuccessfulPing": {"type": "boolean"}
        }},
        "bundling": {"type": "object", "properties": {
            "zip": {"type": "string"},
            "preBundle": strings,
            "ignore": strings,
            "folders": {"type": "array", "items": {"type": "object", "required": ["source"], "properties": {
                "source": {"type": "string"}, "target": {"type": "string"}
            }}}
        }},
        "deployment": {"type": "object", "properties": {
            "region": {"type": "string"},
            "artifactBucket": {"type": "string"},
            "failDeploymentOnUnsuccessfulPing": {"type": "boolean"}
        }},
        "settings": {"type": "object"}
    }})
}

fn run(call: &mut Invocation) -> Result<()> {
    let command = call.name().to_string();
    let dir = PathBuf::from(call.project_dir().unwrap_or("."));
    let name = call.value("lambda").map(String::from).unwrap_or_default();
    let version = call.value("function-version").map(String::from);
    // Commands that work by function name run without the config (but use its region if present).
    let region =
        call.tool_config().and_then(|s| s.pointer("/deployment/region")).and_then(|r| r.as_str()).map(String::from);
    match command.as_str() {
        "list" => {
            let as_json = call.flag("json");
            return with_aws(region, |config| async move { functions::list(&config, as_json).await });
        }
        "delete" => {
            let (force, logs) = (call.flag("force"), call.flag("delete-logs"));
            return with_aws(region, |config| async move { functions::delete(&config, &name, force, logs).await });
        }
        "rollback" => {
            return with_aws(region, |config| async move { functions::rollback(&config, &name, version).await })
        }
        "invoke" => {
            let request = invoke::Request {
                name,
                version,
                invocation_type: call.value("invocation-type").unwrap_or("RequestResponse").to_string(),
                payload: call.value("payload").unwrap_or_default().to_string(),
                outfile: call.value("outfile").map(String::from),
                dir: dir.clone(),
            };
            return with_aws(region, |config| async move { invoke::invoke(&config, &request).await });
        }
        "ping" => return with_aws(region, |config| async move { invoke::ping_command(&config, &name, version).await }),
        "logs" => {
            let request = logs::Request {
                name,
                start: call.value("start").map(String::from),
                end: call.value("end").map(String::from),
                tail: call.flag("tail"),
            };
            return with_aws(region, |config| async move { logs::logs(&config, &request).await });
        }
        "metrics" => return with_aws(region, |config| async move { metrics::metrics(&config, &name).await }),
        _ => {}
    }
    let section = call.tool_config().cloned().unwrap_or_default();
    let settings = Settings::from_section(&section)?;
    match command.as_str() {
        "clean" => bundle::clean(&dir, &settings),
        "bundle" => bundle::report(call),
        "deploy" => {
            let built = bundle::built(call)?;
            let deployed = with_aws(region, |config| async move { deploy::deploy(&config, &settings, &built).await })?;
            call.set_context("lambda_output", deployed);
            Ok(())
        }
        "info" => {
            let as_json = call.flag("json");
            with_aws(region, |config| async move { functions::info(&config, &settings.function.name, as_json).await })
        }
        "wire" => with_aws(region, |config| async move { wire::wire(&config, &settings).await }),
        "unwire" => with_aws(region, |config| async move { wire::unwire(&config, &settings).await }),
        other => Err(Error::new(format!("unknown lambda command '{other}'"))),
    }
}

/// Runs an AWS job on this plugin's own runtime with the standard SDK config (in `region` if set).
fn with_aws<T, F, Fut>(region: Option<String>, job: F) -> Result<T>
where
    F: FnOnce(aws_config::SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    fink_aws::run(region.as_deref(), job)
}
