//! Runs a tool command through the whole lifecycle.

use crate::commands::ensure_plugins_loaded;
use crate::error::Failure;
use crate::lifecycle;
use crate::registry::Registry;
use crate::session::{Session, ToolCommand};

/// First-party tools and the plugin that provides each, for the "unknown tool" hint.
const KNOWN_TOOLS: &[(&str, &str)] =
    &[("cloud", "cloud"), ("lambda", "lambda"), ("code", "code"), ("api", "apigateway")];

/// `fink <tool> <command> [args]`, resolved by the command line.
pub fn run(registry: &mut Registry, session: &Session, call: &ToolCommand) -> Result<(), Failure> {
    ensure_plugins_loaded(registry, Some(&call.tool))?;
    // Commands that work without their config (e.g. `lambda logs <name>`) work without an env too.
    if call.needs.config {
        session.require_env()?;
    }
    let context = session.tool_context(registry, call);
    lifecycle::run(registry, session, context, |run| {
        run.prepare(Some(call))?;
        run.execute(call)
    })
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
