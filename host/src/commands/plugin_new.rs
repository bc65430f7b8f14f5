//! `fink plugin new NAME [--tool]`: writes a plugin crate of its own (its own workspace) into the
//! folder `NAME`, in say-hello's shape, that `cargo build` builds as written. The files are the
//! templates under `host/templates/plugin/`.

use std::path::{Path, PathBuf};

use crate::declare::BUILTIN_COMMANDS;
use crate::error::Failure;
use crate::loader::{self, host_api_version};
use crate::session::Session;

const CARGO_TOML: &str = include_str!("../../templates/plugin/Cargo.toml.in");
const GREETING: &str = include_str!("../../templates/plugin/greeting.rs.in");
const TOOL: &str = include_str!("../../templates/plugin/tool.rs.in");
const README: &str = include_str!("../../templates/plugin/README.md.in");
const GITIGNORE: &str = include_str!("../../templates/plugin/gitignore.in");

/// Writes the crate into `<project dir>/<name>` and says how to build and install it.
pub fn run(session: &Session, name: &str, tool: bool) -> Result<(), Failure> {
    if !loader::valid_name(name) {
        return Err(Failure::usage(format!(
            "invalid plugin name '{name}' (use lowercase letters, digits and '-', not starting with '-')"
        )));
    }
    if tool && BUILTIN_COMMANDS.iter().any(|b| b.name == name) {
        return Err(Failure::usage(format!("'{name}' is a built-in command of fink, so no tool can have that name")));
    }
    let dir = session.project_dir.join(name);
    if dir.exists() {
        return Err(Failure::new(format!("{} already exists; pick another name or remove it", dir.display())));
    }
    let files = render(name, tool, api_checkout().as_deref());
    for (file, text) in &files {
        let path = dir.join(file);
        let written = path.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&path, text));
        written.map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
    }
    let lib = lib_file(name);
    let mut out = String::new();
    outln!(out, "created the plugin crate fink-plugin-{name} in {}", dir.display());
    outln!(out, "  cd {} && cargo build --release", dir.display());
    outln!(out, "  fink plugin install target/release/{lib}");
    super::emit(&out);
    Ok(())
}

/// The crate's files (path inside the crate, content).
fn render(name: &str, tool: bool, api: Option<&Path>) -> Vec<(&'static str, String)> {
    let description =
        if tool { format!("The `{name}` tool: greets you") } else { "Greets you when fink starts".to_string() };
    let api_version = host_api_version();
    let requirement = format!("{}.{}", api_version.major, api_version.minor);
    let api = match api {
        Some(path) => format!(
            "# From the fink checkout this fink was built from. Once fink-plugin-api is on crates.io:\n\
             # fink-plugin-api = \"{requirement}\"\n\
             fink-plugin-api = {{ path = \"{}\", version = \"{requirement}\" }}",
            toml_escape(&path.display().to_string())
        ),
        None => format!("fink-plugin-api = \"{requirement}\""),
    };
    let usage = if tool {
        format!("```sh\nfink {name} greet -e dev            # Hello, <you>!\nfink {name} greet -e dev -n ana     # Hello, ana!\n```")
    } else {
        format!("Every fink command that runs the lifecycle greets you:\n\n```sh\nfink config -e dev    # {name}: Hello <you>, from {name}!\n```")
    };
    let fill = |template: &str| {
        template
            .replace("{{package}}", &format!("fink-plugin-{name}"))
            .replace("{{description}}", &description)
            .replace("{{api}}", &api)
            .replace("{{lib}}", &lib_file(name))
            .replace("{{usage}}", &usage)
            .replace("{{name}}", name)
    };
    vec![
        ("Cargo.toml", fill(CARGO_TOML)),
        ("src/lib.rs", fill(if tool { TOOL } else { GREETING })),
        ("README.md", fill(README)),
        (".gitignore", fill(GITIGNORE)),
    ]
}

/// `libfink_plugin_<name>.so` (`.dylib` on macOS), as cargo names the library.
fn lib_file(name: &str) -> String {
    let stem = name.replace('-', "_");
    format!("{}fink_plugin_{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// The plugin-api crate of the checkout this fink was built from, if it is still there.
fn api_checkout() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?.join("plugin-api");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
    manifest.contains("name = \"fink-plugin-api\"").then(|| dir.canonicalize().unwrap_or(dir))
}

fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_filled_and_the_crate_is_a_cdylib_that_unwinds() {
        for tool in [false, true] {
            for api in [None, Some(Path::new("/src/fink/plugin-api"))] {
                let files = render("my-plugin", tool, api);
                for (file, text) in &files {
                    assert!(!text.contains("{{"), "{file} has a placeholder left:\n{text}");
                }
                let cargo = &files[0].1;
                assert!(cargo.contains("name = \"fink-plugin-my-plugin\""), "{cargo}");
                assert!(cargo.contains("crate-type = [\"cdylib\"]"), "{cargo}");
                assert_eq!(cargo.matches("panic = \"unwind\"").count(), 2, "{cargo}");
                let requirement = format!("{}.{}", host_api_version().major, host_api_version().minor);
                match api {
                    Some(_) => assert!(cargo.contains("path = \"/src/fink/plugin-api\""), "{cargo}"),
                    None => assert!(cargo.contains(&format!("fink-plugin-api = \"{requirement}\"")), "{cargo}"),
                }
                let lib = &files[1].1;
                assert!(lib.contains("name: \"my-plugin\"") && lib.contains("#[test]"), "{lib}");
                assert!(files[2].1.contains("fink plugin install target/release/libfink_plugin_my_plugin"));
            }
        }
    }

    #[test]
    fn this_checkouts_api_is_found() {
        let api = api_checkout().expect("built from a checkout");
        assert!(api.join("src").is_dir(), "{}", api.display());
    }
}
