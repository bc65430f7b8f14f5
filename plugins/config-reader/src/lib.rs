//! config-reader: reads `fink_<env>.{json,yaml,yml,toml,conf}` (and gcdt's names) with its `baseconfig` chain and ignore patterns into the config.
//!
//! `files` picks the one env file, `formats` parses it (`yaml` for YAML), `chain` follows `baseconfig`, `merge` merges,
//! `ignore_files` unions the ignore patterns, `legacy` reads gcdt's section names as fink's. This file wires them to the `config_read_init` signal.
// Tests may unwrap; the workspace denies it everywhere else.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod chain;
mod defaults;
mod files;
mod formats;
mod hocon;
mod ignore_files;
mod legacy;
mod merge;
mod yaml;

use std::path::Path;

use fink_plugin_api::{debug, export_plugin, warn, Error, Event, Registration, Result, Signal};
use serde_json::{Map, Value};

export_plugin! {
    name: "config-reader",
    description: "Reads fink_<env>.json/.yaml/.yml/.toml with baseconfig chains and ignore patterns",
    register: register,
}

/// Lists everything this plugin does: one subscription.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.on(Signal::CONFIG_READ_INIT, read_config);
    Ok(())
}

fn read_config(event: &mut Event) -> Result<()> {
    // The host always sets it; a hand-made context without it reads the current directory.
    let dir = event.project_path();
    // Commands declared without config (e.g. `lambda logs <name>`) run without an env or a config
    // file; when there is one, they still get it (e.g. for a region setting).
    if !event.needs_config() {
        let found = event.env().filter(|e| !e.is_empty()).map(|e| files::find_env_file(&dir, e));
        if !matches!(found, Some(Ok(_))) {
            debug!("no config file for this command; it runs without one");
            return Ok(());
        }
    }
    let env = env_of(event)?.to_owned();
    let home = dirs::home_dir();
    // A Python config (`fink_<env>.py`, which the hooks plugin read before us) comes first, as in gcdt.
    if let Some(python) = event.context_str("config_file").filter(|f| f.ends_with(".py")).map(String::from) {
        if let Ok(other) = files::find_env_file(&dir, &env) {
            let other = other.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            warn!("both {python} and {other} exist: using {python}, as gcdt did");
        }
        let names = legacy::upgrade(event.config_mut(), &python)?;
        defaults::apply(event.config_mut(), &python);
        note_gcdt_project(event, &python, &names);
        return set_ignore(event.config_mut(), &dir, home.as_deref());
    }
    // gcdt's tool-specific HOCON file for the stack (glomex-config-reader), beside or instead of
    // the env file.
    let stack = hocon::stack_settings(&dir, &env)?;
    let name = match (files::find_env_file(&dir, &env), stack) {
        (Err(err), None) => return Err(err),
        (Err(_), Some((name, section))) => {
            event.config_mut().insert("cloud".into(), Value::Object(section));
            set_ignore(event.config_mut(), &dir, home.as_deref())?;
            note_gcdt_project(event, &name, &[("cloud", "kumo")]);
            name
        }
        (Ok(file), stack) => {
            let mut names = apply(event.config_mut(), &dir, &env, home.as_deref())?;
            if let Some((stack_file, mut section)) = stack {
                // The env file wins where both set a key, as a nearer file does.
                if let Some(Value::Object(cloud)) = event.config_mut().remove("cloud") {
                    merge::deep_merge(&mut section, cloud);
                }
                debug!("read the stack's settings from {stack_file}");
                event.config_mut().insert("cloud".into(), Value::Object(section));
                names.push(("cloud", "kumo"));
            }
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            note_gcdt_project(event, &name, &names);
            name
        }
    };
    defaults::apply(event.config_mut(), &name);
    // Later messages (e.g. the host's schema validation) name the file the config came from.
    event.set_context("config_file", name);
    Ok(())
}

/// The private context key that marks a gcdt project: one whose env file is `gcdt_<env>.*` or
/// whose config uses gcdt's section names. Its value is `{"file": ..., "sections": {"cloud":
/// "kumo", ...}}` (today's name to the name the project wrote). Plugins give such a project
/// gcdt's defaults and shapes (Python hooks see `config['kumo']`, secrets come from credstash).
pub const GCDT_PROJECT: &str = "_gcdt_project";

fn note_gcdt_project(event: &mut Event, file: &str, names: &[(&str, &str)]) {
    if !file.starts_with("gcdt_") && names.is_empty() {
        return;
    }
    let sections: Map<String, Value> = names.iter().map(|(new, old)| ((*new).to_string(), Value::from(*old))).collect();
    debug!("{file}: a gcdt project (gcdt names: {sections:?})");
    event.set_context(GCDT_PROJECT, serde_json::json!({"file": file, "sections": sections}));
}

/// Merges the env config of `dir` into `config` (file values win) and sets `ignore` to all
/// patterns; returns the gcdt names the files used.
fn apply(
    config: &mut Map<String, Value>,
    dir: &Path,
    env: &str,
    home: Option<&Path>,
) -> Result<Vec<(&'static str, &'static str)>> {
    let mut names = Vec::new();
    merge::deep_merge(config, chain::read_env_config_noting(dir, env, &mut names)?);
    set_ignore(config, dir, home)?;
    Ok(names)
}

/// Sets `ignore` to all patterns (the config's and the ignore files').
fn set_ignore(config: &mut Map<String, Value>, dir: &Path, home: Option<&Path>) -> Result<()> {
    let patterns = ignore_files::collect(config, dir, home)?;
    config.remove(ignore_files::GCDT_KEY);
    config.insert(ignore_files::KEY.to_owned(), Value::from(patterns));
    Ok(())
}

/// The env from the context; it becomes part of a file name, so it may not hold a path.
fn env_of<'a>(event: &'a Event) -> Result<&'a str> {
    let env = event.env().filter(|env| !env.is_empty()).ok_or_else(|| {
        Error::new("no env in the context: cannot pick fink_<env>.json")
            .with_help("set ENV, e.g. `ENV=dev fink cloud list`")
    })?;
    if env.contains(['/', '\\']) || env == "." || env == ".." {
        return Err(Error::new(format!("env '{env}' is not a valid env name: it must not contain a path")));
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::chain::tests::project;

    fn run(context: Value, config: Value) -> Result<Value> {
        let (context, config) = (context.to_string(), config.to_string());
        let mut event = Event::new(Signal::CONFIG_READ_INIT, &context, &config);
        read_config(&mut event)?;
        let changed = event.into_changes().config.into_option().unwrap();
        Ok(serde_json::from_str(changed.as_str()).unwrap())
    }

    #[test]
    fn handler_merges_the_file_over_the_existing_config() {
        let dir = project(&[
            ("fink_dev.json", r#"{"baseconfig": "base", "cloud": {"stack": "dev"}, "ignore": ["*.pyc"]}"#),
            ("base.yaml", "cloud:\n  stack: base\n  region: eu-west-1\n"),
        ]);
        let context = json!({"env": "dev", "project_dir": dir.path(), "tool": "cloud", "command": "deploy"});
        let existing = json!({"cloud": {"stack": "default", "timeout": 30}, "defaults": true});
        let config = run(context, existing).unwrap();
        assert_eq!(config["cloud"], json!({"stack": "dev", "region": "eu-west-1", "timeout": 30}));
        assert_eq!(config["defaults"], json!(true));
        assert_eq!(config["ignore"][0], json!("*.pyc"));
        assert!(config.get("baseconfig").is_none());
    }

    #[test]
    fn apply_always_sets_ignore_and_drops_gcdtignore() {
        let dir = project(&[("gcdt_dev.json", r#"{"gcdtignore": ["trash"]}"#), (".npmignore", "node_modules\n")]);
        let mut config = Map::new();
        apply(&mut config, dir.path(), "dev", None).unwrap();
        assert_eq!(Value::Object(config), json!({"ignore": ["trash", "node_modules"]}));

        let dir = project(&[("fink_dev.toml", "")]);
        let mut config = Map::new();
        apply(&mut config, dir.path(), "dev", None).unwrap();
        assert_eq!(Value::Object(config), json!({"ignore": []}));
    }

    #[test]
    fn apply_reads_the_home_pattern_file() {
        let dir = project(&[("fink_dev.yml", "ignore: [a]\n")]);
        let home = project(&[(".finkignore", "b\n")]);
        let mut config = Map::new();
        apply(&mut config, dir.path(), "dev", Some(home.path())).unwrap();
        assert_eq!(config["ignore"], json!(["a", "b"]));
    }

    #[test]
    fn a_python_config_read_by_the_hooks_plugin_gets_todays_names_too() {
        let dir = project(&[]);
        let context = json!({"env": "dev", "project_dir": dir.path(), "config_file": "gcdt_dev.py"});
        let config = run(context, json!({"kumo": {"cloudformation": {"StackName": "s", "Env": "dev"}}})).unwrap();
        assert_eq!(config["cloud"], json!({"stack": {"StackName": "s"}, "parameters": {"Env": "dev"}}));
        assert!(config.get("kumo").is_none(), "{config}");
    }

    #[test]
    fn missing_env_is_a_clear_error() {
        let err = run(json!({"project_dir": "/nowhere"}), json!({})).unwrap_err();
        assert_eq!(err.message(), "no env in the context: cannot pick fink_<env>.json");
        assert!(err.help().unwrap().contains("ENV=dev"));
    }

    #[test]
    fn env_may_not_be_a_path() {
        let err = run(json!({"env": "../dev", "project_dir": "/nowhere"}), json!({})).unwrap_err();
        assert_eq!(err.message(), "env '../dev' is not a valid env name: it must not contain a path");
    }

    #[test]
    fn file_errors_reach_the_handler() {
        let dir = project(&[("fink_dev.json", "[]")]);
        let err = run(json!({"env": "dev", "project_dir": dir.path()}), json!({})).unwrap_err();
        assert_eq!(err.message(), "fink_dev.json: the top level must be an object of keys and values, found a list");
    }
}
