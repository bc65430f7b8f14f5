//! `cloud version` (gcdt's `kumo version`): fink's version and this plugin's, as gcdt printed
//! its own and its tools' versions. Needs no config, env or AWS.

use fink_plugin_api::{outln, CommandSpec, Invocation, Result};

pub fn spec() -> CommandSpec {
    CommandSpec::new("version", "Print the versions of fink and of the plugin that provides the cloud tool")
        .without_config()
        .without_aws()
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let fink = call.context_str(fink_plugin_api::context::FINK_VERSION).unwrap_or("unknown");
    outln!("fink version {fink}");
    outln!("{} version {}", env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"));
    Ok(())
}
