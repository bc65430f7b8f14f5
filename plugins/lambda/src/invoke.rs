//! `lambda invoke` and `lambda ping`.

use std::path::PathBuf;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{InvocationType, LogType};
use aws_sdk_lambda::Client;
use base64::Engine;
use fink_aws::timeouts::Timeouts;
use fink_plugin_api::{debug, info, outln, Error, Result};

use crate::functions::{active_version, ALIAS};
use crate::shown::escaped;

/// The ping event: gcdt's ramuda sent `ramuda_action`, the Python fink `lambda_action`; both, so
/// functions written for either answer. A function that supports it answers `"alive"`.
pub const PING: &str = r#"{"ramuda_action": "ping", "lambda_action": "ping"}"#;

/// The longest a function may run (Lambda's limit): the wait for an answer when the function's
/// own timeout is unknown.
const LONGEST_RUN: Duration = Duration::from_secs(900);

/// On top of the function's timeout: a cold start's init phase, which Lambda allows 10 s.
const INIT: Duration = Duration::from_secs(10);

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
    let sync = kind == InvocationType::RequestResponse;
    // Only a synchronous invoke waits for the function; Event and DryRun answer at once.
    let timeouts = Timeouts::from_env()?;
    let bounds = if sync {
        run_bounds(timeouts, function_timeout(&client, name, qualifier.as_deref()).await)
    } else {
        timeouts.config()
    };
    let out = client
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.clone())
        .invocation_type(kind.clone())
        .set_log_type(sync.then_some(LogType::Tail))
        .payload(Blob::new(payload))
        .customize()
        .config_override(aws_sdk_lambda::config::Builder::default().timeout_config(bounds))
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
    let timeout = function_timeout(&client, name, qualifier.as_deref()).await;
    match ping(&client, name, qualifier.as_deref(), timeout).await {
        Ok(()) => {
            outln!("function '{name}' answered the ping: alive");
            Ok(())
        }
        Err(err) => Err(Error::new(format!("ping of function '{name}' failed: {err}"))
            .with_help(format!("a function answers a ping by returning \"alive\" for the event {PING}"))),
    }
}

/// Pings one version, whose timeout is `timeout` seconds when known; `Err` says why the answer was
/// not `alive`.
pub async fn ping(
    client: &Client,
    name: &str,
    qualifier: Option<&str>,
    timeout: Option<i32>,
) -> std::result::Result<(), String> {
    let out = client
        .invoke()
        .function_name(name)
        .set_qualifier(qualifier.map(String::from))
        .payload(Blob::new(PING))
        .customize()
        .config_override(
            aws_sdk_lambda::config::Builder::default()
                .timeout_config(run_bounds(Timeouts::from_env().unwrap_or_default(), timeout)),
        )
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

/// The SDK timeouts of a synchronous invoke: the answer comes only after the function ran, so the
/// call's bounds grow by its timeout (`timeout` seconds, else Lambda's limit of 900 s) and the
/// time a cold start may take.
pub fn run_bounds(timeouts: Timeouts, timeout: Option<i32>) -> TimeoutConfig {
    timeouts.long_call(longest_run(timeout))
}

fn longest_run(timeout: Option<i32>) -> Duration {
    match timeout.and_then(|t| u64::try_from(t).ok()).filter(|t| *t > 0) {
        Some(seconds) => Duration::from_secs(seconds).min(LONGEST_RUN) + INIT,
        None => LONGEST_RUN + INIT,
    }
}

/// The timeout of the version `qualifier` of the function, for the invoke's bounds; `None`
/// (Lambda's limit is assumed) when it cannot be read, e.g. without
/// lambda:GetFunctionConfiguration or for a function that does not exist (the invoke says so).
async fn function_timeout(client: &Client, name: &str, qualifier: Option<&str>) -> Option<i32> {
    let read = client.get_function_configuration().function_name(name).set_qualifier(qualifier.map(String::from));
    match read.send().await {
        Ok(out) => out.timeout(),
        Err(err) => {
            debug!("timeout of function '{name}' unknown, waiting up to 900 s: {}", fink_aws::explain(&err));
            None
        }
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
    fn a_synchronous_invoke_waits_for_the_function_timeout_plus_init_or_for_900_s() {
        assert_eq!(longest_run(Some(3)), Duration::from_secs(13));
        assert_eq!(longest_run(Some(900)), Duration::from_secs(910));
        for unknown in [None, Some(0), Some(-1)] {
            assert_eq!(longest_run(unknown), Duration::from_secs(910), "{unknown:?}");
        }
        // The override the invoke and ping requests carry (the default 50 s a call).
        let bounds = run_bounds(Timeouts::default(), Some(3));
        let config = aws_sdk_lambda::config::Builder::default().timeout_config(bounds).build();
        let config = config.timeout_config().unwrap();
        assert_eq!(config.read_timeout(), Some(Duration::from_secs(33)));
        assert_eq!(config.operation_attempt_timeout(), Some(Duration::from_secs(33)));
        assert_eq!(config.operation_timeout(), Some(Duration::from_secs(63)));
        assert_eq!(config.connect_timeout(), Some(Duration::from_secs(5)));
        let unknown = run_bounds(Timeouts::default(), None);
        assert_eq!(unknown.operation_timeout(), Some(Duration::from_secs(960)));
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
