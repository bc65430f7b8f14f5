//! What a handler or command sees: the signal or command, the context and the config.
//!
//! Context and config arrive as JSON text and are parsed only when a handler reads them, and sent
//! back only when it changed them, so handlers that merely observe cost next to nothing.

use std::cell::OnceCell;
use std::ops::{Deref, DerefMut};
use std::path::PathBuf;

use abi_stable::std_types::{ROption, RString};
use serde_json::{Map, Value};

use serde::de::DeserializeOwned;

use crate::abi::{Changes, Signal};
use crate::context;
use crate::payload::Payload;
use crate::secrets::Secrets;
use crate::Error;

/// One JSON document, parsed lazily and tracked for changes.
struct Doc<'a> {
    raw: &'a str,
    parsed: OnceCell<Value>,
    dirty: bool,
}

impl<'a> Doc<'a> {
    fn new(raw: &'a str) -> Self {
        Doc { raw, parsed: OnceCell::new(), dirty: false }
    }

    fn get(&self) -> &Value {
        self.parsed.get_or_init(|| serde_json::from_str(self.raw).unwrap_or_else(|_| Value::Object(Map::new())))
    }

    fn get_mut(&mut self) -> &mut Map<String, Value> {
        self.get();
        self.dirty = true;
        let value = self.parsed.get_mut().expect("parsed above");
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        value.as_object_mut().expect("made an object above")
    }

    fn changed(self) -> ROption<RString> {
        match (self.dirty, self.parsed.into_inner()) {
            (true, Some(value)) => ROption::RSome(RString::from(value.to_string())),
            _ => ROption::RNone,
        }
    }
}

/// The private context key that lists secret values (also [`crate::context::SECRETS`]).
pub const SECRETS_KEY: &str = crate::context::SECRETS;

/// Context and config, shared by [`Event`] and [`Invocation`].
///
/// The context's keys are the contract in [`crate::context`]; plugins add their own. The config
/// is the project config: top level, tool sections, `plugins.<name>`.
pub struct Data<'a> {
    context: Doc<'a>,
    config: Doc<'a>,
}

impl<'a> Data<'a> {
    /// Wraps raw JSON text (used by the generated entry points and by tests).
    pub fn new(context: &'a str, config: &'a str) -> Self {
        Data { context: Doc::new(context), config: Doc::new(config) }
    }

    /// The whole context.
    pub fn context(&self) -> &Value {
        self.context.get()
    }

    /// The context for changing; later handlers see the change.
    pub fn context_mut(&mut self) -> &mut Map<String, Value> {
        self.context.get_mut()
    }

    /// A string value of the context, e.g. `context_str("env")`.
    pub fn context_str(&self, key: &str) -> Option<&str> {
        self.context().get(key).and_then(Value::as_str)
    }

    /// Sets one context key.
    pub fn set_context(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        self.context_mut().insert(key.into(), value.into());
    }

    /// The tool being run (`cloud`, `lambda`, ...), if any.
    pub fn tool(&self) -> Option<&str> {
        self.context_str("tool")
    }

    /// The command being run (`deploy`, `config`, ...).
    pub fn command(&self) -> Option<&str> {
        self.context_str("command")
    }

    /// The environment (`dev`, `prod`, ...).
    pub fn env(&self) -> Option<&str> {
        self.context_str("env")
    }

    /// The user running fink.
    pub fn user(&self) -> Option<&str> {
        self.context_str("user")
    }

    /// The project directory, as text.
    pub fn project_dir(&self) -> Option<&str> {
        self.context_str(context::PROJECT_DIR)
    }

    /// The project directory. The host always sets it (absolute); only a hand-made test context
    /// lacks it, and then it is the current directory.
    pub fn project_path(&self) -> PathBuf {
        PathBuf::from(self.project_dir().unwrap_or("."))
    }

    /// `-1` with `-q`, `0` normally, `1` with `-v`, `2` with `-vv`.
    pub fn verbosity(&self) -> i64 {
        self.context().get(context::VERBOSITY).and_then(Value::as_i64).unwrap_or(0)
    }

    /// Whether the user trusts the project to run its own code (since 1.3). `false` when the host
    /// did not say: a plugin runs no project code unless it is told it may.
    pub fn project_trusted(&self) -> bool {
        self.context().get(context::PROJECT_TRUSTED).and_then(Value::as_bool).unwrap_or(false)
    }

    /// Notes that `what` (e.g. `"command hooks (hooks.command_finalized)"`) was not run because
    /// the project is not trusted; the host names it in its one warning (since 1.3).
    pub fn skip_untrusted(&mut self, what: &str) {
        let list = self.context_mut().entry(context::UNTRUSTED_SKIPPED).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            if !items.iter().any(|i| i.as_str() == Some(what)) {
                items.push(Value::String(what.to_string()));
            }
        }
    }

    /// The error for a command that cannot work without project code (`what`) in a project the
    /// user has not trusted: exit code 2, naming the command that trusts it (since 1.3).
    pub fn untrusted_error(&self, what: &str) -> Error {
        Error::untrusted(self.project_dir().unwrap_or("."), what)
    }

    /// Whether the command talks to AWS (credential checks skip when not).
    pub fn needs_aws(&self) -> bool {
        self.context().get(context::NEEDS_AWS).and_then(Value::as_bool).unwrap_or(true)
    }

    /// Whether the command needs its tool's config section.
    pub fn needs_config(&self) -> bool {
        self.context().get(context::NEEDS_CONFIG).and_then(Value::as_bool).unwrap_or(true)
    }

    /// A value another plugin handed over through the context (see [`crate::payload`]); `None`
    /// when it is absent, an error naming the key when it has the wrong shape.
    pub fn payload<P: Payload>(&self) -> Result<Option<P>, Error> {
        match self.context().get(P::KEY) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => typed(value, "context", P::KEY).map(Some),
        }
    }

    /// The bundle the bundler built for `tool` in this run; an error with help when there is none
    /// (the bundler is missing or disabled, or it built for another tool).
    pub fn bundle_for(&self, tool: &str) -> Result<crate::Bundle, Error> {
        self.payload::<crate::Bundle>()?.filter(|bundle| bundle.tool == tool).ok_or_else(|| {
            Error::new(format!("no bundle was built for the {tool} tool"))
                .with_help("the bundler plugin builds it: check that `fink plugins` lists bundler as enabled")
        })
    }

    /// Hands a value to later plugins through the context.
    pub fn set_payload<P: Payload>(&mut self, value: &P) {
        // Payloads are plain data (strings, numbers, maps): serializing cannot fail.
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.set_context(P::KEY, value);
    }

    /// The config at a dotted `path` (e.g. `"lambda"`, `"plugins.slack"`) as a typed value; an
    /// absent section reads as `{}`, so `#[serde(default)]` fields take their defaults. Errors
    /// name the full key path: `lambda.lambda.timeout: invalid type: string "x", expected u32`.
    pub fn section<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let empty = Value::Object(Map::new());
        typed(self.config_at(path).unwrap_or(&empty), "config", path)
    }

    /// The values marked secret, with the one masking rule.
    pub fn secret_values(&self) -> Secrets {
        Secrets::from_context(self.context())
    }

    /// The whole config.
    pub fn config(&self) -> &Value {
        self.config.get()
    }

    /// The config for changing; later handlers see the change.
    pub fn config_mut(&mut self) -> &mut Map<String, Value> {
        self.config.get_mut()
    }

    /// The whole config as a value, for changes by JSON pointer.
    pub fn config_mut_value(&mut self) -> &mut Value {
        self.config.get_mut();
        self.config.parsed.get_mut().expect("parsed above")
    }

    /// Marks a value as secret: the host masks it in `fink config` (unless `--show-secrets`) and
    /// in log output, and notifications leave it out. Kept in the private context key `_secrets`.
    pub fn mark_secret(&mut self, value: &str) {
        if value.is_empty() {
            return;
        }
        let list = self.context_mut().entry(SECRETS_KEY).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = list {
            if !items.iter().any(|v| v.as_str() == Some(value)) {
                items.push(Value::String(value.to_string()));
            }
        }
    }

    /// The values marked secret so far.
    pub fn secrets(&self) -> Vec<&str> {
        match self.context().get(SECRETS_KEY) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// A config value by dotted path, e.g. `config_at("plugins.slack.channel")`.
    pub fn config_at(&self, path: &str) -> Option<&Value> {
        path.split('.').try_fold(self.config(), |value, key| value.get(key))
    }

    /// This plugin's section `plugins.<name>`, if present.
    pub fn plugin_config(&self, plugin: &str) -> Option<&Value> {
        self.config().get("plugins").and_then(|p| p.get(plugin))
    }

    pub(crate) fn into_changes(self) -> Changes {
        Changes { context: self.context.changed(), config: self.config.changed() }
    }
}

/// Reads `value` into `T`; the error names where it was read (`config` or `context`), `prefix`
/// and the path inside it.
fn typed<T: DeserializeOwned>(value: &Value, place: &str, prefix: &str) -> Result<T, Error> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match inner.as_str() {
            "." | "" => prefix.to_string(),
            p if p.starts_with('[') => format!("{prefix}{p}"),
            p => format!("{prefix}.{p}"),
        };
        Error::new(format!("{place} '{path}': {}", e.into_inner()))
    })
}

/// A signal delivered to a handler.
pub struct Event<'a> {
    signal: Signal,
    data: Data<'a>,
}

impl<'a> Event<'a> {
    /// An event for `signal` over raw JSON context and config.
    pub fn new(signal: Signal, context: &'a str, config: &'a str) -> Self {
        Event { signal, data: Data::new(context, config) }
    }

    /// The signal being handled.
    pub fn signal(&self) -> Signal {
        self.signal
    }

    /// The error message, set for the `error` and `finalized` signals after a failure.
    pub fn error(&self) -> Option<&str> {
        self.context_str("error")
    }

    /// What the handler changed.
    pub fn into_changes(self) -> Changes {
        self.data.into_changes()
    }
}

/// A tool command being run.
pub struct Invocation<'a> {
    command: &'a str,
    data: Data<'a>,
}

impl<'a> Invocation<'a> {
    /// An invocation of `command` over raw JSON context and config.
    pub fn new(command: &'a str, context: &'a str, config: &'a str) -> Self {
        Invocation { command, data: Data::new(context, config) }
    }

    /// The command name, e.g. `deploy`.
    pub fn name(&self) -> &str {
        self.command
    }

    /// The parsed command-line arguments: flags are booleans, options strings (or lists).
    pub fn arguments(&self) -> Option<&Map<String, Value>> {
        self.context().get("arguments").and_then(Value::as_object)
    }

    /// Whether a flag was given.
    pub fn flag(&self, name: &str) -> bool {
        self.arguments().and_then(|a| a.get(name)).and_then(Value::as_bool).unwrap_or(false)
    }

    /// A single-valued argument.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.arguments().and_then(|a| a.get(name)).and_then(Value::as_str)
    }

    /// A multi-valued argument (empty when absent).
    pub fn values(&self, name: &str) -> Vec<&str> {
        match self.arguments().and_then(|a| a.get(name)) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        }
    }

    /// The tool's config section read into `T` (see [`Data::section`]).
    pub fn tool_section<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let tool = self.tool().unwrap_or_default().to_string();
        self.section(&tool)
    }

    /// The tool's config section (`config[tool]`), if present.
    pub fn tool_config(&self) -> Option<&Value> {
        let tool = self.tool()?;
        self.config().get(tool)
    }

    /// What the command changed.
    pub fn into_changes(self) -> Changes {
        self.data.into_changes()
    }
}

impl<'a> Deref for Event<'a> {
    type Target = Data<'a>;
    fn deref(&self) -> &Data<'a> {
        &self.data
    }
}

impl<'a> DerefMut for Event<'a> {
    fn deref_mut(&mut self) -> &mut Data<'a> {
        &mut self.data
    }
}

impl<'a> Deref for Invocation<'a> {
    type Target = Data<'a>;
    fn deref(&self) -> &Data<'a> {
        &self.data
    }
}

impl<'a> DerefMut for Invocation<'a> {
    fn deref_mut(&mut self) -> &mut Data<'a> {
        &mut self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_does_not_report_changes() {
        let ev = Event::new(Signal::INITIALIZED, r#"{"env":"dev"}"#, "{}");
        assert_eq!(ev.env(), Some("dev"));
        let changes = ev.into_changes();
        assert!(changes.context.is_none() && changes.config.is_none());
    }

    #[test]
    fn writing_reports_the_whole_new_document() {
        let mut ev = Event::new(Signal::CONFIG_READ_INIT, "{}", r#"{"a":1}"#);
        ev.config_mut().insert("b".into(), 2.into());
        let changes = ev.into_changes();
        let config: Value = serde_json::from_str(changes.config.unwrap().as_str()).unwrap();
        assert_eq!(config, serde_json::json!({"a": 1, "b": 2}));
        assert!(changes.context.is_none());
    }

    #[test]
    fn invocation_reads_arguments() {
        let ctx = r#"{"tool":"demo","arguments":{"keep":true,"name":"x","files":["a","b"]}}"#;
        let inv = Invocation::new("run", ctx, r#"{"demo":{"k":1}}"#);
        assert!(inv.flag("keep"));
        assert!(!inv.flag("missing"));
        assert_eq!(inv.value("name"), Some("x"));
        assert_eq!(inv.values("files"), vec!["a", "b"]);
        assert_eq!(inv.tool_config(), Some(&serde_json::json!({"k": 1})));
        assert_eq!(inv.config_at("demo.k"), Some(&serde_json::json!(1)));
    }
}
