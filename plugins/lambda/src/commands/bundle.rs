//! `lambda bundle`: the bundler builds the zip at `bundle_pre`/`bundle_init` (asked by
//! `crate::bundle::request`); the command says what is in it.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

pub fn spec() -> CommandSpec {
    CommandSpec::new("bundle", "Build the function's bundle (.fink/bundle/<env>/bundle.zip) without deploying")
        .without_aws()
        .arg(keep_arg())
}

pub fn run(call: &mut Invocation) -> Result<()> {
    crate::bundle::report(call)
}

/// `--keep`, shared with `deploy`.
pub fn keep_arg() -> ArgSpec {
    ArgSpec::flag("keep", "Reuse installed dependencies from the last bundle")
}
