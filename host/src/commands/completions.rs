//! `fink completions <shell>`: the completion script for the parser fink has right now, so the
//! tools and commands of the installed plugins complete like the built-in commands.

use crate::cli;
use crate::registry::Registry;

/// Prints the script for `shell` to stdout.
pub fn run(registry: &Registry, shell: clap_complete::Shell) {
    let mut command = cli::build(registry);
    clap_complete::generate(shell, &mut command, "fink", &mut std::io::stdout());
}
