//! The registration builder a plugin's `register` function receives.

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult, RStr};

use crate::abi::{
    Changes, CommandRunner, CommandRunnerBox, CommandRunner_TO, Handler, HandlerBox, Handler_TO, HostBox, PluginError,
    RegistrarMut, Signal,
};
use crate::event::{Event, Invocation};
use crate::guard::guard;
use crate::tool::{CommandSpec, ToolSpec};
use crate::{logging, Error};

/// The order a subscription gets unless it asks for another; lower runs first.
pub const DEFAULT_ORDER: i32 = 1000;

/// Lets a plugin subscribe handlers, contribute tools and declare config schemas.
pub struct Registration<'a> {
    registrar: RegistrarMut<'a>,
    name: &'static str,
}

impl<'a> Registration<'a> {
    /// The plugin's name as given to [`crate::export_plugin!`], e.g. to find `plugins.<name>`.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Subscribes `handler` to `signal` with the default order (1000).
    pub fn on<F>(&mut self, signal: Signal, handler: F) -> &mut Self
    where
        F: FnMut(&mut Event<'_>) -> Result<(), Error> + Send + 'static,
    {
        self.on_with_order(signal, DEFAULT_ORDER, handler)
    }

    /// Subscribes `handler` to `signal`; handlers with a lower `order` run first, ties by plugin name.
    pub fn on_with_order<F>(&mut self, signal: Signal, order: i32, handler: F) -> &mut Self
    where
        F: FnMut(&mut Event<'_>) -> Result<(), Error> + Send + 'static,
    {
        let boxed: HandlerBox = Handler_TO::from_value(FnHandler(handler), TD_Opaque);
        self.registrar.subscribe(signal, order, boxed);
        self
    }

    /// Subscribes `handler` to `signal` for the runs of the tool `tool` only (since 1.3): a
    /// plugin whose every subscription is for other tools is not even loaded for a run. A host
    /// before 1.3 calls it for every run, so the handler still checks `event.tool()`.
    pub fn on_for_tool<F>(&mut self, tool: &str, signal: Signal, order: i32, handler: F) -> &mut Self
    where
        F: FnMut(&mut Event<'_>) -> Result<(), Error> + Send + 'static,
    {
        logging::subscription_scope(&serde_json::json!({ "tools": [tool] }).to_string());
        self.on_with_order(signal, order, handler)
    }

    /// Subscribes `handler` to `signal` for tool commands only, not `fink config` or `fink
    /// plugins` (since 1.3; see [`Registration::on_for_tool`]).
    pub fn on_for_tool_commands<F>(&mut self, signal: Signal, order: i32, handler: F) -> &mut Self
    where
        F: FnMut(&mut Event<'_>) -> Result<(), Error> + Send + 'static,
    {
        logging::subscription_scope(r#"{"tool_commands": true}"#);
        self.on_with_order(signal, order, handler)
    }

    /// Contributes a tool; `run` is called with the chosen command.
    pub fn tool<F>(&mut self, spec: ToolSpec, run: F) -> &mut Self
    where
        F: FnMut(&mut Invocation<'_>) -> Result<(), Error> + Send + 'static,
    {
        // ToolSpec only holds strings, bools and lists: serializing cannot fail.
        let json = serde_json::to_string(&spec).unwrap_or_default();
        let runner: CommandRunnerBox = CommandRunner_TO::from_value(FnRunner(run), TD_Opaque);
        self.registrar.add_tool(RStr::from_str(&json), runner);
        self
    }

    /// Contributes a tool built with [`Tool`]: each command was registered with its handler, and
    /// the call is dispatched to it.
    pub fn add_tool(&mut self, mut tool: Tool) -> &mut Self {
        let spec = tool.spec.clone();
        self.tool(spec, move |call: &mut Invocation<'_>| tool.run(call))
    }

    /// Declares a JSON Schema for a config section: the plugin's tool section (e.g. `lambda`) or
    /// `plugins.<name>`. The host fills in the schema's defaults and validates the section.
    pub fn config_schema(&mut self, section: &str, schema: serde_json::Value) -> &mut Self {
        self.registrar.config_schema(RStr::from_str(section), RStr::from_str(&schema.to_string()));
        self
    }
}

type CommandFn = Box<dyn FnMut(&mut Invocation<'_>) -> Result<(), Error> + Send>;

/// A tool and its commands, each listed once with the function that runs it.
///
/// ```
/// use fink_plugin_api::{outln, ArgSpec, CommandSpec, Invocation, Result, Tool};
///
/// fn greet(call: &mut Invocation) -> Result<()> {
///     outln!("hello {}", call.value("name").unwrap_or("world"));
///     Ok(())
/// }
///
/// let tool = Tool::new("hello", "Greets")
///     .command(CommandSpec::new("greet", "Say hello").arg(ArgSpec::option("name", "Who")), greet);
/// assert_eq!(tool.spec().commands[0].name, "greet");
/// ```
pub struct Tool {
    spec: ToolSpec,
    handlers: Vec<(String, CommandFn)>,
}

impl Tool {
    /// A tool with no commands yet.
    pub fn new(name: impl Into<String>, about: impl Into<String>) -> Self {
        Tool { spec: ToolSpec::new(name, about), handlers: Vec::new() }
    }

    /// Adds a command and the function that runs it.
    pub fn command<F>(mut self, spec: CommandSpec, run: F) -> Self
    where
        F: FnMut(&mut Invocation<'_>) -> Result<(), Error> + Send + 'static,
    {
        self.handlers.push((spec.name.clone(), Box::new(run)));
        self.spec.commands.push(spec);
        self
    }

    /// Adds an older name that still runs the tool, with a deprecation warning (since 1.1).
    pub fn alias(mut self, name: impl Into<String>) -> Self {
        self.spec.aliases.push(name.into());
        self
    }

    /// What the host will be told about the tool.
    pub fn spec(&self) -> &ToolSpec {
        &self.spec
    }

    /// Runs `command` as the host would (for tests of a tool's dispatch).
    pub fn run(&mut self, call: &mut Invocation<'_>) -> Result<(), Error> {
        let command = call.name().to_string();
        match self.handlers.iter_mut().find(|(n, _)| *n == command) {
            Some((_, handler)) => handler(call),
            None => Err(Error::new(format!("tool '{}' has no command '{command}'", self.spec.name))),
        }
    }
}

struct FnHandler<F>(F);

impl<F> Handler for FnHandler<F>
where
    F: FnMut(&mut Event<'_>) -> Result<(), Error> + Send + 'static,
{
    fn handle(&mut self, signal: Signal, context: RStr<'_>, config: RStr<'_>) -> RResult<Changes, PluginError> {
        guard(|| {
            let mut event = Event::new(signal, context.as_str(), config.as_str());
            (self.0)(&mut event)?;
            Ok(event.into_changes())
        })
    }
}

struct FnRunner<F>(F);

impl<F> CommandRunner for FnRunner<F>
where
    F: FnMut(&mut Invocation<'_>) -> Result<(), Error> + Send + 'static,
{
    fn run(&mut self, command: RStr<'_>, context: RStr<'_>, config: RStr<'_>) -> RResult<Changes, PluginError> {
        guard(|| {
            let mut call = Invocation::new(command.as_str(), context.as_str(), config.as_str());
            let outcome = (self.0)(&mut call);
            let changes = call.into_changes();
            // What a failing command set (a deployment id, say) still reaches the error handlers.
            if let (Err(_), ROption::RSome(context)) = (&outcome, &changes.context) {
                logging::keep_context(context.as_str());
            }
            outcome.map(|()| changes)
        })
    }
}

/// Runs a plugin's `register` function under the panic guard. Used by [`crate::export_plugin!`].
#[doc(hidden)]
pub fn run_register(
    host: HostBox,
    registrar: RegistrarMut<'_>,
    name: &'static str,
    module: &'static str,
    register: fn(&mut Registration<'_>) -> Result<(), Error>,
) -> RResult<(), PluginError> {
    logging::install(host, module.split("::").next().unwrap_or(module));
    let mut registration = Registration { registrar, name };
    guard(|| register(&mut registration))
}
