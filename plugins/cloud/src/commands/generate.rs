//! `cloud generate [FILE|-]`: the rendered template as JSON, without AWS; the file is replaced in
//! one step.

use std::path::Path;

use fink_plugin_api::{outln, ArgSpec, CommandSpec, Error, Invocation, Result};

use super::settings_and_template;
use crate::settings::Settings;
use crate::template::Template;

pub fn spec() -> CommandSpec {
    CommandSpec::new("generate", "Write the rendered template as JSON")
        .long_about(
            "Writes the template as CloudFormation gets it: local artifacts and nested templates packaged \
             (uploaded to cloud.stack.artifactBucket unless already there) and Rain's directives handled. \
             With --no-upload, nothing is uploaded: it shows what would go where.",
        )
        .without_aws()
        .arg(ArgSpec::positional(
            "file",
            "File to write, or - for stdout (default: <StackName>-generated-cf-template.json)",
        ))
        .arg(ArgSpec::flag("no-upload", "Upload nothing; show what would be uploaded where"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (settings, template) = settings_and_template(call)?;
    let template = crate::package::for_generate(&call.project_path(), &settings, template, !call.flag("no-upload"))?;
    generate(&call.project_path(), &settings, &template, call.value("file"))
}

fn generate(dir: &Path, settings: &Settings, template: &Template, target: Option<&str>) -> Result<()> {
    let text = serde_json::to_string_pretty(&template.doc).map_err(|e| Error::new(e.to_string()))?;
    if target == Some("-") {
        outln!("{text}");
        return Ok(());
    }
    let file =
        target.map(String::from).unwrap_or_else(|| format!("{}-generated-cf-template.json", settings.stack_name));
    let path = dir.join(&file);
    // In one step: a failure leaves the file that was there.
    fink_aws::file::write_atomic(&path, (text + "\n").as_bytes())
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    outln!("wrote {file}");
    Ok(())
}
