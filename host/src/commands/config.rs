//! `fink config`: runs the lifecycle through config validation and prints the config as JSON.

use serde_json::Value;

use crate::commands::ensure_plugins_loaded;
use crate::error::Failure;
use crate::lifecycle::Run;
use crate::logging;
use crate::registry::Registry;
use crate::session::{Needs, Session};

/// Prints the read, resolved and validated config; secret values masked unless `show_secrets`.
pub fn run(registry: &mut Registry, session: &Session, show_secrets: bool) -> Result<(), Failure> {
    ensure_plugins_loaded(registry)?;
    session.require_env()?;
    // Plugins that need AWS for this config (lookups) check access themselves; a config without
    // lookups prints offline.
    let context = session.context(registry, None, "config", Default::default(), Needs { aws: false, config: true });
    let mut run = Run::new(registry, context);
    if let Err(failure) = run.prepare(None) {
        run.fail(&failure);
        return Err(failure);
    }
    let mut config = run.config().clone();
    if !show_secrets {
        let mut secrets = run.secrets();
        // Longer secrets first, so one that contains another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        mask(&mut config, &secrets);
    }
    let text = serde_json::to_string_pretty(&config).map_err(|e| Failure::new(e.to_string()))?;
    super::emit(&format!("{text}\n"));
    run.finish()
}

/// Replaces secret values with `****`, and secrets inside longer strings when they are long
/// enough to be told apart from ordinary text.
fn mask(value: &mut Value, secrets: &[String]) {
    match value {
        Value::String(s) => {
            for secret in secrets.iter().filter(|x| !x.is_empty()) {
                if s == secret {
                    *s = "****".to_string();
                } else if secret.len() >= logging::MIN_EMBEDDED_SECRET && s.contains(secret.as_str()) {
                    *s = s.replace(secret.as_str(), "****");
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask(v, secrets)),
        Value::Object(map) => map.values_mut().for_each(|v| mask(v, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_wherever_they_appear() {
        let mut config = json!({"a": "s3cr3t", "b": ["x", "postgres://u:s3cr3t@h"], "c": {"d": 1}});
        mask(&mut config, &["s3cr3t".to_string()]);
        assert_eq!(config, json!({"a": "****", "b": ["x", "postgres://u:****@h"], "c": {"d": 1}}));
        let mut short = json!(["ab", "cab"]);
        mask(&mut short, &["ab".to_string()]);
        assert_eq!(short, json!(["****", "cab"]));
        let mut nested = json!("ssm-secret");
        mask(&mut nested, &["ssm-secret".to_string(), "sm-secret".to_string()]);
        assert_eq!(nested, json!("****"));
    }
}
