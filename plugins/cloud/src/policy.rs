//! Stack policies: gcdt's defaults (updates may modify but not replace or delete resources;
//! `--override-stack-policy` allows every update during one deploy) unless policy files in the
//! config say otherwise.

use std::path::Path;

use fink_plugin_api::{Error, Result};

use crate::settings::Settings;
use crate::template::Template;

/// Allow Update:Modify, deny Update:Replace and Update:Delete.
pub const DEFAULT: &str = r#"{"Statement":[{"Effect":"Allow","Action":"Update:Modify","Principal":"*","Resource":"*"},{"Effect":"Deny","Action":["Update:Replace","Update:Delete"],"Principal":"*","Resource":"*"}]}"#;

/// Allow Update:* for the duration of one update.
pub const OVERRIDE: &str = r#"{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}"#;

/// The stack policy: the configured file, else the template code's (`get_stack_policy()`), else
/// the default.
pub fn stack_policy(dir: &Path, settings: &Settings, template: &Template) -> Result<String> {
    match (&settings.policy_file, &template.stack_policy) {
        (Some(file), _) => read(dir, file, "cloud.stackPolicy.file"),
        (None, Some(policy)) => checked(policy, &template.source, "get_stack_policy()"),
        (None, None) => Ok(DEFAULT.to_string()),
    }
}

/// The policy during this update: the override, the configured file, the template code's
/// (`get_stack_policy_during_update()`), or none.
pub fn during_update(
    dir: &Path,
    settings: &Settings,
    template: &Template,
    override_policy: bool,
) -> Result<Option<String>> {
    if override_policy {
        return Ok(Some(OVERRIDE.to_string()));
    }
    if let Some(file) = &settings.policy_during_update_file {
        return read(dir, file, "cloud.stackPolicy.duringUpdate").map(Some);
    }
    template
        .stack_policy_during_update
        .as_ref()
        .map(|policy| checked(policy, &template.source, "get_stack_policy_during_update()"))
        .transpose()
}

/// A policy from template code must be JSON.
fn checked(policy: &str, source: &str, function: &str) -> Result<String> {
    serde_json::from_str::<serde_json::Value>(policy)
        .map_err(|e| Error::new(format!("{source}: {function} returned a policy that is not JSON: {e}")))?;
    Ok(policy.to_string())
}

fn read(dir: &Path, file: &str, key: &str) -> Result<String> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("{key}: cannot read {}: {e}", path.display())))?;
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| Error::new(format!("{file}:{}:{}: {e}", e.line(), e.column())))?;
    Ok(text)
}
