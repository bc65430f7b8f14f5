//! `lambda deploy`: create or update the configured function from the bundle, publish a version
//! and point ACTIVE at it (see `crate::deploy`).

use fink_plugin_api::{CommandSpec, Invocation, Result};

use super::{settings, with_aws};

/// The config-reader's mark of a gcdt project (a `gcdt_<env>.*` file or gcdt's section names).
const GCDT_PROJECT: &str = fink_plugin_api::context::GCDT_PROJECT;

pub fn spec() -> CommandSpec {
    CommandSpec::new("deploy", "Create or update the function, publish a version and point ACTIVE at it")
        .long_about(
            "Bundles the code, creates the function or updates it: the code only when the bundle's sha256 \
             differs from the function's CodeSha256, the configuration only when it differs. Publishes a \
             version, pings it when configured (always in a gcdt project, as gcdt did), and points the \
             ACTIVE alias at that version.",
        )
        .arg(super::bundle::keep_arg())
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let mut settings = settings(call)?;
    // gcdt pinged every deployed version; fink projects ping when they say so (`ping`).
    if call.context().get(GCDT_PROJECT).is_some() && !settings.function.ping {
        fink_plugin_api::debug!("a gcdt project: the new version is pinged after deploy, as gcdt did");
        settings.function.ping = true;
    }
    let bundle = crate::bundle::built(call)?;
    let region = settings.deployment.region.clone();
    let deployed = with_aws(region, |config| async move { crate::deploy::deploy(&config, &settings, &bundle).await })?;
    call.set_context("lambda_output", deployed);
    Ok(())
}
