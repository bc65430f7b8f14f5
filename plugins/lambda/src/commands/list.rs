//! `lambda list [--json]`: every function in the region.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{region, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("list", "List functions with runtime, memory, timeout and ACTIVE version")
        .without_config()
        .arg(ArgSpec::flag("json", "Print JSON"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let as_json = call.flag("json");
    with_aws(region(call)?, |config| async move { crate::functions::list(&config, as_json).await })
}
