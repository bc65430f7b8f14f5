//! The resolved session: env, project directory and verbosity, and the context every lifecycle
//! run starts with.

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use crate::error::Failure;
use crate::registry::Registry;

/// What a command needs, as its plugin declared it.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// It talks to AWS (credential checks run).
    pub aws: bool,
    /// It needs its tool's config section (an env and its config file are required).
    pub config: bool,
}

/// Everything resolved from the command line and the environment.
pub struct Session {
    pub env: Option<String>,
    pub project_dir: PathBuf,
    pub verbosity: i8,
}

impl Session {
    /// The env, or a usage error saying how to give one.
    pub fn require_env(&self) -> Result<&str, Failure> {
        self.env.as_deref().ok_or_else(|| {
            Failure::usage("no environment given: pass --env <ENV> (e.g. -e dev) or set the ENV variable")
        })
    }

    /// The context a run starts with; plugins add to it.
    pub fn context(
        &self,
        registry: &Registry,
        tool: Option<&str>,
        command: &str,
        arguments: Map<String, Value>,
        needs: Needs,
    ) -> Map<String, Value> {
        let plugins: Vec<&str> = registry.plugins.iter().map(|p| p.name.as_str()).collect();
        let context = json!({
            "tool": tool,
            "command": command,
            "env": self.env,
            "user": user(),
            "fink_version": env!("CARGO_PKG_VERSION"),
            "api_version": fink_plugin_api::API_VERSION,
            "plugins": plugins,
            "arguments": arguments,
            "project_dir": self.project_dir.display().to_string(),
            "needs_aws": needs.aws,
            "needs_config": needs.config,
            "verbosity": self.verbosity,
        });
        match context {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

/// The login name, as gcdt reported it.
fn user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}
