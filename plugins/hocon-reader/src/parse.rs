//! HOCON into JSON, as glomex-config-reader read gcdt projects: HOCON's includes (relative to the
//! including file) and substitutions (`${key}`, `${?ENV_VAR}`), parsed by the `hocon-parser`
//! crate. Errors name the file and, where the parser says, the line and column.

use std::path::Path;

use fink_plugin_api::{Error, Result};
use hocon::{HoconError, HoconValue, ScalarType};
use serde_json::{Map, Number, Value};

/// gcdt's tool-specific file for kumo: `settings_<env>.conf`, the stack's section (its
/// `cloudformation`, or `stack` and `parameters`), as read (the config-reader turns the
/// `cloudformation` form into today's). ramuda bundled a `settings_<env>.conf` of other content as
/// the function's settings: a file without those keys is left to it.
pub fn stack_settings(dir: &Path, env: &str) -> Result<Option<(String, Map<String, Value>)>> {
    let name = format!("settings_{env}.conf");
    let path = dir.join(&name);
    if !path.is_file() {
        return Ok(None);
    }
    let section = read(&path, &name)?;
    if !["cloudformation", "stack", "parameters"].iter().any(|key| section.contains_key(*key)) {
        fink_plugin_api::debug!("{name} has no cloudformation, stack or parameters: not kumo's settings");
        return Ok(None);
    }
    Ok(Some((name, section)))
}

/// Reads the HOCON file at `path`; `name` is how messages call it.
pub fn read(path: &Path, name: &str) -> Result<Map<String, Value>> {
    let config = hocon::parse_file(path).map_err(|err| error(name, err))?;
    let mut map = Map::new();
    for key in config.keys() {
        if let Some(value) = config.get(key) {
            map.insert(key.to_string(), json(value, name, key)?);
        }
    }
    Ok(map)
}

/// One line naming the file (and the line and column where the parser has them).
fn error(name: &str, err: HoconError) -> Error {
    let (location, message) = match err {
        HoconError::Parse(e) => (Some((e.line, e.col)), e.message),
        HoconError::Resolve(e) if e.message.contains(&e.path) => (Some((e.line, e.col)), e.message),
        HoconError::Resolve(e) => (Some((e.line, e.col)), format!("{} (substitution ${{{}}})", e.message, e.path)),
        HoconError::Io(e) => (None, format!("cannot read: {e}")),
        other => (None, other.to_string()),
    };
    let message = message.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("; ");
    match location {
        Some((line, column)) if line > 0 => Error::new(format!("{name}:{line}:{}: {message}", column.max(1))),
        _ => Error::new(format!("{name}: {message}")),
    }
}

/// A resolved HOCON value as JSON; `at` is its key path, for messages.
fn json(value: &HoconValue, name: &str, at: &str) -> Result<Value> {
    Ok(match value {
        HoconValue::Object(entries) => {
            let mut map = Map::new();
            for (key, item) in entries {
                map.insert(key.clone(), json(item, name, &format!("{at}.{key}"))?);
            }
            Value::Object(map)
        }
        HoconValue::Array(items) => Value::Array(
            items.iter().enumerate().map(|(i, item)| json(item, name, &format!("{at}[{i}]"))).collect::<Result<_>>()?,
        ),
        HoconValue::Scalar(scalar) => match scalar.value_type {
            ScalarType::String => Value::String(scalar.raw.clone()),
            ScalarType::Boolean => Value::Bool(scalar.raw.trim() == "true"),
            ScalarType::Null => Value::Null,
            ScalarType::Number => number(&scalar.raw)
                .ok_or_else(|| Error::new(format!("{name}: '{at}': {} is not a number JSON can hold", scalar.raw)))?,
            // A kind of scalar a later parser version adds: its text.
            _ => Value::String(scalar.raw.clone()),
        },
        // The parse functions resolve every substitution or fail; never seen, named if it is.
        _ => return Err(Error::new(format!("{name}: '{at}' has an unresolved substitution"))),
    })
}

fn number(raw: &str) -> Option<Value> {
    let raw = raw.trim();
    if let Ok(n) = raw.parse::<i64>() {
        return Some(Value::Number(n.into()));
    }
    if let Ok(n) = raw.parse::<u64>() {
        return Some(Value::Number(n.into()));
    }
    raw.parse::<f64>().ok().and_then(Number::from_f64).map(Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_text(files: &[(&str, &str)]) -> Result<Value> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        read(&dir.path().join(files[0].0), files[0].0).map(Value::Object)
    }

    #[test]
    fn objects_lists_scalars_includes_and_substitutions() {
        let config = read_text(&[
            (
                "gcdt_dev.conf",
                "include \"base.conf\"\nkumo {\n  stack { StackName = ${name}-stack }\n  parameters { Size = 3, Ratio = 0.5, On = true, None = null, List = [a, \"b c\"] }\n}\n",
            ),
            ("base.conf", "name = mia\n"),
        ])
        .unwrap();
        assert_eq!(
            config,
            json!({"name": "mia", "kumo": {"stack": {"StackName": "mia-stack"},
                   "parameters": {"Size": 3, "Ratio": 0.5, "On": true, "None": null, "List": ["a", "b c"]}}})
        );
    }

    #[test]
    fn stack_settings_need_a_stack_key() {
        let dir = tempfile::tempdir().unwrap();
        assert!(stack_settings(dir.path(), "dev").unwrap().is_none());
        std::fs::write(dir.path().join("settings_dev.conf"), "greeting = moin\n").unwrap();
        assert!(stack_settings(dir.path(), "dev").unwrap().is_none(), "ramuda's settings are not the stack's");
        std::fs::write(dir.path().join("settings_dev.conf"), "cloudformation { StackName = s }\n").unwrap();
        let (name, section) = stack_settings(dir.path(), "dev").unwrap().unwrap();
        assert_eq!(
            (name.as_str(), Value::Object(section)),
            ("settings_dev.conf", json!({"cloudformation": {"StackName": "s"}}))
        );
    }

    #[test]
    fn errors_name_file_and_line() {
        let err = read_text(&[("gcdt_dev.conf", "a = 1\nb = {\n")]).unwrap_err();
        assert!(err.message().starts_with("gcdt_dev.conf:"), "{}", err.message());
        assert!(!err.message().contains('\n'), "{}", err.message());
        let err = read_text(&[("gcdt_dev.conf", "a = 1\nb = ${missing}\n")]).unwrap_err();
        assert!(err.message().starts_with("gcdt_dev.conf:2:"), "{}", err.message());
        assert!(err.message().contains("missing"), "{}", err.message());
    }
}
