//! `api export [--output FILE|-] [--type swagger|oas30]`: the stage's definition, written to
//! `swagger_export.yaml` as gcdt's `yugen export` wrote it, or to FILE, or printed with `-o -`.

use std::path::PathBuf;

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

use super::{section, with_aws};
use crate::export::{self, TYPES};
use crate::rest_apis;

pub fn spec() -> CommandSpec {
    CommandSpec::new("export", "Export the stage's API definition with the API Gateway extensions")
        .arg(
            ArgSpec::option("output", "Write to FILE (YAML when it ends in .yaml or .yml, else JSON); `-` prints it")
                .default_value(export::DEFAULT_FILE)
                .short('o')
                .value_name("FILE"),
        )
        .arg(
            ArgSpec::option("type", "The format API Gateway exports")
                .possible_values(TYPES.iter().copied())
                .default_value("swagger"),
        )
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let section = section(call)?;
    let output = match call.value("output").unwrap_or(export::DEFAULT_FILE) {
        "-" => None,
        file => Some(PathBuf::from(file)),
    };
    let kind = call.value("type").unwrap_or("swagger").to_string();
    let yaml = export::wants_yaml(output.as_deref());
    let text = with_aws(|config| async move {
        let client = aws_sdk_apigateway::Client::new(&config);
        let id = rest_apis::require(&client, &section.api.name).await?;
        export::export(&client, &id, &section.api.name, &section.api.target_stage, &kind, yaml).await
    })?;
    export::write(&text, output.as_deref(), &call.project_path())
}
