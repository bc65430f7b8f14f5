//! `lambda metrics <lambda>`: the last 24 h of Duration, Errors, Invocations and Throttles.

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{lambda_arg, name, region, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("metrics", "Show Duration, Errors, Invocations and Throttles").without_config().arg(lambda_arg())
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let name = name(call);
    with_aws(region(call)?, |config| async move { crate::metrics::metrics(&config, &name).await })
}
