//! `fink plugins`: every plugin with version, file, publisher, status, signals and tools, and every file
//! that was rejected or shadowed, with the reason.

use fink_plugin_api::Signal;

use crate::lifecycle;
use crate::loader::Scope;
use crate::logging;
use crate::pins;
use crate::publishers::{Keys, Unverified};
use crate::registry::{Plugin, Registry};
use crate::session::Session;

/// Prints the plugin list. With an env, the project config is read first so that plugins it
/// switches off show as disabled.
pub fn run(registry: &mut Registry, session: &Session) {
    let mut note = None;
    let mut out = String::new();
    if session.env.is_some() {
        // Reading the project config runs the config reader's handlers.
        registry.activate(None);
        let context = session.builtin_context(registry, "plugins");
        if let Err(failure) = lifecycle::read_switches(registry, session, context) {
            note = Some(format!(
                "could not read the project config ({}); per-project switches not shown",
                logging::scrub(&failure.message)
            ));
        }
    } else {
        note = Some("pass --env (or set ENV) to see which plugins the project config switches off".to_string());
    }

    let keys = Keys::read();
    for plugin in &registry.plugins {
        let status = if plugin.enabled { "enabled" } else { "disabled by project config" };
        outln!(out, "{} {} [{status}]", plugin.name, plugin.version);
        if !plugin.description.is_empty() {
            outln!(out, "  {}", plugin.description);
        }
        outln!(out, "  file: {}", plugin.path.display());
        outln!(out, "  publisher: {}", publisher(plugin, &keys));
        outln!(out, "  built against plugin API {}", plugin.api_version);
        let mut subs: Vec<(usize, &str, i32, String)> = plugin
            .subscriptions
            .iter()
            .map(|s| {
                let position = Signal::ALL.iter().position(|x| *x == s.signal).unwrap_or(usize::MAX);
                let scope = match &s.scope {
                    Scope::Any => String::new(),
                    Scope::ToolCommands => ", tool commands".to_string(),
                    Scope::Tools(tools) => format!(", {} only", tools.join(", ")),
                };
                (position, s.signal.name().unwrap_or("?"), s.order, scope)
            })
            .collect();
        subs.sort();
        if !subs.is_empty() {
            let list: Vec<String> =
                subs.iter().map(|(_, name, order, scope)| format!("{name} ({order}{scope})")).collect();
            outln!(out, "  signals: {}", list.join(", "));
        }
        for tool in &plugin.tools {
            let commands: Vec<&str> = tool.spec.commands.iter().map(|c| c.name.as_str()).collect();
            outln!(out, "  tool: {} ({})", tool.spec.name, commands.join(", "));
        }
        for schema in &plugin.schemas {
            outln!(out, "  config schema: {}", schema.section);
        }
    }
    if registry.plugins.is_empty() {
        outln!(out, "no plugins found");
    }
    for shadowed in &registry.shadowed {
        outln!(
            out,
            "{} [shadowed]\n  file: {}\n  the plugin '{}' from {} is used instead",
            shadowed.name,
            shadowed.path.display(),
            shadowed.name,
            shadowed.winner.display()
        );
    }
    for rejected in &registry.rejected {
        outln!(out, "{} [rejected]\n  {}", rejected.path.display(), rejected.error);
        if let Some(detail) = rejected.error.detail().filter(|_| logging::verbose()) {
            outln!(out, "  detail: {detail}");
        }
    }
    outln!(out, "search path:");
    for dir in &session.search_dirs {
        let exists = if dir.path.is_dir() { "" } else { " (missing)" };
        let pinned = if dir.path.join(pins::LOCK_FILE).is_file() { " (pinned by plugins.lock)" } else { "" };
        let untrusted = match registry.untrusted.len() {
            0 => String::new(),
            n if dir.origin == "project" => {
                format!(" (not trusted: {n} file(s) not opened; `{}`)", session.trust.trust_command())
            }
            _ => String::new(),
        };
        outln!(out, "  {} [{}]{exists}{pinned}{untrusted}", dir.path.display(), dir.origin);
    }
    if let Some(note) = note {
        outln!(out, "note: {note}");
    }
    super::emit(&out);
}

/// Who published `plugin`: as `fink plugin install` recorded it in the folder's lock, else as
/// its `<file>.minisig` says now, else "unsigned".
fn publisher(plugin: &Plugin, keys: &Keys) -> String {
    let folder = plugin.path.parent().unwrap_or(std::path::Path::new("."));
    if let Ok(Some(lock)) = pins::Lock::read(folder) {
        if let Some(publisher) = lock.publisher(&plugin.name) {
            return publisher.to_string();
        }
    }
    match keys.verify(&plugin.path, &plugin.path) {
        Ok(publisher) => publisher.to_string(),
        Err(Unverified::NoSignature(_)) => "unsigned".to_string(),
        Err(why) => format!("unverified ({why})"),
    }
}
