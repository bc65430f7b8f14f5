//! The code tool's commands, one file each: `spec()` is what `fink code <command> --help` shows,
//! `run()` reads the arguments and `config.code` and calls into the domain modules. `lib.rs`
//! lists them.

pub mod bundle;
pub mod deploy;
pub mod list;
pub mod version;

use fink_plugin_api::{Invocation, Result};

use crate::settings::Section;

/// `config.code`.
fn section(call: &Invocation) -> Result<Section> {
    call.tool_section::<Section>()
}

/// Runs an AWS job on this plugin's own runtime with the standard SDK config (in `region` if set).
fn with_aws<T, F, Fut>(region: Option<String>, job: F) -> Result<T>
where
    F: FnOnce(aws_config::SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    fink_aws::run(region.as_deref(), job)
}
