//! `cloud start`: bring back what `cloud stop` stopped (see `crate::stop_start`).

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::with_aws;
use crate::settings::Settings;
use crate::stop_start;

pub fn spec() -> CommandSpec {
    CommandSpec::new("start", "Start what `cloud stop` stopped").long_about(
        "Starts the stack's RDS and EC2 instances and restores Auto Scaling groups and ECS services to the sizes \
         `cloud stop` recorded, waits until they settle and reports each one. Refused when deployment.DisableStop \
         is true.",
    )
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = Settings::read(call)?;
    with_aws(|config| async move { stop_start::start(&config, &settings).await })
}
