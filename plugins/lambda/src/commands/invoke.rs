//! `lambda invoke <lambda> [<version>] --payload JSON|file://FILE`.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{lambda_arg, name, region, version, version_arg, with_aws, ACTIVE_VERSION};
use crate::invoke::Request;

pub fn spec() -> CommandSpec {
    CommandSpec::new("invoke", "Invoke a function and print its response")
        .without_config()
        .arg(lambda_arg())
        .arg(version_arg(ACTIVE_VERSION))
        .arg(
            ArgSpec::option("invocation-type", "How to invoke")
                .possible_values(["RequestResponse", "Event", "DryRun"])
                .default_value("RequestResponse"),
        )
        .arg(ArgSpec::option("payload", "JSON payload, or file://FILE").required())
        .arg(ArgSpec::option("outfile", "Write the response to FILE"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let request = Request {
        name: name(call),
        version: version(call),
        invocation_type: call.value("invocation-type").unwrap_or("RequestResponse").to_string(),
        payload: call.value("payload").unwrap_or_default().to_string(),
        outfile: call.value("outfile").map(String::from),
        dir: call.project_path(),
    };
    with_aws(region(call)?, |config| async move { crate::invoke::invoke(&config, &request).await })
}
