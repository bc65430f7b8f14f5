//! Where the template comes from: a generator command (e.g. troposphere's `python3
//! cloudformation.py`), gcdt's `cloudformation.py` run by the hooks plugin (asked for at
//! `config_validation_finalized`, see [`request`]), or a template file; JSON or YAML with
//! CloudFormation's short tags.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fink_plugin_api::{warn, Error, Event, GeneratedTemplate, Payload, Result, TemplateRequest, Value};
use serde_json::Map;

use crate::settings::Settings;

/// gcdt's Python template, which the hooks plugin runs.
pub const PYTHON_TEMPLATE: &str = "cloudformation.py";

/// The commands that read the template.
const READ_BY: &[&str] = &["deploy", "preview", "generate", "dot"];

/// Names tried in the project dir when the config names no template.
pub const TEMPLATE_NAMES: &[&str] =
    &["cloudformation.json", "cloudformation.yaml", "cloudformation.yml", "cloudformation.template"];

/// A template: the text sent to CloudFormation and its parsed form.
#[derive(Debug, Clone)]
pub struct Template {
    pub body: String,
    pub doc: Value,
    /// Where it came from, for messages.
    pub source: String,
    /// Stack policies the template's own code defines (`cloudformation.py`'s `get_stack_policy()`).
    pub stack_policy: Option<String>,
    pub stack_policy_during_update: Option<String>,
}

impl Template {
    /// The template's `Parameters` section.
    pub fn parameters(&self) -> Map<String, Value> {
        self.doc.get("Parameters").and_then(Value::as_object).cloned().unwrap_or_default()
    }

    /// The template's `Resources` section.
    pub fn resources(&self) -> Map<String, Value> {
        self.doc.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default()
    }
}

/// Loads the template for `settings`; the generator gets `{"context":..,"config":..}` on stdin.
pub fn load(dir: &Path, settings: &Settings, context: &Value, config: &Value) -> Result<Template> {
    if let Some(command) = &settings.generator {
        let text = generate(dir, command, context, config)?;
        return parse(&text, &format!("the output of `{command}`"));
    }
    if settings.template.is_none() {
        if let Some(generated) = context.get(GeneratedTemplate::KEY).filter(|v| !v.is_null()) {
            let generated: GeneratedTemplate = serde_json::from_value(generated.clone())
                .map_err(|e| Error::new(format!("the generated template in the context is malformed: {e}")))?;
            if let Ok(file) = find(dir) {
                let other = display(dir, &file);
                warn!("both {} and {other} exist: using {}", generated.source, generated.source);
            }
            let mut template = parse(&generated.body, &generated.source)?;
            template.stack_policy = generated.stack_policy;
            template.stack_policy_during_update = generated.stack_policy_during_update;
            return Ok(template);
        }
        if dir.join(PYTHON_TEMPLATE).is_file() && find(dir).is_err() {
            return Err(Error::new(format!("{PYTHON_TEMPLATE} is a Python template, and no plugin generated it"))
                .with_help("the hooks plugin runs it: check `fink plugins` (is it installed and enabled?)"));
        }
    }
    let path = match &settings.template {
        Some(file) => dir.join(file),
        None => find(dir)?,
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("cannot read template {}: {e}", path.display())))?;
    parse(&text, &display(dir, &path))
}

/// `config_validation_finalized` (before the hooks plugin, 1500): a command that reads the
/// template, with none named in the config, asks project code (`cloudformation.py`) for one.
pub fn request(event: &mut Event) -> Result<()> {
    if event.tool() != Some("cloud") || !event.command().is_some_and(|c| READ_BY.contains(&c)) {
        return Ok(());
    }
    let Some(section) = event.config().get("cloud").cloned() else { return Ok(()) };
    let settings: Settings = serde_json::from_value(section).unwrap_or_default();
    if settings.template.is_none() && settings.generator.is_none() {
        event.set_payload(&TemplateRequest { tool: "cloud".into() });
    }
    Ok(())
}

fn find(dir: &Path) -> Result<PathBuf> {
    TEMPLATE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file()).ok_or_else(|| {
        Error::new(format!("no CloudFormation template in {}: looked for {}", dir.display(), TEMPLATE_NAMES.join(", ")))
            .with_help("add one, or set cloud.stack.template (a file) or cloud.stack.generator (a command)")
    })
}

fn display(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

/// Runs the generator in the project dir and returns what it printed.
fn generate(dir: &Path, command: &str, context: &Value, config: &Value) -> Result<String> {
    let mut child = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::new(format!("cannot run template generator `{command}`: {e}")))?;
    // Private context keys (`_secrets` among them) stay inside fink.
    let public: serde_json::Map<String, Value> = context
        .as_object()
        .map(|m| m.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let input = fink_plugin_api::json!({"context": public, "config": config}).to_string();
    if let Some(mut stdin) = child.stdin.take() {
        // A generator that ignores its input may close stdin early; that is fine.
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| Error::new(format!("template generator `{command}`: {e}")))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let code = out.status.code().map(|c| c.to_string()).unwrap_or_else(|| "a signal".into());
        let tail: Vec<&str> = stderr.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
        return Err(Error::new(format!(
            "template generator `{command}` failed with exit code {code}{}",
            if tail.is_empty() { String::new() } else { format!(":\n  {}", tail.join("\n  ")) }
        )));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| Error::new(format!("template generator `{command}` printed something that is not UTF-8")))?;
    if text.trim().is_empty() {
        return Err(Error::new(format!("template generator `{command}` printed no template")));
    }
    Ok(text)
}

/// Parses JSON, or YAML with `!Ref`/`!GetAtt`/`!Sub`/... turned into their long forms.
pub fn parse(text: &str, source: &str) -> Result<Template> {
    let doc = match serde_json::from_str::<Value>(text) {
        Ok(doc) => doc,
        Err(json_err) if text.trim_start().starts_with('{') => {
            return Err(Error::new(format!("{source}:{}:{}: {json_err}", json_err.line(), json_err.column())))
        }
        Err(_) => {
            let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
                let at = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
                Error::new(format!("{source}{at}: {e}"))
            })?;
            from_yaml(yaml)
        }
    };
    if !doc.get("Resources").is_some_and(Value::is_object) {
        return Err(Error::new(format!("{source}: not a CloudFormation template (no Resources section)")));
    }
    Ok(Template {
        body: text.to_string(),
        doc,
        source: source.to_string(),
        stack_policy: None,
        stack_policy_during_update: None,
    })
}

fn from_yaml(value: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(from_yaml).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap_or_default().trim().to_string(),
                    };
                    (key, from_yaml(v))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = from_yaml(tagged.value);
            let mut map = Map::new();
            match (name, inner) {
                ("Ref" | "Condition", v) => {
                    map.insert(name.to_string(), v);
                }
                ("GetAtt", Value::String(s)) => {
                    let parts: Vec<Value> = match s.split_once('.') {
                        Some((a, b)) => vec![a.into(), b.into()],
                        None => vec![s.into()],
                    };
                    map.insert("Fn::GetAtt".into(), Value::Array(parts));
                }
                (other, v) => {
                    map.insert(format!("Fn::{other}"), v);
                }
            }
            Value::Object(map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn yaml_short_tags_become_long_forms() {
        let t = parse(
            "Resources:\n  B:\n    Type: AWS::S3::Bucket\n  P:\n    Type: X\n    Properties:\n      A: !Ref B\n      G: !GetAtt B.Arn\n      S: !Sub '${B}-x'\n",
            "t.yaml",
        )
        .unwrap();
        assert_eq!(t.doc["Resources"]["P"]["Properties"]["A"], json!({"Ref": "B"}));
        assert_eq!(t.doc["Resources"]["P"]["Properties"]["G"], json!({"Fn::GetAtt": ["B", "Arn"]}));
        assert_eq!(t.doc["Resources"]["P"]["Properties"]["S"], json!({"Fn::Sub": "${B}-x"}));
    }

    #[test]
    fn broken_templates_name_file_line_and_column() {
        let err = parse("{\n  \"Resources\": ,\n}", "cloudformation.json").unwrap_err();
        assert!(err.message().starts_with("cloudformation.json:2:"), "{}", err.message());
        let err = parse("{\"Parameters\": {}}", "t.json").unwrap_err();
        assert!(err.message().contains("no Resources section"));
    }

    #[test]
    fn generators_get_context_and_config_and_failures_show_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            generator: Some("python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({\"Resources\": {d[\"context\"][\"env\"]: {\"Type\": \"T\"}}}))'".into()),
            ..Default::default()
        };
        let t = load(dir.path(), &settings, &json!({"env": "dev"}), &json!({})).unwrap();
        assert!(t.resources().contains_key("dev"));
        let failing = Settings { generator: Some("echo boom >&2; exit 3".into()), ..Default::default() };
        let err = load(dir.path(), &failing, &json!({}), &json!({})).unwrap_err();
        assert_eq!(err.message(), "template generator `echo boom >&2; exit 3` failed with exit code 3:\n  boom");
    }
}
