//! `lambda unwire`: remove what `lambda wire` connected.

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{settings, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("unwire", "Remove what `lambda wire` connected")
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = settings(call)?;
    with_aws(settings.deployment.region.clone(), |config| async move { crate::wire::unwire(&config, &settings).await })
}
