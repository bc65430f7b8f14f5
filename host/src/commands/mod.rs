//! The built-in commands (`version`, `plugins`, `config`, `completions`, `plugin`, `trust`) and the
//! runner for tool commands.

/// Appends a line to a `String` buffer (commands print their report in one write).
macro_rules! outln {
    ($out:ident, $($arg:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($out, $($arg)*);
    }};
}

pub mod completions;
pub mod config;
pub mod plugin;
pub mod plugin_new;
pub mod plugins;
pub mod tool;
pub mod trust;
pub mod version;

use std::io::Write as _;

use crate::error::Failure;
use crate::logging;
use crate::registry::Registry;

/// Commands that run the lifecycle load the enabled plugins that take part (see
/// [`Registry::activate`]), and refuse to start while any
/// plugin file is broken: each one is reported on its own line, and the command exits with 2
/// before doing anything.
pub fn ensure_plugins_loaded(registry: &mut Registry, tool: Option<&str>) -> Result<(), Failure> {
    registry.activate(tool);
    if registry.rejected.is_empty() {
        return Ok(());
    }
    for rejected in &registry.rejected {
        logging::print_error(&format!("{}: {}", rejected.subject(), rejected.error), None);
        if let Some(detail) = rejected.error.detail().filter(|_| logging::verbose()) {
            eprintln!("  detail: {detail}");
        }
    }
    let folders = registry.rejected.iter().filter(|r| r.folder).count();
    let files = registry.rejected.len() - folders;
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let what = match (files, folders) {
        (_, 0) => count(files, "plugin file", "plugin files"),
        (0, _) => count(folders, "plugins folder", "plugins folders"),
        _ => format!(
            "{} and {}",
            count(files, "plugin file", "plugin files"),
            count(folders, "plugins folder", "plugins folders")
        ),
    };
    Err(Failure::usage(format!("{what} could not be loaded; nothing was done"))
        .with_help("fix or remove the files above (`fink plugins` lists them; -v shows details)"))
}

/// Writes a command's report to stdout; a closed pipe (`fink plugins | head`) is not an error.
pub fn emit(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
