//! `api apikey-create <name>`, `api apikey-list`, `api apikey-delete <name|id>`. A key's value
//! is a secret: shown masked unless `--show-secrets`, and marked secret for the rest of the run.

use aws_sdk_apigateway::primitives::DateTimeFormat;
use aws_sdk_apigateway::types::ApiKey;
use aws_sdk_apigateway::Client;
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{json, outln, Error, Result, Value};

/// How a secret value is shown without `--show-secrets`.
pub const MASK: &str = "********";

/// Every API key, with values when `values` (AWS sends them only when asked).
pub async fn all(client: &Client, values: bool) -> Result<Vec<ApiKey>> {
    let mut keys = Vec::new();
    let mut position = None;
    loop {
        let page =
            client.get_api_keys().include_values(values).limit(500).set_position(position).send().await.explained()?;
        keys.extend(page.items().iter().cloned());
        position = page.position().filter(|p| !p.is_empty()).map(String::from);
        if position.is_none() {
            return Ok(keys);
        }
    }
}

/// Creates an enabled key named `name`; refuses a second key of the same name, which `apikey-delete`
/// could not tell apart. Returns (id, value).
pub async fn create(client: &Client, name: &str) -> Result<(String, String)> {
    if let Some(existing) = all(client, false).await?.iter().find(|k| k.name() == Some(name)) {
        return Err(Error::new(format!(
            "an API key named '{name}' exists already (id {})",
            existing.id().unwrap_or_default()
        ))
        .with_help("choose another name, or use that key's id in api.api.apiKey"));
    }
    let made = client.create_api_key().name(name).enabled(true).send().await.explained()?;
    Ok((made.id().unwrap_or_default().to_string(), made.value().unwrap_or_default().to_string()))
}

/// `apikey-list [--json] [--show-secrets]`.
pub async fn list(client: &Client, as_json: bool, show: bool) -> Result<Vec<String>> {
    let mut keys = all(client, true).await?;
    keys.sort_by(|a, b| a.name().cmp(&b.name()).then(a.id().cmp(&b.id())));
    let values: Vec<String> = keys.iter().filter_map(|k| k.value().map(String::from)).collect();
    let rows: Vec<Value> = keys.iter().map(|k| row(k, show)).collect();
    if as_json {
        outln!("{}", Value::Array(rows));
    } else if rows.is_empty() {
        outln!("no API keys in this account and region");
    } else {
        let mut table = Table::new();
        table.set_header(["Name", "Id", "Enabled", "Created", "Value"]);
        for row in &rows {
            let cell = |key: &str| match &row[key] {
                Value::String(s) => s.clone(),
                Value::Null => "-".to_string(),
                other => other.to_string(),
            };
            table.add_row([cell("name"), cell("id"), cell("enabled"), cell("created"), cell("value")]);
        }
        outln!("{table}");
    }
    Ok(values)
}

fn row(key: &ApiKey, show: bool) -> Value {
    let value = key.value().map(|v| if show { v.to_string() } else { MASK.to_string() });
    json!({
        "id": key.id(),
        "name": key.name(),
        "enabled": key.enabled(),
        "created": key.created_date().and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
        "value": value,
    })
}

/// Deletes the key with this id or name; returns (name, id).
pub async fn delete(client: &Client, wanted: &str) -> Result<(String, String)> {
    let keys = all(client, false).await?;
    let named: Vec<&ApiKey> = keys.iter().filter(|k| k.name() == Some(wanted)).collect();
    let key = match keys.iter().find(|k| k.id() == Some(wanted)) {
        Some(key) => key,
        None => match named.as_slice() {
            [key] => *key,
            [] => {
                return Err(Error::new(format!("there is no API key named or with id '{wanted}'"))
                    .with_help("`fink api apikey-list` shows the keys"))
            }
            many => {
                let ids: Vec<&str> = many.iter().filter_map(|k| k.id()).collect();
                return Err(Error::new(format!(
                    "{} API keys are named '{wanted}' (ids {})",
                    many.len(),
                    ids.join(", ")
                ))
                .with_help("delete one by its id"));
            }
        },
    };
    let (name, id) = (key.name().unwrap_or_default().to_string(), key.id().unwrap_or_default().to_string());
    client.delete_api_key().api_key(&id).send().await.explained()?;
    Ok((name, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_masked_unless_asked_for() {
        let key = ApiKey::builder().id("k1").name("partner").value("s3cr3t-value-of-twenty").enabled(true).build();
        assert_eq!(row(&key, false)["value"], MASK);
        assert_eq!(row(&key, true)["value"], "s3cr3t-value-of-twenty");
        assert_eq!(row(&key, false)["enabled"], true);
    }
}
