//! The lambda tool's side of bundling: it asks the bundler plugin for a bundle (the context key
//! `bundle_request`, set at `bundle_pre` before the bundler runs) and reads the result (`bundle`).
//! The contract is documented in docs/bundler.md.

use std::path::{Path, PathBuf};

use fink_plugin_api::payload::OverLimit;
use fink_plugin_api::{info, outln, Bundle, BundleRequest, Error, Event, Invocation, Result, Value};

use crate::settings::{Section, Settings};

/// Lambda's limit for a zip uploaded directly with the API call (larger ones go through S3).
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;

/// Where the bundler keeps each env's staging folder, lock and bundle, relative to the project
/// directory.
pub const STAGING: &str = ".fink/bundle";

/// Where this env's bundle goes: `<project>/.fink/bundle/<env>/<zip>`, apart from every other
/// env's, so two envs deployed at once never ship each other's `settings.json`.
pub fn output(dir: &Path, env: Option<&str>, zip: &str) -> PathBuf {
    dir.join(STAGING).join(env.unwrap_or("_")).join(zip)
}

/// What `bundle` and `deploy` need built: the config's folders, the handler file and settings.
pub fn request(event: &mut Event) -> Result<()> {
    if event.tool() != Some("lambda") || !matches!(event.command(), Some("bundle" | "deploy")) {
        return Ok(());
    }
    if event.config().get("lambda").is_none() {
        return Ok(());
    }
    let settings = event.section::<Section>("lambda")?.settings()?;
    let dir = event.project_path();
    let keep = event.context().pointer("/arguments/keep").and_then(Value::as_bool).unwrap_or(false);
    let request = BundleRequest {
        tool: "lambda".into(),
        section: Some("lambda".into()),
        output: output(&dir, event.env(), &settings.zip),
        handler_file: settings.function.handler_file.clone(),
        runtime: settings.runtime().to_string(),
        keep,
        direct_upload_limit: Some(DIRECT_UPLOAD_LIMIT),
        bucket_key: "lambda.deployment.artifactBucket".into(),
        bucket_set: settings.deployment.artifact_bucket.is_some(),
        // The limit is the deploy's: `lambda bundle` only builds the zip, so it only warns.
        over_limit: if event.command() == Some("deploy") { OverLimit::Fail } else { OverLimit::Warn },
        ..BundleRequest::default()
    };
    event.set_payload(&request);
    Ok(())
}

/// Reads the bundle the bundler built for this run from the context (`sha256` is base64, Lambda's
/// CodeSha256 format).
pub fn built(call: &Invocation) -> Result<Bundle> {
    call.bundle_for("lambda")
}

/// `lambda bundle`: the bundler wrote the zip; say what is in it.
pub fn report(call: &Invocation) -> Result<()> {
    let built = built(call)?;
    outln!("{}, sha256 {}", built.summary(), built.sha256);
    Ok(())
}

/// `lambda clean`: removes every env's bundle and staging folder (`.fink/bundle`) and a zip an
/// older fink left in the project directory; says what it removed.
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
