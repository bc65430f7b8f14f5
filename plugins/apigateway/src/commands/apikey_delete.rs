//! `api apikey-delete <keyname|id>`.

use fink_plugin_api::{outln, ArgSpec, CommandSpec, Invocation, Result};

use super::with_aws;

pub fn spec() -> CommandSpec {
    CommandSpec::new("apikey-delete", "Delete an API key, by name or id")
        .without_config()
        .arg(ArgSpec::positional("key", "The key's name or id").required())
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let wanted = call.value("key").unwrap_or_default().to_string();
    let (name, id) =
        with_aws(
            |config| async move { crate::api_keys::delete(&aws_sdk_apigateway::Client::new(&config), &wanted).await },
        )?;
    outln!("API key '{name}' ({id}) deleted");
    Ok(())
}
