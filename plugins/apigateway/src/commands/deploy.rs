//! `api deploy`: see `crate::deploy`.

use fink_plugin_api::{context, json, CommandSpec, Invocation, Result};

use super::{entries, section, with_aws};
use crate::deploy::Inputs;
use crate::template::Template;

pub fn spec() -> CommandSpec {
    CommandSpec::new("deploy", "Create or update the API from the swagger template and deploy it to the stage")
        .long_about(
            "Fills in swagger.yaml (a handlebars template: {{apiName}}, {{apiDescription}}, {{apiBasePath}}, \
         {{apiHostname}} and each api.lambda.entries swaggerRef), creates the REST API or overwrites it, \
         deploys it to api.api.targetStage with the cache and method settings, lets it invoke the entries' \
         aliases, wires api.api.apiKey through a usage plan and sets up api.customDomain. An unchanged \
         document and stage are left alone. Prints the URL.",
        )
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let section = section(call)?;
    let entries = entries(call, &section)?;
    let template = Template::find(&call.project_path(), section.swagger_file.as_deref())?;
    let account = call.context_str("aws_account").map(String::from);
    let inputs = Inputs { section, entries, template, account };
    let deployed = with_aws(|config| async move { crate::deploy::deploy(&config, inputs).await })?;
    // For command_finalized handlers (slack, datadog).
    call.set_context(context::API_ID, json!(deployed.id));
    call.set_context(context::API_URL, json!(deployed.url));
    Ok(())
}
