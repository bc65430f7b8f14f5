//! `lambda delete -f <lambda> [--delete-logs]`.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{lambda_arg, name, region, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("delete", "Delete a function")
        .without_config()
        .arg(ArgSpec::flag("force", "Really delete").short('f'))
        .arg(ArgSpec::flag("delete-logs", "Delete its log group too"))
        .arg(lambda_arg())
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (name, force, logs) = (name(call), call.flag("force"), call.flag("delete-logs"));
    with_aws(region(call)?, |config| async move { crate::functions::delete(&config, &name, force, logs).await })
}
