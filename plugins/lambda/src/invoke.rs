//! `lambda invoke` and `lambda ping`.

use std::path::PathBuf;

use aws_config::SdkConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use aws_sdk_lambda::Client;
use base64::Engine;
use fink_plugin_api::{info, outln, Error, Result};

use crate::functions::{active_version, ALIAS};
use crate::shown::escaped;

/// The ping event: gcdt's ramuda sent `ramuda_action`, the Python fink `lambda_action`; both, so
/// functions written for either answer. A function that supports it answers `"alive"`.
pub const PING: &str = r#"{"ramuda_action": "ping", "lambda_action": "ping"}"#;

/// The invoke command's arguments.
pub struct Request {
    pub name: String,
    pub version: Option<String>,
    pub invocation_type: String,
    pub payload: String,
    pub outfile: Option<String>,
    pub dir: PathBuf,
}

/// `lambda invoke`: prints the response (and, for RequestResponse, the log tail on stderr);
/// a function error fails the command.
pub async fn invoke(config: &SdkConfig, request: &Request) -> Result<()> {
    let payload = payload(&request.payload)?;
    let client = Client::new(config);
    let name = request.name.as_str();
    let qualifier = qualifier(&client, name, request.version.clone()).await?;
    let kind = InvocationType::from(request.invocation_type.as_str());
    let out = client
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.clone())
        .invocation_type(kind.clone())
        .set_log_type((kind == InvocationType::RequestResponse).then_some(LogType::Tail))
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| match fink_aws::code(&e) {
            Some("ResourceNotFoundException") => Error::new(format!(
                "function '{name}'{} does not exist",
                qualifier.as_deref().map(|q| format!(" version {q}")).unwrap_or_default()
            )),
            _ => fink_aws::explain(&e),
        })?;
    if let Some(logs) = out.log_result() {
        if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(logs) {
            info!("log tail:\n{}", escaped(String::from_utf8_lossy(&bytes).trim_end()));
        }
    }
    let body = out.payload().map(|p| p.as_ref().to_vec()).unwrap_or_default();
    match kind {
        InvocationType::Event => outln!("function '{name}' invoked asynchronously (status {})", out.status_code()),
        InvocationType::DryRun => outln!("dry run of function '{name}' succeeded: you may invoke it"),
        _ => match &request.outfile {
            Some(file) => {
                let path = request.dir.join(file);
                // In one step, the response's bytes as they came: a failure leaves the old file.
                fink_aws::file::write_atomic(&path, &body)
                    .map_err(|e| Error::new(format!("cannot write --outfile {}: {e}", path.display())))?;
                info!("wrote the response to {}", path.display());
            }
            None => outln!("{}", escaped(&String::from_utf8_lossy(&body))),
        },
    }
    if let Some(kind) = out.function_error() {
        return Err(Error::new(format!(
            "function '{name}' failed ({kind}): {}",
            one_line(&String::from_utf8_lossy(&body))
        )));
    }
    Ok(())
}

/// `lambda ping <name> [<version>]`.
pub async fn ping_command(config: &SdkConfig, name: &str, version: Option<String>) -> Result<()> {
    let client = Client::new(config);
    let qualifier = qualifier(&client, name, version).await?;
    match ping(&client, name, qualifier.as_deref()).await {
        Ok(()) => {
            outln!("function '{name}' answered the ping: alive");
            Ok(())
        }
        Err(err) => Err(Error::new(format!("ping of function '{name}' failed: {err}"))
            .with_help(format!("a function answers a ping by returning \"alive\" for the event {PING}"))),
    }
}

/// Pings one version; `Err` says why the answer was not `alive`.
pub async fn ping(client: &Client, name: &str, qualifier: Option<&str>) -> std::result::Result<(), String> {
    let out = client
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.map(String::from))
        .payload(Blob::new(PING))
        .send()
        .await
        .map_err(|e| fink_aws::explain(&e).to_string())?;
    let body = out.payload().map(|p| String::from_utf8_lossy(p.as_ref()).to_string()).unwrap_or_default();
    if let Some(kind) = out.function_error() {
        return Err(format!("function error ({kind}): {}", one_line(&body)));
    }
    if is_alive(&body) {
        Ok(())
    } else {
        Err(format!("expected \"alive\", got {}", one_line(&body)))
    }
}

/// `"alive"` as a JSON string, or the bare word.
fn is_alive(body: &str) -> bool {
    let body = body.trim();
    body == "alive" || serde_json::from_str::<String>(body).is_ok_and(|s| s == "alive")
}

/// The version to invoke: the one given, else ACTIVE when the alias exists, else `$LATEST`.
async fn qualifier(client: &Client, name: &str, version: Option<String>) -> Result<Option<String>> {
    if version.is_some() {
        return Ok(version);
    }
    Ok(active_version(client, name).await?.map(|_| ALIAS.to_string()))
}

/// The payload: JSON text or `file://PATH`; it must be JSON.
fn payload(arg: &str) -> Result<Vec<u8>> {
    let (text, origin) = match arg.strip_prefix("file://") {
        Some(path) => (
            std::fs::read_to_string(path).map_err(|e| Error::new(format!("cannot read --payload file {path}: {e}")))?,
            format!("--payload file {path}"),
        ),
        None => (arg.to_string(), "--payload".to_string()),
    };
    serde_json::from_str::<serde_json::Value>(&text)
        .map_err(|e| Error::new(format!("{origin} is not valid JSON: {e}")))?;
    Ok(text.into_bytes())
}

/// `text` on one line, shortened, its control characters escaped.
fn one_line(text: &str) -> String {
    let line = escaped(&text.split_whitespace().collect::<Vec<_>>().join(" ")).into_owned();
    if line.chars().count() > 300 {
        format!("{}...", line.chars().take(300).collect::<String>())
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alive_as_json_string_or_word() {
        assert!(is_alive("\"alive\""));
        assert!(is_alive("alive\n"));
        assert!(!is_alive(PING));
        assert!(!is_alive("\"dead\""));
    }

    #[test]
    fn payload_must_be_json() {
        assert!(payload("{\"a\": 1}").is_ok());
        let err = payload("{a").unwrap_err();
        assert!(err.to_string().starts_with("--payload is not valid JSON"), "{err}");
        let err = payload("file:///nonexistent/x.json").unwrap_err();
        assert!(err.to_string().contains("cannot read --payload file /nonexistent/x.json"), "{err}");
    }
}
