//! Python hooks, templates and configs, as gcdt and fink ran them: `cloudformation.py` (hooks and
//! `generate_template()` for the cloud tool), the file the config's `hookfile` key names, and
//! `fink_<env>.py` / `gcdt_<env>.py` configs (`generate_config()`). Their `register()` connects
//! functions to gcdt's signals; fink sends each signal to them and takes back what they changed.
//!
//! At most one `python3` runs per fink run (`bridge`), started only when the project has such a
//! file; it ends at `finalized`.

mod bridge;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use fink_plugin_api::{debug, json, warn, Error, Event, GeneratedTemplate, Result, Signal, TemplateRequest, Value};

use bridge::{Bridge, Broken};

/// The config key that limits each call into Python (seconds).
pub const TIMEOUT_KEY: &str = "python_timeout";

/// The cloud tool's template source.
pub const TEMPLATE_FILE: &str = "cloudformation.py";

/// One project file the bridge has loaded.
struct Loaded {
    path: PathBuf,
    name: String,
    functions: Vec<String>,
}

/// The bridge and what the project's files connected.
struct Session {
    bridge: Bridge,
    /// Signal name → how many functions are connected to it.
    connected: BTreeMap<String, usize>,
    files: Vec<Loaded>,
}

static SESSION: Mutex<Option<Session>> = Mutex::new(None);

fn session() -> std::sync::MutexGuard<'static, Option<Session>> {
    SESSION.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `config_read_init`, before the config-reader: a `fink_<env>.py` or `gcdt_<env>.py` config
/// provides the config through `generate_config()`.
pub fn read_config(event: &mut Event) -> Result<()> {
    let Some(env) = event.env().filter(|e| !e.is_empty() && !e.contains(['/', '\\'])).map(String::from) else {
        return Ok(());
    };
    let dir = event.project_path();
    let found: Vec<String> =
        [format!("fink_{env}.py"), format!("gcdt_{env}.py")].into_iter().filter(|n| dir.join(n).is_file()).collect();
    let name = match found.as_slice() {
        [] => return Ok(()),
        [one] => one.clone(),
        _ => {
            return Err(Error::new(format!(
                "both {} and {} exist: fink cannot tell which config to read",
                found[0], found[1]
            ))
            .with_help("keep one of them"))
        }
    };
    if !event.project_trusted() {
        return Err(event.untrusted_error(&format!("the Python config {name}")));
    }
    let loaded = load(event, &dir.join(&name), Signal::CONFIG_READ_INIT, &[])?;
    if !loaded.contains(&"generate_config".to_string()) {
        return Err(Error::new(format!("{name} has no generate_config(): a Python config returns the config from it")));
    }
    let value = call(event, &name, "generate_config", Signal::CONFIG_READ_INIT)?;
    let Value::Object(generated) = value else {
        return Err(Error::new(format!("{name}: generate_config() must return a dict")));
    };
    let config = event.config_mut();
    for (key, value) in generated {
        config.insert(key, value);
    }
    event.set_context(fink_plugin_api::context::CONFIG_FILE, json!(name));
    Ok(())
}

/// `config_read_finalized`: loads the hook files: `cloudformation.py` for the cloud tool, and
/// the config's `hookfile`.
pub fn load_hooks(event: &mut Event) -> Result<()> {
    let dir = event.project_path();
    if !event.project_trusted() {
        // Project code: not loaded in a project the user has not trusted. A template the cloud
        // tool needs stops it in `template` below; hooks are skipped (the host warns once).
        if let Some(Value::String(file)) = event.config().get("hookfile").cloned() {
            event.skip_untrusted(&format!("its Python hooks ({file})"));
        }
        return Ok(());
    }
    if event.tool() == Some("cloud") && dir.join(TEMPLATE_FILE).is_file() {
        // gcdt loaded it before the lifecycle began, so its `initialized` and `config_read_init`
        // functions ran; here they run now, in order, once the config has named the interpreter.
        let late = [Signal::INITIALIZED, Signal::CONFIG_READ_INIT];
        load(event, &dir.join(TEMPLATE_FILE), Signal::CONFIG_READ_FINALIZED, &late)?;
        for signal in late {
            fire(signal, event)?;
        }
    }
    match event.config().get("hookfile") {
        None | Some(Value::Null) => {}
        Some(Value::String(file)) => {
            let path = dir.join(file);
            if !path.is_file() {
                return Err(Error::new(format!("{file} (the config's hookfile) does not exist"))
                    .with_help("the path is relative to the project folder"));
            }
            load(event, &path, Signal::CONFIG_READ_FINALIZED, &[])?;
        }
        Some(other) => return Err(Error::new(format!("hookfile: expected the name of a Python file, got {other}"))),
    }
    Ok(())
}

/// Every signal: calls the Python functions connected to it and applies what they changed.
pub fn fire(signal: Signal, event: &mut Event) -> Result<()> {
    let name = signal.name().unwrap_or("?");
    let mut guard = session();
    let Some(session) = guard.as_mut() else { return Ok(()) };
    if session.connected.get(name).copied().unwrap_or(0) == 0 {
        return Ok(());
    }
    let view = GcdtView::of(event);
    let (context, config) = python_input(event, view.as_ref());
    let request = json!({"op": "signal", "signal": name, "context": context, "config": config,
                         "gcdt": view.is_some()});
    let answer = ask(&mut guard, &request, event.config(), name)?;
    drop(guard);
    let mut answer = checked(answer, name)?;
    if let Some(view) = &view {
        let (mut context, mut config) = (answer["context"].take(), answer["config"].take());
        view.back_from_python(&mut context, &mut config);
        (answer["context"], answer["config"]) = (context, config);
    }
    let context = answer.get("context").and_then(Value::as_object).cloned().unwrap_or_default();
    let config = answer.get("config").filter(|c| c.is_object() && *c != event.config()).cloned();
    super::apply(event, super::run::HandedBack { context, config });
    Ok(())
}

/// `config_validation_finalized`: answers the cloud tool's request with `generate_template()`
/// of `cloudformation.py` and its stack policies.
pub fn template(event: &mut Event) -> Result<()> {
    let Some(request) = event.payload::<TemplateRequest>()? else { return Ok(()) };
    let has = |function: &str| {
        session().as_ref().is_some_and(|s| {
            s.files.iter().any(|f| f.name == TEMPLATE_FILE && f.functions.iter().any(|n| n == function))
        })
    };
    if request.tool == "cloud" && !event.project_trusted() && event.project_path().join(TEMPLATE_FILE).is_file() {
        return Err(event.untrusted_error(&format!("{TEMPLATE_FILE} (the stack's template)")));
    }
    if request.tool != "cloud" || !session().as_ref().is_some_and(|s| s.files.iter().any(|f| f.name == TEMPLATE_FILE)) {
        return Ok(());
    }
    if !has("generate_template") {
        return Err(Error::new(format!("{TEMPLATE_FILE} has no generate_template(): it is the stack's template"))
            .with_help("define generate_template() (or generate_template(context, config)) returning the template"));
    }
    let signal = Signal::CONFIG_VALIDATION_FINALIZED;
    let text = |value: Value, function: &str| match value {
        Value::String(text) => Ok(text),
        Value::Null => Err(Error::new(format!("{TEMPLATE_FILE}: {function}() returned None"))),
        other => Ok(other.to_string()),
    };
    let body = text(call(event, TEMPLATE_FILE, "generate_template", signal)?, "generate_template")?;
    let policy = |function: &str| -> Result<Option<String>> {
        if !has(function) {
            return Ok(None);
        }
        match call(event, TEMPLATE_FILE, function, signal)? {
            Value::Null => Ok(None),
            value => text(value, function).map(Some),
        }
    };
    let stack_policy = policy("get_stack_policy")?;
    let stack_policy_during_update = policy("get_stack_policy_during_update")?;
    debug!("{TEMPLATE_FILE} generated a template of {} bytes", body.len());
    event.set_payload(&GeneratedTemplate {
        source: TEMPLATE_FILE.into(),
        body,
        stack_policy,
        stack_policy_during_update,
    });
    Ok(())
}

/// `finalized`, last: the bridge ends.
pub fn stop(_event: &mut Event) -> Result<()> {
    if let Some(session) = session().take() {
        session.bridge.stop();
    }
    Ok(())
}

/// Loads `path` into the bridge (starting it first), warns about functions connected to signals
/// that have passed (except those in `late`, which the caller sends now), and returns the gcdt
/// functions the file defines.
fn load(event: &Event, path: &Path, now: Signal, late: &[Signal]) -> Result<Vec<String>> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut guard = session();
    if guard.is_none() {
        let configured = event.config().get("python").and_then(Value::as_str);
        let virtual_env = std::env::var("VIRTUAL_ENV").ok();
        let (interpreter, from) = bridge::interpreter(configured, virtual_env.as_deref());
        let bridge = Bridge::start(&interpreter, from, &event.project_path(), &name)?;
        *guard = Some(Session { bridge, connected: BTreeMap::new(), files: Vec::new() });
    }
    let request = json!({"op": "load", "file": path.display().to_string()});
    let answer = ask(&mut guard, &request, event.config(), now.name().unwrap_or("?"))?;
    let Some(session) = guard.as_mut() else { return Ok(Vec::new()) };
    let answer = checked(answer, now.name().unwrap_or("?"))?;
    let functions: Vec<String> =
        answer["functions"].as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect();
    for (signal, count) in answer["signals"].as_object().into_iter().flatten() {
        let count = count.as_u64().unwrap_or(0) as usize;
        if Signal::from_name(signal).is_some_and(|s| s.0 < now.0 && !late.contains(&s)) {
            warn!("{name} connects {signal}, which fires before fink loads {name}: it is not called");
        }
        *session.connected.entry(signal.clone()).or_default() += count;
    }
    debug!("loaded {name}: signals {}, functions {functions:?}", answer["signals"]);
    session.files.push(Loaded { path: path.to_path_buf(), name, functions: functions.clone() });
    Ok(functions)
}

/// Calls `function` of the loaded file `name` with the run's context and config.
fn call(event: &Event, name: &str, function: &str, signal: Signal) -> Result<Value> {
    let view = GcdtView::of(event);
    let (context, mut config) = python_input(event, view.as_ref());
    if let (Some(view), Some(tool)) = (&view, event.tool()) {
        // gcdt handed cloudformation.py's functions the tool's own section (`config['stack']`).
        if name == TEMPLATE_FILE {
            config = event.config().get(tool).cloned().unwrap_or_else(|| json!({}));
            debug!("{name}: {function}() gets the {} section, as gcdt passed it", view.tool_name(tool));
        }
    }
    let mut guard = session();
    let Some(session) = guard.as_mut() else { return Err(Error::new(format!("{name} is not loaded"))) };
    let Some(file) = session.files.iter().find(|f| f.name == name) else {
        return Err(Error::new(format!("{name} is not loaded")));
    };
    let request = json!({"op": "call", "file": file.path.display().to_string(), "function": function,
                         "context": context, "config": config, "gcdt": view.is_some()});
    let answer = ask(&mut guard, &request, event.config(), signal.name().unwrap_or("?"))?;
    Ok(checked(answer, signal.name().unwrap_or("?"))?.get("value").cloned().unwrap_or(Value::Null))
}

/// Each call into Python may take the config's `python_timeout` seconds (default 600).
fn timeout(config: &Value) -> Result<Duration> {
    match config.get(TIMEOUT_KEY) {
        None | Some(Value::Null) => Ok(crate::spec::DEFAULT_TIMEOUT),
        Some(value) => crate::spec::seconds(value, TIMEOUT_KEY),
    }
}

/// Sends `request` to the bridge within the time limit. A bridge that does not answer in time,
/// is interrupted or dies is ended and forgotten, so later signals do not wait for it again.
fn ask(guard: &mut Option<Session>, request: &Value, config: &Value, signal: &str) -> Result<Value> {
    let limit = timeout(config)?;
    let Some(session) = guard.as_mut() else { return Err(Error::new("the Python bridge is not running")) };
    let broken = match session.bridge.ask(request, limit) {
        Ok(answer) => return Ok(answer),
        Err(broken) => broken,
    };
    if let Some(session) = guard.take() {
        session.bridge.kill();
    }
    // What Python was running: what the bridge said last, else what fink asked for.
    let place = |running: Option<(String, String)>| {
        let (file, function) = running.unwrap_or_else(|| {
            let file = request["file"].as_str().map(Path::new).and_then(Path::file_name);
            let file = file.map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| "Python".into());
            let function =
                request["function"].as_str().unwrap_or(if request["op"] == "load" { "<module>" } else { "" });
            (file, function.to_string())
        });
        match function.as_str() {
            "<module>" => format!("{file}: loading it"),
            "" => format!("{file}: the functions for {signal}"),
            _ => format!("{file}: {function} ({signal})"),
        }
    };
    Err(match broken {
        Broken::TimedOut { running } => Error::new(format!(
            "{} did not finish within {}: fink ended its Python process",
            place(running),
            fink_plugin_api::human::seconds(limit)
        ))
        .with_help(format!(
            "the config's {TIMEOUT_KEY} sets the limit for each call into Python (seconds, default 600)"
        )),
        Broken::Interrupted { running } => Error::new(format!("interrupted: {} was stopped", place(running)))
            .with_exit_code(crate::run::EXIT_INTERRUPTED),
        Broken::Gone(error) => error,
    })
}

/// The answer, or its Python exception as an error naming file, function and signal (the
/// traceback at -v).
fn checked(answer: Value, signal: &str) -> Result<Value> {
    if answer["ok"] == json!(true) {
        return Ok(answer);
    }
    let error = &answer["error"];
    let text = |key: &str| error[key].as_str().unwrap_or_default().to_string();
    for line in text("traceback").lines() {
        debug!("{line}");
    }
    let function = text("function");
    let place = if function == "<module>" { "loading it".to_string() } else { format!("{function} ({signal})") };
    // A value JSON cannot carry (NaN, a set, ...) is not an exception of the project's.
    if let Some(detail) = error["not_json"].as_str() {
        return Err(Error::new(format!("{}: {place}: {detail}", text("file")))
            .with_help("hand back only JSON values: str, int, finite float, bool, None, list, dict"));
    }
    let message = text("message");
    let help = if message.starts_with("EOFError") {
        "Python hooks have an empty stdin, so input() ends at once: take the value from the config or the environment"
    } else {
        "run with -v to see the Python traceback"
    };
    Err(Error::new(format!("{}: {place} raised {message}", text("file"))).with_help(help))
}

/// gcdt's tool names, by fink's.
const GCDT_TOOLS: [(&str, &str); 4] = [("cloud", "kumo"), ("lambda", "ramuda"), ("code", "tenkai"), ("api", "yugen")];

/// The config-reader's mark of a gcdt project (a `gcdt_<env>.*` file or gcdt's section names).
const GCDT_PROJECT: &str = fink_plugin_api::context::GCDT_PROJECT;

/// How a gcdt project's Python sees the run, as gcdt showed it: the config with the section names
/// the project wrote (`config['kumo']`), the tool by its gcdt name (`context['tool'] == 'kumo'`),
/// `stack_output` as CloudFormation's list of outputs, `version`, `_arguments` and (made by the
/// bridge) `_awsclient`. Fink-native projects keep fink's shapes.
struct GcdtView {
    /// (fink's name, the project's name): `("cloud", "kumo")`, `("plugins.slack", "plugins.gcdt_slack_integration")`.
    sections: Vec<(String, String)>,
}

impl GcdtView {
    fn of(event: &Event) -> Option<GcdtView> {
        let mark = event.context().get(GCDT_PROJECT)?.as_object()?;
        let sections = mark
            .get("sections")
            .and_then(Value::as_object)
            .map(|s| s.iter().filter_map(|(new, old)| Some((new.clone(), old.as_str()?.to_string()))).collect())
            .unwrap_or_default();
        Some(GcdtView { sections })
    }

    fn tool_name<'a>(&self, tool: &'a str) -> &'a str {
        GCDT_TOOLS.iter().find(|(fink, _)| *fink == tool).map_or(tool, |(_, gcdt)| gcdt)
    }

    /// Moves `config`'s sections from fink's names to the project's (`to_project`) or back.
    fn rename(&self, config: &mut Value, to_project: bool) {
        for (new, old) in &self.sections {
            let (from, to) = if to_project { (new, old) } else { (old, new) };
            let (map, from, to) = match (from.strip_prefix("plugins."), to.strip_prefix("plugins.")) {
                (Some(from), Some(to)) => (config.get_mut("plugins").and_then(Value::as_object_mut), from, to),
                _ => (config.as_object_mut(), from.as_str(), to.as_str()),
            };
            if let Some(map) = map {
                if !map.contains_key(to) {
                    if let Some(value) = map.remove(from) {
                        map.insert(to.to_string(), value);
                    }
                }
            }
        }
    }

    /// The context and config as gcdt handed them to Python.
    fn to_python(&self, context: &mut Value, config: &mut Value) {
        self.rename(config, true);
        let Some(map) = context.as_object_mut() else { return };
        if let Some(tool) = map.get(fink_plugin_api::context::TOOL).and_then(Value::as_str) {
            let gcdt = self.tool_name(tool).to_string();
            map.insert("tool".into(), json!(gcdt));
        }
        if let Some(version) = map.get(fink_plugin_api::context::FINK_VERSION).cloned() {
            map.insert("version".into(), version);
        }
        map.insert("_arguments".into(), docopt_arguments(map));
        if let Some(Value::Object(outputs)) = map.get(fink_plugin_api::context::STACK_OUTPUT) {
            let list: Vec<Value> =
                outputs.iter().map(|(key, value)| json!({"OutputKey": key, "OutputValue": value})).collect();
            map.insert("stack_output".into(), Value::Array(list));
        }
    }

    /// What Python handed back, in fink's shapes again.
    fn back_from_python(&self, context: &mut Value, config: &mut Value) {
        self.rename(config, false);
        let Some(map) = context.as_object_mut() else { return };
        map.remove("version");
        map.remove("tool");
        if let Some(Value::Array(list)) = map.get(fink_plugin_api::context::STACK_OUTPUT) {
            let outputs: serde_json::Map<String, Value> = list
                .iter()
                .filter_map(|o| Some((o.get("OutputKey")?.as_str()?.to_string(), o.get("OutputValue")?.clone())))
                .collect();
            map.insert("stack_output".into(), Value::Object(outputs));
        }
    }
}

/// gcdt's `_arguments` (docopt's): the command `true`, each option as `--name`.
fn docopt_arguments(context: &serde_json::Map<String, Value>) -> Value {
    let mut arguments = serde_json::Map::new();
    if let Some(command) = context.get(fink_plugin_api::context::COMMAND).and_then(Value::as_str) {
        arguments.insert(command.to_string(), json!(true));
    }
    if let Some(Value::Object(given)) = context.get(fink_plugin_api::context::ARGUMENTS) {
        for (name, value) in given {
            arguments.insert(format!("--{name}"), value.clone());
        }
    }
    Value::Object(arguments)
}

/// The context and config Python gets: fink's (without private keys), or gcdt's view of them.
fn python_input(event: &Event, view: Option<&GcdtView>) -> (Value, Value) {
    let mut input = super::input(event);
    let (mut context, mut config) = (input["context"].take(), input["config"].take());
    if let Some(view) = view {
        view.to_python(&mut context, &mut config);
    }
    (context, config)
}
