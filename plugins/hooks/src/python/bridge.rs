//! The Python process: `bridge.py` (shipped inside this plugin) run by the project's interpreter,
//! one JSON request and one JSON answer per line. The project's prints go to fink's stderr.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use fink_plugin_api::{debug, json, Error, Result, Value};

const SCRIPT: &str = include_str!("bridge.py");

/// The interpreter to run: the config's `python` key, else the active virtualenv's, else `python3`.
pub fn interpreter(configured: Option<&str>, virtual_env: Option<&str>) -> (String, &'static str) {
    if let Some(python) = configured.filter(|p| !p.trim().is_empty()) {
        return (python.to_string(), "the config's `python` key");
    }
    if let Some(venv) = virtual_env.filter(|v| !v.trim().is_empty()) {
        return (PathBuf::from(venv).join("bin").join("python").display().to_string(), "VIRTUAL_ENV");
    }
    ("python3".to_string(), "PATH")
}

/// A running bridge.
pub struct Bridge {
    child: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
    pub interpreter: String,
}

impl Bridge {
    /// Starts `interpreter` in `dir`; `why` names the project file that needs Python, for errors.
    pub fn start(interpreter: &str, from: &str, dir: &Path, why: &str) -> Result<Bridge> {
        let mut child = Command::new(interpreter)
            .args(["-u", "-c", SCRIPT])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                let help = "install Python 3, activate the project's virtualenv, or name the interpreter in the config's `python` key";
                if e.kind() == std::io::ErrorKind::NotFound {
                    Error::new(format!("{why} needs Python, but {interpreter} (from {from}) was not found")).with_help(help)
                } else {
                    Error::new(format!("{why} needs Python, but {interpreter} (from {from}) cannot start: {e}")).with_help(help)
                }
            })?;
        debug!("started the Python bridge: {interpreter} (from {from}), pid {}", child.id());
        let requests = child.stdin.take().ok_or_else(|| Error::new("the Python bridge has no stdin"))?;
        let answers = BufReader::new(child.stdout.take().ok_or_else(|| Error::new("the Python bridge has no stdout"))?);
        Ok(Bridge { child, requests, answers, interpreter: interpreter.to_string() })
    }

    /// Sends one request and reads its answer (`{"ok": true, ...}` or `{"ok": false, "error": ...}`).
    pub fn ask(&mut self, request: &Value) -> Result<Value> {
        let gone = |what: String| {
            Error::new(format!("the Python bridge ({}) {what}", self.interpreter))
                .with_help("its output above says why; run with -v for details")
        };
        let line = format!("{request}\n");
        if let Err(e) = self.requests.write_all(line.as_bytes()).and_then(|_| self.requests.flush()) {
            return Err(gone(format!("stopped reading requests: {e}")));
        }
        let mut answer = String::new();
        match self.answers.read_line(&mut answer) {
            Ok(0) => Err(gone("exited".into())),
            Ok(_) => {
                serde_json::from_str(&answer).map_err(|e| gone(format!("answered something that is not JSON: {e}")))
            }
            Err(e) => Err(gone(format!("cannot be read: {e}"))),
        }
    }

    /// Asks the bridge to end and waits for it.
    pub fn stop(mut self) {
        let _ = self.requests.write_all(format!("{}\n", json!({"op": "quit"})).as_bytes());
        let _ = self.requests.flush();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interpreter_is_configured_or_the_virtualenvs_or_python3() {
        assert_eq!(interpreter(Some("/opt/py/bin/python3.11"), Some("/v")).0, "/opt/py/bin/python3.11");
        assert_eq!(interpreter(None, Some("/v")), ("/v/bin/python".to_string(), "VIRTUAL_ENV"));
        assert_eq!(interpreter(Some(" "), None), ("python3".to_string(), "PATH"));
    }

    #[test]
    fn a_missing_interpreter_names_what_needed_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = Bridge::start("no-such-python-3", "PATH", dir.path(), "cloudformation.py").err().unwrap();
        assert_eq!(err.message(), "cloudformation.py needs Python, but no-such-python-3 (from PATH) was not found");
    }

    #[test]
    fn loads_a_module_and_sends_a_signal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("hookfile.py"),
            "from gcdt import gcdt_signals\n\ndef mark(params):\n    context, config = params\n    \
             config['seen'] = context['tool']\n    print('hello from the hook')\n\n\
             def register():\n    gcdt_signals.command_init.connect(mark)\n",
        )
        .unwrap();
        let mut bridge = Bridge::start("python3", "PATH", dir.path(), "hookfile.py").unwrap();
        let path = dir.path().join("hookfile.py").display().to_string();
        let loaded = bridge.ask(&json!({"op": "load", "file": path})).unwrap();
        assert_eq!(loaded["signals"], json!({"command_init": 1}));
        let answer = bridge
            .ask(&json!({"op": "signal", "signal": "command_init", "context": {"tool": "cloud"}, "config": {}}))
            .unwrap();
        assert_eq!(answer["config"], json!({"seen": "cloud"}));
        bridge.stop();
    }

    #[test]
    fn gcdt_helper_modules_are_named_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cloudformation.py"), "from gcdt.iam import IAMRoleAndPolicies\n").unwrap();
        let mut bridge = Bridge::start("python3", "PATH", dir.path(), "cloudformation.py").unwrap();
        let path = dir.path().join("cloudformation.py").display().to_string();
        let answer = bridge.ask(&json!({"op": "load", "file": path})).unwrap();
        assert_eq!(answer["ok"], false);
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("ImportError: gcdt.iam is a gcdt helper module that fink does not provide"),
            "{message}"
        );
        bridge.stop();
    }
}
