//! Where a plugin file becomes a plugin: load the library from the file opened and checked before, check the API version, read its info,
//! call `register` with the host's side of the API's trait objects (the logging service a plugin
//! keeps, the registrar that collects what it declares). Libraries are never unloaded.

use std::path::PathBuf;

use abi_stable::library::{lib_header_from_path, LibraryError, RootModuleError};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RResult, RStr};
use fink_plugin_api::abi::{
    CommandRunnerBox, HandlerBox, Host, Host_TO, Level, PluginInfo, PluginModRef, Registrar, Registrar_TO, Signal,
    API_VERSION, KEPT_CONTEXT_TARGET, SUBSCRIPTION_SCOPE_TARGET,
};
use semver::Version;

use crate::checked_file::CheckedFile;
use crate::error::LoadError;
use crate::logging;

/// A plugin that loaded and registered.
pub struct Loaded {
    pub info: PluginInfo,
    pub path: PathBuf,
    pub collected: Collected,
}

/// Loads the checked, open file and reads the plugin's info, checking the API version first.
pub fn open(file: CheckedFile) -> Result<(PluginModRef, PluginInfo), LoadError> {
    let loader_path = file.loader_path();
    // The dynamic loader knows a loaded library by the name it was given (`/proc/self/fd/N`) and
    // hands back the loaded one for the same name: the file stays open, so its number is never
    // reused for another plugin. Libraries are never unloaded either.
    file.keep_open();
    let header = lib_header_from_path(&loader_path).map_err(|e| match e {
        LibraryError::OpenError { .. } => LoadError::NotALibrary { detail: first_lines(&e) },
        _ => LoadError::NotAPlugin { detail: first_lines(&e) },
    })?;

    let host = host_api_version();
    let strings = header.version_strings();
    let plugin = Version::parse(strings.version.as_str()).map_err(|e| LoadError::NotAPlugin {
        detail: format!("unreadable plugin-API version '{}': {e}", strings.version),
    })?;
    check_api_version(&plugin, &host)?;

    let module = header.init_root_module::<PluginModRef>().map_err(|e| match e {
        LibraryError::AbiInstability(_) | LibraryError::InvalidAbiHeader(_) | LibraryError::InvalidCAbi { .. } => {
            LoadError::AbiMismatch { host: host.to_string(), detail: first_lines(&e) }
        }
        LibraryError::RootModule { err: RootModuleError::Unwound, .. } => {
            LoadError::Register { message: "its module panicked while loading".into(), detail: String::new() }
        }
        other => LoadError::Register { message: "its module failed to load".into(), detail: first_lines(&other) },
    })?;

    let info = (module.info())();
    validate_info(&info)?;
    Ok((module, info))
}

/// For which runs a subscription is ([`SUBSCRIPTION_SCOPE_TARGET`], since API 1.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every run.
    #[default]
    Any,
    /// Tool commands only.
    ToolCommands,
    /// The runs of these tools only.
    Tools(Vec<String>),
}

impl Scope {
    /// The scope a protocol record announces; one fink cannot read counts for every run.
    fn from_record(text: &str) -> Scope {
        let value: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        if let Some(tools) = value.get("tools").and_then(serde_json::Value::as_array) {
            return Scope::Tools(tools.iter().filter_map(|t| t.as_str().map(String::from)).collect());
        }
        if value.get("tool_commands").and_then(serde_json::Value::as_bool) == Some(true) {
            return Scope::ToolCommands;
        }
        Scope::Any
    }

    /// Whether a subscription with this scope fires in a run of `tool` (`None`: a built-in
    /// command such as `fink config`).
    pub fn covers(&self, tool: Option<&str>) -> bool {
        match (self, tool) {
            (Scope::Any, _) => true,
            (Scope::ToolCommands, tool) => tool.is_some(),
            (Scope::Tools(tools), Some(tool)) => tools.iter().any(|t| t == tool),
            (Scope::Tools(_), None) => false,
        }
    }
}

thread_local! {
    /// The scope announced for the subscription `register` makes next.
    static PENDING_SCOPE: std::cell::RefCell<Option<Scope>> = const { std::cell::RefCell::new(None) };
}

/// Calls the plugin's `register`, collecting its subscriptions, tools and schemas.
pub fn register(module: PluginModRef, info: PluginInfo, path: PathBuf) -> Result<Loaded, LoadError> {
    PENDING_SCOPE.with(|pending| pending.borrow_mut().take());
    let host = Host_TO::from_value(PluginHost { name: info.name.to_string() }, TD_Opaque);
    let mut collected = Collected::default();
    let result = (module.register())(host, Registrar_TO::from_ptr(&mut collected, TD_Opaque));
    match result {
        RResult::ROk(()) => Ok(Loaded { info, path, collected }),
        RResult::RErr(err) => Err(LoadError::Register {
            message: err.message.to_string(),
            detail: err.help.map(|h| h.to_string()).unwrap_or_default(),
        }),
    }
}

/// Logging for one plugin: records carry its name. Also receives the plugin's host protocol
/// records ([`KEPT_CONTEXT_TARGET`]).
struct PluginHost {
    name: String,
}

impl Host for PluginHost {
    fn log(&self, level: Level, target: RStr<'_>, message: RStr<'_>) {
        if level == Level::OFF && target.as_str() == KEPT_CONTEXT_TARGET {
            crate::kept_context::keep(&self.name, message.as_str());
            return;
        }
        if level == Level::OFF && target.as_str() == SUBSCRIPTION_SCOPE_TARGET {
            // `register` runs on this thread: the scope is for its next subscription.
            let scope = Scope::from_record(message.as_str());
            PENDING_SCOPE.with(|pending| *pending.borrow_mut() = Some(scope));
            return;
        }
        logging::plugin_record(level, &self.name, target.as_str(), message.as_str());
    }

    fn max_level(&self) -> Level {
        logging::max_level()
    }
}

/// Everything a plugin declared while registering, as the plugin sent it (JSON texts); the
/// registry reads and checks it.
#[derive(Default)]
pub struct Collected {
    pub subscriptions: Vec<(Signal, i32, HandlerBox, Scope)>,
    pub tools: Vec<(String, CommandRunnerBox)>,
    pub schemas: Vec<(String, String)>,
}

impl Registrar for Collected {
    fn subscribe(&mut self, signal: Signal, order: i32, handler: HandlerBox) {
        let scope = PENDING_SCOPE.with(|pending| pending.borrow_mut().take()).unwrap_or_default();
        self.subscriptions.push((signal, order, handler, scope));
    }

    fn add_tool(&mut self, spec_json: RStr<'_>, runner: CommandRunnerBox) {
        self.tools.push((spec_json.as_str().to_string(), runner));
    }

    fn config_schema(&mut self, section: RStr<'_>, schema_json: RStr<'_>) {
        self.schemas.push((section.as_str().to_string(), schema_json.as_str().to_string()));
    }
}

/// The plugin-API version this host was built with.
pub fn host_api_version() -> Version {
    Version::parse(API_VERSION).unwrap_or_else(|_| Version::new(1, 0, 0))
}

/// Same major, and no newer minor than the host: a plugin may use only API the host has.
fn check_api_version(plugin: &Version, host: &Version) -> Result<(), LoadError> {
    if plugin.major != host.major {
        return Err(LoadError::WrongMajor {
            plugin: plugin.to_string(),
            host: host.to_string(),
            host_major: host.major,
        });
    }
    if plugin.minor > host.minor {
        return Err(LoadError::NewerMinor { plugin: plugin.to_string(), host: host.to_string() });
    }
    Ok(())
}

/// Plugin names are lowercase ASCII letters, digits and '-', not empty and not starting with '-'.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn validate_info(info: &PluginInfo) -> Result<(), LoadError> {
    let name = info.name.as_str();
    if !valid_name(name) {
        return Err(LoadError::BadInfo(format!(
            "invalid plugin name '{name}' (use lowercase letters, digits and '-')"
        )));
    }
    if Version::parse(info.version.as_str()).is_err() {
        return Err(LoadError::BadInfo(format!(
            "plugin '{name}' has an invalid version '{}' (expected semver such as 1.2.3)",
            info.version
        )));
    }
    Ok(())
}

/// abi_stable's errors are multi-line and start with a newline; one line for `-v`, with the
/// reason (e.g. dlerror's text) kept but layout dumps cut short.
fn first_lines(err: &LibraryError) -> String {
    let text = err.to_string();
    let line: String = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(400) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn older_and_equal_minors_load_newer_and_other_majors_do_not() {
        assert!(check_api_version(&v("1.0.0"), &v("1.3.0")).is_ok());
        assert!(check_api_version(&v("1.3.5"), &v("1.3.0")).is_ok());
        assert!(matches!(check_api_version(&v("1.4.0"), &v("1.3.0")), Err(LoadError::NewerMinor { .. })));
        assert!(matches!(check_api_version(&v("2.0.0"), &v("1.3.0")), Err(LoadError::WrongMajor { .. })));
    }

    #[test]
    fn a_scope_record_limits_a_subscription_to_its_runs() {
        let cloud = Scope::from_record(r#"{"tools": ["cloud"]}"#);
        assert_eq!(cloud, Scope::Tools(vec!["cloud".into()]));
        assert!(cloud.covers(Some("cloud")) && !cloud.covers(Some("lambda")) && !cloud.covers(None));
        let tools = Scope::from_record(r#"{"tool_commands": true}"#);
        assert!(tools.covers(Some("lambda")) && !tools.covers(None));
        assert_eq!(Scope::from_record("not json"), Scope::Any);
        assert!(Scope::Any.covers(None));
    }

    #[test]
    fn plugin_names_are_lowercase_words() {
        let info = |name: &str| PluginInfo {
            name: name.into(),
            version: "1.0.0".into(),
            description: "".into(),
            api_version: "1.0.0".into(),
        };
        assert!(validate_info(&info("say-hello2")).is_ok());
        assert!(validate_info(&info("Say_Hello")).is_err());
        assert!(validate_info(&info("")).is_err());
    }
}
