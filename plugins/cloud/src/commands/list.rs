//! `cloud list [--json]`: every stack (except deleted ones) with status and last update.

use aws_config::SdkConfig;
use aws_sdk_cloudformation::types::StackStatus;
use aws_sdk_cloudformation::Client;
use comfy_table::Table;
use fink_aws::Explained;
use fink_plugin_api::{json, outln, ArgSpec, CommandSpec, Invocation, Result, Value};

use super::with_aws;

pub fn spec() -> CommandSpec {
    CommandSpec::new("list", "List stacks with status and last update")
        .without_config()
        .arg(ArgSpec::flag("json", "Print JSON"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let as_json = call.flag("json");
    with_aws(|config| async move { list(&config, as_json).await })
}

async fn list(config: &SdkConfig, as_json: bool) -> Result<()> {
    let client = Client::new(config);
    let mut rows = Vec::new();
    let mut token = None;
    loop {
        let out = client.describe_stacks().set_next_token(token).send().await.explained()?;
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
