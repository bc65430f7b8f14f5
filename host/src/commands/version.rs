//! `fink version`: host, plugin-API, tools and plugins with their versions.

use crate::loader::host_api_version;
use crate::logging;
use crate::registry::Registry;

/// Prints versions; `-v` adds file paths.
pub fn run(registry: &Registry) {
    let verbose = logging::verbose();
    let mut out = String::new();
    outln!(out, "fink {} (plugin API {})", env!("CARGO_PKG_VERSION"), host_api_version());
    let tools: Vec<String> = registry
        .plugins
        .iter()
        .flat_map(|p| {
            p.tools.iter().map(move |t| {
                let also = if t.spec.aliases.is_empty() {
                    String::new()
                } else {
                    format!("; also {}", t.spec.aliases.join(", "))
                };
                format!("  {} (plugin {} {}{also})", t.spec.name, p.name, p.version)
            })
        })
        .collect();
    if !tools.is_empty() {
        outln!(out, "tools:");
        tools.iter().for_each(|t| outln!(out, "{t}"));
    }
    if !registry.plugins.is_empty() {
        outln!(out, "plugins:");
    }
    for plugin in &registry.plugins {
        if verbose {
            outln!(out, "  {} {}  {}", plugin.name, plugin.version, plugin.path.display());
        } else {
            outln!(out, "  {} {}", plugin.name, plugin.version);
        }
    }
    for rejected in &registry.rejected {
        outln!(out, "rejected: {}: {}", rejected.path.display(), rejected.error);
    }
    super::emit(&out);
}
