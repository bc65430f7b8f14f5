//! `api apikey-create <keyname> [--show-secrets]`: prints the new key's id for api.api.apiKey.

use fink_plugin_api::{outln, ArgSpec, CommandSpec, Invocation, Result};

use super::with_aws;
use crate::api_keys::{self, MASK};

pub fn spec() -> CommandSpec {
    CommandSpec::new("apikey-create", "Create an API key; prints its id to put into api.api.apiKey")
        .without_config()
        .arg(ArgSpec::positional("keyname", "The key's name").required())
        .arg(ArgSpec::flag("show-secrets", "Print the key's value"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let name = call.value("keyname").unwrap_or_default().to_string();
    let show = call.flag("show-secrets");
    let (id, value) = with_aws(|config| {
        let name = name.clone();
        async move { api_keys::create(&aws_sdk_apigateway::Client::new(&config), &name).await }
    })?;
    call.mark_secret(&value);
    outln!("API key '{name}' created: id {id}");
    outln!("value: {}", if show { value.as_str() } else { MASK });
    outln!("put the id into api.api.apiKey to wire the key to the stage");
    Ok(())
}
