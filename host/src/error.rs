//! The host's typed errors; each displays as one line naming the file, plugin or key at fault.

use std::path::PathBuf;

/// Why a plugin file was not loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// dlopen failed: random bytes, wrong architecture, missing dependency.
    #[error("not a loadable library; remove it from the plugins folder")]
    NotALibrary { detail: String },
    /// A library file the headers check refused before dlopen: cut short, or for another machine.
    #[error("damaged library, {reason}; reinstall it or remove it from the plugins folder")]
    Damaged { reason: String },
    /// A library without fink's root module.
    #[error("not a fink plugin (it exports no fink plugin module); remove it from the plugins folder")]
    NotAPlugin { detail: String },
    /// Built against another major version of the plugin API.
    #[error("built for plugin API {plugin}, but this fink supports {host_major}.x; rebuild it against fink-plugin-api {host}")]
    WrongMajor { plugin: String, host: String, host_major: u64 },
    /// Built against a newer minor version than this host knows.
    #[error("needs plugin API {plugin}, newer than this fink's {host}; upgrade fink")]
    NewerMinor { plugin: String, host: String },
    /// The layout check failed although versions match.
    #[error("its plugin-API types do not match this fink's; rebuild it against fink-plugin-api {host}")]
    AbiMismatch { host: String, detail: String },
    /// The plugin's metadata is unusable.
    #[error("{0}")]
    BadInfo(String),
    /// The plugin's module constructor or `register` failed.
    #[error("failed to register: {message}")]
    Register { message: String, detail: String },
    /// Someone else could change the file or folder (ssh's rule for key files); not opened.
    #[error("not trusted: {problem}; fix with `{fix}`")]
    Untrusted { problem: String, fix: String },
    /// The folder has a `plugins.lock` that lists no plugin with this file's hash; not opened.
    #[error("not pinned: {} lists no plugin with its sha256 {actual}; if you trust it, add the line `<plugin name> {actual}` there", .lock.display())]
    NotPinned { lock: PathBuf, actual: String },
    /// The folder's `plugins.lock` pins another hash for the plugin this file holds; not opened.
    #[error("plugin '{name}' does not match {}: the file's sha256 is {actual}, the lock pins {pinned}; put back the pinned file, or `fink plugin install --force` this one to pin it", .lock.display())]
    PinMismatch { name: String, lock: PathBuf, pinned: String, actual: String },
    /// The hash is pinned for one plugin but the file holds another.
    #[error("{} pins its sha256 for plugin '{pinned}', but the file holds plugin '{name}'; fix the lock", .lock.display())]
    PinnedForAnother { name: String, lock: PathBuf, pinned: String },
    /// A library in a trusted project's `.fink/plugins` that is not the one the user trusted.
    #[error("{what} since you trusted {}; if you trust it, run `{fix}`", .project.display())]
    ChangedSinceTrust { what: String, project: PathBuf, fix: String },
    /// A project plugin named like a user or bundled plugin; the project may not replace it.
    #[error("a project plugin may not replace plugin '{name}' of {}; remove this file, or allow the override in your own settings (`projectPluginOverrides` in {})", .other.display(), crate::settings::UserSettings::shown_path())]
    ProjectShadows { name: String, other: PathBuf },
    /// A `plugins.lock` that cannot be read or trusted: no file in its folder is loaded.
    #[error("{}: {problem}; no plugin in this folder loads until it is fixed", .lock.display())]
    BadLock { lock: PathBuf, problem: String },
}

impl LoadError {
    /// Extra detail for `-v`.
    pub fn detail(&self) -> Option<&str> {
        match self {
            LoadError::NotALibrary { detail }
            | LoadError::NotAPlugin { detail }
            | LoadError::AbiMismatch { detail, .. }
            | LoadError::Register { detail, .. } => Some(detail.as_str()).filter(|d| !d.is_empty()),
            _ => None,
        }
    }
}

/// A failure that ends a command; `exit_code` says how.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// One line (or a headline and indented lines, for lists of problems).
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// 1 for failures, 2 for usage and plugin-loading errors, or what a plugin asked for.
    pub exit_code: i32,
}

impl Failure {
    /// A failure with exit code 1.
    pub fn new(message: impl Into<String>) -> Self {
        Failure { message: message.into(), help: None, exit_code: 1 }
    }

    /// A usage or plugin-loading error (exit code 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { message: message.into(), help: None, exit_code: 2 }
    }

    /// A failure already reported (e.g. by clap); only its exit code remains.
    pub fn silent(exit_code: i32) -> Self {
        Failure { message: String::new(), help: None, exit_code }
    }

    /// Adds a hint.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}
