//! `cloud stop`: scale the stack's groups and services to zero, stop its instances (see
//! `crate::stop_start`).

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::with_aws;
use crate::settings::Settings;
use crate::stop_start;

pub fn spec() -> CommandSpec {
    CommandSpec::new("stop", "Stop the stack's ASGs, EC2 and RDS instances and ECS services").long_about(
        "Scales Auto Scaling groups and ECS services to zero (recording their sizes as fink:stopped:* tags), stops \
         EC2 and RDS instances, waits until they settle and reports each one. Refused when deployment.DisableStop \
         is true.",
    )
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = Settings::read(call)?;
    with_aws(|config| async move { stop_start::stop(&config, &settings).await })
}
