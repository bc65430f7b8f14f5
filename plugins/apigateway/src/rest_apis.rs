//! REST APIs by name (API Gateway keys them by id; the config names them), `api list` and
//! `api delete`.

use aws_sdk_apigateway::primitives::DateTimeFormat;
use aws_sdk_apigateway::types::RestApi;
use aws_sdk_apigateway::Client;
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{json, outln, Error, Result, Value};

/// Every REST API of the account and region.
pub async fn all(client: &Client) -> Result<Vec<RestApi>> {
    let mut apis = Vec::new();
    let mut position = None;
    loop {
        let page = client.get_rest_apis().limit(500).set_position(position).send().await.explained()?;
        apis.extend(page.items().iter().cloned());
        position = page.position().filter(|p| !p.is_empty()).map(String::from);
        if position.is_none() {
            return Ok(apis);
        }
    }
}

/// The API named `name`; two of that name is an error, as fink could not tell which to change.
pub async fn find(client: &Client, name: &str) -> Result<Option<RestApi>> {
    let mut named: Vec<RestApi> = all(client).await?.into_iter().filter(|a| a.name() == Some(name)).collect();
    if named.len() > 1 {
        let ids: Vec<&str> = named.iter().filter_map(RestApi::id).collect();
        return Err(Error::new(format!(
            "{} REST APIs are named '{name}' (ids {}): fink cannot tell which one is yours",
            ids.len(),
            ids.join(", ")
        ))
        .with_help("delete or rename the extra ones (`aws apigateway delete-rest-api --rest-api-id <id>`)"));
    }
    Ok(named.pop())
}

/// The API's id, or an error saying it does not exist.
pub async fn require(client: &Client, name: &str) -> Result<String> {
    match find(client, name).await? {
        Some(api) => Ok(api.id().unwrap_or_default().to_string()),
        None => Err(missing(name)),
    }
}

pub fn missing(name: &str) -> Error {
    Error::new(format!("API '{name}' does not exist"))
        .with_help("run `fink api deploy` to create it; `fink api list` shows the APIs")
}

/// `<id>.execute-api.<region>.amazonaws.com`.
pub fn hostname(id: &str, region: &str) -> String {
    format!("{id}.execute-api.{region}.amazonaws.com")
}

/// `api list [--json]`.
pub async fn list(client: &Client, as_json: bool) -> Result<()> {
    let mut apis = all(client).await?;
    apis.sort_by(|a, b| a.name().cmp(&b.name()).then(a.id().cmp(&b.id())));
    let rows: Vec<Value> = apis.iter().map(row).collect();
    if as_json {
        outln!("{}", Value::Array(rows));
        return Ok(());
    }
    if rows.is_empty() {
        outln!("no REST APIs in this account and region");
        return Ok(());
    }
    let mut table = Table::new();
    table.set_header(["Name", "Id", "Created", "Description"]);
    for row in &rows {
        let cell = |key: &str| row[key].as_str().unwrap_or("-").to_string();
        table.add_row([cell("name"), cell("id"), cell("created"), cell("description")]);
    }
    outln!("{table}");
    Ok(())
}

fn row(api: &RestApi) -> Value {
    json!({
        "id": api.id(),
        "name": api.name(),
        "created": api.created_date().and_then(|t| t.fmt(DateTimeFormat::DateTime).ok()),
        "description": api.description().filter(|d| !d.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_has_id_name_and_created() {
        let api = RestApi::builder()
            .id("a1")
            .name("shop")
            .description("")
            .created_date(aws_sdk_apigateway::primitives::DateTime::from_secs(1_700_000_000))
            .build();
        assert_eq!(
            row(&api),
            json!({"id": "a1", "name": "shop", "created": "2023-11-14T22:13:20Z", "description": null})
        );
        assert_eq!(hostname("a1", "eu-west-1"), "a1.execute-api.eu-west-1.amazonaws.com");
    }
}
