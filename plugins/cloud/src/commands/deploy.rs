//! `cloud deploy`: create or update the stack (see `crate::deploy`), then hand its outputs to
//! `command_finalized` handlers as `stack_output`.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result, StackOutput};

use super::{settings_and_template, with_aws};
use crate::deploy::{self, Deployed};

pub fn spec() -> CommandSpec {
    let spec = CommandSpec::new("deploy", "Create or update the stack")
        .long_about(
            "Creates the stack, or updates it: shows the parameter diff and the resource changes (from a change \
             set it then removes), updates the stack and shows its events until it settles, then its outputs. No \
             changes: says so and does nothing. Ctrl-C cancels an update; a second Ctrl-C stops waiting.",
        )
        .arg(ArgSpec::flag("override-stack-policy", "Allow every update (Update:*) during this deploy"));
    crate::workspace::args(spec)
}

pub fn run(call: &mut Invocation) -> Result<()> {
    if call.flag("all") {
        let args = if call.flag("override-stack-policy") { vec!["--override-stack-policy".into()] } else { Vec::new() };
        return crate::workspace::run(call, crate::workspace::Mode::Deploy, args);
    }
    let (settings, template) = settings_and_template(call)?;
    let dir = call.project_path();
    let override_policy = call.flag("override-stack-policy");
    let secrets = call.secret_values();
    let deployed = with_aws(|config| async move {
        let template = crate::package::prepare(&config, &dir, &settings, template).await?;
        deploy::deploy(&config, &dir, &settings, &template, override_policy, &secrets).await
    })?;
    if let Deployed::Outputs(outputs) = deployed {
        call.set_payload(&StackOutput(outputs.into_iter().collect()));
    }
    Ok(())
}
