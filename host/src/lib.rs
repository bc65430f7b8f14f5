//! The fink host: finds plugin libraries, checks and registers them, and drives the lifecycle.
//!
//! Read it like a table of contents: [`cli`] (command line), [`session`] (what the command line
//! resolves to), [`declare`] (what a plugin may declare, and the host's own names),
//! [`plugin_path`] (where plugins are), [`trust`] (who may change a plugin file),
//! [`pins`] and [`hash_cache`] (`plugins.lock`), [`library_check`] (a file's headers before
//! dlopen), [`loader`] (a file becomes a plugin), [`registry`] (what was loaded), [`lifecycle`]
//! (signals), [`atomic`] (files replaced in one step),
//! [`schema`] (config defaults and validation), [`logging`] (stderr, secrets masked), [`error`],
//! and [`commands`].

pub mod atomic;
pub mod cli;
pub mod commands;
pub mod declare;
pub mod error;
pub mod hash_cache;
pub mod library_check;
pub mod lifecycle;
pub mod loader;
pub mod logging;
pub mod pins;
pub mod plugin_path;
pub mod registry;
pub mod schema;
pub mod session;
pub mod trust;

use std::ffi::OsString;

use cli::Action;
use error::Failure;
use registry::Registry;
use session::Session;

/// Runs fink with the given arguments and returns the process exit code.
pub fn run(args: Vec<OsString>) -> i32 {
    let early = cli::scan_early(&args);
    logging::init(logging::level_for(early.verbosity));
    match run_inner(args, early) {
        Ok(()) => 0,
        Err(failure) => {
            if !failure.message.is_empty() {
                logging::print_error(&failure.message, failure.help.as_deref());
            }
            failure.exit_code
        }
    }
}

fn run_inner(args: Vec<OsString>, early: cli::Early) -> Result<(), Failure> {
    let project_dir = session::project_dir(early.project_dir)?;
    let search_dirs = plugin_path::search_dirs(&early.plugins_dirs, &project_dir);
    plugin_path::export_for_children(&early.plugins_dirs);
    let mut registry = Registry::load(&search_dirs);

    let args = cli::through_link(args, &registry);
    let alias = cli::alias_used(&args, &registry);
    let matches = match cli::build(&registry).try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(err) => {
            // clap prints help, version and usage errors itself; only the exit code is ours.
            let _ = err.print();
            return match err.exit_code() {
                0 => Ok(()),
                code => Err(Failure::silent(code)),
            };
        }
    };
    let (globals, action) = cli::action(&matches, &registry);
    if let (Some((alias, tool)), Action::Tool(_)) = (&alias, &action) {
        tracing::warn!("`{alias}` is an old name of the {tool} tool and will go away: use `fink {tool}`");
    }
    let session = Session { env: globals.env, project_dir, verbosity: globals.verbosity, search_dirs };
    match action {
        Action::Version => {
            commands::version::run(&registry);
            Ok(())
        }
        Action::Completions(shell) => {
            commands::completions::run(&registry, shell);
            Ok(())
        }
        Action::Plugins => {
            commands::plugins::run(&mut registry, &session);
            Ok(())
        }
        Action::Plugin(command) => commands::plugin::run(&registry, &session, &command),
        Action::Config { show_secrets, raw } => commands::config::run(&mut registry, &session, show_secrets, raw),
        Action::Tool(call) => commands::tool::run(&mut registry, &session, &call),
        Action::UnknownTool(tool) => Err(commands::tool::unknown_tool(&tool)),
    }
}
