//! `api apikey-delete [<keyname|id>]`: without an argument, the config's key (`api.api.apiKey`),
//! as gcdt's `yugen apikey-delete` deleted it.

use fink_plugin_api::{outln, ArgSpec, CommandSpec, Error, Invocation, Result, Value};

use super::with_aws;

pub fn spec() -> CommandSpec {
    CommandSpec::new("apikey-delete", "Delete an API key, by name or id (default: the config's api.api.apiKey)")
        .without_config()
        .arg(ArgSpec::positional("key", "The key's name or id; without it, the config's api.api.apiKey"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let wanted = match call.value("key") {
        Some(key) => key.to_string(),
        None => configured_key(call)?,
    };
    let (name, id) =
        with_aws(
            |config| async move { crate::api_keys::delete(&aws_sdk_apigateway::Client::new(&config), &wanted).await },
        )?;
    outln!("API key '{name}' ({id}) deleted");
    Ok(())
}

/// `api.api.apiKey` of the env's config, or an error saying what to give.
fn configured_key(call: &Invocation) -> Result<String> {
    let help = "name the key (`fink api apikey-delete <name|id>`) or set api.api.apiKey in the env's config";
    match call.config_at("api.api.apiKey") {
        Some(Value::String(key)) if !key.trim().is_empty() => Ok(key.trim().to_string()),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            let why = if call.tool_config().is_some() {
                "the config has no api.api.apiKey"
            } else {
                "there is no config (give -e ENV or set ENV)"
            };
            Err(Error::new(format!("apikey-delete: no key given and {why}")).with_help(help))
        }
        Some(_) => Err(Error::new("api.api.apiKey must be a string: the key's id").with_help(help)),
    }
}
