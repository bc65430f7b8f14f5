//! `lambda ping <lambda> [<version>]`: invoke with gcdt's ping event and expect "alive".

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{lambda_arg, name, region, version, version_arg, with_aws, ACTIVE_VERSION};

pub fn spec() -> CommandSpec {
    CommandSpec::new(
        "ping",
        "Invoke with {\"ramuda_action\": \"ping\", \"lambda_action\": \"ping\"} and expect \"alive\"",
    )
    .without_config()
    .arg(lambda_arg())
    .arg(version_arg(ACTIVE_VERSION))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (name, version) = (name(call), version(call));
    with_aws(region(call)?, |config| async move { crate::invoke::ping_command(&config, &name, version).await })
}
