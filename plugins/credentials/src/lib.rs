//! credentials: at `check_credentials_init`, verifies AWS credentials with STS GetCallerIdentity
//! and records `aws_account`, `aws_arn` and `aws_region` in the context, so a missing or expired
//! login fails with one clear line before any lookup or deployment starts.

use fink_plugin_api::{debug, export_plugin, Event, Registration, Result, Signal};

export_plugin! {
    name: "credentials",
    description: "Checks AWS credentials (STS GetCallerIdentity) and records account, ARN and region",
    register: register,
}

/// One subscription; early in its step so others can rely on the identity.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.on_with_order(Signal::CHECK_CREDENTIALS_INIT, 100, check);
    Ok(())
}

fn check(event: &mut Event) -> Result<()> {
    // Commands that never call AWS (e.g. `lambda bundle`) work without credentials.
    if event.context().get("needs_aws").and_then(|v| v.as_bool()) == Some(false) {
        debug!("command needs no AWS: credentials not checked");
        return Ok(());
    }
    let runtime = fink_aws::runtime()?;
    let identity = runtime.block_on(async {
        let config = fink_aws::load(None).await;
        fink_aws::identity(&config).await
    })?;
    debug!("AWS account {} as {} in {}", identity.account, identity.arn, identity.region);
    event.set_context("aws_account", identity.account);
    event.set_context("aws_arn", identity.arn);
    event.set_context("aws_region", identity.region);
    Ok(())
}
