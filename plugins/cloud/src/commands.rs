//! The smaller cloud commands: list, delete, generate, dot.

use std::path::Path;
use std::process::Command;

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::StackStatus;
use aws_sdk_cloudformation::Client;
use comfy_table::Table;
use fink_plugin_api::{info, json, outln, warn, Error, Result, Value};

use crate::events::{self, Watcher};
use crate::settings::Settings;
use crate::template::Template;

/// `cloud list [--json]`: every stack (except deleted ones) with status and last update.
pub async fn list(config: &SdkConfig, as_json: bool) -> Result<()> {
    let client = Client::new(config);
    let mut rows = Vec::new();
    let mut token = None;
    loop {
        let out = client.describe_stacks().set_next_token(token).send().await.map_err(|e| fink_aws::explain(&e))?;
        for s in out.stacks() {
            if s.stack_status() == Some(&StackStatus::DeleteComplete) {
                continue;
            }
            let updated = s.last_updated_time().or(s.creation_time()).map(|t| t.to_string()).unwrap_or_default();
            rows.push((
                s.stack_name().unwrap_or_default().to_string(),
                s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default(),
                updated,
            ));
        }
        token = out.next_token().map(String::from);
        if token.is_none() {
            break;
        }
    }
    rows.sort();
    if as_json {
        let list: Vec<Value> = rows
            .iter()
            .map(|(name, status, updated)| json!({"name": name, "status": status, "updated": updated}))
            .collect();
        outln!("{}", Value::Array(list));
        return Ok(());
    }
    let mut table = Table::new();
    table.set_header(["Stack", "Status", "Last update"]);
    for (name, status, updated) in &rows {
        table.add_row([name, status, updated]);
    }
    outln!("{table}");
    Ok(())
}

/// `cloud delete -f`: deletes with the configured role and shows events until gone.
pub async fn delete(config: &SdkConfig, settings: &Settings, force: bool) -> Result<()> {
    let name = settings.stack_name.as_str();
    if !force {
        return Err(Error::new(format!("not deleting stack '{name}' without -f"))
            .with_help("run `fink cloud delete -f` to delete it"));
    }
    let client = Client::new(config);
    if crate::stack::current(&client, name).await?.is_none() {
        return Err(Error::new(format!("stack '{name}' does not exist")));
    }
    let mut watcher = Watcher::new(&client, name).await;
    client
        .delete_stack()
        .stack_name(name)
        .set_role_arn(settings.role_arn.clone())
        .send()
        .await
        .map_err(|e| fink_aws::explain(&e))?;
    info!("deleting stack '{name}'");
    let settled = watcher.wait(&client, name).await?;
    if !settled.ok() {
        return Err(events::failure(name, &settled));
    }
    info!("stack '{name}' deleted");
    Ok(())
}

/// `cloud generate [FILE|-]`: the rendered template as JSON.
pub fn generate(dir: &Path, settings: &Settings, template: &Template, target: Option<&str>) -> Result<()> {
    let text = serde_json::to_string_pretty(&template.doc).map_err(|e| Error::new(e.to_string()))?;
    if target == Some("-") {
        outln!("{text}");
        return Ok(());
    }
    let file =
        target.map(String::from).unwrap_or_else(|| format!("{}-generated-cf-template.json", settings.stack_name));
    let path = dir.join(&file);
    std::fs::write(&path, text + "\n").map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    outln!("wrote {file}");
    Ok(())
}

/// `cloud dot`: cloudformation.dot, and cloudformation.svg when Graphviz is installed.
pub fn dot(dir: &Path, template: &Template) -> Result<()> {
    let path = dir.join("cloudformation.dot");
    std::fs::write(&path, crate::dot::render(&template.resources()))
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    outln!("wrote cloudformation.dot");
    match Command::new("dot")
        .args(["-Tsvg", "cloudformation.dot", "-o", "cloudformation.svg"])
        .current_dir(dir)
        .output()
    {
        Ok(out) if out.status.success() => outln!("wrote cloudformation.svg"),
        Ok(out) => warn!("dot failed: {}", String::from_utf8_lossy(&out.stderr).trim()),
        Err(_) => outln!("Graphviz's `dot` is not installed: no cloudformation.svg (install graphviz to get one)"),
    }
    Ok(())
}
