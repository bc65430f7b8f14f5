//! `fink config`: runs the lifecycle through config validation and prints the config as JSON.

use crate::commands::ensure_plugins_loaded;
use crate::error::Failure;
use crate::lifecycle;
use crate::registry::Registry;
use crate::session::Session;

/// Prints the read, resolved and validated config; secret values masked unless `show_secrets`.
/// With `raw`, the config as read: before lookups, defaults and validation, without AWS.
pub fn run(registry: &mut Registry, session: &Session, show_secrets: bool, raw: bool) -> Result<(), Failure> {
    ensure_plugins_loaded(registry, None)?;
    session.require_env()?;
    // Plugins that need AWS for this config (lookups) check access themselves; a config without
    // lookups prints offline.
    let context = session.builtin_context(registry, "config");
    lifecycle::run(registry, session, context, |run| {
        if raw {
            run.read_only()?;
        } else {
            run.prepare(None)?;
        }
        let mut config = run.config().clone();
        if !show_secrets {
            run.secrets().mask_json(&mut config);
        }
        let text = serde_json::to_string_pretty(&config).map_err(|e| Failure::new(e.to_string()))?;
        super::emit(&format!("{text}\n"));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use fink_plugin_api::Secrets;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let mask =
            |config: &mut serde_json::Value, secrets: &[&str]| Secrets::new(secrets.iter().copied()).mask_json(config);
        let mut config = json!({"a": "s3cr3t", "b": ["x", "postgres://u:s3cr3t@h"], "c": {"d": 1}});
        mask(&mut config, &["s3cr3t"]);
        assert_eq!(config, json!({"a": "****", "b": ["x", "postgres://u:****@h"], "c": {"d": 1}}));
        let mut short = json!(["ab", "cab"]);
        mask(&mut short, &["ab"]);
        assert_eq!(short, json!(["****", "cab"]));
        let mut nested = json!("ssm-secret");
        mask(&mut nested, &["ssm-secret", "sm-secret"]);
        assert_eq!(nested, json!("****"));
    }
}
