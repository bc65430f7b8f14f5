//! The fink host: finds plugin libraries, checks and registers them, and drives the lifecycle.
//!
//! Read it like a table of contents: [`cli`] (command line), [`session`] (what the command line
//! resolves to), [`declare`] (what a plugin may declare, and the host's own names),
//! [`plugin_path`] (where plugins are), [`trust`] (who may change a plugin file),
//! [`project_trust`] (which projects may run their own code), [`settings`] (the user's own
//! choices), [`publishers`] (whose signatures `plugin install` accepts), [`pins`] and [`hash_cache`] (`plugins.lock`), [`library_check`] (a file's headers
//! before dlopen), [`checked_file`] (a file opened once, checked and loaded as checked),
//! [`plugin_cache`] (what plugins declared, without loading them), [`loader`] (a file becomes a
//! plugin), [`kept_context`] (what a failing command leaves for the error handlers), [`registry`] (what was found and loaded), [`lifecycle`]
//! (signals), [`atomic`] (files replaced in one step),
//! [`schema`] (config defaults and validation), [`logging`] (stderr, secrets masked), [`error`],
//! and [`commands`].

pub mod atomic;
pub mod checked_file;
pub mod cli;
pub mod commands;
pub mod declare;
pub mod error;
pub mod hash_cache;
pub mod kept_context;
pub mod library_check;
pub mod lifecycle;
pub mod loader;
pub mod logging;
pub mod pins;
pub mod plugin_cache;
pub mod plugin_path;
pub mod project_trust;
pub mod publishers;
pub mod registry;
pub mod schema;
pub mod session;
pub mod settings;
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
    cli::check_verbosity(&args).map_err(Failure::usage)?;
    let project_dir = session::project_dir(early.project_dir)?;
    let search_dirs = plugin_path::search_dirs(&early.plugins_dirs, &project_dir);
    plugin_path::export_for_children(&early.plugins_dirs);
    let trust = project_trust::Store::read().verdict(&project_dir);
    let mut registry = Registry::load(&search_dirs, &trust);

    let args = cli::through_link(args, &registry);
    let alias = cli::alias_used(&args, &registry);
    let matches = match cli::build(&registry).try_get_matches_from(args) {
        Ok(matches) => matches,
        Err(err) => {
            warn_untrusted(&trust, &registry, &[]);
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
    // Commands that run the lifecycle warn at its end, with what plugins skipped too.
    let runs_lifecycle = matches!(action, Action::Tool(_) | Action::Config { .. });
    let trust_command = matches!(action, Action::Trust { .. } | Action::Untrust { .. });
    if !runs_lifecycle && !trust_command {
        warn_untrusted(&trust, &registry, &[]);
    }
    let session = Session { env: globals.env, project_dir, verbosity: globals.verbosity, search_dirs, trust };
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
        Action::Trust { dir, list: true } => commands::trust::list(dir.as_deref()),
        Action::Trust { dir, list: false } => commands::trust::trust(&session, dir.as_deref()),
        Action::Untrust { dir } => commands::trust::untrust(&session, dir.as_deref()),
        Action::Config { show_secrets, raw } => commands::config::run(&mut registry, &session, show_secrets, raw),
        Action::Tool(call) => commands::tool::run(&mut registry, &session, &call),
        Action::UnknownTool(tool) => Err(commands::tool::unknown_tool(&tool)),
    }
}

/// Prints the untrusted project's one warning, if anything of it was skipped.
pub fn warn_untrusted(trust: &project_trust::ProjectTrust, registry: &Registry, skipped: &[String]) {
    if let Some(warning) = project_trust::untrusted_warning(trust, &registry.untrusted, skipped) {
        logging::warn(&warning);
    }
}
