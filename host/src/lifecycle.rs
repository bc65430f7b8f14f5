//! The lifecycle: the only place signals fire.
//!
//! initialized → config_read_init/finalized → (plugin switches, schema defaults) →
//! check_credentials_init/finalized → lookup_init/finalized → config_validation_init (schemas)
//! /finalized → bundle_pre/init/finalized → command_init → the tool's command →
//! command_finalized → finalized. Any failure stops the run at its step, sets `context.error`,
//! fires `error`, and then `finalized` always fires.
//!
//! [`run`] is the one driver: a command gives it the steps it takes ([`Run::prepare`],
//! [`Run::execute`], printing), and the driver ends every run with `finalized`, or with `error`
//! and `finalized`. [`read_switches`] is the partial run of `fink plugins`.

use abi_stable::std_types::{ROption, RResult, RStr};
use fink_plugin_api::abi::{Changes, PluginError, Signal};
use fink_plugin_api::context as key;
use fink_plugin_api::Secrets;
use serde_json::{Map, Value};

use crate::error::Failure;
use crate::kept_context;
use crate::logging;
use crate::registry::Registry;
use crate::schema;
use crate::session::{Session, ToolCommand};

/// A JSON document with its serialized text cached, so unchanged documents are not re-serialized
/// for every handler.
struct Doc {
    value: Value,
    text: Option<String>,
}

impl Doc {
    fn new(value: Value) -> Self {
        Doc { value, text: None }
    }

    fn text(&mut self) -> &str {
        self.text.get_or_insert_with(|| self.value.to_string())
    }

    fn value_mut(&mut self) -> &mut Value {
        self.text = None;
        &mut self.value
    }

    fn replace(&mut self, text: String) -> Result<(), serde_json::Error> {
        self.value = serde_json::from_str(&text)?;
        self.text = Some(text);
        Ok(())
    }
}

/// Where a handler ran, for error messages.
enum Origin<'a> {
    Signal(Signal),
    Command { tool: &'a str, command: &'a str },
}

/// Runs the lifecycle with the host's `context` (see [`Session::builtin_context`] and
/// [`Session::tool_context`]): first `steps`, then `finalized`. If a step fails, the run ends
/// with `context.error`, `error` and `finalized`, and the step's failure is returned.
pub fn run<T>(
    registry: &mut Registry,
    session: &Session,
    context: Map<String, Value>,
    steps: impl FnOnce(&mut Run<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let mut run = Run::new(registry, session, context);
    let outcome = match steps(&mut run) {
        Ok(value) => run.finish().map(|()| value),
        Err(failure) => {
            run.fail(&failure);
            Err(failure)
        }
    };
    let skipped: Vec<String> = run
        .context
        .value
        .get(key::UNTRUSTED_SKIPPED)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    crate::warn_untrusted(&session.trust, run.registry, &skipped);
    outcome
}

/// Only reads the config and applies the project's plugin switches (for `fink plugins`): the
/// `config_read_*` signals fire, nothing else.
pub fn read_switches(registry: &mut Registry, session: &Session, context: Map<String, Value>) -> Result<(), Failure> {
    Run::new(registry, session, context).read_config()
}

/// Fires every signal once, in order, and nothing else: the dispatch cost the lifecycle
/// benchmark measures. Commands use [`run`].
#[doc(hidden)]
pub fn fire_every_signal(
    registry: &mut Registry,
    session: &Session,
    context: Map<String, Value>,
) -> Result<(), Failure> {
    let mut run = Run::new(registry, session, context);
    Signal::ALL.iter().try_for_each(|signal| run.fire(*signal))
}

/// One run of the lifecycle over a registry; [`run`] starts and ends it.
pub struct Run<'r> {
    registry: &'r mut Registry,
    session: &'r Session,
    context: Doc,
    config: Doc,
}

impl<'r> Run<'r> {
    fn new(registry: &'r mut Registry, session: &'r Session, context: Map<String, Value>) -> Self {
        let context = Doc::new(Value::Object(context));
        Run { registry, session, context, config: Doc::new(Value::Object(Map::new())) }
    }

    /// The config as it is now.
    pub fn config(&self) -> &Value {
        &self.config.value
    }

    /// The values plugins marked secret (context key `_secrets`), with the one masking rule.
    pub fn secrets(&self) -> Secrets {
        Secrets::from_context(&self.context.value)
    }

    /// From `initialized` through `config_validation_finalized`. With a tool, its plugin must be
    /// enabled and (if the command needs it) the config must have the tool's section; both are
    /// checked right after reading, before any AWS call.
    pub fn prepare(&mut self, tool: Option<&ToolCommand>) -> Result<(), Failure> {
        self.fire(Signal::INITIALIZED)?;
        self.read_config()?;
        schema::apply_defaults(self.registry, self.config.value_mut());
        if let Some(call) = tool {
            let plugin = &self.registry.plugins[call.plugin];
            if !plugin.enabled {
                return Err(Failure::new(format!(
                    "tool '{}' is provided by plugin '{}', which the project config switches off (plugins.{}.enabled: false)",
                    call.tool, plugin.name, plugin.name
                )));
            }
        }
        if let Some(tool) = tool.filter(|t| t.needs.config).map(|t| t.tool.as_str()) {
            if self.config.value.get(tool).is_none() {
                return Err(Failure::new(format!(
                    "configuration missing for '{tool}': the config for env '{}' has no '{tool}' section",
                    self.env()
                ))
                .with_help(format!("add a '{tool}' section to your fink_<env> config file")));
            }
        }
        self.fire(Signal::CHECK_CREDENTIALS_INIT)?;
        self.fire(Signal::CHECK_CREDENTIALS_FINALIZED)?;
        self.fire(Signal::LOOKUP_INIT)?;
        self.fire(Signal::LOOKUP_FINALIZED)?;
        let problems = schema::validate(self.registry, &self.config.value);
        if !problems.is_empty() {
            let count = problems.len();
            let noun = if count == 1 { "problem" } else { "problems" };
            let file = match self.context.value.get(key::CONFIG_FILE).and_then(Value::as_str) {
                Some(file) => format!(" in {file}"),
                None => String::new(),
            };
            return Err(Failure::new(format!("invalid config{file} ({count} {noun}):\n  {}", problems.join("\n  "))));
        }
        self.fire(Signal::CONFIG_VALIDATION_INIT)?;
        self.fire(Signal::CONFIG_VALIDATION_FINALIZED)
    }

    /// `initialized` and reading the config, nothing more (`fink config --raw`).
    pub fn read_only(&mut self) -> Result<(), Failure> {
        self.fire(Signal::INITIALIZED)?;
        self.read_config()
    }

    /// Reads the config and applies the project's plugin switches.
    fn read_config(&mut self) -> Result<(), Failure> {
        self.fire(Signal::CONFIG_READ_INIT)?;
        self.fire(Signal::CONFIG_READ_FINALIZED)?;
        self.warn_if_nothing_read();
        self.apply_plugin_switches()
    }

    /// Reading config files is a plugin's job; without one, every command would see an empty
    /// config and say nothing about why.
    fn warn_if_nothing_read(&self) {
        let tool = self.context.value.get(key::TOOL).and_then(Value::as_str);
        let readers = [Signal::CONFIG_READ_INIT, Signal::CONFIG_READ_FINALIZED]
            .into_iter()
            .any(|signal| !self.registry.subscribers(signal, tool).is_empty());
        let empty = self.config.value.as_object().map_or(true, Map::is_empty);
        if readers || !empty {
            return;
        }
        let searched: Vec<String> = self.session.search_dirs.iter().map(|d| d.path.display().to_string()).collect();
        logging::warn(&format!(
            "no plugin read a config for env '{}': none of the plugins found reads config files \
             (install the config-reader plugin; searched {})",
            self.env(),
            searched.join(", ")
        ));
    }

    /// The env as the context has it, for messages.
    fn env(&self) -> &str {
        self.context.value.get(key::ENV).and_then(Value::as_str).unwrap_or("?")
    }

    /// Bundling, then the tool's command between `command_init` and `command_finalized`.
    pub fn execute(&mut self, call: &ToolCommand) -> Result<(), Failure> {
        let (plugin, tool, command) = (call.plugin, call.index, call.command.as_str());
        self.fire(Signal::BUNDLE_PRE)?;
        self.fire(Signal::BUNDLE_INIT)?;
        self.fire(Signal::BUNDLE_FINALIZED)?;
        self.fire(Signal::COMMAND_INIT)?;
        let plugin_name = self.registry.plugins[plugin].name.clone();
        let tool_name = self.registry.plugins[plugin].tools[tool].spec.name.clone();
        let context = self.context.text().to_string();
        let config = self.config.text().to_string();
        let Some(runner) = self.registry.plugins[plugin].tools[tool].runner.as_mut() else {
            return Err(not_loaded(&plugin_name));
        };
        kept_context::take();
        let result = runner.run(RStr::from_str(command), RStr::from_str(&context), RStr::from_str(&config));
        let origin = Origin::Command { tool: &tool_name, command };
        if let (RResult::RErr(_), Some((from, context))) = (&result, kept_context::take()) {
            // What the command set before failing (a deployment id, say) is for the error and
            // finalized handlers; the command's own error stays the one reported.
            if from == plugin_name {
                let changes = Changes { context: ROption::RSome(context.into()), config: ROption::RNone };
                if let Err(invalid) = self.absorb(&plugin_name, &origin, RResult::ROk(changes)) {
                    logging::warn(&invalid.message);
                }
            }
        }
        self.absorb(&plugin_name, &origin, result)?;
        self.fire(Signal::COMMAND_FINALIZED)
    }

    /// Ends a successful run.
    fn finish(&mut self) -> Result<(), Failure> {
        self.fire(Signal::FINALIZED)
    }

    /// Ends a failed run: `context.error`, the `error` signal, then `finalized`. Failures of these
    /// handlers are reported but do not replace the original error.
    fn fail(&mut self, failure: &Failure) {
        if let Some(ctx) = self.context.value_mut().as_object_mut() {
            ctx.insert(key::ERROR.into(), Value::String(failure.message.clone()));
        }
        for signal in [Signal::ERROR, Signal::FINALIZED] {
            if let Err(e) = self.fire(signal) {
                logging::warn(&e.message);
            }
        }
    }

    /// Calls every enabled subscriber of `signal` in order; the first error stops the run.
    fn fire(&mut self, signal: Signal) -> Result<(), Failure> {
        let tool = self.context.value.get(key::TOOL).and_then(Value::as_str).map(String::from);
        let subscribers = self.registry.subscribers(signal, tool.as_deref());
        for (pi, si) in subscribers {
            let result = {
                let context = self.context.text.get_or_insert_with(|| self.context.value.to_string());
                let config = self.config.text.get_or_insert_with(|| self.config.value.to_string());
                match self.registry.plugins[pi].subscriptions[si].handler.as_mut() {
                    Some(handler) => handler.handle(signal, RStr::from_str(context), RStr::from_str(config)),
                    None => return Err(not_loaded(&self.registry.plugins[pi].name)),
                }
            };
            let name = self.registry.plugins[pi].name.clone();
            self.absorb(&name, &Origin::Signal(signal), result)?;
        }
        Ok(())
    }

    /// Takes a handler's changes, or turns its error into a failure naming plugin and step.
    fn absorb(
        &mut self,
        plugin: &str,
        origin: &Origin<'_>,
        result: RResult<Changes, PluginError>,
    ) -> Result<(), Failure> {
        let at = match origin {
            Origin::Signal(signal) => format!("{plugin} ({signal})"),
            Origin::Command { tool, command } => format!("{plugin} ({tool} {command})"),
        };
        match result {
            RResult::ROk(changes) => {
                if let ROption::RSome(text) = changes.context {
                    self.context
                        .replace(text.into_string())
                        .map_err(|e| Failure::new(format!("{at}: returned an invalid context: {e}")))?;
                    logging::set_secrets(self.secrets());
                }
                if let ROption::RSome(text) = changes.config {
                    self.config
                        .replace(text.into_string())
                        .map_err(|e| Failure::new(format!("{at}: returned an invalid config: {e}")))?;
                }
                Ok(())
            }
            RResult::RErr(err) => Err(Failure {
                message: format!("{at}: {}", err.message),
                help: err.help.into_option().map(|h| h.into_string()),
                exit_code: if err.exit_code == 0 { 1 } else { err.exit_code },
            }),
        }
    }

    /// `plugins.<name>.enabled: false` switches a plugin off from here on.
    fn apply_plugin_switches(&mut self) -> Result<(), Failure> {
        let Some(sections) = self.config.value.get("plugins").and_then(Value::as_object) else {
            return Ok(());
        };
        for (name, section) in sections {
            let Some(plugin) = self.registry.plugins.iter_mut().find(|p| &p.name == name) else {
                tracing::warn!("the config has a section plugins.{name}, but no plugin '{name}' is installed");
                continue;
            };
            match section.get("enabled") {
                None => {}
                Some(Value::Bool(enabled)) => {
                    if !enabled {
                        tracing::debug!("plugin '{name}' disabled by the project config");
                    }
                    plugin.enabled = *enabled;
                }
                Some(other) => {
                    return Err(Failure::new(format!("plugins.{name}.enabled: expected true or false, got {other}")))
                }
            }
        }
        let names: Vec<Value> =
            self.registry.plugins.iter().filter(|p| p.enabled).map(|p| Value::String(p.name.clone())).collect();
        if let Some(ctx) = self.context.value_mut().as_object_mut() {
            ctx.insert(key::PLUGINS.into(), Value::Array(names));
        }
        Ok(())
    }
}

/// A plugin described from the cache reached the lifecycle without being activated: a bug in
/// the host, reported instead of a panic.
fn not_loaded(plugin: &str) -> Failure {
    Failure::usage(format!("plugin '{plugin}' was not loaded before its handlers were needed (a fink bug)"))
}
