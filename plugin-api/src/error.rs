//! The error type plugin code returns; converted to [`crate::abi::PluginError`] at the boundary.

use std::fmt;

use abi_stable::std_types::{ROption, RString};

use crate::abi::PluginError;

/// An error from a handler or command. Like `anyhow::Error`, any `std::error::Error` converts into it
/// with `?`; use [`Error::new`] for a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
    help: Option<String>,
    exit_code: i32,
}

/// `Result` with fink's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a one-line message.
    pub fn new(message: impl fmt::Display) -> Self {
        Error { message: message.to_string(), help: None, exit_code: 0 }
    }

    /// Adds a hint the host prints under the error.
    pub fn with_help(mut self, help: impl fmt::Display) -> Self {
        self.help = Some(help.to_string());
        self
    }

    /// Asks the host to exit with this code (e.g. 130 after Ctrl-C) instead of 1.
    pub fn with_exit_code(mut self, code: i32) -> Self {
        self.exit_code = code;
        self
    }

    /// The error for a command that cannot work without the project's own code (`what`, e.g.
    /// `"cloud.stack.generator"`) in a project the user has not trusted: exit code 2, naming the
    /// command that trusts it (since 1.3). [`crate::Data::untrusted_error`] fills in the project.
    pub fn untrusted(project_dir: &str, what: &str) -> Self {
        let plain = !project_dir.is_empty()
            && project_dir.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+@%=:,".contains(c));
        let quoted = if plain { project_dir.to_string() } else { format!("'{}'", project_dir.replace('\'', r"'\''")) };
        Error::new(format!("{what} is the project's own code, and {project_dir} is not a trusted project"))
            .with_help(format!("if you trust its code, run `fink trust {quoted}`"))
            .with_exit_code(2)
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The hint, if any.
    pub fn help(&self) -> Option<&str> {
        self.help.as_deref()
    }

    pub(crate) fn into_abi(self) -> PluginError {
        PluginError {
            message: RString::from(self.message),
            help: self.help.map(RString::from).into(),
            exit_code: self.exit_code,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(err: E) -> Self {
        // Keep the whole chain on one line: "outer: inner: innermost".
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(inner) = source {
            let text = inner.to_string();
            if !message.contains(&text) {
                message.push_str(": ");
                message.push_str(&text);
            }
            source = inner.source();
        }
        Error::new(message)
    }
}

impl From<PluginError> for Error {
    fn from(err: PluginError) -> Self {
        Error {
            message: err.message.into(),
            help: match err.help {
                ROption::RSome(h) => Some(h.into()),
                ROption::RNone => None,
            },
            exit_code: err.exit_code,
        }
    }
}

/// Returns early with an [`Error`] built from a format string.
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => {
        return ::core::result::Result::Err($crate::Error::new(format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_error_converts_with_its_message() {
        let err: Error = std::io::Error::new(std::io::ErrorKind::NotFound, "gone").into();
        assert_eq!(err.message(), "gone");
    }

    #[test]
    fn help_and_exit_code_cross_the_boundary() {
        let abi = Error::new("stop").with_help("try again").with_exit_code(130).into_abi();
        assert_eq!(abi.message.as_str(), "stop");
        assert_eq!(abi.exit_code, 130);
        let back = Error::from(abi);
        assert_eq!(back.help(), Some("try again"));
    }
}
