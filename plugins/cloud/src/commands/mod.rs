//! The cloud commands, one file each with its `spec()` (what `fink cloud <command> --help` shows)
//! and its `run()`. They read the settings and the template and call into the domain modules.

pub mod delete;
pub mod deploy;
pub mod dot;
pub mod generate;
pub mod graph;
pub mod list;
pub mod preview;
pub mod start;
pub mod stop;
pub mod version;

use fink_plugin_api::{Invocation, Result};

use crate::settings::Settings;
use crate::template::{self, Template};

/// The settings and then the template, for the commands that need both.
fn settings_and_template(call: &Invocation) -> Result<(Settings, Template)> {
    let settings = Settings::read(call)?;
    let template = template::load(&call.project_path(), &settings, call.context(), call.config())?;
    Ok((settings, template))
}

/// Runs an AWS job on this plugin's own runtime with the standard SDK config.
fn with_aws<T, F, Fut>(job: F) -> Result<T>
where
    F: FnOnce(aws_config::SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    fink_aws::run(None, job)
}
