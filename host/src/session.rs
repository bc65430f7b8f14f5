//! The resolved session: env, project directory, verbosity and plugin search path, the tool
//! command resolved against the registry, and the context every lifecycle run starts with.

use std::path::PathBuf;

use fink_plugin_api::context as key;
use serde_json::{json, Map, Value};

use crate::error::Failure;
use crate::plugin_path::SearchDir;
use crate::project_trust::ProjectTrust;
use crate::registry::Registry;

/// What a command needs, as its plugin declared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// It talks to AWS (credential checks run).
    pub aws: bool,
    /// It needs its tool's config section (an env and its config file are required).
    pub config: bool,
}

impl Needs {
    /// What the built-in commands that read config need: the config, no AWS of their own.
    pub const CONFIG_ONLY: Needs = Needs { aws: false, config: true };
}

/// Everything resolved from the command line and the environment.
pub struct Session {
    pub env: Option<String>,
    pub project_dir: PathBuf,
    pub verbosity: i8,
    /// Where plugins were looked for, in priority order.
    pub search_dirs: Vec<SearchDir>,
    /// Whether the user trusts the project to run its own code.
    pub trust: ProjectTrust,
}

/// A tool command resolved against the registry once, right after parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCommand {
    pub tool: String,
    pub command: String,
    /// The plugin that provides the tool (index into `Registry::plugins`).
    pub plugin: usize,
    /// The tool within that plugin (index into `Plugin::tools`).
    pub index: usize,
    pub needs: Needs,
    pub arguments: Map<String, Value>,
}

impl Session {
    /// The env, or a usage error saying how to give one.
    pub fn require_env(&self) -> Result<&str, Failure> {
        self.env.as_deref().ok_or_else(|| {
            Failure::usage("no environment given: pass --env <ENV> (e.g. -e dev) or set the ENV variable")
        })
    }

    /// The context a built-in command's run starts with (`config`, `plugins`).
    pub fn builtin_context(&self, registry: &Registry, command: &str) -> Map<String, Value> {
        self.context(registry, None, command, Map::new(), Needs::CONFIG_ONLY)
    }

    /// The context a tool command's run starts with.
    pub fn tool_context(&self, registry: &Registry, call: &ToolCommand) -> Map<String, Value> {
        self.context(registry, Some(&call.tool), &call.command, call.arguments.clone(), call.needs)
    }

    /// The keys the host sets (see `fink_plugin_api::context`); plugins add to them.
    fn context(
        &self,
        registry: &Registry,
        tool: Option<&str>,
        command: &str,
        arguments: Map<String, Value>,
        needs: Needs,
    ) -> Map<String, Value> {
        let plugins: Vec<&str> = registry.plugins.iter().map(|p| p.name.as_str()).collect();
        let mut context = Map::new();
        let mut set = |name: &str, value: Value| {
            context.insert(name.to_string(), value);
        };
        set(key::TOOL, json!(tool));
        set(key::COMMAND, json!(command));
        set(key::ENV, json!(self.env));
        set(key::USER, json!(user()));
        set(key::FINK_VERSION, json!(env!("CARGO_PKG_VERSION")));
        set(key::API_VERSION, json!(fink_plugin_api::API_VERSION));
        set(key::PLUGINS, json!(plugins));
        set(key::ARGUMENTS, Value::Object(arguments));
        set(key::PROJECT_DIR, json!(self.project_dir.display().to_string()));
        set(key::NEEDS_AWS, json!(needs.aws));
        set(key::NEEDS_CONFIG, json!(needs.config));
        set(key::VERBOSITY, json!(self.verbosity));
        set(key::PROJECT_TRUSTED, json!(self.trust.trusted()));
        context
    }
}

/// `-C DIR` made absolute, or the current directory.
pub fn project_dir(dir: Option<PathBuf>) -> Result<PathBuf, Failure> {
    let cwd = std::env::current_dir().map_err(|e| Failure::new(format!("cannot read the current directory: {e}")))?;
    let dir = match dir {
        Some(d) if d.is_absolute() => d,
        Some(d) => cwd.join(d),
        None => return Ok(cwd),
    };
    if !dir.is_dir() {
        return Err(Failure::usage(format!("project directory {} does not exist", dir.display())));
    }
    Ok(dir.canonicalize().unwrap_or(dir))
}

/// The login name, as gcdt reported it.
fn user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_has_every_host_key_of_the_contract() {
        let trust = ProjectTrust { dir: "/p".into(), grant: None };
        let session =
            Session { env: Some("dev".into()), project_dir: "/p".into(), verbosity: 1, search_dirs: vec![], trust };
        let context = session.builtin_context(&Registry::default(), "config");
        for row in key::KEYS.iter().filter(|k| k.set_by == "host" && k.name != key::ERROR) {
            assert!(context.contains_key(row.name), "{} missing", row.name);
        }
        assert_eq!(context[key::TOOL], Value::Null);
        assert_eq!(context[key::PROJECT_TRUSTED], json!(false));
        assert_eq!((context[key::NEEDS_AWS].clone(), context[key::NEEDS_CONFIG].clone()), (json!(false), json!(true)));
    }
}
