//! `code bundle`: the bundler builds the tar.gz at `bundle_pre`/`bundle_init` (asked by
//! `crate::bundle::request`); the command says what is in it.

use fink_plugin_api::{CommandSpec, Invocation, Result};

pub fn spec() -> CommandSpec {
    CommandSpec::new("bundle", "Build the CodeDeploy bundle (.fink/bundle/<env>/bundle.tar.gz) without deploying")
        .without_aws()
}

pub fn run(call: &mut Invocation) -> Result<()> {
    crate::bundle::report(call)
}
