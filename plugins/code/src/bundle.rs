//! The code tool's side of bundling: the appspec check, the request to the bundler (a tar.gz,
//! `codedeploy/` at its root unless `bundling.folders` says otherwise, plus `stack_output.yml`)
//! and reading what it built. The bundler's contract is in docs/bundler.md.

use std::path::Path;

use fink_plugin_api::payload::{ArchiveFormat, OverLimit};
use fink_plugin_api::{json, outln, Bundle, BundleRequest, Error, Event, Invocation, Result, Value};

use crate::settings::{Section, DEFAULT_FOLDER};

/// The commands that build a bundle.
fn builds(event: &Event) -> bool {
    event.tool() == Some("code") && matches!(event.command(), Some("bundle" | "deploy"))
}

/// `code.bundling.folders` when the config sets it.
fn configured_folders<'e>(event: &'e Event) -> Option<&'e Value> {
    event.config().pointer("/code/bundling/folders").filter(|f| !f.is_null())
}

/// The configured folders, or the default `./codedeploy` at the root.
fn folders(event: &Event) -> Value {
    configured_folders(event).cloned().unwrap_or_else(|| json!([{"source": DEFAULT_FOLDER, "target": "."}]))
}

/// `config_read_finalized`: CodeDeploy needs `appspec.yml` (or `.yaml`) at the bundle root; say
/// so before anything talks to AWS, naming the folders looked in.
pub fn check_appspec(event: &mut Event) -> Result<()> {
    if !builds(event) || event.config().get("code").is_none() {
        return Ok(());
    }
    let dir = event.project_path();
    let configured = configured_folders(event).is_some();
    let mut looked = Vec::new();
    for (i, folder) in folders(event).as_array().into_iter().flatten().enumerate() {
        let Some(source) = folder.get("source").and_then(Value::as_str) else { continue };
        let target = folder.get("target").and_then(Value::as_str).unwrap_or_else(|| last_segment(source));
        if !is_root(target) {
            continue;
        }
        let key = if configured { format!("code.bundling.folders[{i}].source") } else { "the default folder".into() };
        let path = dir.join(source);
        if !path.is_dir() {
            return Err(Error::new(format!("{source} ({key}) does not exist: it holds the CodeDeploy bundle"))
                .with_help("create it with an appspec.yml, or set code.bundling.folders"));
        }
        if ["appspec.yml", "appspec.yaml"].iter().any(|name| path.join(name).is_file()) {
            return Ok(());
        }
        looked.push(format!("{source} ({key})"));
    }
    let place = if looked.is_empty() {
        "no folder of code.bundling.folders goes to the bundle root".to_string()
    } else {
        format!("looked in {}", looked.join(", "))
    };
    Err(Error::new(format!("no appspec.yml at the root of the CodeDeploy bundle: {place}"))
        .with_help("CodeDeploy reads appspec.yml (or appspec.yaml) at the root of the revision"))
}

fn last_segment(source: &str) -> &str {
    Path::new(source.trim_end_matches('/')).file_name().and_then(|n| n.to_str()).unwrap_or("")
}

fn is_root(target: &str) -> bool {
    target.split('/').all(|part| part.is_empty() || part == ".")
}

/// Where this env's tar.gz goes: `<project>/.fink/bundle/<env>/<file>`, beside the bundler's
/// staging folder and lock for the env, apart from every other env's.
fn output(event: &Event, file: &str) -> std::path::PathBuf {
    event.project_path().join(".fink/bundle").join(event.env().unwrap_or("_")).join(file)
}

/// `bundle_pre` (before the bundler): asks for the tar.gz.
pub fn request(event: &mut Event) -> Result<()> {
    if !builds(event) || event.config().get("code").is_none() {
        return Ok(());
    }
    let section = event.section::<Section>("code")?;
    if configured_folders(event).is_none() {
        // The bundler reads the folders from the config: give it the default.
        let default = folders(event);
        let config = event.config_mut_value();
        if !config["code"]["bundling"].is_object() {
            config["code"]["bundling"] = json!({});
        }
        config["code"]["bundling"]["folders"] = default;
    }
    let mut request = BundleRequest {
        tool: "code".into(),
        section: Some("code".into()),
        output: output(event, section.file()),
        format: ArchiveFormat::Tgz,
        over_limit: OverLimit::Fail,
        ..BundleRequest::default()
    };
    if let Some(yaml) = section.stack_output_yaml()? {
        request.extra_files.insert("stack_output.yml".into(), yaml);
    }
    event.set_payload(&request);
    Ok(())
}

/// The bundle the bundler built for this run.
pub fn built(call: &Invocation) -> Result<Bundle> {
    call.bundle_for("code")
}

/// `code bundle`: the bundler wrote the tar.gz; say what is in it.
pub fn report(call: &Invocation) -> Result<()> {
    let built = built(call)?;
    outln!("{}, sha256 {}", built.summary(), crate::deploy::hex_digest(&built)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::Signal;

    fn check(dir: &Path, code: Value) -> Result<()> {
        let context = json!({"tool": "code", "command": "deploy", "project_dir": dir}).to_string();
        let config = json!({"code": code}).to_string();
        check_appspec(&mut Event::new(Signal::CONFIG_READ_FINALIZED, &context, &config))
    }

    #[test]
    fn the_default_folder_needs_an_appspec() {
        let dir = tempfile::tempdir().unwrap();
        let err = check(dir.path(), json!({})).unwrap_err();
        assert_eq!(err.message(), "./codedeploy (the default folder) does not exist: it holds the CodeDeploy bundle");
        std::fs::create_dir(dir.path().join("codedeploy")).unwrap();
        let err = check(dir.path(), json!({})).unwrap_err();
        assert_eq!(
            err.message(),
            "no appspec.yml at the root of the CodeDeploy bundle: looked in ./codedeploy (the default folder)"
        );
        std::fs::write(dir.path().join("codedeploy/appspec.yaml"), "version: 0.0\n").unwrap();
        check(dir.path(), json!({})).unwrap();
    }

    #[test]
    fn only_folders_at_the_root_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/appspec.yml"), "version: 0.0\n").unwrap();
        let nested = json!({"bundling": {"folders": [{"source": "app", "target": "app"}]}});
        assert!(check(dir.path(), nested).unwrap_err().message().contains("no folder of code.bundling.folders"));
        let root = json!({"bundling": {"folders": [{"source": "app", "target": "."}]}});
        check(dir.path(), root).unwrap();
    }
}
