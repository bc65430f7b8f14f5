//! The swagger file: a handlebars template (as gcdt's pybars one) filled with the API's name,
//! description, base path and hostname and each entry's invocation URI, then checked to be a
//! Swagger 2.0 or OpenAPI 3 document that names the API as the config does.
//!
//! Rendering is strict: a placeholder the config does not define is an error naming it and
//! `file:line`, before anything is sent to API Gateway.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fink_plugin_api::{Error, Result, Value};
use handlebars::{Handlebars, RenderErrorReason};

/// The file names looked for next to the config, in this order.
pub const DEFAULT_FILES: &[&str] = &["swagger.yaml", "swagger.yml", "swagger.json"];

/// The placeholder the API's hostname fills; unknown before the API exists.
pub const HOSTNAME: &str = "apiHostname";

/// The template as read from the project.
#[derive(Debug, Clone)]
pub struct Template {
    /// As the user wrote it (relative to the project), for messages.
    pub name: String,
    pub text: String,
}

/// What the placeholders stand for.
#[derive(Debug, Clone, Default)]
pub struct Values {
    pub name: String,
    pub description: String,
    pub base_path: String,
    /// `<id>.execute-api.<region>.amazonaws.com` or the custom domain; `None` for a new API.
    pub hostname: Option<String>,
    /// swaggerRef → the function alias's invocation URI.
    pub refs: BTreeMap<String, String>,
}

/// Why rendering failed.
#[derive(Debug)]
pub enum RenderFailure {
    /// The template needs `{{apiHostname}}` and the API does not exist yet.
    NeedsHostname,
    Failed(Error),
}

/// The filled-in document, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The text sent to API Gateway, exactly as rendered.
    pub text: String,
    pub value: Value,
}

impl Template {
    /// Reads `configured` (`api.swaggerFile`), else the first of [`DEFAULT_FILES`] in `project`.
    pub fn find(project: &Path, configured: Option<&str>) -> Result<Template> {
        let (name, path): (String, PathBuf) = match configured.filter(|c| !c.trim().is_empty()) {
            Some(file) => {
                let path = project.join(file);
                if !path.is_file() {
                    return Err(Error::new(format!("{file} (api.swaggerFile) does not exist"))
                        .with_help("the API definition is a swagger template; the path is relative to the project"));
                }
                (file.to_string(), path)
            }
            None => match DEFAULT_FILES.iter().map(|f| (f.to_string(), project.join(f))).find(|(_, p)| p.is_file()) {
                Some(found) => found,
                None => {
                    return Err(Error::new(format!(
                        "no swagger.yaml (or swagger.yml, swagger.json) in {}: the api tool deploys the API it defines",
                        project.display()
                    ))
                    .with_help("put the swagger template next to the config, or name it in api.swaggerFile"))
                }
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::new(format!("cannot read {name}: {e}")))?;
        Ok(Template { name, text })
    }

    /// Fills in the placeholders.
    pub fn render(&self, values: &Values) -> std::result::Result<String, RenderFailure> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        // A swagger document is not HTML.
        registry.register_escape_fn(handlebars::no_escape);
        registry.register_template_string(&self.name, &self.text).map_err(|e| {
            let at = location(&self.name, e.pos().map(|(line, _)| line));
            RenderFailure::Failed(Error::new(format!("{at}: not a valid template: {}", e.reason())))
        })?;
        let mut data = serde_json::Map::new();
        data.insert("apiName".into(), values.name.clone().into());
        data.insert("apiDescription".into(), values.description.clone().into());
        data.insert("apiBasePath".into(), values.base_path.clone().into());
        if let Some(hostname) = &values.hostname {
            data.insert(HOSTNAME.into(), hostname.clone().into());
        }
        for (name, uri) in &values.refs {
            data.insert(name.clone(), uri.clone().into());
        }
        registry.render(&self.name, &Value::Object(data)).map_err(|e| {
            let at = location(&self.name, e.line_no);
            match e.reason() {
                RenderErrorReason::MissingVariable(Some(name)) if name == HOSTNAME && values.hostname.is_none() => {
                    RenderFailure::NeedsHostname
                }
                RenderErrorReason::MissingVariable(name) => {
                    let name = name.clone().unwrap_or_default();
                    RenderFailure::Failed(
                        Error::new(format!("{at}: unknown placeholder {{{{{name}}}}}"))
                            .with_help(known_placeholders(values)),
                    )
                }
                other => RenderFailure::Failed(Error::new(format!("{at}: {other}"))),
            }
        })
    }

    /// Renders with stand-ins for what only AWS knows, to find unknown placeholders and syntax
    /// errors before any call. The title is checked unless the API's name is still a lookup.
    pub fn check(&self, values: &Values) -> Result<()> {
        let mut values = values.clone();
        values.hostname.get_or_insert_with(|| "example.execute-api.us-east-1.amazonaws.com".into());
        let rendered = self.render(&values).map_err(|failure| match failure {
            RenderFailure::Failed(e) => e,
            RenderFailure::NeedsHostname => Error::new(format!("{}: apiHostname has no value", self.name)),
        })?;
        let name = Some(values.name.as_str()).filter(|n| !n.starts_with("lookup:"));
        self.parse(rendered, name).map(|_| ())
    }

    /// Parses the rendered text: Swagger 2.0 or OpenAPI 3, titled with the API's name (when given).
    pub fn parse(&self, text: String, api_name: Option<&str>) -> Result<Document> {
        let value: Value = serde_yaml::from_str(&text).map_err(|e| {
            let at = location(&self.name, e.location().map(|l| l.line()));
            Error::new(format!(
                "{at}: not YAML or JSON after filling in the placeholders: {}",
                first_line(&e.to_string())
            ))
        })?;
        let swagger = value.get("swagger").map(scalar);
        let openapi = value.get("openapi").map(scalar);
        let supported = swagger.as_deref() == Some("2.0") || openapi.as_deref().is_some_and(|v| v.starts_with('3'));
        if !supported {
            return Err(Error::new(format!("{}: not a Swagger 2.0 or OpenAPI 3 document", self.name))
                .with_help("start it with `swagger: \"2.0\"` or `openapi: 3.0.1`"));
        }
        // API Gateway names the API after info.title; another title would make a second API.
        let title = value.pointer("/info/title").map(scalar).unwrap_or_default();
        if let Some(api_name) = api_name.filter(|name| title != *name) {
            return Err(Error::new(format!("{}: info.title is '{title}' but api.api.name is '{api_name}'", self.name))
                .with_help("API Gateway names the API after info.title: write `title: \"{{apiName}}\"`"));
        }
        Ok(Document { text, value })
    }
}

/// `swagger.yaml:12`, or the file alone when the line is unknown.
fn location(file: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{file}:{line}"),
        None => file.to_string(),
    }
}

fn known_placeholders(values: &Values) -> String {
    let mut names = vec!["apiName", "apiDescription", "apiBasePath", HOSTNAME];
    names.extend(values.refs.keys().map(String::as_str));
    format!(
        "known placeholders: {}; a function's URI is the swaggerRef of its api.lambda.entries entry",
        names.join(", ")
    )
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "openapi: 3.0.1\ninfo:\n  title: \"{{apiName}}\"\n  description: \"{{apiDescription}}\"\n\
                       servers:\n  - url: https://{{apiHostname}}{{apiBasePath}}\npaths:\n  /hi:\n    get:\n      \
                       x-amazon-apigateway-integration:\n        uri: \"{{helloRef}}\"\n";

    fn template(text: &str) -> Template {
        Template { name: "swagger.yaml".into(), text: text.into() }
    }

    fn values() -> Values {
        Values {
            name: "shop".into(),
            description: "a <b> & c".into(),
            base_path: "/dev".into(),
            hostname: Some("abc.execute-api.eu-west-1.amazonaws.com".into()),
            refs: BTreeMap::from([("helloRef".to_string(), "arn:aws:apigateway:x/invocations".to_string())]),
        }
    }

    #[test]
    fn fills_every_placeholder_without_escaping() {
        let text = template(DOC).render(&values()).unwrap();
        assert!(text.contains("title: \"shop\""), "{text}");
        assert!(text.contains("description: \"a <b> & c\""), "{text}");
        assert!(text.contains("url: https://abc.execute-api.eu-west-1.amazonaws.com/dev"), "{text}");
        assert!(text.contains("uri: \"arn:aws:apigateway:x/invocations\""), "{text}");
        let doc = template(DOC).parse(text, Some("shop")).unwrap();
        assert_eq!(
            doc.value["paths"]["/hi"]["get"]["x-amazon-apigateway-integration"]["uri"],
            "arn:aws:apigateway:x/invocations"
        );
    }

    #[test]
    fn an_unknown_placeholder_names_itself_and_its_line() {
        let t = template(&DOC.replace("{{helloRef}}", "{{byeRef}}"));
        let Err(RenderFailure::Failed(err)) = t.render(&values()) else { panic!("must fail") };
        assert_eq!(err.message(), "swagger.yaml:11: unknown placeholder {{byeRef}}");
        assert!(err.help().unwrap().contains("helloRef"), "{:?}", err.help());
        assert_eq!(t.check(&values()).unwrap_err().message(), "swagger.yaml:11: unknown placeholder {{byeRef}}");
    }

    #[test]
    fn a_new_api_has_no_hostname_yet() {
        let mut v = values();
        v.hostname = None;
        assert!(matches!(template(DOC).render(&v), Err(RenderFailure::NeedsHostname)));
        // The check stands in for it.
        template(DOC).check(&v).unwrap();
    }

    #[test]
    fn a_broken_template_or_document_names_the_file() {
        let err = template("swagger: \"2.0\"\n{{#if apiName}}\n").check(&values()).unwrap_err();
        assert!(err.message().starts_with("swagger.yaml:"), "{}", err.message());
        assert!(err.message().contains("not a valid template"), "{}", err.message());
        let err = template("openapi: 3.0.1\ninfo: [\n").check(&values()).unwrap_err();
        assert!(err.message().starts_with("swagger.yaml:"), "{}", err.message());
        let err = template("info:\n  title: shop\n").check(&values()).unwrap_err();
        assert_eq!(err.message(), "swagger.yaml: not a Swagger 2.0 or OpenAPI 3 document");
        let err = template("swagger: '2.0'\ninfo:\n  title: other\n").check(&values()).unwrap_err();
        assert_eq!(err.message(), "swagger.yaml: info.title is 'other' but api.api.name is 'shop'");
    }

    #[test]
    fn finds_the_default_file_or_the_configured_one() {
        let dir = tempfile::tempdir().unwrap();
        let err = Template::find(dir.path(), None).unwrap_err();
        assert!(err.message().starts_with("no swagger.yaml (or swagger.yml, swagger.json) in "), "{}", err.message());
        std::fs::write(dir.path().join("swagger.json"), "{}").unwrap();
        assert_eq!(Template::find(dir.path(), None).unwrap().name, "swagger.json");
        let err = Template::find(dir.path(), Some("api/def.yaml")).unwrap_err();
        assert_eq!(err.message(), "api/def.yaml (api.swaggerFile) does not exist");
    }
}
