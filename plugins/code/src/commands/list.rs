//! `code list [--json]`: the deployment group's latest deployments.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{section, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("list", "List the deployment group's latest deployments: id, status, created, revision")
        .arg(ArgSpec::flag("json", "Print JSON"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let section = section(call)?;
    let as_json = call.flag("json");
    let region = section.codedeploy.region.clone();
    with_aws(region, |config| async move { crate::deployments::list(&config, &section, as_json).await })
}
