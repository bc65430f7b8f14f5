//! The binary contract between the fink host and its plugins.
//!
//! Every item here crosses the library boundary, so every change here is an ABI change. Within major
//! version 1 the types stay exactly as 1.0 released them: abi_stable's load check refuses a library
//! whose prefix types (the root module, the trait vtables) have fewer fields than the host's, so
//! any field or method added here would lock every older plugin out. What grows instead: new
//! [`Signal`] and [`Level`] values, the JSON payloads (context, config, tool specs, schemas), and
//! host protocol records such as [`KEPT_CONTEXT_TARGET`].
// sabi_trait generates undocumented helper items and impls inside consts.
#![allow(missing_docs, non_local_definitions)]

use abi_stable::{
    declare_root_module_statics,
    library::RootModule,
    package_version_strings, sabi_trait,
    sabi_types::RMut,
    sabi_types::VersionStrings,
    std_types::{RBox, ROption, RResult, RStr, RString},
    StableAbi,
};

/// The version of this API crate; a plugin records the version it was built against.
pub const API_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A lifecycle signal.
///
/// An open set: a newer 1.x API may add signals, and a host ignores values it does not know.
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Signal(pub u32);

macro_rules! signals {
    ($($(#[$doc:meta])* $konst:ident = $value:literal, $name:literal;)*) => {
        impl Signal {
            $($(#[$doc])* pub const $konst: Signal = Signal($value);)*

            /// The signals of API 1.0, in the order the lifecycle fires them.
            pub const ALL: &'static [Signal] = &[$(Signal::$konst),*];

            /// The signal's name as used in docs and output, e.g. `config_read_init`.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($name),)*
                    _ => None,
                }
            }

            /// Looks a signal up by its name.
            pub fn from_name(name: &str) -> Option<Signal> {
                match name {
                    $($name => Some(Signal::$konst),)*
                    _ => None,
                }
            }
        }
    };
}

signals! {
    /// The lifecycle starts; the context holds tool, command, env, user and arguments.
    INITIALIZED = 0, "initialized";
    /// Read the project config.
    CONFIG_READ_INIT = 1, "config_read_init";
    /// The config has been read.
    CONFIG_READ_FINALIZED = 2, "config_read_finalized";
    /// Check AWS credentials.
    CHECK_CREDENTIALS_INIT = 3, "check_credentials_init";
    /// Credentials have been checked.
    CHECK_CREDENTIALS_FINALIZED = 4, "check_credentials_finalized";
    /// Resolve lookups in the config.
    LOOKUP_INIT = 5, "lookup_init";
    /// Lookups have been resolved.
    LOOKUP_FINALIZED = 6, "lookup_finalized";
    /// Validate the config (the host validates declared schemas here).
    CONFIG_VALIDATION_INIT = 7, "config_validation_init";
    /// The config is valid.
    CONFIG_VALIDATION_FINALIZED = 8, "config_validation_finalized";
    /// Before bundling (pre-bundle scripts).
    BUNDLE_PRE = 9, "bundle_pre";
    /// Build bundles.
    BUNDLE_INIT = 10, "bundle_init";
    /// Bundles are built.
    BUNDLE_FINALIZED = 11, "bundle_finalized";
    /// The tool command is about to run.
    COMMAND_INIT = 12, "command_init";
    /// The tool command succeeded.
    COMMAND_FINALIZED = 13, "command_finalized";
    /// Something failed; `context.error` says what.
    ERROR = 14, "error";
    /// The lifecycle ends, after success or failure.
    FINALIZED = 15, "finalized";
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal#{}", self.0),
        }
    }
}

/// The target of a [`Host::log`] record at [`Level::OFF`] (which no host prints) that carries the
/// context, as JSON text, that a failing command had set before its error (since 1.2). The host
/// hands it to the `error` and `finalized` handlers, so they see, say, the deployment a failed
/// deploy created. Sent by the command glue; plugin code never writes it.
pub const KEPT_CONTEXT_TARGET: &str = "fink:kept-context";

/// The target of a [`Host::log`] record at [`Level::OFF`] sent during `register`, right before a
/// subscription, that limits it to some runs (since 1.3): `{"tools": ["cloud"]}` (runs of those
/// tools) or `{"tool_commands": true}` (any tool's commands, not `fink config`). The host loads a
/// plugin only for runs in which one of its subscriptions can fire. Sent by
/// [`crate::Registration::on_for_tool`] and friends; plugin code never writes it. A host before
/// 1.3 ignores it, so the handler still checks the tool itself.
pub const SUBSCRIPTION_SCOPE_TARGET: &str = "fink:subscription-scope";

/// A log level; an open set like [`Signal`].
#[repr(transparent)]
#[derive(StableAbi, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Level(pub u8);

impl Level {
    /// Nothing is logged.
    pub const OFF: Level = Level(0);
    /// Errors.
    pub const ERROR: Level = Level(1);
    /// Warnings.
    pub const WARN: Level = Level(2);
    /// Normal output.
    pub const INFO: Level = Level(3);
    /// Shown with `-v`.
    pub const DEBUG: Level = Level(4);
    /// Shown with `-vv`.
    pub const TRACE: Level = Level(5);
}

/// What a plugin says about itself.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct PluginInfo {
    /// Lowercase letters, digits and `-`.
    pub name: RString,
    /// The plugin's own semver version.
    pub version: RString,
    /// One line for `fink plugins`.
    pub description: RString,
    /// The `fink-plugin-api` version the plugin was built against.
    pub api_version: RString,
}

/// An error crossing the boundary: one flat struct; the host adds plugin and signal names.
#[repr(C)]
#[derive(StableAbi, Clone, Debug)]
pub struct PluginError {
    /// One line saying what went wrong.
    pub message: RString,
    /// What the user can do about it.
    pub help: ROption<RString>,
    /// Process exit code to use; 0 means the default (1).
    pub exit_code: i32,
}

/// What a handler changed: new JSON text for the context and/or config, `RNone` when unchanged.
#[repr(C)]
#[derive(StableAbi, Clone, Debug, Default)]
pub struct Changes {
    /// The whole new context object.
    pub context: ROption<RString>,
    /// The whole new config object.
    pub config: ROption<RString>,
}

/// A handler subscribed to a signal. `context` and `config` are JSON objects.
#[sabi_trait]
pub trait Handler: Send {
    #[sabi(last_prefix_field)]
    fn handle(&mut self, signal: Signal, context: RStr<'_>, config: RStr<'_>) -> RResult<Changes, PluginError>;
}

/// The function behind a tool; the host calls it at the command step.
#[sabi_trait]
pub trait CommandRunner: Send {
    #[sabi(last_prefix_field)]
    fn run(&mut self, command: RStr<'_>, context: RStr<'_>, config: RStr<'_>) -> RResult<Changes, PluginError>;
}

/// Services the host offers a plugin for its whole life.
#[sabi_trait]
pub trait Host: Send + Sync {
    /// Writes a log record under the plugin's name.
    fn log(&self, level: Level, target: RStr<'_>, message: RStr<'_>);

    /// The most verbose level the host will show.
    #[sabi(last_prefix_field)]
    fn max_level(&self) -> Level;
}

/// What a plugin can declare while it registers.
#[sabi_trait]
pub trait Registrar {
    /// Subscribes `handler` to `signal`; lower `order` runs first.
    fn subscribe(&mut self, signal: Signal, order: i32, handler: HandlerBox);

    /// Contributes a tool; `spec_json` is a serialized [`crate::ToolSpec`].
    fn add_tool(&mut self, spec_json: RStr<'_>, runner: CommandRunnerBox);

    /// Declares a JSON Schema for a config section (`lambda`, `plugins.slack`, ...).
    #[sabi(last_prefix_field)]
    fn config_schema(&mut self, section: RStr<'_>, schema_json: RStr<'_>);
}

/// An owned handler object.
pub type HandlerBox = Handler_TO<'static, RBox<()>>;
/// An owned command runner object.
pub type CommandRunnerBox = CommandRunner_TO<'static, RBox<()>>;
/// The host services object a plugin keeps.
pub type HostBox = Host_TO<'static, RBox<()>>;
/// The registrar, borrowed for the duration of `register`.
pub type RegistrarMut<'a> = Registrar_TO<'a, RMut<'a, ()>>;

/// The root module every plugin exports (through [`crate::export_plugin!`]).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModRef)))]
// Fields added in later 1.x releases go after `register` and read as `None` from older plugins.
#[sabi(missing_field(option))]
pub struct PluginMod {
    /// Name, version, description, API version.
    pub info: extern "C" fn() -> PluginInfo,
    /// Subscribes handlers, adds tools and schemas.
    #[sabi(last_prefix_field)]
    pub register: extern "C" fn(host: HostBox, registrar: RegistrarMut<'_>) -> RResult<(), PluginError>,
}

impl RootModule for PluginModRef {
    declare_root_module_statics! {PluginModRef}
    const BASE_NAME: &'static str = "fink_plugin";
    const NAME: &'static str = "fink plugin";
    const VERSION_STRINGS: VersionStrings = package_version_strings!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_round_trip_in_lifecycle_order() {
        assert_eq!(Signal::ALL.len(), 16);
        for (i, s) in Signal::ALL.iter().enumerate() {
            assert_eq!(s.0 as usize, i);
            assert_eq!(Signal::from_name(s.name().unwrap_or_default()), Some(*s));
        }
        assert_eq!(Signal(99).name(), None);
        assert_eq!(Signal(99).to_string(), "signal#99");
    }
}
