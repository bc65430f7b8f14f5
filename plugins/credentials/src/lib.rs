//! credentials: at `check_credentials_init`, verifies AWS credentials with STS GetCallerIdentity
//! and records `aws_account`, `aws_arn`, `aws_region` (and `aws_profile`) in the context, so a
//! missing or expired login fails with one clear line, naming the profile, before any lookup or
//! deployment starts.

use fink_aws::{Profile, ProfileSource};
use fink_plugin_api::{debug, export_plugin, info, Error, Event, Registration, Result, Signal};

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
    let profile = fink_aws::profile();
    // Keys in the environment come first in the SDK's chain: then the profile gives no credentials.
    let keys_from_env = std::env::var("AWS_ACCESS_KEY_ID").is_ok_and(|v| !v.trim().is_empty());
    let source = source(profile.as_ref(), keys_from_env);
    if let Some(profile @ Profile { from: ProfileSource::AwsDefaultProfile, .. }) = &profile {
        // gcdt's setup exports AWS_DEFAULT_PROFILE; say it is used, as it once was silently not
        // (unless keys in the environment give the credentials).
        if !keys_from_env {
            info!("using AWS {profile} (AWS_PROFILE is unset)");
        }
    }
    let runtime = fink_aws::runtime()?;
    // A bad FINK_AWS_TIMEOUT is not about the credentials: its error is not named after them.
    let identity = runtime.block_on(async {
        let config = fink_aws::load(None).await?;
        fink_aws::identity(&config).await.map_err(|err| naming(err, &source))
    })?;
    debug!("AWS account {} as {} in {}, {source}", identity.account, identity.arn, identity.region);
    event.set_context("aws_account", identity.account);
    event.set_context("aws_arn", identity.arn);
    event.set_context("aws_region", identity.region);
    if let Some(profile) = profile {
        event.set_context("aws_profile", profile.name);
    }
    Ok(())
}

/// Where the credentials come from, for messages: `profile 'ops' from AWS_DEFAULT_PROFILE`.
fn source(profile: Option<&Profile>, keys_from_env: bool) -> String {
    match profile {
        _ if keys_from_env => "credentials from AWS_ACCESS_KEY_ID".to_string(),
        Some(profile) => profile.to_string(),
        None => "profile 'default'".to_string(),
    }
}

/// The error with the credentials' source added, keeping its help.
fn naming(err: Error, source: &str) -> Error {
    let named = Error::new(format!("{} ({source})", err.message()));
    match err.help() {
        Some(help) => named.with_help(help),
        None => named,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_profile_or_the_keys() {
        let profile = Profile { name: "ops".into(), from: ProfileSource::AwsDefaultProfile };
        assert_eq!(source(Some(&profile), false), "profile 'ops' from AWS_DEFAULT_PROFILE");
        assert_eq!(source(Some(&profile), true), "credentials from AWS_ACCESS_KEY_ID");
        assert_eq!(source(None, false), "profile 'default'");
        let err = naming(Error::new("no AWS credentials found").with_help("set X"), "profile 'ops' from AWS_PROFILE");
        assert_eq!(err.message(), "no AWS credentials found (profile 'ops' from AWS_PROFILE)");
        assert_eq!(err.help(), Some("set X"));
    }
}
