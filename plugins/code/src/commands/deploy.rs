//! `code deploy [--no-wait]`: upload the bundle, create the deployment and follow it (see
//! `crate::deploy` and `crate::follow`).

use fink_plugin_api::{context, json, ArgSpec, CommandSpec, Invocation, Result};

use super::{section, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("deploy", "Bundle, upload to S3 and deploy to the deployment group; follow it to the end")
        .long_about(
            "Bundles the code as a tar.gz, uploads it to s3://<artifactsBucket>/<applicationName>/<sha256>.tar.gz \
             (not again when unchanged), creates a deployment and follows it: the status and each instance's \
             lifecycle events. A failure ends with the failed instances, their failed event with its diagnostics \
             and the last lines of their log. Ctrl-C stops the deployment with a rollback; a second Ctrl-C \
             stops waiting.",
        )
        .arg(ArgSpec::flag("no-wait", "Create the deployment and return without following it"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let section = section(call)?;
    let bundle = crate::bundle::built(call)?;
    let wait = !call.flag("no-wait");
    let region = section.codedeploy.region.clone();
    let deployed =
        with_aws(region, |config| async move { crate::deploy::deploy(&config, &section, &bundle, wait).await })?;
    // For command_finalized handlers (slack, datadog), also when the deployment failed.
    call.set_context(context::DEPLOYMENT_ID, json!(deployed.id));
    call.set_context(context::REVISION, json!(deployed.revision.url()));
    deployed.outcome
}
