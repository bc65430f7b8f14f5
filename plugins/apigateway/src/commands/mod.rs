//! The api tool's commands, one file each: `spec()` is what `fink api <command> --help` shows,
//! `run()` reads the arguments and `config.api` and calls into the domain modules. `lib.rs`
//! lists them.

pub mod apikey_create;
pub mod apikey_delete;
pub mod apikey_list;
pub mod custom_domain_create;
pub mod delete;
pub mod deploy;
pub mod export;
pub mod list;
pub mod version;

use fink_plugin_api::{Invocation, Result};

use crate::settings::{Entry, Section};

/// `config.api`.
fn section(call: &Invocation) -> Result<Section> {
    call.tool_section::<Section>()
}

/// The functions the API integrates with.
fn entries(call: &Invocation, section: &Section) -> Result<Vec<Entry>> {
    crate::settings::entries(section, call.config())
}

/// Runs an AWS job on this plugin's own runtime with the standard SDK config and an API Gateway client.
fn with_aws<T, F, Fut>(job: F) -> Result<T>
where
    F: FnOnce(aws_config::SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    fink_aws::run(None, job)
}
