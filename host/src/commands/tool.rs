//! Runs a tool command through the whole lifecycle.

use serde_json::{Map, Value};

use crate::commands::ensure_plugins_loaded;
use crate::error::Failure;
use crate::lifecycle::{Run, ToolTarget};
use crate::registry::Registry;
use crate::session::{Needs, Session};

/// First-party tools and the plugin that provides each, for the "unknown tool" hint.
const KNOWN_TOOLS: &[(&str, &str)] = &[("cloud", "cloud"), ("lambda", "lambda"), ("code", "code"), ("api", "api")];

/// `fink <tool> <command> [args]`.
pub fn run(
    registry: &mut Registry,
    session: &Session,
    tool: &str,
    command: &str,
    arguments: Map<String, Value>,
) -> Result<(), Failure> {
    ensure_plugins_loaded(registry)?;
    let Some((plugin, index)) = registry.find_tool(tool) else {
        return Err(unknown_tool(tool));
    };
    let spec = registry.plugins[plugin].tools[index].spec.commands.iter().find(|c| c.name == command);
    let (needs_config, needs_aws) = spec.map(|c| (c.needs_config, c.needs_aws)).unwrap_or((true, true));
    // Commands that work without their config (e.g. `lambda logs <name>`) work without an env too.
    if needs_config {
        session.require_env()?;
    }
    let target = ToolTarget { name: tool.to_string(), plugin, tool: index, command: command.to_string(), needs_config };
    let context =
        session.context(registry, Some(tool), command, arguments, Needs { aws: needs_aws, config: needs_config });
    let mut run = Run::new(registry, context);
    let outcome = run.prepare(Some(&target)).and_then(|()| run.execute(&target));
    match outcome {
        Ok(()) => run.finish(),
        Err(failure) => {
            run.fail(&failure);
            Err(failure)
        }
    }
}

/// The error for a tool no installed plugin provides.
pub fn unknown_tool(tool: &str) -> Failure {
    let help = match KNOWN_TOOLS.iter().find(|(t, _)| *t == tool) {
        Some((_, plugin)) => format!(
            "the '{tool}' tool comes with the plugin '{plugin}' (fink-plugin-{plugin}); put it into a plugins folder (`fink plugins` shows the search path)"
        ),
        None => "install the plugin that provides it into a plugins folder; `fink plugins` shows what is installed and where fink looks".to_string(),
    };
    Failure::usage(format!("unknown tool '{tool}'")).with_help(help)
}
