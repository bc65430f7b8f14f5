//! `cloud preview`: what a deploy would change, from a change set it removes again (see
//! `crate::deploy::preview`).

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{settings_and_template, with_aws};
use crate::deploy;

pub fn spec() -> CommandSpec {
    crate::workspace::args(CommandSpec::new(
        "preview",
        "Show what a deploy would change (creates and removes a change set)",
    ))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    if call.flag("all") {
        return crate::workspace::run(call, crate::workspace::Mode::Preview, Vec::new());
    }
    let (settings, template) = settings_and_template(call)?;
    let secrets = call.secret_values();
    let dir = call.project_path();
    with_aws(|config| async move {
        let template = crate::package::prepare(&config, &dir, &settings, template).await?;
        deploy::preview(&config, &settings, &template, &secrets).await
    })
}
