//! `api export [--output FILE] [--type swagger|oas30]`: the stage's definition with API Gateway's
//! extensions (integrations, authorizers), as JSON, or YAML when the file ends in .yaml/.yml.

use std::path::Path;

use aws_sdk_apigateway::Client;
use fink_plugin_api::{outln, Error, Result, Value};

/// Where `api export` writes without `--output`: the file gcdt's `yugen export` wrote.
pub const DEFAULT_FILE: &str = "swagger_export.yaml";

/// The formats API Gateway exports.
pub const TYPES: &[&str] = &["swagger", "oas30"];

/// The exported document, as text in the format `output` asks for.
pub async fn export(
    client: &Client,
    api_id: &str,
    api_name: &str,
    stage: &str,
    kind: &str,
    yaml: bool,
) -> Result<String> {
    let out = match client
        .get_export()
        .rest_api_id(api_id)
        .stage_name(stage)
        .export_type(kind)
        .parameters("extensions", "apigateway")
        .accepts("application/json")
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if fink_aws::code(&e) == Some("NotFoundException") => {
            return Err(Error::new(format!("API '{api_name}' has no stage {stage} to export"))
                .with_help("run `fink api deploy` first (api.api.targetStage names the stage)"))
        }
        Err(e) => return Err(fink_aws::explain(&e)),
    };
    let body = out.body().map(|b| b.as_ref().to_vec()).unwrap_or_default();
    let document: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::new(format!("API Gateway's export of '{api_name}' is not JSON: {e}")))?;
    let text = if yaml {
        serde_yaml::to_string(&document).map_err(|e| Error::new(e.to_string()))?
    } else {
        format!("{}\n", serde_json::to_string_pretty(&document).map_err(|e| Error::new(e.to_string()))?)
    };
    Ok(text)
}

/// Whether the output file asks for YAML.
pub fn wants_yaml(output: Option<&Path>) -> bool {
    output.and_then(Path::extension).and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml"))
}

/// Writes to `output` (relative to the project) or prints.
pub fn write(text: &str, output: Option<&Path>, project: &Path) -> Result<()> {
    match output {
        None => {
            outln!("{}", text.trim_end());
        }
        Some(file) => {
            let path = project.join(file);
            // In one step: a failure leaves the file that was there.
            fink_aws::file::write_atomic(&path, text.as_bytes())
                .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
            outln!("exported to {}", file.display());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_by_extension() {
        assert!(wants_yaml(Some(Path::new("api.yaml"))));
        assert!(wants_yaml(Some(Path::new("out/api.yml"))));
        assert!(!wants_yaml(Some(Path::new("api.json"))));
        assert!(!wants_yaml(None));
    }
}
