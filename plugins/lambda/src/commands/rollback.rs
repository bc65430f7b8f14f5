//! `lambda rollback <lambda> [<version>]`: ACTIVE to the given or the previous published version.

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{lambda_arg, name, region, version, version_arg, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("rollback", "Point ACTIVE at the given or the previous published version")
        .without_config()
        .arg(lambda_arg())
        .arg(version_arg("Version to point ACTIVE at (default: the one before)"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (name, version) = (name(call), version(call));
    with_aws(region(call)?, |config| async move { crate::functions::rollback(&config, &name, version).await })
}
