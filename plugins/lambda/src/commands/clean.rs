//! `lambda clean`: remove the bundle and the bundler's staging folder.

use fink_plugin_api::{CommandSpec, Invocation, Result};

pub fn spec() -> CommandSpec {
    CommandSpec::new("clean", "Remove bundle.zip and the bundler's staging folder").without_aws()
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = super::settings(call)?;
    crate::bundle::clean(&call.project_path(), &settings)
}
