//! `bundling.preBundle`: scripts run in order with `sh -c` in the project dir before bundling;
//! the first failing one stops the run. Each may run `FINK_PREBUNDLE_TIMEOUT` seconds (default
//! 600); then fink ends it and everything it started.

use std::path::Path;
use std::process::Command;

use fink_plugin_api::{debug, info, Error, Result};

use crate::process::{self, Limit};

/// The environment variable that limits each script (seconds).
pub const TIMEOUT_VAR: &str = "FINK_PREBUNDLE_TIMEOUT";

/// Runs each script in `dir`; `key` (`lambda.bundling.preBundle`) names the list in errors.
pub fn run_all(scripts: &[String], dir: &Path, key: &str) -> Result<()> {
    if scripts.is_empty() {
        return Ok(());
    }
    let limit = Limit::from_env(TIMEOUT_VAR)?;
    for (i, script) in scripts.iter().enumerate() {
        info!("running {key}[{i}]: {script}");
        let mut command = Command::new("sh");
        command.arg("-c").arg(script);
        let done = process::run(command, dir, &format!("{key}[{i}] `{script}`"), limit)?;
        if !done.success() {
            return Err(Error::new(format!(
                "{key}[{i}] `{script}` failed with {}; its output:\n{}",
                done.how(),
                done.tail()
            ))
            .with_help(format!("fix the script or remove it from {key}")));
        }
        for line in done.output.lines() {
            debug!("{line}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_run_in_order_in_the_project_dir() {
        let dir = tempfile::tempdir().unwrap();
        let scripts = vec!["echo one >> order.txt".to_string(), "pwd >> order.txt; echo two >> order.txt".to_string()];
        run_all(&scripts, dir.path(), "lambda.bundling.preBundle").unwrap();
        let text = std::fs::read_to_string(dir.path().join("order.txt")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "one");
        assert_eq!(std::fs::canonicalize(lines[1]).unwrap(), std::fs::canonicalize(dir.path()).unwrap());
        assert_eq!(lines[2], "two");
    }

    #[test]
    fn a_failing_script_stops_the_run_with_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let scripts = vec!["echo building; echo broken >&2; exit 4".to_string(), "touch should-not-exist".to_string()];
        let err = run_all(&scripts, dir.path(), "lambda.bundling.preBundle").unwrap_err();
        assert!(
            err.message().starts_with(
                "lambda.bundling.preBundle[0] `echo building; echo broken >&2; exit 4` failed with exit code 4"
            ),
            "{}",
            err.message()
        );
        assert!(err.message().contains("  building\n  broken"), "{}", err.message());
        assert!(!dir.path().join("should-not-exist").exists());
    }
}
