//! lookups: at `lookup_init`, replaces every `lookup:...` string in the config (anywhere in the
//! tree) with the value it names: stack outputs, SSM parameters, Secrets Manager (or credstash)
//! secrets, ACM certificate ARNs, in the default or a given region.
//!
//! `grammar` parses, `collect` finds, `fetch` batches the AWS calls (`credstash` reads that
//! store), `resolve` picks values.

mod collect;
mod credstash;
mod fetch;
mod grammar;
mod resolve;

use std::collections::BTreeSet;

use fink_plugin_api::{debug, export_plugin, json, warn, Error, Event, Registration, Result, Signal, Value};

use crate::collect::Found;
use crate::fetch::{Plan, SecretStore};
use crate::grammar::{Kind, Lookup, TYPES};
use crate::resolve::Resolved;

export_plugin! {
    name: "lookups",
    description: "Resolves lookup:stack/parameter/secret/acm/region values in the config",
    register: register,
}

/// One subscription, and the schema of `plugins.lookups`.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.on(Signal::LOOKUP_INIT, resolve_lookups);
    plugin.config_schema(
        "plugins.lookups",
        json!({"type": "object", "properties": {
            "lookups": {"type": "array", "items": {"enum": TYPES}, "default": TYPES},
            "secretStore": {"enum": SECRET_STORES, "description": "where lookup:secret reads: secretsmanager (default) or credstash"},
            "credstashTable": {"type": "string", "minLength": 1, "description": "credstash's DynamoDB table (default credential-store)"}
        }}),
    );
    Ok(())
}

/// The values of `plugins.lookups.secretStore`.
const SECRET_STORES: &[&str] = &["secretsmanager", "credstash"];

fn resolve_lookups(event: &mut Event) -> Result<()> {
    // A command that needs neither the config nor AWS (`cloud graph`, `cloud deploy --all`, which
    // runs a fink per project) has no use for looked-up values, and may run before their stacks exist.
    if !event.needs_config() && !event.needs_aws() {
        debug!("this command needs neither the config nor AWS: lookups are left as they are");
        return Ok(());
    }
    let enabled = enabled_types(event.config());
    let secret_store = secret_store(event.config(), event.context().get(GCDT_PROJECT).is_some())?;
    let mut errors = Vec::new();
    let mut active: Vec<(Found, Lookup)> = Vec::new();
    for found in collect::collect(event.config()) {
        match found.parsed.clone() {
            Err(problem) => errors.push(format!("{}: {}: {problem}", found.path, found.raw)),
            Ok(lookup) if !enabled.contains(lookup.kind.type_name()) => {
                debug!(
                    "{}: {} left as is: lookup type '{}' is not enabled",
                    found.path,
                    found.raw,
                    lookup.kind.type_name()
                );
            }
            Ok(lookup) => active.push((found, lookup)),
        }
    }
    // Malformed lookups fail before any AWS call.
    if !errors.is_empty() {
        return Err(report(errors));
    }
    if active.is_empty() {
        return Ok(());
    }

    let tool = event.tool().map(String::from);
    let runtime = fink_aws::runtime()?;
    // The SDK's own trace logs could show fetched values before they are marked secret: keep it
    // silent while fetching, at every verbosity.
    let silent = || tracing::subscriber::NoSubscriber::default();
    // A bad FINK_AWS_TIMEOUT is the error, before any lookup.
    let base = tracing::subscriber::with_default(silent(), || runtime.block_on(fink_aws::load(None)))?;
    let (regions, fetched, plan) = tracing::subscriber::with_default(silent(), || {
        runtime.block_on(async {
            let default_region = fink_aws::region(&base).ok();
            let mut plan = Plan { secret_store, ..Plan::default() };
            let mut regions = Vec::new();
            for (found, lookup) in &active {
                let region = resolve::region_of(lookup, tool.as_deref(), default_region.as_deref());
                match &region {
                    Some(region) => resolve::plan(&mut plan, lookup, region),
                    // Optional lookups carry on without a region (an empty value, warned below).
                    None if lookup.optional => {}
                    None => errors.push(format!(
                        "{}: {}: no AWS region configured (set AWS_REGION or use lookup:region:<region>:...)",
                        found.path, found.raw
                    )),
                }
                regions.push(region);
            }
            let fetched = if errors.is_empty() { fetch::fetch(&base, &plan).await } else { Default::default() };
            (regions, fetched, plan)
        })
    });
    debug!(
        "resolved {} lookups with {} stacks, {} parameters, {} secrets, {} ACM regions",
        active.len(),
        plan.stacks.len(),
        plan.parameters.values().map(BTreeSet::len).sum::<usize>(),
        plan.secrets.len(),
        plan.acm_regions.len()
    );
    if !errors.is_empty() {
        return Err(report(errors));
    }

    let mut help = None;
    for ((found, lookup), region) in active.iter().zip(regions) {
        let Some(region) = region else {
            warn!("{}: {}: no AWS region configured; using an empty value", found.path, found.raw);
            set(event, &found.pointer, empty_value(lookup));
            continue;
        };
        let value = match resolve::resolve(lookup, &region, &fetched) {
            Resolved::Value { value, secret } => {
                if secret {
                    if let Some(text) = value.as_str() {
                        event.mark_secret(text);
                    }
                }
                value
            }
            Resolved::Missing(why) if lookup.optional => {
                warn!("{}: {}: {why}; using an empty value", found.path, found.raw);
                empty_value(lookup)
            }
            // CONTINUE_IF_NOT_FOUND also carries on when AWS can't be asked at all.
            Resolved::Failed(error) if lookup.optional => {
                warn!("{}: {}: {}; using an empty value", found.path, found.raw, error.message());
                empty_value(lookup)
            }
            Resolved::Missing(why) => {
                errors.push(format!("{}: {}: {why}", found.path, found.raw));
                continue;
            }
            Resolved::Failed(error) => {
                errors.push(format!("{}: {}: {}", found.path, found.raw, error.message()));
                help = help.or(error.help().map(String::from));
                continue;
            }
        };
        set(event, &found.pointer, value);
    }
    match (errors.is_empty(), help) {
        (true, _) => Ok(()),
        (false, Some(help)) => Err(report(errors).with_help(help)),
        (false, None) => Err(report(errors)),
    }
}

fn set(event: &mut Event, pointer: &str, value: Value) {
    if let Some(slot) = event.config_mut_value().pointer_mut(pointer) {
        *slot = value;
    }
}

/// `plugins.lookups.lookups`, default: every type.
fn enabled_types(config: &Value) -> BTreeSet<String> {
    match config.pointer("/plugins/lookups/lookups").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_str).map(String::from).collect(),
        None => TYPES.iter().map(|t| t.to_string()).collect(),
    }
}

/// The config-reader's mark of a gcdt project (a `gcdt_<env>.*` file or gcdt's section names).
const GCDT_PROJECT: &str = fink_plugin_api::context::GCDT_PROJECT;

/// `plugins.lookups.secretStore` and `credstashTable`, checked here: lookups run before the
/// config's schema is. Without `secretStore`, a gcdt project (`gcdt`) reads credstash, as gcdt
/// did, and a fink project Secrets Manager.
fn secret_store(config: &Value, gcdt: bool) -> Result<SecretStore> {
    let section = config.pointer("/plugins/lookups");
    let store = match section.and_then(|s| s.get("secretStore")) {
        None | Some(Value::Null) if gcdt => "credstash".to_string(),
        None | Some(Value::Null) => return Ok(SecretStore::SecretsManager),
        Some(Value::String(store)) => store.trim().to_string(),
        Some(_) => return Err(Error::new("plugins.lookups.secretStore must be a string: secretsmanager or credstash")),
    };
    match store.as_str() {
        "secretsmanager" => Ok(SecretStore::SecretsManager),
        "credstash" => match section.and_then(|s| s.get("credstashTable")) {
            None | Some(Value::Null) => Ok(SecretStore::Credstash { table: credstash::DEFAULT_TABLE.to_string() }),
            Some(Value::String(table)) if !table.trim().is_empty() => {
                Ok(SecretStore::Credstash { table: table.trim().to_string() })
            }
            Some(_) => Err(Error::new("plugins.lookups.credstashTable must name a DynamoDB table")),
        },
        other => Err(Error::new(format!(
            "plugins.lookups.secretStore: '{other}' is not a secret store; use secretsmanager or credstash"
        ))),
    }
}

/// What a missing optional lookup becomes: `{}` for all outputs of a stack, `""` otherwise.
fn empty_value(lookup: &Lookup) -> Value {
    match lookup.kind {
        Kind::Stack { output: None, .. } => json!({}),
        _ => Value::String(String::new()),
    }
}

/// One line for one failure; a headline and one line each for several.
fn report(errors: Vec<String>) -> Error {
    if errors.len() == 1 {
        Error::new(errors.into_iter().next().unwrap_or_default())
    } else {
        Error::new(format!("{} lookups failed:\n  {}", errors.len(), errors.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_store_is_secrets_manager_unless_credstash_is_named() {
        let store = |config: Value| secret_store(&config, false).map_err(|e| e.message().to_string());
        assert_eq!(store(json!({})), Ok(SecretStore::SecretsManager));
        assert_eq!(
            store(json!({"plugins": {"lookups": {"secretStore": "secretsmanager"}}})),
            Ok(SecretStore::SecretsManager)
        );
        let credstash = |table: &str| Ok(SecretStore::Credstash { table: table.to_string() });
        assert_eq!(store(json!({"plugins": {"lookups": {"secretStore": "credstash"}}})), credstash("credential-store"));
        assert_eq!(
            store(json!({"plugins": {"lookups": {"secretStore": "credstash", "credstashTable": "ops-secrets"}}})),
            credstash("ops-secrets")
        );
        assert_eq!(
            store(json!({"plugins": {"lookups": {"secretStore": "Vault"}}})),
            Err("plugins.lookups.secretStore: 'Vault' is not a secret store; use secretsmanager or credstash".into())
        );
        assert!(store(json!({"plugins": {"lookups": {"secretStore": 1}}})).is_err());
        // A gcdt project reads credstash unless it names another store.
        let gcdt = |config: Value| secret_store(&config, true).map_err(|e| e.message().to_string());
        assert_eq!(gcdt(json!({})), credstash("credential-store"));
        assert_eq!(gcdt(json!({"plugins": {"lookups": {"credstashTable": "ops"}}})), credstash("ops"));
        assert_eq!(
            gcdt(json!({"plugins": {"lookups": {"secretStore": "secretsmanager"}}})),
            Ok(SecretStore::SecretsManager)
        );
        assert_eq!(
            store(json!({"plugins": {"lookups": {"secretStore": "credstash", "credstashTable": ""}}})),
            Err("plugins.lookups.credstashTable must name a DynamoDB table".into())
        );
    }
}

/// Property tests: a config with malformed lookups anywhere fails, before any AWS call, with one
/// line per malformed lookup naming its key path; well-formed lookups and other values are not named.
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    fn malformed() -> impl Strategy<Value = String> {
        grammar::proptests::broken_lookup().prop_filter("well-formed", |s| grammar::parse(s).is_err())
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            3 => malformed().prop_map(Value::String),
            1 => proptest::sample::select(vec![
                "lookup:stack:infra:VpcId", "lookup:parameter:/p", "lookup:region:eu-west-1:secret:s.k:CONTINUE_IF_NOT_FOUND",
                "lookup:acm:a.example.com:b.example.com", "vpc=lookup:stack:infra:VpcId", "Lookup:stack:x", "", "plain",
            ]).prop_map(|s| Value::String(s.to_string())),
            1 => any::<i64>().prop_map(Value::from),
            1 => Just(Value::Null),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof!["[a-zA-Z0-9_-]{1,6}", "\\PC{0,4}"]
    }

    fn config() -> impl Strategy<Value = Value> {
        let tree = leaf().prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(key(), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        });
        // At least one malformed lookup, put into one of the tree's objects or lists.
        (proptest::collection::btree_map(key(), tree, 0..4), malformed(), any::<usize>()).prop_map(|(top, bad, at)| {
            let mut config = Value::Object(top.into_iter().collect());
            let mut containers = Vec::new();
            containers_of(&config, String::new(), &mut containers);
            let pointer = containers[at % containers.len()].clone();
            match config.pointer_mut(&pointer) {
                Some(Value::Object(map)) => {
                    map.insert(format!("bad{at}"), Value::String(bad));
                }
                Some(Value::Array(items)) => items.push(Value::String(bad)),
                _ => {}
            }
            config
        })
    }

    fn containers_of(value: &Value, pointer: String, out: &mut Vec<String>) {
        let escape = |key: &str| key.replace('~', "~0").replace('/', "~1");
        match value {
            Value::Object(map) => {
                out.push(pointer.clone());
                for (key, child) in map {
                    containers_of(child, format!("{pointer}/{}", escape(key)), out);
                }
            }
            Value::Array(items) => {
                out.push(pointer.clone());
                for (i, child) in items.iter().enumerate() {
                    containers_of(child, format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    /// The expected lines, `<key path>: <lookup>: <reason>`, in config order.
    fn expected_lines(value: &Value, path: String, out: &mut Vec<String>) {
        match value {
            Value::String(s) if s.starts_with("lookup:") => {
                if let Err(reason) = grammar::parse(s) {
                    out.push(format!("{path}: {s}: {reason}"));
                }
            }
            Value::Object(map) => {
                for (key, child) in map {
                    expected_lines(child, if path.is_empty() { key.clone() } else { format!("{path}.{key}") }, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    expected_lines(child, format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(Config { cases: 1500, failure_persistence: None, ..Config::default() })]

        #[test]
        fn malformed_lookups_are_errors_naming_their_key_paths(config in config()) {
            let mut lines = Vec::new();
            expected_lines(&config, String::new(), &mut lines);
            prop_assert!(!lines.is_empty());
            let expected = match lines.len() {
                1 => lines[0].clone(),
                n => format!("{n} lookups failed:\n  {}", lines.join("\n  ")),
            };
            let (context, text) = (json!({"env": "dev", "tool": "cloud"}).to_string(), config.to_string());
            let mut event = Event::new(Signal::LOOKUP_INIT, &context, &text);
            match resolve_lookups(&mut event) {
                Ok(()) => prop_assert!(false, "no error for {}", text),
                Err(err) => prop_assert_eq!(err.message(), expected),
            }
        }
    }
}
