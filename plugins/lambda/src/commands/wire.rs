//! `lambda wire`: connect `lambda.lambda.events` to the configured function's ACTIVE alias.

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{settings, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("wire", "Connect lambda.lambda.events to the ACTIVE alias")
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = settings(call)?;
    with_aws(settings.deployment.region.clone(), |config| async move { crate::wire::wire(&config, &settings).await })
}
