//! `lambda clean`: remove every env's bundle and staging folder (`.fink/bundle`), but one a
//! running fink holds.

use fink_plugin_api::{CommandSpec, Invocation, Result};

pub fn spec() -> CommandSpec {
    CommandSpec::new(
        "clean",
        "Remove every env's bundle and staging folder (.fink/bundle), but one a running fink holds",
    )
    .without_aws()
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let settings = super::settings(call)?;
    crate::bundle::clean(&call.project_path(), &settings)
}
