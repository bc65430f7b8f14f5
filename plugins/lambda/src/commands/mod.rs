//! The lambda tool's commands, one file each: `spec()` is what `fink lambda <command> --help`
//! shows, `run()` reads the arguments and the config and calls into the domain modules
//! (`crate::deploy`, `crate::functions`, ...). `lib.rs` lists them.
//!
//! Commands on the configured function (`clean`, `bundle`, `deploy`, `info`, `wire`, `unwire`)
//! read `config.lambda` with [`settings`]; the others take a function name and run without a
//! config, using its region when there is one ([`region`]).

pub mod bundle;
pub mod clean;
pub mod delete;
pub mod deploy;
pub mod info;
pub mod invoke;
pub mod list;
pub mod logs;
pub mod metrics;
pub mod ping;
pub mod rollback;
pub mod unwire;
pub mod version;
pub mod wire;

use fink_plugin_api::{ArgSpec, Invocation, Result};

use crate::settings::{Deployment, Section, Settings};

/// The function-name argument of the commands that work on any function.
fn lambda_arg() -> ArgSpec {
    ArgSpec::positional("lambda", "Function name").required()
}

/// The help of the version argument of `invoke` and `ping`.
const ACTIVE_VERSION: &str = "Published version (default: the one ACTIVE points at)";

/// The optional version argument. `version` is reserved (fink --version), so it is named
/// `function-version`.
fn version_arg(help: &str) -> ArgSpec {
    ArgSpec::positional("function-version", help).value_name("VERSION")
}

/// The function name given on the command line.
fn name(call: &Invocation) -> String {
    call.value("lambda").unwrap_or_default().to_string()
}

/// The version given on the command line, if any.
fn version(call: &Invocation) -> Option<String> {
    call.value("function-version").map(String::from)
}

/// The configured function's settings (`config.lambda`).
fn settings(call: &Invocation) -> Result<Settings> {
    call.tool_section::<Section>()?.settings()
}

/// `lambda.deployment.region` for the commands by function name, when the config has one.
fn region(call: &Invocation) -> Result<Option<String>> {
    Ok(call.section::<Deployment>("lambda.deployment")?.region)
}

/// Runs an AWS job on this plugin's own runtime with the standard SDK config (in `region` if set).
fn with_aws<T, F, Fut>(region: Option<String>, job: F) -> Result<T>
where
    F: FnOnce(aws_config::SdkConfig) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    fink_aws::run(region.as_deref(), job)
}
