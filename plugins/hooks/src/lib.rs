//! hooks: runs the project's own code in the lifecycle. Command hooks are programs in any
//! language listed in the config's `hooks` section under the signal they run at; each gets the
//! context and config as JSON on stdin, may hand changes back on its last stdout line, and stops
//! the run when it fails. Python hooks, templates and configs are gcdt's and fink's
//! (`cloudformation.py`, `hookfile`, `fink_<env>.py`): functions connected to gcdt's signals.
//!
//! `spec` reads and checks the `hooks` section, `run` runs one hook and reads what it hands back,
//! `python` runs the Python files through one Python process.

mod python;
mod run;
mod spec;

use fink_plugin_api::{context, export_plugin, json, Event, Registration, Result, Signal, Value};

export_plugin! {
    name: "hooks",
    description: "Runs the project's command hooks at lifecycle signals",
    register: register,
}

/// One subscription per signal a hook can run at (after the config is read), plus the check of
/// the section right after reading.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.config_schema("hooks", spec::schema());
    plugin.on_with_order(Signal::CONFIG_READ_FINALIZED, 50, |event: &mut Event| spec::check(event.config()));
    for signal in spec::hookable() {
        // Late in each signal (after the bundled plugins at 1000): project code sees their work.
        plugin.on_with_order(signal, 5000, move |event: &mut Event| fire(signal, event));
    }
    // Python: a `.py` config before the config-reader (1000) reads the other formats; the hook
    // files once the config (naming the hookfile) is read; each signal's Python functions before
    // the command hooks; the template after the cloud tool asked for it (100).
    plugin.on_with_order(Signal::CONFIG_READ_INIT, 500, python::read_config);
    plugin.on_with_order(Signal::CONFIG_READ_FINALIZED, 60, python::load_hooks);
    for signal in Signal::ALL.iter().copied() {
        plugin.on_with_order(signal, 4000, move |event: &mut Event| python::fire(signal, event));
    }
    plugin.on_with_order(Signal::CONFIG_VALIDATION_FINALIZED, 1500, python::template);
    plugin.on_with_order(Signal::FINALIZED, 9000, python::stop);
    // Last: what command hooks left running in the background ends with the run.
    plugin.on_with_order(Signal::FINALIZED, 9100, run::end_left_behind);
    Ok(())
}

/// Runs the hooks configured for `signal` that apply to this run, in order.
fn fire(signal: Signal, event: &mut Event) -> Result<()> {
    let name = signal.name().unwrap_or("?");
    let hooks = spec::hooks_at(event.config(), name)?;
    let (tool, command) = (event.tool().map(String::from), event.command().map(String::from));
    let applicable: Vec<_> = hooks.iter().filter(|h| h.applies(tool.as_deref(), command.as_deref())).collect();
    if !applicable.is_empty() && !event.project_trusted() {
        // Project code: not run in a project the user has not trusted (the host warns once).
        event.skip_untrusted(&format!("its command hooks (hooks.{name})"));
        return Ok(());
    }
    for hook in applicable {
        let handed_back = run::run(hook, name, &input(event), event)?;
        if let Some(changes) = handed_back {
            apply(event, changes);
        }
    }
    Ok(())
}

/// What a hook gets on stdin: the context without its private keys, and the config.
fn input(event: &Event) -> Value {
    let context: serde_json::Map<String, Value> = event
        .context()
        .as_object()
        .map(|m| m.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    json!({"context": context, "config": event.config()})
}

/// A hook's `{"context": {...}, "config": {...}}`: context keys are set one by one (private and
/// host-owned keys are not the hook's to change), the config replaces the config.
fn apply(event: &mut Event, changes: run::HandedBack) {
    for (key, value) in changes.context {
        if key.starts_with('_') || context::KEYS.iter().any(|k| k.name == key && k.set_by == "host") {
            continue;
        }
        event.set_context(&key, value);
    }
    if let Some(config) = changes.config {
        *event.config_mut_value() = config;
    }
}
