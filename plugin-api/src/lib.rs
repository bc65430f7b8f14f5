//! The plugin API of fink.
//!
//! A fink plugin is a `cdylib` crate that depends on this crate and calls [`export_plugin!`] once.
//! Its `register` function subscribes handlers to lifecycle [`Signal`]s, may contribute a tool
//! ([`ToolSpec`]) and may declare JSON Schemas for its config section. Handlers get an [`Event`]
//! with the context and config and may change both.
//!
//! ```
//! use fink_plugin_api::{export_plugin, info, Event, Registration, Result, Signal};
//!
//! export_plugin! { name: "say-hello", description: "Greets you", register: register }
//!
//! fn register(plugin: &mut Registration) -> Result<()> {
//!     plugin.on(Signal::INITIALIZED, |event: &mut Event| {
//!         info!("MoinMoin {}!", event.user().unwrap_or("stranger"));
//!         Ok(())
//!     });
//!     Ok(())
//! }
//! # fn main() {}
//! ```
//!
//! [`abi`] is the binary contract (additive changes only within 1.x); everything else is helper
//! code compiled into each plugin and free to improve.
#![deny(missing_docs)]

pub mod abi;
pub mod context;
mod error;
mod event;
mod export;
mod guard;
pub mod human;
mod logging;
pub mod payload;
mod register;
pub mod secrets;
mod tool;

pub use abi::{Level, Signal, API_VERSION};
pub use error::{Error, Result};
pub use event::{Data, Event, Invocation, SECRETS_KEY};
pub use guard::guard;
pub use payload::{Bundle, BundleRequest, GeneratedTemplate, Payload, StackOutput, TemplateRequest};
pub use register::{Registration, Tool, DEFAULT_ORDER};
pub use secrets::Secrets;
pub use tool::{ArgKind, ArgSpec, CommandSpec, ToolSpec};

pub use serde_json;
pub use serde_json::{json, Value};
pub use tracing;
pub use tracing::{debug, error, info, trace, warn};

/// Prints a line to stdout like `println!`, but a closed pipe (`fink ... | head`) is not an
/// error: tools print tables and JSON that users pipe on.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stdout().lock(), $($arg)*);
    }};
}

/// Items the macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::register::run_register;
    pub use abi_stable::library::{__call_root_module_loader, CheckTypeLayout, LibHeader, RootModuleResult};
    pub use abi_stable::prefix_type::PrefixTypeTrait;
    pub use abi_stable::std_types::RResult;

    use crate::abi::PluginInfo;

    /// Builds the plugin's info; `api_version` is always this crate's version.
    pub fn plugin_info(name: &str, version: &str, description: &str) -> PluginInfo {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            description: description.into(),
            api_version: crate::API_VERSION.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn export_symbol_matches_abi_stable() {
        assert_eq!(abi_stable::library::ROOT_MODULE_LOADER_NAME, "_1as_0lib_1header_0root_bmodule_bloader");
    }
}
