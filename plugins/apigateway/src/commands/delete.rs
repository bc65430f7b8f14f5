//! `api delete -f`: see `crate::delete`.

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{entries, section, with_aws};

pub fn spec() -> CommandSpec {
    CommandSpec::new("delete", "Delete the API (and its base path mapping and invoke permissions)")
        .arg(ArgSpec::flag("force", "Really delete").short('f'))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let section = section(call)?;
    let entries = entries(call, &section)?;
    let force = call.flag("force");
    let env = call.env().unwrap_or("<env>").to_string();
    with_aws(|config| async move { crate::delete::delete(&config, &section, &entries, force, &env).await })
}
