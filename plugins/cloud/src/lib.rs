//! cloud: the CloudFormation tool (gcdt's kumo). Deploys the project's template per env as a
//! stack (showing a change set's changes first), previews changes, lists, deletes, stops and
//! starts a stack's resources, renders and graphs templates.
//!
//! `register` lists the commands; each lives in `commands/` with its spec and its run. They read
//! `config.cloud` through `settings` and call into the domain modules: `template` loads the
//! template, `parameters` matches values, `stack` talks to CloudFormation, `deploy`
//! creates/updates, `package` uploads local artifacts
//! and handles Rain's directives, `events` waits and shows progress, `interrupt` handles Ctrl-C, `policy` the
//! stack policies, `dot` draws the graph, `stop_start` stops and starts resources.

mod commands;
mod deploy;
mod dot;
mod events;
mod interrupt;
mod package;
mod parameters;
mod policy;
mod settings;
mod stack;
mod stop_start;
mod template;
mod workspace;

use fink_plugin_api::{export_plugin, Registration, Result, Signal, Tool};

export_plugin! {
    name: "cloud",
    description: "The cloud tool: deploy CloudFormation stacks per environment",
    register: register,
}

/// Lists everything this plugin does: the `cloud` tool and its config section's schema.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.add_tool(tool());
    plugin.config_schema("cloud", settings::schema());
    // Before the hooks plugin answers with `cloudformation.py`'s template (1500).
    plugin.on_for_tool("cloud", Signal::CONFIG_VALIDATION_FINALIZED, 100, template::request);
    Ok(())
}

/// The `cloud` tool, each command with the function that runs it (in `fink cloud --help` order).
fn tool() -> Tool {
    Tool::new("cloud", "Deploy CloudFormation stacks")
        // gcdt's name for the tool.
        .alias("kumo")
        // Deploying the stack
        .command(commands::deploy::spec(), commands::deploy::run)
        .command(commands::preview::spec(), commands::preview::run)
        // The stacks there are (list needs no config)
        .command(commands::list::spec(), commands::list::run)
        .command(commands::delete::spec(), commands::delete::run)
        // Many projects at once (deploy, preview and delete take --all too)
        .command(commands::graph::spec(), commands::graph::run)
        // The template, without AWS
        .command(commands::generate::spec(), commands::generate::run)
        .command(commands::dot::spec(), commands::dot::run)
        // The stack's resources
        .command(commands::stop::spec(), commands::stop::run)
        .command(commands::start::spec(), commands::start::run)
        // gcdt's `kumo version`
        .command(commands::version::spec(), commands::version::run)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::{json, Invocation};

    #[test]
    fn each_command_is_listed_once_with_what_it_needs() {
        let tool = tool();
        let spec = tool.spec();
        let needs = |name: &str| {
            let c = spec.commands.iter().find(|c| c.name == name).unwrap();
            (c.needs_config, c.needs_aws)
        };
        let names = spec.command_names();
        assert_eq!(
            names,
            ["deploy", "preview", "list", "delete", "graph", "generate", "dot", "stop", "start", "version"]
        );
        assert_eq!(needs("list"), (false, true));
        assert_eq!(needs("graph"), (false, false));
        let all = |name: &str| {
            spec.commands.iter().find(|c| c.name == name).unwrap().args.iter().any(|a| a.name == "all" && a.standalone)
        };
        assert!(all("deploy") && all("preview") && all("delete"));
        assert_eq!((needs("generate"), needs("dot")), ((true, false), (true, false)));
        assert_eq!(needs("deploy"), (true, true));
        assert_eq!(needs("version"), (false, false));
    }

    #[test]
    fn a_command_runs_in_the_project_dir_and_reads_the_section() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cloudformation.json"), r#"{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}"#)
            .unwrap();
        let context = json!({"tool": "cloud", "project_dir": dir.path(), "arguments": {}}).to_string();
        let run = |config: &str| tool().run(&mut Invocation::new("generate", &context, config));
        run(r#"{"cloud": {"stack": {"StackName": "g"}}}"#).unwrap();
        assert!(dir.path().join("g-generated-cf-template.json").is_file());
        let err = run(r#"{"cloud": {"stack": {"StackName": "g", "templateFile": 3}}}"#).unwrap_err();
        assert_eq!(err.message(), "config 'cloud.stack.templateFile': invalid type: integer `3`, expected a string");
    }
}
