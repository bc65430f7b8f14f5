//! `lambda info [--json]`: the configured function's configuration, versions and aliases.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{settings, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("info", "Show the configured function: configuration, versions and aliases")
        .arg(ArgSpec::flag("json", "Print JSON"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = settings(call)?;
    let as_json = call.flag("json");
    with_aws(settings.deployment.region.clone(), |config| async move {
        crate::functions::info(&config, &settings.function.name, as_json).await
    })
}
