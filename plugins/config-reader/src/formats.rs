//! Parsing one config file by its extension (JSON, YAML, TOML) into a JSON object, with `file:line:col` errors.

use std::fs;
use std::path::Path;

use fink_plugin_api::{Error, Result};
use serde_json::{Map, Number, Value};

/// A config file format, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
}

impl Format {
    /// The format of `path` by its extension (`.json`, `.yaml`/`.yml`, `.toml`).
    pub fn of(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }
}

/// Reads and parses the config file at `path`; `name` is how messages call it.
pub fn read(path: &Path, name: &str) -> Result<Map<String, Value>> {
    let format = Format::of(path)
        .ok_or_else(|| Error::new(format!("{name}: unknown config format; use .json, .yaml, .yml or .toml")))?;
    let text = fs::read_to_string(path).map_err(|err| Error::new(format!("{name}: cannot read: {err}")))?;
    parse(&text, format, name)
}

/// Parses `text` as `format`; the top level must be an object.
pub fn parse(text: &str, format: Format, name: &str) -> Result<Map<String, Value>> {
    let value = match format {
        Format::Json => parse_json(text, name)?,
        Format::Yaml => parse_yaml(text, name)?,
        Format::Toml => parse_toml(text, name)?,
    };
    match value {
        Value::Object(map) => Ok(map),
        other => Err(Error::new(format!(
            "{name}: the top level must be an object of keys and values, found {}",
            describe(&other)
        ))),
    }
}

/// How messages name the type of a value: "a list", "a string", ...
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing (null or an empty document)",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn parse_json(text: &str, name: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|err| {
        let (line, column) = (err.line(), err.column());
        let message = err.to_string().replacen(&format!(" at line {line} column {column}"), "", 1);
        // serde_json says column 0 for "before the first character"; editors count from 1.
        located(name, (line > 0).then_some((line, column.max(1))), &message)
    })
}

fn parse_yaml(text: &str, name: &str) -> Result<Value> {
    let mut value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|err| {
        let location = err.location().map(|l| (l.line(), l.column()));
        let mut message = err.to_string();
        if let Some((line, column)) = location {
            message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
        }
        located(name, location, &message)
    })?;
    // `<<: *anchor` merge keys are part of YAML 1.1 configs in the wild; serde_yaml leaves them to us.
    value.apply_merge().map_err(|err| Error::new(format!("{name}: {}", one_line(&err.to_string()))))?;
    serde_json::to_value(value).map_err(|err| Error::new(format!("{name}: {}", one_line(&err.to_string()))))
}

fn parse_toml(text: &str, name: &str) -> Result<Value> {
    let table: toml::Table = toml::from_str(text).map_err(|err| {
        let location = err.span().map(|span| line_col(text, span.start));
        located(name, location, err.message())
    })?;
    toml_to_json(toml::Value::Table(table), name, "")
}

/// TOML values as JSON; dates and times become their TOML text, e.g. `"1979-05-27T07:32:00Z"`.
fn toml_to_json(value: toml::Value, name: &str, path: &str) -> Result<Value> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::Number(
            Number::from_f64(f)
                .ok_or_else(|| Error::new(format!("{name}: '{path}' is {f}, which a JSON config cannot hold")))?,
        ),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, item)| toml_to_json(item, name, &format!("{path}[{i}]")))
                .collect::<Result<_>>()?,
        ),
        toml::Value::Table(table) => Value::Object(
            table
                .into_iter()
                .map(|(key, item)| {
                    let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                    Ok((key, toml_to_json(item, name, &inner)?))
                })
                .collect::<Result<_>>()?,
        ),
    })
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// `file:line:col: message`, or `file: message` without a location; always one line.
fn located(name: &str, location: Option<(usize, usize)>, message: &str) -> Error {
    let message = one_line(message);
    match location {
        Some((line, column)) => Error::new(format!("{name}:{line}:{column}: {message}")),
        None => Error::new(format!("{name}: {message}")),
    }
}

fn one_line(message: &str) -> String {
    message.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(text: &str, format: Format) -> Value {
        Value::Object(parse(text, format, "f").unwrap())
    }

    fn err(text: &str, format: Format, name: &str) -> String {
        parse(text, format, name).unwrap_err().message().to_owned()
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(Format::of(Path::new("a/fink_dev.yml")), Some(Format::Yaml));
        assert_eq!(Format::of(Path::new("base.toml")), Some(Format::Toml));
        assert_eq!(Format::of(Path::new("base.py")), None);
    }

    #[test]
    fn each_format_reads_the_same_config() {
        let expected = json!({"cloud": {"stack": "app", "tags": ["a", "b"], "size": 2, "on": true}});
        let json = r#"{"cloud": {"stack": "app", "tags": ["a", "b"], "size": 2, "on": true}}"#;
        let yaml = "cloud:\n  stack: app\n  tags: [a, b]\n  size: 2\n  on: true\n";
        let toml = "[cloud]\nstack = \"app\"\ntags = [\"a\", \"b\"]\nsize = 2\non = true\n";
        assert_eq!(ok(json, Format::Json), expected);
        assert_eq!(ok(yaml, Format::Yaml), expected);
        assert_eq!(ok(toml, Format::Toml), expected);
    }

    #[test]
    fn json_parse_error_has_line_and_column() {
        let message = err("{\n  \"a\": 1\n  \"b\": 2\n}", Format::Json, "fink_dev.json");
        assert_eq!(message, "fink_dev.json:3:3: expected `,` or `}`");
        assert_eq!(err("", Format::Json, "fink_dev.json"), "fink_dev.json:1:1: EOF while parsing a value");
    }

    #[test]
    fn yaml_parse_error_has_line_and_column() {
        let message = err("a: 1\nb: [1, 2\nc: 3\n", Format::Yaml, "fink_dev.yaml");
        assert!(message.starts_with("fink_dev.yaml:3:2: did not find expected ',' or ']'"), "{message}");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn toml_parse_error_has_line_and_column() {
        let message = err("a = 1\n[cloud]\nstack = \n", Format::Toml, "fink_dev.toml");
        assert_eq!(message, "fink_dev.toml:3:9: invalid string; expected `\"`, `'`");
        assert!(!message.contains('\n'));
    }

    #[test]
    fn toml_columns_count_characters() {
        assert_eq!(line_col("a = \"ü\"\nb", 9), (2, 1));
        assert_eq!(line_col("ä = x", 3), (1, 3));
    }

    #[test]
    fn top_level_must_be_an_object() {
        assert_eq!(
            err("[1, 2]", Format::Json, "fink_dev.json"),
            "fink_dev.json: the top level must be an object of keys and values, found a list"
        );
        assert!(err("just text", Format::Yaml, "fink_dev.yaml").ends_with("found a string"));
        assert!(err("", Format::Yaml, "fink_dev.yml").contains("found nothing"));
    }

    #[test]
    fn yaml_anchors_and_merge_keys_work() {
        let yaml = "base: &b {x: 1, y: 2}\nlive:\n  <<: *b\n  y: 3\n";
        assert_eq!(ok(yaml, Format::Yaml)["live"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn toml_dates_become_strings() {
        assert_eq!(ok("when = 1979-05-27T07:32:00Z", Format::Toml), json!({"when": "1979-05-27T07:32:00Z"}));
        assert_eq!(
            err("a = { b = nan }", Format::Toml, "t.toml"),
            "t.toml: 'a.b' is NaN, which a JSON config cannot hold"
        );
    }

    #[test]
    fn read_names_the_file_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let message = read(&dir.path().join("fink_dev.json"), "fink_dev.json").unwrap_err().message().to_owned();
        assert!(message.starts_with("fink_dev.json: cannot read: "), "{message}");
    }
}
