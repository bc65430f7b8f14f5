//! `cloud dot`: cloudformation.dot (drawn by `crate::dot`), and cloudformation.svg when Graphviz
//! is installed; without AWS.

use std::path::Path;
use std::process::Command;

use fink_plugin_api::{outln, warn, CommandSpec, Error, Invocation, Result};

use super::settings_and_template;
use crate::template::Template;

pub fn spec() -> CommandSpec {
    CommandSpec::new("dot", "Draw the template's resources (cloudformation.dot/.svg)").without_aws()
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (_, template) = settings_and_template(call)?;
    dot(&call.project_path(), &template)
}

fn dot(dir: &Path, template: &Template) -> Result<()> {
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
