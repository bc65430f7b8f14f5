//! Parsing one config file by its extension (JSON, YAML, TOML) into a JSON object, with `file:line:col` errors.

use std::fs;
use std::path::Path;

use fink_plugin_api::{Error, Result};
use serde::de::DeserializeSeed;
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
    crate::yaml::parse(text).map_err(|err| {
        let location = err.location().map(|l| (l.line(), l.column()));
        let mut message = err.to_string();
        if let Some((line, column)) = location {
            message = message.replacen(&format!(" at line {line} column {column}"), "", 1);
        }
        // libyaml puts the end of the text on a line of its own; point at where the text ends instead.
        located(name, location.map(|at| at.min(yaml_end(text))), &message)
    })
}

/// The line and column just past the end of `text`, counting lines as YAML does (`\r\n`, `\r`,
/// `\n`, and the Unicode line and paragraph separators) and columns in characters.
fn yaml_end(text: &str) -> (usize, usize) {
    let mut chars = text.chars().peekable();
    let (mut line, mut column) = (1, 1);
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
        }
        if matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}') {
            (line, column) = (line + 1, 1);
        } else {
            column += 1;
        }
    }
    (line, column)
}

fn parse_toml(text: &str, name: &str) -> Result<Value> {
    let table: toml::Table = toml::from_str(text).map_err(|err| {
        let location = err.span().map(|span| line_col(text, span.start));
        // The toml parser has no words for a value missing at the very end (`a =`).
        let message = match err.message().trim() {
            "" if err.span().is_some_and(|span| span.start >= text.len()) => "unexpected end of the file",
            "" => "invalid syntax",
            message => message,
        };
        located(name, location, message)
    })?;
    toml_to_json(toml::Value::Table(table), name, "").map_err(|err| match non_finite(text) {
        Some((message, location)) => located(name, Some(location), &message),
        None => err,
    })
}

/// The first number in `text` (TOML) that JSON cannot hold (NaN, infinity), in document order: the
/// message naming its key, and its line and column. `toml::Table` keeps no positions, so on that
/// error the text is read once more, by [`NonFinite`], which stops there.
fn non_finite(text: &str) -> Option<(String, (usize, usize))> {
    let err = NonFinite(String::new()).deserialize(toml::Deserializer::new(text)).err()?;
    let span = err.span()?;
    Some((err.message().to_owned(), line_col(text, span.start)))
}

/// Walks a TOML document and fails at the first NaN or infinity; holds the key path so far.
struct NonFinite(String);

impl<'de> serde::de::DeserializeSeed<'de> for NonFinite {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> std::result::Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for NonFinite {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a TOML value")
    }

    fn visit_f64<E: serde::de::Error>(self, f: f64) -> std::result::Result<(), E> {
        if f.is_finite() {
            Ok(())
        } else {
            Err(E::custom(format!("'{}' is {f}, which a JSON config cannot hold", self.0)))
        }
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_none<E: serde::de::Error>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        let mut i = 0;
        while seq.next_element_seed(NonFinite(format!("{}[{i}]", self.0)))?.is_some() {
            i += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.0.is_empty() { key } else { format!("{}.{key}", self.0) };
            map.next_value_seed(NonFinite(path))?;
        }
        Ok(())
    }
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
    fn yaml_error_at_the_end_points_at_the_end() {
        // Regression: libyaml said 2:1 for the end of a one-line text.
        assert_eq!(
            err("{  ", Format::Yaml, "f.yaml"),
            "f.yaml:1:4: did not find expected node content, while parsing a flow node"
        );
        assert_eq!(yaml_end("a\r\nb\rcd\u{2028}"), (4, 1));
        assert_eq!(yaml_end("ab: ü"), (1, 6));
    }

    #[test]
    fn toml_value_missing_at_the_end_has_a_reason() {
        // Regression: the message was empty, `fink_dev.toml:2:4: `.
        assert_eq!(err("a = 1\nb =", Format::Toml, "fink_dev.toml"), "fink_dev.toml:2:4: unexpected end of the file");
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
    fn yaml_merge_of_an_anchor_that_merges_itself_applies_both() {
        // Regression: serde_yaml's apply_merge copied the inner `<<` into the outer mapping as a key.
        let yaml = "a: &a {x: 1}\nb: &b\n  <<: *a\n  y: 2\nc:\n  <<: *b\n  z: 3\n";
        assert_eq!(ok(yaml, Format::Yaml)["c"], json!({"x": 1, "y": 2, "z": 3}));
        let listed = "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n";
        assert_eq!(ok(listed, Format::Yaml)["c"], json!({"x": 1, "y": 1, "z": 3}));
    }

    #[test]
    fn yaml_nan_and_infinity_are_errors_with_line_and_column() {
        // Regression: they silently became null.
        assert_eq!(err("a:\n  b: .nan\n", Format::Yaml, "f.yaml"), "f.yaml:2:6: a.b: a JSON config cannot hold NaN");
        assert_eq!(err("a: [1, -.inf]\n", Format::Yaml, "f.yaml"), "f.yaml:1:8: a[1]: a JSON config cannot hold -inf");
    }

    #[test]
    fn yaml_errors_after_parsing_have_line_and_column() {
        // Regression: these had only the file name.
        let cases = [
            ("a:\n  ~: 1\n", "f.yaml:2:3: a: a key must be a string, a number or true/false, found null"),
            ("a:\n  [1]: 1\n", "f.yaml:2:3: a: a key must be a string, a number or true/false, found a list"),
            ("a:\n  <<: [[1]]\n", "f.yaml:2:8: a.<<[0]: expected a mapping for merging, but found sequence"),
            ("a: 1\na: 2\n", "f.yaml:2:1: duplicate entry with key \"a\""),
            ("a: 1\n---\nb: 2\n", "f.yaml:3:1: a second YAML document starts here; a config file holds one"),
        ];
        for (yaml, expected) in cases {
            assert_eq!(err(yaml, Format::Yaml, "f.yaml"), expected);
        }
        assert!(err("a:\n  <<: 1\n", Format::Yaml, "f.yaml").starts_with("f.yaml:2:7: a.<<: invalid type: integer `1`"));
    }

    #[test]
    fn yaml_keys_and_tags_read_as_before() {
        let yaml = "a:\n  true: 1\n  1: 2\n  1.5: 3\nb: !Ref x\nc: 0x1F\nd: ~\n";
        assert_eq!(
            ok(yaml, Format::Yaml),
            json!({"a": {"true": 1, "1": 2, "1.5": 3}, "b": {"!Ref": "x"}, "c": 31, "d": null})
        );
    }

    #[test]
    fn toml_dates_become_strings() {
        assert_eq!(ok("when = 1979-05-27T07:32:00Z", Format::Toml), json!({"when": "1979-05-27T07:32:00Z"}));
        assert_eq!(
            err("a = { b = nan }", Format::Toml, "t.toml"),
            "t.toml:1:11: 'a.b' is NaN, which a JSON config cannot hold"
        );
        // Regression: the NaN/inf error had no line and column. The first in the file is named.
        assert_eq!(
            err("z = 1\n[a]\nb = [1, inf]\nc = nan\n", Format::Toml, "t.toml"),
            "t.toml:3:9: 'a.b[1]' is inf, which a JSON config cannot hold"
        );
    }

    #[test]
    fn read_names_the_file_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let message = read(&dir.path().join("fink_dev.json"), "fink_dev.json").unwrap_err().message().to_owned();
        assert!(message.starts_with("fink_dev.json: cannot read: "), "{message}");
    }
}

/// Property tests: any text, valid documents and damaged ones, in every format.
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    /// Failures are kept as the regression unit tests above, not in `proptest-regressions/` files.
    fn config(cases: u32) -> Config {
        Config { cases, failure_persistence: None, ..Config::default() }
    }

    const FORMATS: [(Format, &str); 3] =
        [(Format::Json, "fink_dev.json"), (Format::Yaml, "conf/base.yaml"), (Format::Toml, "fink_dev.toml")];

    fn format() -> impl Strategy<Value = (Format, &'static str)> {
        proptest::sample::select(FORMATS.to_vec())
    }

    /// Pieces of each format's syntax, so random texts get past the first character.
    fn tokens(format: Format) -> &'static [&'static str] {
        match format {
            Format::Json => &[
                "{", "}", "[", "]", ":", ",", "\"a\"", "\"b\"", "\"", "\\", "\\u12", "1", "-", "0.5", "e9", "1e400",
                "true", "nul", "null", " ", "\n", "\t", "ü",
            ],
            Format::Yaml => &[
                "a",
                "b",
                ": ",
                ":",
                "- ",
                "-",
                "\n",
                "  ",
                "\t",
                "[",
                "]",
                "{",
                "}",
                ", ",
                "'",
                "\"",
                "#",
                "&x ",
                "*x",
                "*y",
                "<<: ",
                "!t ",
                "!!str ",
                "? ",
                "---\n",
                "...\n",
                "|\n",
                ">-\n",
                "~",
                ".nan",
                "-.inf",
                "0x1F",
                "1",
                "true",
                "\r",
                "ü",
                "%YAML 1.2\n",
            ],
            Format::Toml => &[
                "a",
                "b",
                "=",
                " = ",
                "[",
                "]",
                "[[",
                "]]",
                "{",
                "}",
                ",",
                ".",
                "\"x\"",
                "'y'",
                "\"\"\"",
                "'''",
                "\\",
                "1",
                "-1",
                "1_0",
                "0x",
                "nan",
                "inf",
                "1.5",
                "1979-05-27",
                "T07:32:00",
                "Z",
                "true",
                "#",
                "\n",
                " ",
                "\r\n",
                "ü",
            ],
        }
    }

    /// Any text: random characters, or a soup of the format's tokens.
    fn any_text(format: Format) -> BoxedStrategy<String> {
        prop_oneof![
            any::<String>(),
            "[ -~\n\t]{0,120}",
            proptest::collection::vec(proptest::sample::select(tokens(format)), 0..40).prop_map(|t| t.concat()),
        ]
        .boxed()
    }

    /// Config values every format can hold (no null in TOML), with keys and strings that need quoting.
    fn config_value(with_null: bool) -> impl Strategy<Value = Value> {
        let string = prop_oneof![
            "\\PC{0,10}",
            proptest::sample::select(vec![
                "",
                "yes",
                "no",
                "null",
                "~",
                "1",
                "0x1F",
                "1_000",
                "1.5",
                "<<",
                "a: b",
                "- x",
                "#c",
                "'",
                "\"",
                "\\",
                "a\nb",
                "tab\there",
                " lead",
                "trail ",
                "1979-05-27",
                "*x",
                "&y",
                "!t",
                "nan",
                "inf",
            ])
            .prop_map(String::from),
        ];
        let leaf = prop_oneof![
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            // Three decimals: serde_json (without its `float_roundtrip` feature) may read a float with
            // 17 significant digits one unit in the last place off.
            (-1_000_000_000_000i64..1_000_000_000_000).prop_map(|n| Value::from(n as f64 / 1000.0)),
            string.prop_map(Value::String),
            Just(if with_null { Value::Null } else { Value::Bool(false) }),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map(key(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z_][a-zA-Z0-9_.-]{0,8}",
            // `<<` is YAML's merge key, so no YAML file can have it as a plain key.
            "\\PC{0,6}".prop_filter("merge key", |k| k != "<<"),
        ]
    }

    /// A whole config: an object at the top.
    fn document(format: Format) -> impl Strategy<Value = Map<String, Value>> {
        proptest::collection::btree_map(key(), config_value(format != Format::Toml), 0..6)
            .prop_map(|m| m.into_iter().collect())
    }

    fn render(value: &Map<String, Value>, format: Format) -> Option<String> {
        match format {
            Format::Json => serde_json::to_string_pretty(value).ok(),
            Format::Yaml => serde_yaml::to_string(value).ok(),
            Format::Toml => toml::to_string(value).ok(),
        }
    }

    /// Damage: cut out a piece, put a token in, repeat a line, or cut the end off.
    #[derive(Debug, Clone)]
    enum Damage {
        Delete(usize, usize),
        Insert(usize, &'static str),
        RepeatLine(usize),
        Truncate(usize),
    }

    fn damage(format: Format) -> impl Strategy<Value = Vec<Damage>> {
        let one = prop_oneof![
            (any::<usize>(), 1..8usize).prop_map(|(at, n)| Damage::Delete(at, n)),
            (any::<usize>(), proptest::sample::select(tokens(format))).prop_map(|(at, t)| Damage::Insert(at, t)),
            any::<usize>().prop_map(Damage::RepeatLine),
            any::<usize>().prop_map(Damage::Truncate),
        ];
        proptest::collection::vec(one, 1..4)
    }

    /// The char boundary `at` (mod the length) in `text`.
    fn boundary(text: &str, at: usize) -> usize {
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        bounds[at % bounds.len()]
    }

    fn apply(mut text: String, damage: &[Damage]) -> String {
        for d in damage {
            match *d {
                Damage::Delete(at, n) => {
                    let start = boundary(&text, at);
                    let end = text[start..].char_indices().nth(n).map_or(text.len(), |(i, _)| start + i);
                    text.replace_range(start..end, "");
                }
                Damage::Insert(at, token) => {
                    let at = boundary(&text, at);
                    text.insert_str(at, token);
                }
                Damage::RepeatLine(at) => {
                    let lines: Vec<&str> = text.split_inclusive('\n').collect();
                    if !lines.is_empty() {
                        let i = at % lines.len();
                        let repeated = lines[i].to_string();
                        text = lines[..=i].concat() + &repeated + &lines[i + 1..].concat();
                    }
                }
                Damage::Truncate(at) => {
                    let at = boundary(&text, at);
                    text.truncate(at);
                }
            }
        }
        text
    }

    /// Every error is one line that starts with the file's name; every error about a place in the
    /// file (all but "the top level must be an object") has a `line:col` inside the text.
    fn check_error(text: &str, name: &str, message: &str) -> std::result::Result<(), TestCaseError> {
        prop_assert!(!message.contains('\n'), "{message}");
        let rest = message.strip_prefix(name).and_then(|r| r.strip_prefix(':'));
        let rest = rest.ok_or_else(|| TestCaseError::fail(format!("error does not name {name}: {message}")))?;
        if rest.starts_with(" the top level must be an object") {
            return Ok(());
        }
        let mut parts = rest.splitn(3, ':');
        let (line, column, reason) = (parts.next(), parts.next(), parts.next().unwrap_or_default());
        let position = line.and_then(|l| l.parse::<usize>().ok()).zip(column.and_then(|c| c.parse::<usize>().ok()));
        let (line, column) = position.ok_or_else(|| TestCaseError::fail(format!("no line:col: {message}")))?;
        prop_assert!(reason.starts_with(' ') && reason.trim().len() > 1, "no reason: {message}");
        // Any of YAML's line breaks counts; columns count characters or bytes, whichever is more.
        let lines: Vec<&str> = text.split(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}']).collect();
        let longest = lines.iter().map(|l| l.len()).max().unwrap_or(0);
        prop_assert!((1..=lines.len()).contains(&line), "line {line} of {}: {message}", lines.len());
        prop_assert!((1..=longest + 1).contains(&column), "column {column} past {longest}: {message}");
        Ok(())
    }

    /// What a successful parse must give: the same object when written out again and read back.
    fn check_stable(value: &Map<String, Value>, format: Format, name: &str) -> std::result::Result<(), TestCaseError> {
        if let Some(again) = render(value, format) {
            let reread = parse(&again, format, name).map_err(|e| TestCaseError::fail(e.message().to_owned()))?;
            prop_assert_eq!(&reread, value, "written as {:?}", again);
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(config(2000))]

        #[test]
        fn any_text_parses_or_fails_with_file_line_col(
            (format, name, text) in format().prop_flat_map(|(f, n)| (Just(f), Just(n), any_text(f)))
        ) {
            match parse(&text, format, name) {
                Ok(value) => check_stable(&value, format, name)?,
                Err(err) => check_error(&text, name, err.message())?,
            }
        }

        #[test]
        fn valid_documents_read_back_as_written(
            (format, name, value) in format().prop_flat_map(|(f, n)| (Just(f), Just(n), document(f)))
        ) {
            let text = render(&value, format).ok_or_else(|| TestCaseError::reject("not expressible"))?;
            let parsed = parse(&text, format, name).map_err(|e| TestCaseError::fail(format!("{}\n{text}", e.message())))?;
            prop_assert_eq!(parsed, value, "text:\n{}", text);
        }

        #[test]
        fn damaged_documents_parse_or_fail_with_file_line_col(
            (format, name, value, damage) in
                format().prop_flat_map(|(f, n)| (Just(f), Just(n), document(f), damage(f)))
        ) {
            let text = render(&value, format).ok_or_else(|| TestCaseError::reject("not expressible"))?;
            let text = apply(text, &damage);
            match parse(&text, format, name) {
                Ok(value) => check_stable(&value, format, name)?,
                Err(err) => check_error(&text, name, err.message())?,
            }
        }
    }

    proptest! {
        #![proptest_config(config(300))]

        /// Deep nesting ends in an error with a position (the parsers' recursion limits), not a crash.
        #[test]
        fn deep_nesting_is_read_or_refused_with_a_position((format, name) in format(), depth in 1..3000usize) {
            let text = match format {
                Format::Json => format!("{{\"a\": {}1{}}}", "[".repeat(depth), "]".repeat(depth)),
                Format::Yaml => format!("a: {}1{}\n", "[".repeat(depth), "]".repeat(depth)),
                Format::Toml => format!("a = {}1{}\n", "[".repeat(depth), "]".repeat(depth)),
            };
            match parse(&text, format, name) {
                Ok(value) => {
                    let mut inner = &value["a"];
                    for _ in 0..depth {
                        inner = &inner[0];
                    }
                    prop_assert_eq!(inner, &json!(1));
                }
                Err(err) => {
                    prop_assert!(depth > 50, "depth {depth}: {}", err.message());
                    prop_assert!(err.message().contains("recursion limit"), "{}", err.message());
                    check_error(&text, name, err.message())?;
                }
            }
        }
    }

    use serde_json::json;
}
