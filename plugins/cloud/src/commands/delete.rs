//! `cloud delete -f`: deletes the stack with the configured role and shows events until it is gone.

use aws_config::SdkConfig;
use aws_sdk_cloudformation::Client;
use fink_aws::Explained;
use fink_plugin_api::{info, ArgSpec, CommandSpec, Error, Invocation, Result};

use super::with_aws;
use crate::events::{self, Watcher};
use crate::settings::Settings;

pub fn spec() -> CommandSpec {
    crate::workspace::args(
        CommandSpec::new("delete", "Delete the stack").arg(ArgSpec::flag("force", "Really delete").short('f')),
    )
}

pub fn run(call: &mut Invocation) -> Result<()> {
    if call.flag("all") {
        let args = if call.flag("force") { vec!["-f".into()] } else { Vec::new() };
        return crate::workspace::run(call, crate::workspace::Mode::Delete, args);
    }
    let settings = Settings::read(call)?;
    let force = call.flag("force");
    with_aws(|config| async move { delete(&config, &settings, force).await })
}

async fn delete(config: &SdkConfig, settings: &Settings, force: bool) -> Result<()> {
    let name = settings.stack_name.as_str();
    if !force {
        return Err(Error::new(format!("not deleting stack '{name}' without -f"))
            .with_help("run `fink cloud delete -f` to delete it"));
    }
    let client = Client::new(config);
    if crate::stack::current(&client, name).await?.is_none() {
        return Err(Error::new(format!("stack '{name}' does not exist")));
    }
    let mut watcher = Watcher::new(&client, name).await;
    client.delete_stack().stack_name(name).set_role_arn(settings.role_arn.clone()).send().await.explained()?;
    info!("deleting stack '{name}'");
    let settled = watcher.wait(&client, name).await?;
    if !settled.ok() {
        return Err(events::failure(name, &settled));
    }
    info!("stack '{name}' deleted");
    Ok(())
}
