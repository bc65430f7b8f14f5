//! `lambda logs <lambda> [--start ..] [--end ..] [--tail]`.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{lambda_arg, name, region, with_aws};
use crate::logs::Request;

pub fn spec() -> CommandSpec {
    CommandSpec::new("logs", "Print a function's log events")
        .without_config()
        .arg(lambda_arg())
        .arg(ArgSpec::option(
            "start",
            "Start: '1d', '2h', '30m', '3w' ago or UTC '2017-06-28 14:23' (default 1d; 5m with --tail)",
        ))
        .arg(ArgSpec::option("end", "End, same forms as --start (default: now)"))
        .arg(ArgSpec::flag("tail", "Keep printing new events until Ctrl-C"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let request = Request {
        name: name(call),
        start: call.value("start").map(String::from),
        end: call.value("end").map(String::from),
        tail: call.flag("tail"),
    };
    with_aws(region(call)?, |config| async move { crate::logs::logs(&config, &request).await })
}
