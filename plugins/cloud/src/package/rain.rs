//! Rain's directives, with the meaning Rain's `pkg` gives them: `Rain::Embed` (a file's text),
//! `Rain::Include` (a YAML/JSON file inserted as data), `Rain::Env` (an environment variable),
//! `Rain::S3` and `Rain::S3Http` (an upload; its `s3://` URI or HTTPS URL, or with `BucketProperty`
//! and `KeyProperty` an object). Any other `Rain::` directive is an error: it is never sent to
//! CloudFormation.

use fink_plugin_api::{Error, Result, Value};

use super::properties::Content;
use super::Shape;

/// The directives fink supports, for messages and docs/cloud.md.
pub const SUPPORTED: &[&str] = &["Rain::Embed", "Rain::Include", "Rain::Env", "Rain::S3", "Rain::S3Http"];

/// The directive a one-key object is, `Rain::Embed` for both `{"Rain::Embed": ..}` (JSON) and
/// `{"Fn::Rain::Embed": ..}` (the YAML tag `!Rain::Embed` as the template reader spells it).
pub fn directive(map: &serde_json::Map<String, Value>) -> Option<(&str, &Value)> {
    if map.len() != 1 {
        return None;
    }
    let (key, value) = map.iter().next()?;
    let name = key.strip_prefix("Fn::").unwrap_or(key);
    name.starts_with("Rain::").then_some((name, value))
}

/// What a `Rain::S3`/`Rain::S3Http` directive asks for.
#[derive(Debug)]
pub struct S3Request {
    pub path: String,
    pub content: Content,
    pub shape: Shape,
}

/// Reads the argument of `Rain::S3` (a path, or the object form) or `Rain::S3Http` (a path).
pub fn s3_request(name: &str, argument: &Value, place: &str) -> Result<S3Request> {
    let bad = |what: &str| Error::new(format!("{place}: {name} {what}"));
    if let Some(path) = argument.as_str() {
        let shape = if name == "Rain::S3Http" { Shape::Url } else { Shape::Uri };
        return Ok(S3Request { path: path.to_string(), content: Content::FolderZipped, shape });
    }
    let Some(object) = argument.as_object().filter(|_| name == "Rain::S3") else {
        return Err(bad("takes a path (Rain::S3 also an object with Path)"));
    };
    for key in object.keys() {
        if !["Path", "Zip", "BucketProperty", "KeyProperty", "Format"].contains(&key.as_str()) {
            return Err(bad(&format!(
                "has an unknown key '{key}' (known: Path, Zip, BucketProperty, KeyProperty, Format)"
            )));
        }
    }
    let text = |key: &str| -> Result<Option<String>> {
        match object.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(&format!("{key} must be a string"))),
        }
    };
    let path = text("Path")?.ok_or_else(|| bad("needs Path"))?;
    let zip = match object.get("Zip") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(bad("Zip must be true or false")),
    };
    let shape = match (text("BucketProperty")?, text("KeyProperty")?) {
        (Some(bucket), Some(key)) => Shape::Object { bucket, key },
        (None, None) => match text("Format")?.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("uri") => Shape::Uri,
            Some("http" | "https") => Shape::Url,
            Some(_) => return Err(bad("Format must be URI or Http")),
        },
        _ => return Err(bad("needs both BucketProperty and KeyProperty, or neither")),
    };
    Ok(S3Request { path, content: if zip { Content::Zip } else { Content::FolderZipped }, shape })
}

/// `Rain::Env NAME`: the variable's value.
pub fn env(argument: &Value, place: &str) -> Result<Value> {
    let name = argument.as_str().ok_or_else(|| Error::new(format!("{place}: Rain::Env takes a variable name")))?;
    std::env::var(name)
        .map(Value::String)
        .map_err(|_| Error::new(format!("{place}: Rain::Env {name}: the environment variable is not set")))
}

/// A directive fink does not support.
pub fn unsupported(name: &str, place: &str) -> Error {
    Error::new(format!("{place}: the Rain directive {name} is not supported (fink supports {})", SUPPORTED.join(", ")))
}

/// The parsed content of a YAML or JSON file for `Rain::Include` (YAML short tags as the template
/// reader reads them).
pub fn parse_data(text: &str, file: &str) -> Result<Value> {
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Ok(value);
    }
    let yaml: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| {
        let at = e.location().map(|l| format!(":{}:{}", l.line(), l.column())).unwrap_or_default();
        Error::new(format!("{file}{at}: {e}"))
    })?;
    Ok(crate::template::from_yaml(yaml))
}

/// Docs' table of the directives (docs/cloud.md shows it; a unit test keeps them the same).
#[cfg(test)]
pub fn markdown() -> String {
    "| Directive | Becomes |\n|---|---|\n\
     | `!Rain::Embed <path>` | the file's text, as a string |\n\
     | `!Rain::Include <path>` | the YAML or JSON file's content, as data (its own directives handled too) |\n\
     | `!Rain::Env <name>` | the environment variable's value (unset: an error) |\n\
     | `!Rain::S3 <path>` | uploaded (a folder zipped): `s3://<bucket>/<key>` |\n\
     | `!Rain::S3 {Path, Zip, BucketProperty, KeyProperty, Format}` | uploaded (`Zip: true` zips a file too): `{<BucketProperty>: <bucket>, <KeyProperty>: <key>}` with both properties, else `s3://<bucket>/<key>` (`Format: URI`) or `https://<bucket>.s3.<region>.amazonaws.com/<key>` (`Format: Http`) |\n\
     | `!Rain::S3Http <path>` | uploaded (a folder zipped): `https://<bucket>.s3.<region>.amazonaws.com/<key>` |\n\
     | any other (`!Rain::Module`, `!Rain::Constant`, a `Rain` section, ...) | an error naming it, the file and the resource |\n"
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn the_object_form_reads_every_key() {
        let r = s3_request(
            "Rain::S3",
            &json!({"Path": "src", "Zip": true, "BucketProperty": "S3Bucket", "KeyProperty": "S3Key"}),
            "t",
        )
        .unwrap();
        assert_eq!((r.path.as_str(), r.content), ("src", Content::Zip));
        assert!(matches!(r.shape, Shape::Object { ref bucket, ref key } if bucket == "S3Bucket" && key == "S3Key"));
        let r = s3_request("Rain::S3", &json!({"Path": "f.txt", "Format": "Http"}), "t").unwrap();
        assert!(matches!(r.shape, Shape::Url));
        let err =
            s3_request("Rain::S3", &json!({"Path": "f", "BucketProperty": "B"}), "t.yaml: resource R").unwrap_err();
        assert_eq!(err.message(), "t.yaml: resource R: Rain::S3 needs both BucketProperty and KeyProperty, or neither");
    }

    #[test]
    fn docs_cloud_md_shows_the_directive_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/cloud.md");
        assert!(std::fs::read_to_string(path).unwrap().contains(&markdown()), "{}", markdown());
    }
}
