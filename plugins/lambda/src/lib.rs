//! lambda: the AWS Lambda tool (gcdt's ramuda). Deploys the project's function per env from the
//! bundle the bundler plugin builds, publishes a version and points the `ACTIVE` alias at it;
//! lists, inspects, deletes, rolls back, invokes and pings functions, reads their logs and
//! metrics, and wires them to event sources.
//!
//! `register` lists the commands; each lives in `commands/` with its `spec()` and `run()`, and
//! calls into the domain modules: `settings` reads `config.lambda`, `bundle` asks the bundler for
//! a bundle, `deploy` creates and updates, `functions` holds list/info/delete/rollback, `invoke`
//! invoke and ping, `logs`, `metrics` and `wire` the rest; `shown` escapes what a function wrote
//! before it reaches the terminal.

mod bundle;
mod commands;
mod deploy;
mod functions;
mod invoke;
mod logs;
mod metrics;
mod settings;
mod shown;
mod wire;

use fink_plugin_api::payload::bundling_schema;
use fink_plugin_api::{export_plugin, json, Registration, Result, Signal, Tool};

export_plugin! {
    name: "lambda",
    description: "The lambda tool: deploy and operate AWS Lambda functions",
    register: register,
}

/// Lists everything this plugin does: the `lambda` tool, the schema of its section, and the
/// request for a bundle.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.add_tool(tool());
    plugin.config_schema("lambda", schema());
    // Before the bundler (order 1000) so it finds the request at bundle_pre.
    plugin.on_for_tool("lambda", Signal::BUNDLE_PRE, 100, bundle::request);
    Ok(())
}

/// The tool's commands, in the order `fink lambda --help` lists them.
fn tool() -> Tool {
    use commands::{
        bundle, clean, delete, deploy, info, invoke, list, logs, metrics, ping, rollback, unwire, version, wire,
    };
    Tool::new("lambda", "Deploy and operate AWS Lambda functions")
        // gcdt's name for the tool.
        .alias("ramuda")
        // The configured function: build and deploy it (need the env's `lambda` section)
        .command(clean::spec(), clean::run)
        .command(bundle::spec(), bundle::run)
        .command(deploy::spec(), deploy::run)
        // Inspecting and managing functions (by name, except `info`)
        .command(list::spec(), list::run)
        .command(info::spec(), info::run)
        .command(delete::spec(), delete::run)
        .command(rollback::spec(), rollback::run)
        // Running a function
        .command(invoke::spec(), invoke::run)
        .command(ping::spec(), ping::run)
        // Watching a function
        .command(logs::spec(), logs::run)
        .command(metrics::spec(), metrics::run)
        // Event sources of the configured function
        .command(wire::spec(), wire::run)
        .command(unwire::spec(), unwire::run)
        .command(version::spec(), version::run)
}

/// The schema of `config.lambda`. fink checks it (types, ranges, retention days, a non-empty
/// name) before any command runs, so the commands read the section with serde and check nothing
/// twice.
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
        "bundling": bundling_schema(json!({"zip": {"type": "string"}})),
        "deployment": {"type": "object", "properties": {
            "region": {"type": "string"},
            "artifactBucket": {"type": "string"},
            "failDeploymentOnUnsuccessfulPing": {"type": "boolean"}
        }},
        "settings": {"type": "object"},
        "failDeploymentOnUnsuccessfulPing": {"type": "boolean", "description": "gcdt's place for deployment.failDeploymentOnUnsuccessfulPing"}
    }})
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::Invocation;

    #[test]
    fn each_command_is_listed_once_in_help_order() {
        let tool = tool();
        let names = tool.spec().command_names();
        assert_eq!(
            names,
            [
                "clean", "bundle", "deploy", "list", "info", "delete", "rollback", "invoke", "ping", "logs", "metrics",
                "wire", "unwire", "version"
            ]
        );
        let configured: Vec<&str> =
            tool.spec().commands.iter().filter(|c| c.needs_config).map(|c| c.name.as_str()).collect();
        assert_eq!(configured, ["clean", "bundle", "deploy", "info", "wire", "unwire"]);
        let offline: Vec<&str> =
            tool.spec().commands.iter().filter(|c| !c.needs_aws).map(|c| c.name.as_str()).collect();
        assert_eq!(offline, ["clean", "bundle", "version"]);
    }

    #[test]
    fn commands_run_their_own_handler() {
        let project = tempfile::tempdir().unwrap();
        std::fs::write(project.path().join("f.zip"), "zip").unwrap();
        let context = json!({"tool": "lambda", "project_dir": project.path(), "arguments": {}}).to_string();
        let config = json!({"lambda": {"lambda": {"name": "f"}, "bundling": {"zip": "f.zip"}}}).to_string();
        let mut tool = tool();
        tool.run(&mut Invocation::new("clean", &context, &config)).unwrap();
        assert!(!project.path().join("f.zip").exists());
        let err = tool.run(&mut Invocation::new("bundle", &context, &config)).unwrap_err();
        assert_eq!(err.message(), "no bundle was built for the lambda tool");
        let err = tool.run(&mut Invocation::new("wave", &context, &config)).unwrap_err();
        assert_eq!(err.message(), "tool 'lambda' has no command 'wave'");
    }

    #[test]
    fn configured_commands_need_the_function() {
        let context = json!({"tool": "lambda", "arguments": {}}).to_string();
        let err = tool().run(&mut Invocation::new("info", &context, r#"{"lambda": {"deployment": {}}}"#)).unwrap_err();
        assert_eq!(err.message(), "lambda.lambda is missing");
        assert_eq!(err.help(), Some("describe the function in lambda.lambda"));
    }

    #[test]
    fn the_schema_allows_lambdas_retention_days() {
        let days = &schema()["properties"]["lambda"]["properties"]["logs"]["properties"]["retentionInDays"]["enum"];
        assert_eq!(days, &json!(settings::RETENTION_DAYS));
    }
}
