//! The `hooks` section: signal name → list of hooks, each a command line or
//! `{"run": ..., "tools": [...], "commands": [...], "timeout": seconds}`.

use std::time::Duration;

use fink_plugin_api::{json, Error, Result, Signal, Value};

/// A hook's time limit unless it sets `timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest time limit fink accepts: a year. Anything longer is a typo (or a way to say
/// "never", which fink does not offer: every wait has a bound).
pub const MAX_TIMEOUT_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// A time limit in seconds from the config: a number above 0 and at most a year. `key` names it
/// in the error (`hooks.command_init[0].timeout`, `python_timeout`).
pub fn seconds(value: &Value, key: &str) -> Result<Duration> {
    let shown = match value {
        Value::String(text) => format!("\"{text}\""),
        other => other.to_string(),
    };
    let invalid = || {
        Error::new(format!(
            "{key} must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS:.0} (a year), got {shown}"
        ))
    };
    let seconds = value.as_f64().ok_or_else(invalid)?;
    if !seconds.is_finite() || seconds <= 0.0 || seconds > MAX_TIMEOUT_SECONDS {
        return Err(invalid());
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| invalid())
}

/// The signals a hook can run at: every one from `config_read_finalized` on (the hooks are in
/// the config, so nothing before it can run them).
pub fn hookable() -> impl Iterator<Item = Signal> {
    Signal::ALL.iter().copied().filter(|s| s.0 >= Signal::CONFIG_READ_FINALIZED.0)
}

/// One hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// The command line, run by `sh -c` in the project folder.
    pub run: String,
    /// Only for these tools (empty: all).
    pub tools: Vec<String>,
    /// Only for these commands (empty: all).
    pub commands: Vec<String>,
    pub timeout: Duration,
    /// `hooks.<signal>[<i>]`, for messages.
    pub key: String,
}

impl Hook {
    /// Whether the hook runs for this tool and command.
    pub fn applies(&self, tool: Option<&str>, command: Option<&str>) -> bool {
        let fits =
            |list: &[String], name: Option<&str>| list.is_empty() || name.is_some_and(|n| list.iter().any(|l| l == n));
        fits(&self.tools, tool) && fits(&self.commands, command)
    }
}

/// The JSON Schema of `hooks`: the values' shapes; the signal names are checked by [`check`],
/// which can say why an early signal cannot be hooked.
pub fn schema() -> Value {
    let names = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "type": "object",
        "additionalProperties": {
            "type": "array",
            "items": {
                "type": ["string", "object"],
                "required": ["run"],
                "properties": {
                    "run": {"type": "string", "minLength": 1},
                    "tools": names,
                    "commands": names,
                    "timeout": {"type": "number", "exclusiveMinimum": 0}
                },
                "additionalProperties": false
            }
        }
    })
}

/// Checks the section right after the config is read: every key must be a hookable signal, and
/// every entry a hook.
pub fn check(config: &Value) -> Result<()> {
    let Some(section) = config.get("hooks") else { return Ok(()) };
    let Some(map) = section.as_object() else {
        return Err(Error::new("hooks must be an object: signal name → list of hooks"));
    };
    for name in map.keys() {
        match Signal::from_name(name) {
            Some(signal) if signal.0 < Signal::CONFIG_READ_FINALIZED.0 => {
                return Err(Error::new(format!(
                    "hooks.{name}: {name} comes before the config is read, so no hook can run at it"
                ))
                .with_help("the first signal a hook can run at is config_read_finalized"))
            }
            Some(_) => {}
            None => {
                let known: Vec<&str> = hookable().filter_map(|s| s.name()).collect();
                return Err(Error::new(format!("hooks.{name}: unknown signal"))
                    .with_help(format!("signals: {}", known.join(", "))));
            }
        }
        hooks_at(config, name)?;
    }
    Ok(())
}

/// The hooks listed for the signal `name`, in order.
pub fn hooks_at(config: &Value, name: &str) -> Result<Vec<Hook>> {
    let Some(entries) = config.get("hooks").and_then(|h| h.get(name)) else { return Ok(Vec::new()) };
    let list = entries.as_array().ok_or_else(|| Error::new(format!("hooks.{name} must be a list of hooks")))?;
    list.iter().enumerate().map(|(i, entry)| hook(entry, &format!("hooks.{name}[{i}]"))).collect()
}

fn hook(entry: &Value, key: &str) -> Result<Hook> {
    let names = |field: &str| -> Result<Vec<String>> {
        match entry.get(field) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .ok_or_else(|| Error::new(format!("{key}.{field} must be a list of names")))
                })
                .collect(),
            Some(_) => Err(Error::new(format!("{key}.{field} must be a list of names"))),
        }
    };
    match entry {
        Value::String(run) if !run.trim().is_empty() => Ok(Hook {
            run: run.clone(),
            tools: Vec::new(),
            commands: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            key: key.into(),
        }),
        Value::Object(_) => {
            let run = entry.get("run").and_then(Value::as_str).filter(|r| !r.trim().is_empty());
            let run = run.ok_or_else(|| Error::new(format!("{key}.run is missing: the command to run")))?;
            let timeout = match entry.get("timeout") {
                None | Some(Value::Null) => DEFAULT_TIMEOUT,
                Some(v) => seconds(v, &format!("{key}.timeout"))?,
            };
            Ok(Hook {
                run: run.to_string(),
                tools: names("tools")?,
                commands: names("commands")?,
                timeout,
                key: key.into(),
            })
        }
        _ => Err(Error::new(format!("{key} must be a command line or {{\"run\": ...}}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_read_and_filter() {
        let config = json!({"hooks": {"bundle_pre": ["make", {"run": "npm ci", "tools": ["lambda"], "commands": ["deploy"], "timeout": 5}]}});
        let hooks = hooks_at(&config, "bundle_pre").unwrap();
        assert_eq!(hooks[0].run, "make");
        assert_eq!(hooks[0].timeout, DEFAULT_TIMEOUT);
        assert!(hooks[0].applies(Some("cloud"), Some("list")));
        assert_eq!((hooks[1].timeout, hooks[1].key.as_str()), (Duration::from_secs(5), "hooks.bundle_pre[1]"));
        assert!(hooks[1].applies(Some("lambda"), Some("deploy")) && !hooks[1].applies(Some("lambda"), Some("bundle")));
        assert!(!hooks[1].applies(None, Some("config")));
        assert!(hooks_at(&config, "finalized").unwrap().is_empty());
    }

    #[test]
    fn bad_sections_name_the_key() {
        let err = |config: Value| check(&config).unwrap_err().message().to_string();
        assert_eq!(
            err(json!({"hooks": {"initialized": ["x"]}})),
            "hooks.initialized: initialized comes before the config is read, so no hook can run at it"
        );
        assert_eq!(err(json!({"hooks": {"comand_finalized": ["x"]}})), "hooks.comand_finalized: unknown signal");
        assert_eq!(
            err(json!({"hooks": {"finalized": [{"tools": ["x"]}]}})),
            "hooks.finalized[0].run is missing: the command to run"
        );
        assert_eq!(
            err(json!({"hooks": {"finalized": [3]}})),
            "hooks.finalized[0] must be a command line or {\"run\": ...}"
        );
        check(&json!({"hooks": {"config_read_finalized": ["true"], "error": [], "finalized": ["true"]}})).unwrap();
        assert_eq!(hookable().next(), Some(Signal::CONFIG_READ_FINALIZED));
    }

    #[test]
    fn timeouts_too_large_negative_or_not_numbers_name_the_key() {
        let err = |timeout: Value| {
            check(&json!({"hooks": {"command_init": [{"run": "x", "timeout": timeout}]}}))
                .unwrap_err()
                .message()
                .to_string()
        };
        let expected = |shown: &str| {
            format!("hooks.command_init[0].timeout must be a number of seconds above 0 and at most 31536000 (a year), got {shown}")
        };
        // 1e30 and u64::MAX seconds do not fit a Duration: an error, not a panic.
        assert_eq!(err(json!(1e30)), expected("1e+30"));
        assert_eq!(err(json!(u64::MAX)), expected("18446744073709551615"));
        assert_eq!(err(json!(f64::MAX)), expected("1.7976931348623157e+308"));
        assert_eq!(err(json!(-5)), expected("-5"));
        assert_eq!(err(json!(0)), expected("0"));
        assert_eq!(err(json!("10")), expected("\"10\""));
        assert_eq!(err(json!(31536001)), expected("31536001"));
        // JSON has no NaN: serde_json makes it null, which seconds() refuses too.
        assert_eq!(
            seconds(&json!(f64::NAN), "t").unwrap_err().message(),
            "t must be a number of seconds above 0 and at most 31536000 (a year), got null"
        );
        assert_eq!(seconds(&json!(0.5), "t").unwrap(), Duration::from_millis(500));
        assert_eq!(seconds(&json!(31536000), "t").unwrap(), Duration::from_secs(31_536_000));
    }
}
