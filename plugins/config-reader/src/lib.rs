//! config-reader: reads `fink_<env>.{json,yaml,yml,toml}` (and gcdt's names, and the HOCON files the hocon-reader read) with its `baseconfig` chain and ignore patterns into the config.
//!
//! `files` picks the one env file, `formats` parses it (`yaml` for YAML), `chain` follows `baseconfig`, `merge` merges,
//! `ignore_files` unions the ignore patterns, `legacy` reads gcdt's section names as fink's, `handover` takes what the
//! hocon-reader read. This file wires them to the `config_read_init` signal.
// Tests may unwrap; the workspace denies it everywhere else.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod chain;
mod defaults;
mod files;
mod formats;
mod handover;
mod ignore_files;
mod legacy;
mod merge;
mod yaml;

use std::path::{Path, PathBuf};

use fink_plugin_api::context::GCDT_PROJECT;
use fink_plugin_api::{debug, export_plugin, warn, Error, Event, Registration, Result, Signal};
use serde_json::{Map, Value};

export_plugin! {
    name: "config-reader",
    description: "Reads fink_<env>.json/.yaml/.yml/.toml (and the hocon-reader's .conf) with baseconfig chains and ignore patterns",
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
    let hocon = handover::take(event)?;
    let hocon_env = hocon.as_ref().and_then(|h| h.file.clone());
    // Commands declared without config (e.g. `lambda logs <name>`) run without an env or a config
    // file; when there is one, they still get it (e.g. for a region setting).
    if !event.needs_config() && hocon_env.is_none() {
        let found = event.env().filter(|e| !e.is_empty()).map(|e| files::own_env_file(&dir, e));
        if !matches!(found, Some(Ok(Some(_)))) {
            debug!("no config file for this command; it runs without one");
            return Ok(());
        }
    }
    let env = env_of(event)?.to_owned();
    let home = dirs::home_dir();
    // A Python config (`fink_<env>.py`, which the hooks plugin read before us) comes first, as in gcdt.
    if let Some(python) = event.context_str("config_file").filter(|f| f.ends_with(".py")).map(String::from) {
        if let Ok(Some(other)) = files::own_env_file(&dir, &env) {
            let other = other.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            warn!("both {python} and {other} exist: using {python}, as gcdt did");
        }
        let names = legacy::upgrade(event.config_mut(), &python)?;
        defaults::apply(event.config_mut(), &python);
        note_gcdt_project(event, &python, &names);
        return set_ignore(event.config_mut(), &dir, home.as_deref());
    }
    let own = files::own_env_file(&dir, &env)?;
    // Another reader's env file: the hocon-reader's, or one a reader before it set.
    let theirs = hocon_env.clone().or_else(|| event.context_str("config_file").map(String::from));
    if let (Some(own), Some(theirs)) = (&own, &theirs) {
        let own = own.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return Err(files::two_readers(&env, &own, theirs));
    }
    let (layers, rest, stack) = match hocon {
        Some(h) => (h.layers, h.rest, h.stack),
        None => (Vec::new(), None, None),
    };
    // gcdt's tool-specific HOCON file for the stack (glomex-config-reader), beside or instead of
    // the env file, as the hocon-reader read it.
    let stack = match stack {
        Some((file, mut section)) => {
            legacy::upgrade_stack_section(&mut section, &file)?;
            Some((file, section))
        }
        None => None,
    };
    let source = match (own, hocon_env) {
        (Some(file), _) => Source::Own(file),
        (None, Some(name)) => Source::Hocon { name, layers, rest },
        (None, None) => match stack {
            None => return Err(files::missing(&dir, &env)),
            Some((name, section)) => {
                event.config_mut().insert("cloud".into(), Value::Object(section));
                set_ignore(event.config_mut(), &dir, home.as_deref())?;
                note_gcdt_project(event, &name, &[("cloud", "kumo")]);
                defaults::apply(event.config_mut(), &name);
                event.set_context("config_file", name);
                return Ok(());
            }
        },
    };
    let name = source.name();
    let mut names = apply(event.config_mut(), &dir, source, home.as_deref())?;
    if let Some((stack_file, mut section)) = stack {
        // The env file wins where both set a key, as a nearer file does.
        if let Some(Value::Object(cloud)) = event.config_mut().remove("cloud") {
            merge::deep_merge(&mut section, cloud);
        }
        debug!("read the stack's settings from {stack_file}");
        event.config_mut().insert("cloud".into(), Value::Object(section));
        if !names.contains(&("cloud", "kumo")) {
            names.push(("cloud", "kumo"));
        }
    }
    note_gcdt_project(event, &name, &names);
    defaults::apply(event.config_mut(), &name);
    // Later messages (e.g. the host's schema validation) name the file the config came from.
    event.set_context("config_file", name);
    Ok(())
}

/// Where the env's config comes from.
enum Source {
    /// This plugin's env file (JSON, YAML, TOML).
    Own(PathBuf),
    /// The hocon-reader's env file `name`: its HOCON files by name and the first base of another format.
    Hocon { name: String, layers: Vec<(String, Map<String, Value>)>, rest: Option<PathBuf> },
}

impl Source {
    /// The env file's name.
    fn name(&self) -> String {
        match self {
            Source::Own(file) => file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            Source::Hocon { name, .. } => name.clone(),
        }
    }
}

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
    source: Source,
    home: Option<&Path>,
) -> Result<Vec<(&'static str, &'static str)>> {
    let mut names = Vec::new();
    let read = match source {
        Source::Own(file) => chain::read_from(dir, file, &mut names)?,
        Source::Hocon { layers, rest, .. } => chain::read_handed_over(dir, layers, rest, &mut names)?,
    };
    merge::deep_merge(config, read);
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

    fn own(dir: &tempfile::TempDir) -> Source {
        Source::Own(files::find_env_file(dir.path(), "dev").unwrap())
    }

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
        apply(&mut config, dir.path(), own(&dir), None).unwrap();
        assert_eq!(Value::Object(config), json!({"ignore": ["trash", "node_modules"]}));

        let dir = project(&[("fink_dev.toml", "")]);
        let mut config = Map::new();
        apply(&mut config, dir.path(), own(&dir), None).unwrap();
        assert_eq!(Value::Object(config), json!({"ignore": []}));
    }

    #[test]
    fn apply_reads_the_home_pattern_file() {
        let dir = project(&[("fink_dev.yml", "ignore: [a]\n")]);
        let home = project(&[(".finkignore", "b\n")]);
        let mut config = Map::new();
        apply(&mut config, dir.path(), own(&dir), Some(home.path())).unwrap();
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
    fn the_hocon_readers_files_are_merged_and_marked() {
        let dir = project(&[("base.json", r#"{"region": "eu-west-1", "ignore": ["*.pyc"]}"#)]);
        let handed = json!({"file": "gcdt_dev.conf", "rest": dir.path().join("base.json"),
            "layers": [{"file": "gcdt_dev.conf", "config": {"kumo": {"stack": {"StackName": "s"}}}}],
            "stack": {"file": "settings_dev.conf", "section": {"cloudformation": {"StackName": "t", "Size": 3}}}});
        let context =
            json!({"env": "dev", "project_dir": dir.path(), "config_file": "gcdt_dev.conf", "_hocon_config": handed});
        let (text, config) = (context.to_string(), "{}");
        let mut event = Event::new(Signal::CONFIG_READ_INIT, &text, config);
        read_config(&mut event).unwrap();
        let context = event.context().clone();
        assert_eq!(context["config_file"], "gcdt_dev.conf");
        assert_eq!(context[GCDT_PROJECT], json!({"file": "gcdt_dev.conf", "sections": {"cloud": "kumo"}}));
        assert!(context.get("_hocon_config").is_none(), "taken: {context}");
        let changed = event.into_changes().config.into_option().unwrap();
        let config: Value = serde_json::from_str(changed.as_str()).unwrap();
        assert_eq!(config["cloud"], json!({"stack": {"StackName": "s"}, "parameters": {"Size": 3}}), "{config}");
        assert_eq!((&config["region"], &config["ignore"]), (&json!("eu-west-1"), &json!(["*.pyc"])));
    }

    #[test]
    fn an_env_file_beside_the_hocon_readers_is_an_error_naming_both() {
        let dir = project(&[("fink_dev.yaml", "a: 1\n")]);
        let handed = json!({"file": "gcdt_dev.conf", "layers": [], "rest": null, "stack": null});
        let context =
            json!({"env": "dev", "project_dir": dir.path(), "config_file": "gcdt_dev.conf", "_hocon_config": handed});
        let err = run(context, json!({})).unwrap_err();
        assert_eq!(err.message(), "two config files for env 'dev': fink_dev.yaml and gcdt_dev.conf; keep one");
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
