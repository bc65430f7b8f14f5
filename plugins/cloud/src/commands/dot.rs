//! `cloud dot`: cloudformation.dot (drawn by `crate::dot`, local nested templates as clusters), and cloudformation.svg when Graphviz
//! is installed; without AWS. Both are replaced in one step: a failure leaves the old ones.

use std::path::Path;
use std::process::Command;

use fink_plugin_api::{outln, warn, CommandSpec, Error, Invocation, Result};

use super::settings_and_template;
use crate::template::Template;

pub fn spec() -> CommandSpec {
    CommandSpec::new("dot", "Draw the template's resources (cloudformation.dot/.svg)").without_aws()
}

pub fn run(call: &mut Invocation) -> Result<()> {
    let (settings, template) = settings_and_template(call)?;
    let dir = call.project_path();
    let nested = crate::package::nested_for_drawing(&dir, &settings, &template)?;
    dot(&dir, &template, &nested)
}

fn dot(dir: &Path, template: &Template, nested: &[crate::dot::Child]) -> Result<()> {
    let path = dir.join("cloudformation.dot");
    fink_aws::file::write_atomic(&path, crate::dot::render_tree(&template.resources(), nested).as_bytes())
        .map_err(|e| Error::new(format!("cannot write {}: {e}", path.display())))?;
    outln!("wrote cloudformation.dot");
    // Graphviz writes its own file: into a temporary name, renamed once it succeeded.
    let temp = format!(".cloudformation.svg.{}.tmp", std::process::id());
    let drawn = Command::new("dot").args(["-Tsvg", "cloudformation.dot", "-o", &temp]).current_dir(dir).output();
    match drawn {
        Ok(out) if out.status.success() => {
            std::fs::rename(dir.join(&temp), dir.join("cloudformation.svg")).map_err(|e| {
                let _ = std::fs::remove_file(dir.join(&temp));
                Error::new(format!("cannot write {}: {e}", dir.join("cloudformation.svg").display()))
            })?;
            outln!("wrote cloudformation.svg");
        }
        Ok(out) => {
            let _ = std::fs::remove_file(dir.join(&temp));
            warn!("dot failed: {}", String::from_utf8_lossy(&out.stderr).trim())
        }
        Err(_) => outln!("Graphviz's `dot` is not installed: no cloudformation.svg (install graphviz to get one)"),
    }
    Ok(())
}
