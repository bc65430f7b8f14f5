//! hocon-reader: reads HOCON configs (`fink_<env>.conf`, `gcdt_<env>.conf`, kumo's `settings_<env>.conf`) as gcdt's glomex-config-reader did, for the config-reader to merge.
//!
//! `files` picks the env file and resolves bases, `parse` turns HOCON into JSON, `chain` follows
//! `baseconfig` through `.conf` files. This file wires them to `config_read_init`, where the
//! files read are handed to the config-reader, which runs next and treats them as it treats its
//! own formats (gcdt's names, the rest of the chain, defaults, ignore patterns, the gcdt mark).
// Tests may unwrap; the workspace denies it everywhere else.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod chain;
mod files;
mod parse;

use fink_plugin_api::context::{CONFIG_FILE, PLUGINS};
use fink_plugin_api::{export_plugin, warn, Error, Event, Registration, Result, Signal};
use serde_json::{json, Value};

export_plugin! {
    name: "hocon-reader",
    description: "Reads HOCON configs (fink_<env>.conf, gcdt_<env>.conf, settings_<env>.conf) for the config-reader",
    register: register,
}

/// After a Python config (the hooks plugin, 500), before the config-reader (1000), which merges
/// what this plugin read.
const ORDER: i32 = 900;

/// The private context key the config-reader takes the HOCON files from: `{"file": <env file or
/// null>, "layers": [{"file": ..., "config": {...}}, ...] (the env file first, then its HOCON
/// bases), "rest": <the first base of another format, a path, or null>, "stack": {"file":
/// "settings_<env>.conf", "section": {...}} or null}`.
const HANDOVER: &str = fink_plugin_api::context::HOCON_CONFIG;

/// Lists everything this plugin does: one subscription.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.on_with_order(Signal::CONFIG_READ_INIT, ORDER, read_config);
    Ok(())
}

fn read_config(event: &mut Event) -> Result<()> {
    // The config-reader names a missing or invalid env; without one there is nothing to look for.
    let Some(env) = event.env().filter(|e| !e.is_empty() && !e.contains(['/', '\\']) && *e != "." && *e != "..") else {
        return Ok(());
    };
    let env = env.to_owned();
    let dir = event.project_path();
    let env_file = files::find_env_file(&dir, &env)?;
    // Commands declared without config run without one, but get the env's file when there is one.
    if !event.needs_config() && env_file.is_none() {
        return Ok(());
    }
    match (event.context_str(CONFIG_FILE), &env_file) {
        // A Python config comes first, as in gcdt.
        (Some(python), ours) if python.ends_with(".py") => {
            if let Some(ours) = ours {
                warn!("both {python} and {ours} exist: using {python}, as gcdt did");
            }
            return Ok(());
        }
        (Some(theirs), Some(ours)) => return Err(files::two_readers(&env, ours, theirs)),
        _ => {}
    }
    let stack = parse::stack_settings(&dir, &env)?;
    let Some(first) = env_file.as_ref().or(stack.as_ref().map(|(name, _)| name)) else {
        return Ok(());
    };
    let readers = event.context().get(PLUGINS).and_then(Value::as_array);
    if !readers.is_some_and(|names| names.iter().any(|n| n == "config-reader")) {
        return Err(Error::new(format!(
            "{first}: the hocon-reader hands HOCON configs to the config-reader plugin, which is not loaded"
        ))
        .with_help("install the config-reader plugin (scripts/install.sh installs both), or enable it"));
    }
    let chain = match &env_file {
        Some(name) => chain::read(&dir, dir.join(name))?,
        None => chain::Chain::default(),
    };
    let layers: Vec<Value> =
        chain.layers.into_iter().map(|(file, config)| json!({"file": file, "config": config})).collect();
    let rest = chain.rest.map(|path| path.display().to_string());
    let stack = stack.map(|(file, section)| json!({"file": file, "section": section}));
    event.set_context(HANDOVER, json!({"file": env_file, "layers": layers, "rest": rest, "stack": stack}));
    if let Some(name) = env_file {
        // Later readers and messages (the host's schema validation) name the file.
        event.set_context(CONFIG_FILE, name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    /// The handler's result: the context it leaves.
    fn run(dir: &tempfile::TempDir, extra: Value) -> Result<Value> {
        let mut context =
            json!({"env": "dev", "project_dir": dir.path(), "plugins": ["config-reader", "hocon-reader"]});
        for (key, value) in extra.as_object().unwrap() {
            context[key] = value.clone();
        }
        let context = context.to_string();
        let mut event = Event::new(Signal::CONFIG_READ_INIT, &context, "{}");
        read_config(&mut event)?;
        Ok(event.context().clone())
    }

    #[test]
    fn hands_the_env_file_its_bases_and_the_stack_settings_over() {
        let dir = project(&[
            ("gcdt_dev.conf", "baseconfig = base\nkumo { stack { StackName = dev } }\n"),
            ("base.json", "{}"),
            ("settings_dev.conf", "parameters { Size = 3 }\n"),
        ]);
        let context = run(&dir, json!({})).unwrap();
        assert_eq!(context[CONFIG_FILE], "gcdt_dev.conf");
        let handed = &context[HANDOVER];
        assert_eq!(handed["file"], "gcdt_dev.conf");
        assert_eq!(
            handed["layers"],
            json!([{"file": "gcdt_dev.conf", "config": {"kumo": {"stack": {"StackName": "dev"}}}}])
        );
        assert_eq!(handed["rest"], json!(dir.path().join("base.json").display().to_string()));
        assert_eq!(handed["stack"], json!({"file": "settings_dev.conf", "section": {"parameters": {"Size": 3}}}));
    }

    #[test]
    fn stack_settings_alone_name_no_env_file() {
        let dir = project(&[("settings_dev.conf", "stack { StackName = s }\n")]);
        let context = run(&dir, json!({})).unwrap();
        assert_eq!(context[HANDOVER]["file"], Value::Null);
        assert!(context.get(CONFIG_FILE).is_none());
    }

    #[test]
    fn nothing_to_read_changes_nothing() {
        let dir = project(&[("fink_dev.json", "{}"), ("settings_dev.conf", "greeting = moin\n")]);
        let context = run(&dir, json!({})).unwrap();
        assert!(context.get(HANDOVER).is_none() && context.get(CONFIG_FILE).is_none(), "{context}");
    }

    #[test]
    fn another_readers_file_for_the_env_is_an_error_naming_both() {
        let dir = project(&[("gcdt_dev.conf", "a = 1\n")]);
        let err = run(&dir, json!({"config_file": "fink_dev.json"})).unwrap_err();
        assert_eq!(err.message(), "two config files for env 'dev': fink_dev.json and gcdt_dev.conf; keep one");
    }

    #[test]
    fn a_python_config_wins_as_in_gcdt() {
        let dir = project(&[("gcdt_dev.conf", "a = 1\n")]);
        let context = run(&dir, json!({"config_file": "gcdt_dev.py"})).unwrap();
        assert_eq!(context[CONFIG_FILE], "gcdt_dev.py");
        assert!(context.get(HANDOVER).is_none());
    }

    #[test]
    fn without_the_config_reader_it_says_so() {
        let dir = project(&[("gcdt_dev.conf", "a = 1\n")]);
        let err = run(&dir, json!({"plugins": ["hocon-reader"]})).unwrap_err();
        assert_eq!(
            err.message(),
            "gcdt_dev.conf: the hocon-reader hands HOCON configs to the config-reader plugin, which is not loaded"
        );
    }

    #[test]
    fn hocon_errors_name_file_and_line() {
        let dir = project(&[("gcdt_dev.conf", "a = 1\nb = ${missing}\n")]);
        assert!(run(&dir, json!({})).unwrap_err().message().starts_with("gcdt_dev.conf:2:"));
    }
}
