//! Where the template comes from: a generator command (e.g. troposphere's `python3
//! cloudformation.py`), gcdt's `cloudformation.py` run by the hooks plugin (asked for at
//! `config_validation_finalized`, see [`request`]), or a template file; JSON or YAML with
//! CloudFormation's short tags.
//!
//! The generator's stdout and stderr go to files, not pipes, so it can print any amount to either
//! and a background process it leaves behind cannot hold fink. It runs in its own process group
//! for `FINK_GENERATOR_TIMEOUT` seconds at most (default 600); then fink ends the group.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
        let trusted = context.get(fink_plugin_api::context::PROJECT_TRUSTED).and_then(Value::as_bool) == Some(true);
        if !trusted {
            let project = context.get(fink_plugin_api::context::PROJECT_DIR).and_then(Value::as_str).unwrap_or(".");
            return Err(Error::untrusted(project, &format!("cloud.stack.generator (`{command}`)")));
        }
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

/// The environment variable that limits the generator (seconds).
pub const GENERATOR_TIMEOUT_VAR: &str = "FINK_GENERATOR_TIMEOUT";

/// How long the generator may run unless [`GENERATOR_TIMEOUT_VAR`] says otherwise.
const GENERATOR_TIMEOUT: Duration = Duration::from_secs(600);

/// Between SIGTERM and SIGKILL when fink ends the generator's process group.
const GRACE: Duration = Duration::from_secs(5);

/// The exit code of a run stopped by Ctrl-C.
const EXIT_INTERRUPTED: i32 = 130;

/// The generator's time limit: `FINK_GENERATOR_TIMEOUT` seconds, else ten minutes.
fn generator_timeout() -> Result<Duration> {
    timeout_from(&std::env::var(GENERATOR_TIMEOUT_VAR).unwrap_or_default())
}

fn timeout_from(text: &str) -> Result<Duration> {
    if text.trim().is_empty() {
        return Ok(GENERATOR_TIMEOUT);
    }
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 31_536_000.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .ok_or_else(|| {
            Error::new(format!(
                "{GENERATOR_TIMEOUT_VAR} must be a number of seconds above 0 and at most 31536000 (a year), got '{text}'"
            ))
        })
}

/// The last SIGINT or SIGTERM that arrived while the generator ran (0: none).
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(signal: libc::c_int) {
    CAUGHT.store(signal, Ordering::SeqCst);
}

/// While the generator runs, Ctrl-C and SIGTERM are caught and passed on to its process group;
/// the old handlers come back when it ends.
struct Forwarding {
    old: [libc::sighandler_t; 2],
}

impl Forwarding {
    fn start() -> Forwarding {
        CAUGHT.store(0, Ordering::SeqCst);
        let handler = note_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `note_signal` only stores into an atomic, which is async-signal-safe.
        let old = unsafe { [libc::signal(libc::SIGINT, handler), libc::signal(libc::SIGTERM, handler)] };
        Forwarding { old }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        // SAFETY: puts back the handlers that were there before.
        unsafe {
            libc::signal(libc::SIGINT, self.old[0]);
            libc::signal(libc::SIGTERM, self.old[1]);
        }
    }
}

fn signal_group(group: u32, signal: libc::c_int) -> bool {
    // SAFETY: kill(2) of the generator's own process group (signal 0 only checks it exists).
    unsafe { libc::kill(-(group as libc::pid_t), signal) == 0 }
}

/// Ends the generator's process group: SIGTERM, then SIGKILL after [`GRACE`]; reaps it.
fn end_group(child: &mut Child) {
    let group = child.id();
    signal_group(group, libc::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        let _ = child.try_wait();
        if !signal_group(group, 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(group, libc::SIGKILL);
    let _ = child.wait();
}

/// A file only fink can read, removed from the folder at once (it lives while it is open).
fn scratch_file(what: &str) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let path = std::env::temp_dir().join(format!(
        "fink-generator-{}-{}-{nanos}.{what}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::SeqCst)
    ));
    let file =
        std::fs::OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path).map_err(|e| {
            Error::new(format!("cannot create {} for the template generator's {what}: {e}", path.display()))
        })?;
    let _ = std::fs::remove_file(&path);
    Ok(file)
}

/// What the generator wrote to `file`.
fn written(mut file: File) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.read_to_end(&mut bytes));
    bytes
}

/// Runs the generator in the project dir and returns what it printed.
fn generate(dir: &Path, command: &str, context: &Value, config: &Value) -> Result<String> {
    let limit = generator_timeout()?;
    let (stdout, stderr) = (scratch_file("stdout")?, scratch_file("stderr")?);
    let copy = |file: &File| {
        file.try_clone().map_err(|e| Error::new(format!("cannot capture the template generator's output: {e}")))
    };
    let (out, err) = (copy(&stdout)?, copy(&stderr)?);
    // Caught before the generator starts, so a Ctrl-C right after it began reaches it too.
    let forwarding = Forwarding::start();
    let mut child = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0)
        .spawn()
        .map_err(|e| Error::new(format!("cannot run template generator `{command}`: {e}")))?;
    // Private context keys (`_secrets` among them) stay inside fink.
    let public: serde_json::Map<String, Value> = context
        .as_object()
        .map(|m| m.iter().filter(|(k, _)| !k.starts_with('_')).map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let input = fink_plugin_api::json!({"context": public, "config": config}).to_string();
    if let Some(mut stdin) = child.stdin.take() {
        // On its own thread, not waited for: a generator that never reads its input cannot
        // block fink. One that ignores it may close stdin early; that is fine.
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
    }
    let started = Instant::now();
    let mut interrupted = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= limit => {
                end_group(&mut child);
                break None;
            }
            Ok(None) => {
                let caught = CAUGHT.swap(0, Ordering::SeqCst);
                if caught != 0 {
                    interrupted = true;
                    signal_group(child.id(), caught);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                end_group(&mut child);
                return Err(Error::new(format!("template generator `{command}`: {e}")));
            }
        }
    };
    drop(forwarding);
    let stderr = String::from_utf8_lossy(&written(stderr)).into_owned();
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
    let tail = if tail.is_empty() { String::new() } else { format!(":\n  {}", tail.join("\n  ")) };
    if interrupted {
        return Err(Error::new(format!("interrupted: template generator `{command}` was stopped"))
            .with_exit_code(EXIT_INTERRUPTED));
    }
    let Some(status) = status else {
        return Err(Error::new(format!(
            "template generator `{command}` timed out after {}: fink ended it{tail}",
            fink_plugin_api::human::seconds(limit)
        ))
        .with_help(format!("{GENERATOR_TIMEOUT_VAR} sets the limit in seconds (default 600)")));
    };
    if !status.success() {
        let code = status.code().map(|c| c.to_string()).unwrap_or_else(|| "a signal".into());
        return Err(Error::new(format!("template generator `{command}` failed with exit code {code}{tail}")));
    }
    let text = String::from_utf8(written(stdout))
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

pub(crate) fn from_yaml(value: serde_yaml::Value) -> Value {
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
    fn an_untrusted_project_runs_no_generator_and_says_how_to_trust_it() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let settings = Settings { generator: Some(format!("touch {}", marker.display())), ..Default::default() };
        let context = json!({"project_dir": "/home/ana/shop", "project_trusted": false});
        let err = load(dir.path(), &settings, &context, &json!({})).unwrap_err();
        assert!(err.message().starts_with("cloud.stack.generator (`touch "), "{}", err.message());
        assert!(err.message().ends_with("is the project's own code, and /home/ana/shop is not a trusted project"));
        assert_eq!(err.help(), Some("if you trust its code, run `fink trust /home/ana/shop`"));
        assert!(!marker.exists());
    }

    #[test]
    fn generators_get_context_and_config_and_failures_show_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            generator: Some("python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({\"Resources\": {d[\"context\"][\"env\"]: {\"Type\": \"T\"}}}))'".into()),
            ..Default::default()
        };
        let trusted = json!({"env": "dev", "project_trusted": true});
        let t = load(dir.path(), &settings, &trusted, &json!({})).unwrap();
        assert!(t.resources().contains_key("dev"));
        let failing = Settings { generator: Some("echo boom >&2; exit 3".into()), ..Default::default() };
        let err = load(dir.path(), &failing, &trusted, &json!({})).unwrap_err();
        assert_eq!(err.message(), "template generator `echo boom >&2; exit 3` failed with exit code 3:\n  boom");
    }

    #[test]
    fn a_generator_can_fill_stderr_and_leave_a_background_process() {
        let dir = tempfile::tempdir().unwrap();
        // 2 MiB on stderr before the template: a pipe read after the exit would block it.
        let command = "head -c 2097152 /dev/zero >&2; sleep 300 & echo $! > bg.pid; echo '{\"Resources\": {\"T\": {\"Type\": \"T\"}}}'";
        let settings = Settings { generator: Some(command.into()), ..Default::default() };
        let started = Instant::now();
        let t = load(dir.path(), &settings, &json!({"project_trusted": true}), &json!({})).unwrap();
        assert!(t.resources().contains_key("T"));
        assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
        let pid: libc::pid_t = std::fs::read_to_string(dir.path().join("bg.pid")).unwrap().trim().parse().unwrap();
        // SAFETY: ends the test's own background sleep.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }

    #[test]
    fn the_generator_timeout_comes_from_the_environment() {
        assert_eq!(timeout_from("").unwrap(), GENERATOR_TIMEOUT);
        assert_eq!(timeout_from("2.5").unwrap(), Duration::from_millis(2500));
        assert_eq!(
            timeout_from("1e30").unwrap_err().message(),
            "FINK_GENERATOR_TIMEOUT must be a number of seconds above 0 and at most 31536000 (a year), got '1e30'"
        );
    }
}
