//! `api apikey-list [--json] [--show-secrets]`.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::with_aws;

pub fn spec() -> CommandSpec {
    CommandSpec::new("apikey-list", "List the API keys: name, id, enabled, created (values masked)")
        .without_config()
        .arg(ArgSpec::flag("json", "Print JSON"))
        .arg(ArgSpec::flag("show-secrets", "Print the keys' values"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (as_json, show) = (call.flag("json"), call.flag("show-secrets"));
    let values = with_aws(|config| async move {
        crate::api_keys::list(&aws_sdk_apigateway::Client::new(&config), as_json, show).await
    })?;
    for value in &values {
        call.mark_secret(value);
    }
    Ok(())
}
