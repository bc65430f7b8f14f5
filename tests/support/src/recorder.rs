//! Reads moto's request recording into the AWS calls it holds.

use base64::Engine as _;
use serde_json::Value;

/// One AWS API call seen by moto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Signing name of the service, e.g. `ssm`, `cloudformation`.
    pub service: String,
    /// The operation, e.g. `GetParameters`.
    pub action: String,
    /// The region from the request signature.
    pub region: String,
    /// The request body as text.
    pub body: String,
    /// HTTP method and path (REST services like Lambda and S3 name the operation by these).
    pub method: String,
    pub path: String,
}

/// Parses the recording (one JSON object per line).
pub fn parse(log: &str) -> Vec<Call> {
    log.lines().filter_map(|line| serde_json::from_str::<Value>(line).ok()).filter_map(|req| call(&req)).collect()
}

fn call(req: &Value) -> Option<Call> {
    let headers = req.get("headers")?;
    let header = |name: &str| {
        headers.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).and_then(|(_, v)| v.as_str())
    };
    let raw = req.get("body").and_then(Value::as_str).unwrap_or_default();
    let body = if req.get("body_encoded").and_then(Value::as_bool) == Some(true) {
        String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(raw).unwrap_or_default()).into_owned()
    } else {
        raw.to_string()
    };
    // Credential=<key>/<date>/<region>/<service>/aws4_request
    let scope = header("Authorization")?.split("Credential=").nth(1)?.split(',').next()?;
    let parts: Vec<&str> = scope.split('/').collect();
    let (region, service) = (parts.get(2)?.to_string(), parts.get(3)?.to_string());
    let method = req.get("method").and_then(Value::as_str).unwrap_or_default().to_string();
    let url = req.get("url").and_then(Value::as_str).unwrap_or_default();
    let path = url.split("://").nth(1).and_then(|rest| rest.find('/').map(|i| &rest[i..])).unwrap_or(url);
    let path = path.split('?').next().unwrap_or_default().to_string();
    let action = match header("X-Amz-Target") {
        Some(target) => target.rsplit('.').next()?.to_string(),
        None => body
            .split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .map(String::from)
            // REST services: the operation is the method and path, e.g. `PUT /2015-03-31/functions/f/code`.
            .unwrap_or_else(|| format!("{method} {path}")),
    };
    Some(Call { service, action, region, body, method, path })
}
