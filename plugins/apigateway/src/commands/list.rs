//! `api list [--json]`: the account's REST APIs.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::with_aws;

pub fn spec() -> CommandSpec {
    CommandSpec::new("list", "List the REST APIs: name, id, created")
        .without_config()
        .arg(ArgSpec::flag("json", "Print JSON"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let as_json = call.flag("json");
    with_aws(|config| async move { crate::rest_apis::list(&aws_sdk_apigateway::Client::new(&config), as_json).await })
}
