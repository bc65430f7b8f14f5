//! The lambda tool's side of bundling: it asks the bundler plugin for a bundle (the context key
//! `bundle_request`, set at `bundle_pre` before the bundler runs) and reads the result (`bundle`).
//! The contract is documented in docs/bundler.md.

use std::path::Path;

use fink_plugin_api::{info, json, outln, Error, Event, Invocation, Result, Value};

use crate::settings::Settings;

/// Lambda's limit for a zip uploaded directly with the API call (larger ones go through S3).
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;

/// Where the bundler stages installed dependencies, relative to the project directory.
pub const STAGING: &str = ".fink/bundle";

/// What `bundle` and `deploy` need built: the config's folders, the handler file and settings.
pub fn request(event: &mut Event) -> Result<()> {
    if event.tool() != Some("lambda") || !matches!(event.command(), Some("bundle" | "deploy")) {
        return Ok(());
    }
    let Some(section) = event.config().get("lambda").cloned() else {
        return Ok(());
    };
    let settings = Settings::from_section(&section)?;
    let dir = Path::new(event.project_dir().unwrap_or("."));
    let keep = event.context().pointer("/arguments/keep").and_then(Value::as_bool).unwrap_or(false);
    let request = json!({
        "tool": "lambda",
        "section": "lambda",
        "output": dir.join(&settings.zip).to_string_lossy(),
        "handler_file": settings.function.handler_file,
        "runtime": settings.runtime(),
        "keep": keep,
        "direct_upload_limit": DIRECT_UPLOAD_LIMIT,
        "bucket_key": "lambda.deployment.artifactBucket",
        "bucket_set": settings.deployment.artifact_bucket.is_some(),
    });
    event.set_context("bundle_request", request);
    Ok(())
}

/// The bundle the bundler built for this run.
#[derive(Debug, Clone)]
pub struct Built {
    pub path: std::path::PathBuf,
    pub size: u64,
    /// Base64 of the zip's sha256: Lambda's CodeSha256 format.
    pub sha256: String,
    pub files: u64,
}

/// Reads the bundler's result from the context.
pub fn built(call: &Invocation) -> Result<Built> {
    let bundle = call.context().get("bundle").filter(|b| b.get("tool").and_then(Value::as_str) == Some("lambda"));
    let Some(bundle) = bundle else {
        return Err(Error::new("no bundle was built for the lambda tool")
            .with_help("the bundler plugin builds it: check that `fink plugins` lists bundler as enabled"));
    };
    let text = |key: &str| bundle.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    let number = |key: &str| bundle.get(key).and_then(Value::as_u64).unwrap_or(0);
    Ok(Built { path: text("path").into(), size: number("size"), sha256: text("sha256"), files: number("files") })
}

/// `lambda bundle`: the bundler wrote the zip; say what is in it.
pub fn report(call: &Invocation) -> Result<()> {
    let built = built(call)?;
    outln!(
        "wrote {}: {} files, {}, sha256 {}",
        built.path.display(),
        built.files,
        human_size(built.size),
        built.sha256
    );
    Ok(())
}

/// `lambda clean`: removes the zip and the staging folder; says what it removed.
pub fn clean(dir: &Path, settings: &Settings) -> Result<()> {
    let mut removed = Vec::new();
    let zip = dir.join(&settings.zip);
    if zip.is_file() {
        std::fs::remove_file(&zip).map_err(|e| Error::new(format!("cannot remove {}: {e}", zip.display())))?;
        removed.push(settings.zip.clone());
    }
    let staging = dir.join(STAGING);
    if staging.is_dir() {
        std::fs::remove_dir_all(&staging)
            .map_err(|e| Error::new(format!("cannot remove {}: {e}", staging.display())))?;
        removed.push(format!("{STAGING}/"));
    }
    if removed.is_empty() {
        info!("nothing to clean");
    } else {
        info!("removed {}", removed.join(", "));
    }
    Ok(())
}

pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
