//! bundler: builds the deployment zip a tool asks for (context key `bundle_request`) and reports it
//! (context key `bundle`). Runs `bundling.preBundle` at `bundle_pre`, builds at `bundle_init`.
//!
//! `request` reads the request and the config, `lock` keeps a second run for the same env out,
//! `prebundle` runs the scripts, `deps` installs pip/npm dependencies into the env's staging
//! folder, `collect` walks folders with the ignore rules, `archive` writes the deterministic zip in
//! parallel, `bundle` puts them together. The contract is in docs/bundler.md.

pub use fink_archive as archive;
pub mod bundle;
pub mod collect;
pub mod deps;
pub mod lock;
pub mod prebundle;
mod process;
pub mod request;

use std::path::PathBuf;

use fink_plugin_api::{export_plugin, Error, Event, Registration, Result, Signal, DEFAULT_ORDER};

use crate::request::{Bundling, Request};

export_plugin! {
    name: "bundler",
    description: "Builds deterministic deployment zips for the tools that ask for one",
    register: register,
}

fn register(plugin: &mut Registration) -> Result<()> {
    // The default order (1000): after the tools (order 100) have set `bundle_request`.
    // Only tools ask for bundles: `fink config` does not even load the bundler.
    plugin.on_for_tool_commands(Signal::BUNDLE_PRE, DEFAULT_ORDER, pre_bundle);
    plugin.on_for_tool_commands(Signal::BUNDLE_INIT, DEFAULT_ORDER, build);
    Ok(())
}

/// `bundle_pre`: runs `<section>.bundling.preBundle`.
fn pre_bundle(event: &mut Event) -> Result<()> {
    let Some(request) = Request::from_context(event.context())? else { return Ok(()) };
    let bundling = Bundling::from_config(event.config(), &request.section)?;
    let key = format!("{}.bundling.preBundle", request.section);
    if !bundling.pre_bundle.is_empty() && !event.project_trusted() {
        return Err(event.untrusted_error(&format!("{key} (the pre-bundle scripts)")));
    }
    let dir = project_dir(event)?;
    hold_env(event, &request, &dir)?;
    prebundle::run_all(&bundling.pre_bundle, &dir, &key)
}

/// `bundle_init`: builds the zip and sets the context key `bundle`.
fn build(event: &mut Event) -> Result<()> {
    let Some(request) = Request::from_context(event.context())? else { return Ok(()) };
    let bundling = Bundling::from_config(event.config(), &request.section)?;
    let dir = project_dir(event)?;
    if let Some(manifest) = deps::manifest(&request, &dir).filter(|_| !event.project_trusted()) {
        // Installing the project's dependencies runs code the project names (setup.py, npm scripts).
        return Err(event.untrusted_error(&format!("installing its {manifest}")));
    }
    hold_env(event, &request, &dir)?;
    let built = bundle::build(&request, &bundling, &dir)?;
    event.set_payload(&built);
    bundle::check_size(&request, &built)
}

/// Takes this env's lock (see [`lock`]) for the rest of the run.
fn hold_env(event: &Event, request: &Request, dir: &std::path::Path) -> Result<()> {
    let mut command = format!("fink {} {}", event.tool().unwrap_or(&request.tool), event.command().unwrap_or("?"));
    if let Some(env) = &request.env {
        command.push_str(&format!(" -e {env}"));
    }
    let env = request.env.as_deref().unwrap_or("(none)");
    lock::hold(&dir.join(request.env_folder()), env, &lock::Holder::me(&command))
}

/// The project directory from the context, resolved.
fn project_dir(event: &Event) -> Result<PathBuf> {
    let dir = event.project_path();
    std::fs::canonicalize(&dir)
        .map_err(|e| Error::new(format!("cannot read the project directory {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::{json, Value};

    #[test]
    fn without_a_request_nothing_happens() {
        let mut event = Event::new(Signal::BUNDLE_INIT, r#"{"tool":"cloud"}"#, "{}");
        build(&mut event).unwrap();
        pre_bundle(&mut event).unwrap();
        assert!(event.into_changes().context.is_none());
    }

    #[test]
    fn a_request_gets_a_bundle_in_the_context() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("handler.py"), "x = 1\n").unwrap();
        let output = dir.path().join("bundle.zip");
        let context = json!({"project_dir": dir.path(), "bundle_request": {
            "tool": "lambda", "section": "lambda", "output": output, "handler_file": "handler.py",
            "runtime": "python3.12", "keep": false, "direct_upload_limit": 52428800,
            "bucket_key": "lambda.deployment.artifactBucket", "bucket_set": false}})
        .to_string();
        let config = json!({"lambda": {"settings": {"a": 1}}}).to_string();
        let mut event = Event::new(Signal::BUNDLE_INIT, &context, &config);
        build(&mut event).unwrap();
        let changes = event.into_changes();
        let context: Value = serde_json::from_str(changes.context.unwrap().as_str()).unwrap();
        assert_eq!(context["bundle"]["tool"], "lambda");
        assert_eq!(context["bundle"]["files"], 2);
        assert!(output.is_file());
    }
}
