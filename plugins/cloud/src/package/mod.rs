//! Packaging, as `aws cloudformation package`, SAM and Rain do it: before `deploy`, `preview`
//! and `generate`, every property of [`properties::PROPERTIES`] that names a local file or folder
//! (relative to its template's folder, never outside the project) is uploaded to
//! `cloud.stack.artifactBucket` under `cloud.stack.artifactPrefix` and replaced by its S3
//! location; a local nested template is packaged the same way first. Rain's directives are
//! handled on the way ([`rain`]).
//!
//! Three passes per template: find what needs packaging (every error comes here, before any
//! upload), produce and hash the artifacts in parallel (zipping folders, packaging nested
//! templates), then put the locations in. Keys are the content's SHA-256, so [`upload`] skips an
//! object that is already there.

pub mod artifact;
pub mod properties;
pub mod rain;
pub mod upload;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fink_plugin_api::{Error, Result, Value};
use rayon::prelude::*;

use crate::settings::Settings;
use crate::template::Template;
use artifact::Local;
use properties::Content;

/// CloudFormation's limit for a template read from S3.
pub const TEMPLATE_LIMIT: u64 = 1_048_576;

/// Where packaged objects go unless `cloud.stack.artifactPrefix` says otherwise.
pub const DEFAULT_PREFIX: &str = "fink/cloud/artifacts";

/// Marks a value that pass 3 replaces; a template cannot hold a NUL character.
const MARK: &str = "\u{0}fink-package:";

/// How an S3 location is written where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    Url,
    Uri,
    Object { bucket: String, key: String },
}

impl From<properties::Form> for Shape {
    fn from(form: properties::Form) -> Shape {
        match form {
            properties::Form::Url => Shape::Url,
            properties::Form::Uri => Shape::Uri,
            properties::Form::Object { bucket, key } => Shape::Object { bucket: bucket.into(), key: key.into() },
        }
    }
}

/// One object to put into the bucket.
#[derive(Debug, Clone)]
pub struct Upload {
    pub key: String,
    pub bytes: Arc<Vec<u8>>,
    /// What it is, for messages: `src/ (zipped)`, `stacks/network.yaml (packaged)`.
    pub what: String,
}

/// A template after packaging.
#[derive(Debug, Clone)]
pub struct Packaged {
    pub doc: Value,
    /// The text to send: the original when nothing changed, else the packaged JSON.
    pub body: String,
    /// Every upload of the tree, each key once.
    pub uploads: Vec<Upload>,
    /// The local nested templates, by the logical id of their stack resource.
    pub nested: Vec<Nested>,
}

/// A nested template packaged from a local file.
#[derive(Debug, Clone)]
pub struct Nested {
    pub logical_id: String,
    pub source: String,
    pub packaged: Packaged,
}

/// Where uploads go.
#[derive(Debug, Clone)]
pub struct Target {
    /// `None` when the config names no bucket: then any upload is an error.
    pub bucket: Option<String>,
    /// Empty, or ends with `/`.
    pub prefix: String,
    /// For HTTPS URLs; without it they are the global `https://<bucket>.s3.amazonaws.com/<key>`.
    pub region: Option<String>,
}

impl Target {
    pub fn new(settings: &Settings, region: Option<String>) -> Target {
        let bucket = settings.artifact_bucket.clone().filter(|b| !b.trim().is_empty());
        let prefix = settings.artifact_prefix.clone().unwrap_or_else(|| DEFAULT_PREFIX.to_string());
        let prefix = prefix.trim_matches('/').to_string();
        Target { bucket, prefix: if prefix.is_empty() { prefix } else { format!("{prefix}/") }, region }
    }

    fn value(&self, bucket: &str, key: &str, shape: &Shape) -> Value {
        match shape {
            Shape::Uri => Value::String(format!("s3://{bucket}/{key}")),
            Shape::Url => Value::String(match &self.region {
                Some(region) => format!("https://{bucket}.s3.{region}.amazonaws.com/{key}"),
                None => format!("https://{bucket}.s3.amazonaws.com/{key}"),
            }),
            Shape::Object { bucket: b, key: k } => {
                let mut map = serde_json::Map::new();
                map.insert(b.clone(), Value::String(bucket.to_string()));
                map.insert(k.clone(), Value::String(key.to_string()));
                Value::Object(map)
            }
        }
    }
}

/// Whether the template has nested stacks (whose events `deploy` follows).
pub fn has_nested(doc: &Value) -> bool {
    doc.get("Resources").and_then(Value::as_object).is_some_and(|resources| {
        resources.values().any(|r| {
            let kind = r.get("Type").and_then(Value::as_str);
            kind == Some("AWS::CloudFormation::Stack") || kind == Some("AWS::Serverless::Application")
        })
    })
}

/// Whether the template names anything to package (cheap: reads nothing).
pub fn needed(doc: &Value) -> bool {
    fn rain_anywhere(value: &Value) -> bool {
        match value {
            Value::Object(map) => {
                map.iter().any(|(k, v)| k.strip_prefix("Fn::").unwrap_or(k).starts_with("Rain::") || rain_anywhere(v))
            }
            Value::Array(items) => items.iter().any(rain_anywhere),
            _ => false,
        }
    }
    let local_property = doc.get("Resources").and_then(Value::as_object).is_some_and(|resources| {
        resources.values().any(|r| {
            let kind = r.get("Type").and_then(Value::as_str).unwrap_or_default();
            properties::of(kind).any(|p| slot(r, p.path).and_then(Value::as_str).is_some_and(artifact::is_local))
        })
    });
    local_property || doc.get("Rain").is_some() || rain_anywhere(doc) || !includes(doc).is_empty()
}

fn slot<'v>(resource: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(resource.get("Properties")?, |v, k| v.get(k))
}

fn slot_mut<'v>(resource: &'v mut Value, path: &[&str]) -> Option<&'v mut Value> {
    path.iter().try_fold(resource.get_mut("Properties")?, |v, k| v.get_mut(k))
}

/// The JSON pointers of the local `AWS::Include` locations anywhere in a template.
fn includes(doc: &Value) -> Vec<String> {
    fn walk(value: &Value, pointer: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.get("Name").and_then(Value::as_str) == Some("AWS::Include") {
                    let location = map.get("Parameters").and_then(|p| p.get("Location")).and_then(Value::as_str);
                    if location.is_some_and(artifact::is_local) {
                        out.push(format!("{pointer}/Parameters/Location"));
                    }
                }
                for (k, v) in map {
                    walk(v, format!("{pointer}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{pointer}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, String::new(), &mut out);
    out
}

/// One local path to upload.
struct Need {
    place: String,
    local: Local,
    content: Content,
    shape: Shape,
    /// The stack resource, for a nested template.
    logical_id: Option<String>,
}

/// An artifact produced and hashed.
struct Done {
    key: String,
    bytes: Arc<Vec<u8>>,
    what: String,
    nested: Option<Nested>,
}

/// Packages templates for one project.
pub struct Packager {
    /// The project folder, canonical: no path may leave it.
    root: PathBuf,
    target: Target,
    /// Without a bucket, uploads are drawn to a placeholder bucket instead of being an error
    /// (for `cloud dot`, which uploads nothing).
    placeholder_bucket: bool,
}

impl Packager {
    pub fn new(root: &Path, target: Target) -> Packager {
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        Packager { root, target, placeholder_bucket: false }
    }

    /// For drawing: a missing bucket is no error.
    pub fn drawing(mut self) -> Packager {
        self.placeholder_bucket = true;
        self
    }

    /// Packages the project's template (its folder: that of `settings.template`, else the project).
    pub fn template(&self, settings: &Settings, template: &Template) -> Result<Packaged> {
        let base = match &settings.template {
            Some(file) if settings.generator.is_none() => {
                self.root.join(file).parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone())
            }
            _ => self.root.clone(),
        };
        let file = self.root.join(&template.source);
        let chain: Vec<(PathBuf, String)> = match std::fs::canonicalize(&file) {
            Ok(path) if file.is_file() => vec![(path, template.source.clone())],
            _ => Vec::new(),
        };
        self.package(template.doc.clone(), &template.body, &template.source, &base, &chain)
    }

    fn display(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }

    fn package(
        &self,
        mut doc: Value,
        body: &str,
        source: &str,
        base: &Path,
        chain: &[(PathBuf, String)],
    ) -> Result<Packaged> {
        let mut needs = Vec::new();
        let mut changed = false;
        let sections: Vec<String> = doc.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
        for section in &sections {
            if section == "Rain" {
                return Err(rain::unsupported(section, &format!("{source}: section {section}")));
            }
            if section == "Resources" {
                let ids: Vec<String> =
                    doc[section].as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
                for id in ids {
                    let place = format!("{source}: resource {id}");
                    self.directives(&mut doc[section][&id], base, &place, &mut needs, &mut changed, &mut Vec::new())?;
                }
            } else {
                let place = format!("{source}: {section}");
                self.directives(&mut doc[section], base, &place, &mut needs, &mut changed, &mut Vec::new())?;
            }
        }
        self.properties(&mut doc, base, source, &mut needs)?;
        for pointer in includes(&doc) {
            let Some(slot) = doc.pointer_mut(&pointer) else { continue };
            let written = slot.as_str().unwrap_or_default().to_string();
            let place = format!("{source}: the AWS::Include transform at {pointer}");
            let local = artifact::resolve(&self.root, base, &written, &place)?;
            if local.is_dir {
                return Err(Error::new(format!("{place}: '{written}' is a folder; Location takes a file")));
            }
            *slot = mark(needs.len());
            let (content, shape) = (properties::INCLUDE.content, properties::INCLUDE.form.into());
            needs.push(Need { place, local, content, shape, logical_id: None });
        }
        if needs.is_empty() && !changed {
            return Ok(Packaged { doc, body: body.to_string(), uploads: Vec::new(), nested: Vec::new() });
        }
        let bucket = match (&self.target.bucket, needs.first()) {
            (Some(bucket), _) => bucket.clone(),
            (None, Some(need)) if !self.placeholder_bucket => {
                return Err(Error::new(format!(
                    "{}: uploading the local path '{}' needs cloud.stack.artifactBucket",
                    need.place, need.local.written
                ))
                .with_help("set cloud.stack.artifactBucket to an S3 bucket fink may upload to"))
            }
            (None, _) => "<artifactBucket>".to_string(),
        };
        let done: Vec<Result<Done>> = needs.par_iter().map(|need| self.produce(need, chain)).collect();
        let mut uploads = BTreeMap::new();
        let mut values = Vec::with_capacity(done.len());
        let mut nested = Vec::new();
        for (need, done) in needs.iter().zip(done) {
            let done = done?;
            values.push(self.target.value(&bucket, &done.key, &need.shape));
            if let Some(child) = done.nested {
                for upload in &child.packaged.uploads {
                    uploads.entry(upload.key.clone()).or_insert_with(|| upload.clone());
                }
                nested.push(child);
            }
            uploads.entry(done.key.clone()).or_insert(Upload { key: done.key, bytes: done.bytes, what: done.what });
        }
        replace_marks(&mut doc, &values);
        let body = serde_json::to_string_pretty(&doc).map_err(|e| Error::new(format!("{source}: {e}")))?;
        Ok(Packaged { doc, body, uploads: uploads.into_values().collect(), nested })
    }

    /// The properties of the table that name a local path become marks.
    fn properties(&self, doc: &mut Value, base: &Path, source: &str, needs: &mut Vec<Need>) -> Result<()> {
        let Some(resources) = doc.get_mut("Resources").and_then(Value::as_object_mut) else { return Ok(()) };
        for (id, resource) in resources.iter_mut() {
            let kind = resource.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            for property in properties::of(&kind) {
                let Some(slot) = slot_mut(resource, property.path) else { continue };
                let Some(written) = slot.as_str().filter(|t| !t.starts_with(MARK) && artifact::is_local(t)) else {
                    continue;
                };
                let written = written.to_string();
                let place = format!("{source}: resource {id} property {}", property.name());
                let local = artifact::resolve(&self.root, base, &written, &place)?;
                if local.is_dir && matches!(property.content, Content::File | Content::Template) {
                    return Err(Error::new(format!(
                        "{place}: '{written}' is a folder; {} takes a file",
                        property.name()
                    )));
                }
                *slot = mark(needs.len());
                let logical_id = (property.content == Content::Template).then(|| id.clone());
                needs.push(Need { place, local, content: property.content, shape: property.form.into(), logical_id });
            }
        }
        Ok(())
    }

    /// Rain's directives in `value`, handled in place; uploads become marks and needs.
    fn directives(
        &self,
        value: &mut Value,
        base: &Path,
        place: &str,
        needs: &mut Vec<Need>,
        changed: &mut bool,
        included: &mut Vec<PathBuf>,
    ) -> Result<()> {
        match value {
            Value::Object(map) => {
                if let Some((name, argument)) = rain::directive(map) {
                    let (name, argument) = (name.to_string(), argument.clone());
                    *changed = true;
                    *value = self.directive(&name, &argument, base, place, needs, changed, included)?;
                    return Ok(());
                }
                if let Some(key) = map.keys().find(|k| k.strip_prefix("Fn::").unwrap_or(k).starts_with("Rain::")) {
                    return Err(rain::unsupported(key.strip_prefix("Fn::").unwrap_or(key), place));
                }
                for child in map.values_mut() {
                    self.directives(child, base, place, needs, changed, included)?;
                }
            }
            Value::Array(items) => {
                for child in items {
                    self.directives(child, base, place, needs, changed, included)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn directive(
        &self,
        name: &str,
        argument: &Value,
        base: &Path,
        place: &str,
        needs: &mut Vec<Need>,
        changed: &mut bool,
        included: &mut Vec<PathBuf>,
    ) -> Result<Value> {
        let path =
            || argument.as_str().map(String::from).ok_or_else(|| Error::new(format!("{place}: {name} takes a path")));
        match name {
            "Rain::Env" => rain::env(argument, place),
            "Rain::Embed" | "Rain::Include" => {
                let written = path()?;
                let here = format!("{place}: {name} '{written}'");
                let local = artifact::resolve(&self.root, base, &written, &format!("{place}: {name}"))?;
                if local.is_dir {
                    return Err(Error::new(format!("{here}: is a folder, not a file")));
                }
                let bytes = artifact::read(&local.path, TEMPLATE_LIMIT, &format!("{place}: {name}"), "file")?;
                let text =
                    String::from_utf8(bytes).map_err(|_| Error::new(format!("{here}: the file is not UTF-8 text")))?;
                if name == "Rain::Embed" {
                    return Ok(Value::String(text));
                }
                if included.contains(&local.path) {
                    return Err(Error::new(format!("{here}: includes itself")));
                }
                let mut data = rain::parse_data(&text, &self.display(&local.path))?;
                let folder = local.path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
                included.push(local.path.clone());
                self.directives(&mut data, &folder, place, needs, changed, included)?;
                included.pop();
                Ok(data)
            }
            "Rain::S3" | "Rain::S3Http" => {
                let request = rain::s3_request(name, argument, place)?;
                let place = format!("{place}: {name}");
                let local = artifact::resolve(&self.root, base, &request.path, &place)?;
                let index = needs.len();
                needs.push(Need { place, local, content: request.content, shape: request.shape, logical_id: None });
                Ok(mark(index))
            }
            other => Err(rain::unsupported(other, place)),
        }
    }

    /// Produces and hashes one artifact (a nested template is packaged first).
    fn produce(&self, need: &Need, chain: &[(PathBuf, String)]) -> Result<Done> {
        let local = &need.local;
        let shown = self.display(&local.path);
        let extension = || {
            local
                .path
                .extension()
                .map(|e| e.to_string_lossy().to_ascii_lowercase())
                .filter(|e| !e.is_empty() && e.len() <= 10 && e.chars().all(|c| c.is_ascii_alphanumeric()))
                .map(|e| format!(".{e}"))
                .unwrap_or_default()
        };
        let read = || artifact::read(&local.path, artifact::ARTIFACT_LIMIT, &need.place, "file");
        let (bytes, ext, what, nested) = match need.content {
            Content::Template => {
                if chain.iter().any(|(path, _)| *path == local.path) {
                    let mut names: Vec<&str> = chain.iter().map(|(_, name)| name.as_str()).collect();
                    names.push(&shown);
                    return Err(Error::new(format!("nested templates form a cycle: {}", names.join(" -> "))));
                }
                let bytes = artifact::read(&local.path, TEMPLATE_LIMIT, &need.place, "template")?;
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::new(format!("{}: the template {shown} is not UTF-8 text", need.place)))?;
                let template = crate::template::parse(&text, &shown)?;
                let folder = local.path.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone());
                let mut inner = chain.to_vec();
                inner.push((local.path.clone(), shown.clone()));
                let packaged = self.package(template.doc, &text, &shown, &folder, &inner)?;
                if packaged.body.len() as u64 > TEMPLATE_LIMIT {
                    return Err(Error::new(format!(
                        "{}: the packaged template {shown} is {} bytes, more than CloudFormation's {TEMPLATE_LIMIT}",
                        need.place,
                        packaged.body.len()
                    )));
                }
                let nested = need.logical_id.clone().map(|logical_id| Nested {
                    logical_id,
                    source: shown.clone(),
                    packaged: packaged.clone(),
                });
                (packaged.body.into_bytes(), ".template".to_string(), format!("{shown} (packaged)"), nested)
            }
            Content::File => (read()?, extension(), shown.clone(), None),
            Content::FolderZipped | Content::Zip if local.is_dir => {
                let zipped = artifact::zip_folder(&self.root, &local.path, &need.place)?;
                (zipped, ".zip".to_string(), format!("{shown}/ (zipped)"), None)
            }
            Content::FolderZipped => (read()?, extension(), shown.clone(), None),
            Content::Zip => {
                let bytes = read()?;
                if artifact::is_zip(&bytes) {
                    (bytes, extension(), shown.clone(), None)
                } else {
                    let zipped = artifact::zip_file(&local.path, bytes, &need.place)?;
                    (zipped, ".zip".to_string(), format!("{shown} (zipped)"), None)
                }
            }
        };
        let key = format!("{}{}{ext}", self.target.prefix, artifact::sha256(&bytes));
        Ok(Done { key, bytes: Arc::new(bytes), what, nested })
    }
}

fn mark(index: usize) -> Value {
    Value::String(format!("{MARK}{index}"))
}

fn replace_marks(value: &mut Value, values: &[Value]) {
    match value {
        Value::String(s) => {
            if let Some(index) = s.strip_prefix(MARK).and_then(|i| i.parse::<usize>().ok()) {
                if let Some(new) = values.get(index) {
                    *value = new.clone();
                }
            }
        }
        Value::Object(map) => map.values_mut().for_each(|v| replace_marks(v, values)),
        Value::Array(items) => items.iter_mut().for_each(|v| replace_marks(v, values)),
        _ => {}
    }
}

/// The template with its packaged text and content.
pub fn apply(template: &Template, packaged: &Packaged) -> Template {
    Template { body: packaged.body.clone(), doc: packaged.doc.clone(), ..template.clone() }
}

/// Packages and uploads (for `deploy` and `preview`): the template as CloudFormation gets it.
pub async fn prepare(
    config: &aws_config::SdkConfig,
    root: &Path,
    settings: &Settings,
    template: Template,
) -> Result<Template> {
    if !needed(&template.doc) {
        return Ok(template);
    }
    let target = Target::new(settings, fink_aws::region(config).ok());
    let packaged = Packager::new(root, target.clone()).template(settings, &template)?;
    if let Some(bucket) = &target.bucket {
        upload::upload(config, bucket, &packaged.uploads).await?;
    }
    Ok(apply(&template, &packaged))
}

/// For `cloud generate`: packaged, and uploaded unless `upload` is false (then it shows what
/// would go where). A template with nothing to package needs no AWS.
pub fn for_generate(root: &Path, settings: &Settings, template: Template, upload: bool) -> Result<Template> {
    if !needed(&template.doc) {
        return Ok(template);
    }
    let root = root.to_path_buf();
    let settings = settings.clone();
    fink_aws::run(None, |config| async move {
        if upload {
            return prepare(&config, &root, &settings, template).await;
        }
        let target = Target::new(&settings, fink_aws::region(&config).ok());
        let packaged = Packager::new(&root, target.clone()).template(&settings, &template)?;
        upload::show(target.bucket.as_deref().unwrap_or_default(), &packaged.uploads);
        Ok(apply(&template, &packaged))
    })
}

/// For `cloud dot`: the local nested templates (nothing uploaded, no bucket needed).
pub fn nested_for_drawing(root: &Path, settings: &Settings, template: &Template) -> Result<Vec<crate::dot::Child>> {
    if !needed(&template.doc) {
        return Ok(Vec::new());
    }
    let packaged = Packager::new(root, Target::new(settings, None)).drawing().template(settings, template)?;
    fn children(nested: &[Nested]) -> Vec<crate::dot::Child> {
        nested
            .iter()
            .map(|n| crate::dot::Child {
                logical_id: n.logical_id.clone(),
                source: n.source.clone(),
                resources: n.packaged.doc.get("Resources").and_then(Value::as_object).cloned().unwrap_or_default(),
                children: children(&n.packaged.nested),
            })
            .collect()
    }
    Ok(children(&packaged.nested))
}

#[cfg(test)]
mod tests;
