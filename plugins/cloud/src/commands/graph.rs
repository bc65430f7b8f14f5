//! `cloud graph [--all] [DIR] [--dot|--json]`: the projects under DIR and what each needs, in
//! layers (see `crate::workspace`).

use fink_plugin_api::{ArgSpec, CommandSpec, Invocation, Result};

pub fn spec() -> CommandSpec {
    CommandSpec::new("graph", "Show the projects under DIR in dependency order: text, Graphviz or JSON with layers")
        .without_config()
        .without_aws()
        .arg(ArgSpec::flag("all", "Every project under DIR (the default: graph always covers the tree)"))
        .arg(
            ArgSpec::positional("root", "The folder to search for projects (default: the current one)")
                .value_name("DIR"),
        )
        .arg(ArgSpec::flag("dot", "Print Graphviz (dot)"))
        .arg(ArgSpec::flag("json", "Print JSON: the projects and the layers, for a CI job matrix"))
        .arg(ArgSpec::option("only", "Only PROJECT (a folder) and what it needs").value_name("PROJECT").multiple())
        .arg(ArgSpec::option("exclude", "Leave PROJECT out").value_name("PROJECT").multiple())
        .arg(ArgSpec::option("max-parallel", "Configs read at once").value_name("N").default_value("4"))
}

pub fn run(call: &mut Invocation) -> Result<()> {
    crate::workspace::show_graph(call)
}
