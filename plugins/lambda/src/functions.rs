//! `lambda list`, `info`, `delete` and `rollback`, and the alias helpers deploy shares.

use aws_config::SdkConfig;
use aws_sdk_lambda::types::FunctionConfiguration;
use aws_sdk_lambda::Client;
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{info, json, outln, Error, Result, Value};

/// The alias fink points at the deployed version.
pub const ALIAS: &str = "ACTIVE";

/// The function's configuration, or `None` when it does not exist.
pub async fn configuration(client: &Client, name: &str) -> Result<Option<FunctionConfiguration>> {
    match client.get_function_configuration().function_name(name).send().await {
        Ok(out) => Ok(Some(configuration_of(out))),
        Err(err) if fink_aws::code(&err) == Some("ResourceNotFoundException") => Ok(None),
        Err(err) => Err(fink_aws::explain(&err)),
    }
}

fn configuration_of(
    out: aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput,
) -> FunctionConfiguration {
    FunctionConfiguration::builder()
        .set_function_name(out.function_name)
        .set_function_arn(out.function_arn)
        .set_runtime(out.runtime)
        .set_role(out.role)
        .set_handler(out.handler)
        .set_description(out.description)
        .set_timeout(out.timeout)
        .set_memory_size(out.memory_size)
        .set_last_modified(out.last_modified)
        .set_code_sha256(out.code_sha256)
        .set_code_size(Some(out.code_size))
        .set_version(out.version)
        .set_vpc_config(out.vpc_config)
        .set_environment(out.environment)
        .set_layers(out.layers)
        .build()
}

/// An error for a function that is not there.
fn missing(name: &str) -> Error {
    Error::new(format!("function '{name}' does not exist")).with_help("`fink lambda list` shows the functions")
}

/// The version ACTIVE points at, if the alias exists.
pub async fn active_version(client: &Client, name: &str) -> Result<Option<String>> {
    match client.get_alias().function_name(name).name(ALIAS).send().await {
        Ok(alias) => Ok(alias.function_version().map(String::from)),
        Err(err) if fink_aws::code(&err) == Some("ResourceNotFoundException") => Ok(None),
        Err(err) => Err(fink_aws::explain(&err)),
    }
}

/// Points ACTIVE at `version`, creating the alias when `exists` is false.
pub async fn set_active(client: &Client, name: &str, version: &str, exists: bool) -> Result<()> {
    if exists {
        client.update_alias().function_name(name).name(ALIAS).function_version(version).send().await.explained()?;
    } else {
        client.create_alias().function_name(name).name(ALIAS).function_version(version).send().await.explained()?;
    }
    Ok(())
}

/// The function's published versions (not `$LATEST`), oldest first.
pub async fn published_versions(client: &Client, name: &str) -> Result<Vec<FunctionConfiguration>> {
    let mut versions = Vec::new();
    let mut marker = None;
    loop {
        let out =
            client.list_versions_by_function().function_name(name).set_marker(marker).send().await.map_err(|e| {
                match fink_aws::code(&e) {
                    Some("ResourceNotFoundException") => missing(name),
                    _ => fink_aws::explain(&e),
                }
            })?;
        versions.extend(out.versions().iter().filter(|v| v.version() != Some("$LATEST")).cloned());
        marker = out.next_marker().map(String::from);
        if marker.is_none() {
            break;
        }
    }
    versions.sort_by_key(|v| v.version().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0));
    Ok(versions)
}

/// `lambda list [--json]`: every function with runtime, memory, timeout, ACTIVE version and last change.
pub async fn list(config: &SdkConfig, as_json: bool) -> Result<()> {
    let client = Client::new(config);
    let mut functions = Vec::new();
    let mut marker = None;
    loop {
        let out = client.list_functions().set_marker(marker).send().await.explained()?;
        functions.extend(out.functions().iter().cloned());
        marker = out.next_marker().map(String::from);
        if marker.is_none() {
            break;
        }
    }
    functions.sort_by(|a, b| a.function_name().cmp(&b.function_name()));
    let mut rows = Vec::new();
    for f in &functions {
        let name = f.function_name().unwrap_or_default();
        rows.push(json!({
            "name": name,
            "runtime": f.runtime().map(|r| r.as_str()),
            "memory": f.memory_size(),
            "timeout": f.timeout(),
            "active_version": active_version(&client, name).await?,
            "last_modified": f.last_modified(),
            "code_sha256": f.code_sha256(),
        }));
    }
    if as_json {
        outln!("{}", Value::Array(rows));
        return Ok(());
    }
    let mut table = Table::new();
    table.set_header(["Function", "Runtime", "Memory", "Timeout", "ACTIVE", "Last modified"]);
    for row in &rows {
        let cell = |key: &str| match &row[key] {
            Value::Null => "-".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        table.add_row([
            cell("name"),
            cell("runtime"),
            cell("memory"),
            cell("timeout"),
            cell("active_version"),
            cell("last_modified"),
        ]);
    }
    outln!("{table}");
    Ok(())
}

/// `lambda info [--json]`: the configured function's configuration, versions and aliases.
pub async fn info(config: &SdkConfig, name: &str, as_json: bool) -> Result<()> {
    let client = Client::new(config);
    let function = configuration(&client, name).await?.ok_or_else(|| missing(name))?;
    let versions = published_versions(&client, name).await?;
    let aliases = client.list_aliases().function_name(name).send().await.explained()?;
    let report = json!({
        "name": name,
        "arn": function.function_arn(),
        "runtime": function.runtime().map(|r| r.as_str()),
        "handler": function.handler(),
        "role": function.role(),
        "description": function.description(),
        "memory": function.memory_size(),
        "timeout": function.timeout(),
        "code_sha256": function.code_sha256(),
        "code_size": function.code_size(),
        "last_modified": function.last_modified(),
        "environment": function.environment().and_then(|e| e.variables()).map(|v| v.keys().collect::<std::collections::BTreeSet<_>>()),
        "versions": versions.iter().map(|v| json!({
            "version": v.version(), "code_sha256": v.code_sha256(), "last_modified": v.last_modified(), "description": v.description()
        })).collect::<Vec<_>>(),
        "aliases": aliases.aliases().iter().map(|a| json!({"name": a.name(), "version": a.function_version()})).collect::<Vec<_>>(),
    });
    if as_json {
        outln!("{report}");
        return Ok(());
    }
    let mut table = Table::new();
    for key in [
        "name",
        "arn",
        "runtime",
        "handler",
        "role",
        "description",
        "memory",
        "timeout",
        "code_sha256",
        "code_size",
        "last_modified",
    ] {
        let value = match &report[key] {
            Value::Null => "-".to_string(),
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        table.add_row([key.to_string(), value]);
    }
    // Environment variable names only: their values may be secrets.
    if let Some(names) = report["environment"].as_array() {
        let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
        table.add_row(["environment".to_string(), names.join(", ")]);
    }
    outln!("{table}");
    let mut table = Table::new();
    table.set_header(["Version", "CodeSha256", "Last modified", "Aliases"]);
    for v in &versions {
        let version = v.version().unwrap_or_default();
        let pointing: Vec<&str> = aliases
            .aliases()
            .iter()
            .filter(|a| a.function_version() == Some(version))
            .filter_map(|a| a.name())
            .collect();
        table.add_row([
            version,
            v.code_sha256().unwrap_or_default(),
            v.last_modified().unwrap_or_default(),
            &pointing.join(", "),
        ]);
    }
    outln!("{table}");
    Ok(())
}

/// `lambda delete -f <name> [--delete-logs]`.
pub async fn delete(config: &SdkConfig, name: &str, force: bool, delete_logs: bool) -> Result<()> {
    if !force {
        return Err(Error::new(format!("not deleting function '{name}' without -f"))
            .with_help(format!("run `fink lambda delete -f {name}` to delete it")));
    }
    let client = Client::new(config);
    match client.delete_function().function_name(name).send().await {
        Ok(_) => info!("deleted function '{name}'"),
        Err(err) if fink_aws::code(&err) == Some("ResourceNotFoundException") => return Err(missing(name)),
        Err(err) => return Err(fink_aws::explain(&err)),
    }
    if delete_logs {
        let group = format!("/aws/lambda/{name}");
        let logs = aws_sdk_cloudwatchlogs::Client::new(config);
        match logs.delete_log_group().log_group_name(&group).send().await {
            Ok(_) => info!("deleted log group {group}"),
            Err(err) if fink_aws::code(&err) == Some("ResourceNotFoundException") => {
                info!("function '{name}' had no log group {group}")
            }
            Err(err) => return Err(fink_aws::explain(&err)),
        }
    }
    outln!("function '{name}' deleted");
    Ok(())
}

/// `lambda rollback <name> [<version>]`: ACTIVE to `version`, or to the published version before the current one.
pub async fn rollback(config: &SdkConfig, name: &str, version: Option<String>) -> Result<()> {
    let client = Client::new(config);
    let versions = published_versions(&client, name).await?;
    let numbers: Vec<&str> = versions.iter().filter_map(|v| v.version()).collect();
    let current = active_version(&client, name).await?;
    let target = match version {
        Some(v) => {
            if !numbers.contains(&v.as_str()) {
                return Err(Error::new(format!("function '{name}' has no version {v}"))
                    .with_help(format!("published versions: {}", list_or_none(&numbers))));
            }
            v
        }
        None => {
            let current = current.as_deref().ok_or_else(|| {
                Error::new(format!("function '{name}' has no {ALIAS} alias to roll back"))
                    .with_help(format!("give the version: `fink lambda rollback {name} <version>`"))
            })?;
            let position = numbers.iter().position(|v| *v == current);
            match position {
                Some(p) if p > 0 => numbers[p - 1].to_string(),
                _ => {
                    return Err(Error::new(format!(
                        "function '{name}' has no version before {current} to roll back to"
                    ))
                    .with_help(format!("published versions: {}", list_or_none(&numbers))))
                }
            }
        }
    };
    if current.as_deref() == Some(target.as_str()) {
        outln!("function '{name}': {ALIAS} already at version {target}");
        return Ok(());
    }
    set_active(&client, name, &target, current.is_some()).await?;
    match current {
        Some(c) => outln!("function '{name}': {ALIAS} now at version {target} (was {c})"),
        None => outln!("function '{name}': {ALIAS} now at version {target}"),
    }
    Ok(())
}

fn list_or_none(items: &[&str]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
