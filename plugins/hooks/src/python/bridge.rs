//! The Python process: `bridge.py` (shipped inside this plugin) run by the project's interpreter,
//! one JSON request and one JSON answer per line over two pipes of their own (fds 3 and 4 in
//! the bridge), so the project's code has an empty stdin and its prints go to fink's stderr.
//! Every request has a time limit; the bridge runs in its own process group, which fink ends
//! when the bridge does not answer in time.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fink_plugin_api::{debug, json, Error, Result, Value};

use crate::run::{end_groups, signal_group, Forwarding, GRACE};

const SCRIPT: &str = include_str!("bridge.py");

/// gcdt's helper modules, shipped with the bridge: (module name under `gcdt.`, source).
const HELPERS: [(&str, &str); 9] = [
    ("gcdt_awsclient", include_str!("gcdt/gcdt_awsclient.py")),
    ("gcdt_exceptions", include_str!("gcdt/gcdt_exceptions.py")),
    ("_needs", include_str!("gcdt/_needs.py")),
    ("utils", include_str!("gcdt/utils.py")),
    ("servicediscovery", include_str!("gcdt/servicediscovery.py")),
    ("iam", include_str!("gcdt/iam.py")),
    ("route53", include_str!("gcdt/route53.py")),
    ("kumo_util", include_str!("gcdt/kumo_util.py")),
    ("kumo_particle_helper", include_str!("gcdt/kumo_particle_helper.py")),
];

/// The program the interpreter runs: the helpers' sources as `HELPERS` (a JSON object of
/// strings is a Python dict literal), then the bridge.
fn script() -> String {
    let helpers: serde_json::Map<String, Value> =
        HELPERS.iter().map(|(name, source)| ((*name).to_string(), Value::from(*source))).collect();
    format!("HELPERS = {}\n{SCRIPT}", Value::Object(helpers))
}

/// The bridge's ends of the protocol pipes: it reads requests from fd 3, answers on fd 4.
const REQUESTS_FD: libc::c_int = 3;
const ANSWERS_FD: libc::c_int = 4;

/// How long one wait lasts before fink looks for Ctrl-C and the time limit again.
const SLICE: Duration = Duration::from_millis(50);

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

/// Why a request got no answer.
#[derive(Debug)]
pub enum Broken {
    /// No answer within the limit; `running` is the project function the bridge said it was in
    /// (file, function).
    TimedOut { running: Option<(String, String)> },
    /// Ctrl-C (or SIGTERM) came while Python ran.
    Interrupted { running: Option<(String, String)> },
    /// The bridge died or spoke nonsense.
    Gone(Error),
}

/// A running bridge.
pub struct Bridge {
    child: Child,
    group: u32,
    requests: Option<File>,
    answers: File,
    /// Answer bytes read but not yet a whole line.
    pending: Vec<u8>,
    pub interpreter: String,
}

/// A pipe, both ends close-on-exec: (read end, write end).
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2(2) fills the two-element array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// A close-on-exec copy of `fd` numbered 10 or above, so that putting the child's copies on
/// fds 3 and 4 cannot overwrite one with the other.
fn above_four(fd: OwnedFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC duplicates a descriptor fink owns into a fresh one.
    let copy = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 10) };
    if copy < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `copy` is a fresh descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(copy) })
}

fn nonblocking(fd: OwnedFd) -> File {
    // SAFETY: fcntl(2) on a pipe end only fink uses; O_NONBLOCK changes how fink reads or writes it.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
    File::from(fd)
}

impl Bridge {
    /// Starts `interpreter` in `dir`; `why` names the project file that needs Python, for errors.
    pub fn start(interpreter: &str, from: &str, dir: &Path, why: &str) -> Result<Bridge> {
        let cannot =
            |e: std::io::Error| Error::new(format!("{why} needs Python, but fink cannot set up its pipes: {e}"));
        let (requests_read, requests_write) = pipe().map_err(cannot)?;
        let (answers_read, answers_write) = pipe().map_err(cannot)?;
        let (theirs_in, theirs_out) =
            (above_four(requests_read).map_err(cannot)?, above_four(answers_write).map_err(cannot)?);
        let (fd_in, fd_out) = (theirs_in.as_raw_fd(), theirs_out.as_raw_fd());
        // The project's prints go to fink's stderr, never to fink's stdout (which may be data).
        let stdout = std::io::stderr().as_fd().try_clone_to_owned().map_err(cannot)?;
        let mut command = Command::new(interpreter);
        command
            .args(["-u", "-c", &script()])
            .current_dir(dir)
            .env("FINK_BRIDGE_FDS", format!("{REQUESTS_FD},{ANSWERS_FD}"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(stdout))
            .stderr(Stdio::inherit())
            .process_group(0);
        // SAFETY: the closure runs in the forked child before exec and only calls dup2(2), which
        // is async-signal-safe; the two descriptors stay open in fink until spawn returns. dup2
        // leaves the copies on 3 and 4 without close-on-exec, so the bridge keeps them.
        unsafe {
            command.pre_exec(move || {
                if libc::dup2(fd_in, REQUESTS_FD) < 0 || libc::dup2(fd_out, ANSWERS_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().map_err(|e| {
            let help = "install Python 3, activate the project's virtualenv, or name the interpreter in the config's `python` key";
            if e.kind() == ErrorKind::NotFound {
                Error::new(format!("{why} needs Python, but {interpreter} (from {from}) was not found")).with_help(help)
            } else {
                Error::new(format!("{why} needs Python, but {interpreter} (from {from}) cannot start: {e}")).with_help(help)
            }
        })?;
        // fink's copies of the bridge's ends: without them, the answers pipe ends when the bridge does.
        drop((theirs_in, theirs_out));
        debug!("started the Python bridge: {interpreter} (from {from}), pid {}", child.id());
        Ok(Bridge {
            group: child.id(),
            child,
            requests: Some(nonblocking(requests_write)),
            answers: nonblocking(answers_read),
            pending: Vec::new(),
            interpreter: interpreter.to_string(),
        })
    }

    fn gone(&self, what: String) -> Broken {
        Broken::Gone(
            Error::new(format!("the Python bridge ({}) {what}", self.interpreter))
                .with_help("its output above says why; run with -v for details"),
        )
    }

    /// Sends one request and reads its answer (`{"ok": true, ...}` or `{"ok": false, "error":
    /// ...}`) within `limit`. Ctrl-C meanwhile goes to the bridge's process group.
    pub fn ask(&mut self, request: &Value, limit: Duration) -> std::result::Result<Value, Broken> {
        let deadline = Instant::now() + limit;
        let forwarding = Forwarding::start();
        let mut interrupted = false;
        let mut running: Option<(String, String)> = None;
        let line = format!("{request}\n").into_bytes();
        let mut written = 0;
        loop {
            while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                let raw: Vec<u8> = self.pending.drain(..=end).collect();
                let answer: Value = serde_json::from_slice(&raw)
                    .map_err(|e| self.gone(format!("answered something that is not JSON: {e}")))?;
                // The bridge says which project function it is in, so a timeout can name it.
                if let Some(now) = answer.get("running") {
                    let text = |key: &str| now[key].as_str().unwrap_or_default().to_string();
                    running = Some((text("file"), text("function")));
                    continue;
                }
                if interrupted {
                    return Err(Broken::Interrupted { running });
                }
                return Ok(answer);
            }
            let caught = forwarding.caught();
            if caught != 0 {
                interrupted = true;
                signal_group(self.group, caught);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Broken::TimedOut { running });
            }
            let Some(requests) = self.requests.as_mut() else { return Err(self.gone("is stopped".into())) };
            let writing = written < line.len();
            let mut fds = vec![libc::pollfd { fd: self.answers.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
            if writing {
                fds.push(libc::pollfd { fd: requests.as_raw_fd(), events: libc::POLLOUT, revents: 0 });
            }
            let wait = (deadline - now).min(SLICE);
            // SAFETY: `fds` is a live array of `fds.len()` pollfd structs for the whole call.
            unsafe {
                libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait.as_millis() as libc::c_int);
            }
            if writing {
                match requests.write(&line[written..]) {
                    Ok(n) => written += n,
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                    Err(e) if interrupted => {
                        debug!("the Python bridge stopped reading: {e}");
                        return Err(Broken::Interrupted { running });
                    }
                    Err(e) => return Err(self.gone(format!("stopped reading requests: {e}"))),
                }
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.answers.read(&mut chunk) {
                Ok(0) if interrupted => return Err(Broken::Interrupted { running }),
                Ok(0) => return Err(self.gone("exited".into())),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return Err(self.gone(format!("cannot be read: {e}"))),
            }
        }
    }

    /// Asks the bridge to end and waits for it a little; then ends its process group, and with
    /// it anything the project's code left running.
    pub fn stop(mut self) {
        if let Some(mut requests) = self.requests.take() {
            let _ = requests.write_all(format!("{}\n", json!({"op": "quit"})).as_bytes());
        }
        let deadline = Instant::now() + GRACE;
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        end_groups(&[self.group], Some(&mut self.child));
    }

    /// Ends the bridge's process group now (SIGTERM, then SIGKILL).
    pub fn kill(mut self) {
        self.requests = None;
        end_groups(&[self.group], Some(&mut self.child));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(60);

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
        let loaded = bridge.ask(&json!({"op": "load", "file": path}), LIMIT).unwrap();
        assert_eq!(loaded["signals"], json!({"command_init": 1}));
        let answer = bridge
            .ask(&json!({"op": "signal", "signal": "command_init", "context": {"tool": "cloud"}, "config": {}}), LIMIT)
            .unwrap();
        assert_eq!(answer["config"], json!({"seen": "cloud"}));
        bridge.stop();
    }

    #[test]
    fn other_gcdt_modules_are_named_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cloudformation.py"), "from gcdt.gcdt_lifecycle import main\n").unwrap();
        let mut bridge = Bridge::start("python3", "PATH", dir.path(), "cloudformation.py").unwrap();
        let path = dir.path().join("cloudformation.py").display().to_string();
        let answer = bridge.ask(&json!({"op": "load", "file": path}), LIMIT).unwrap();
        assert_eq!(answer["ok"], false);
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("ImportError: gcdt.gcdt_lifecycle is a gcdt module that fink does not provide"),
            "{message}"
        );
        bridge.stop();
    }

    /// Loads `code` as hookfile.py and sends `command_init`.
    fn signal(code: &str, limit: Duration) -> (Bridge, std::result::Result<Value, Broken>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hookfile.py"), code).unwrap();
        let mut bridge = Bridge::start("python3", "PATH", dir.path(), "hookfile.py").unwrap();
        let path = dir.path().join("hookfile.py").display().to_string();
        assert_eq!(bridge.ask(&json!({"op": "load", "file": path}), LIMIT).unwrap()["ok"], true);
        let answer = bridge.ask(&json!({"op": "signal", "signal": "command_init", "context": {}, "config": {}}), limit);
        (bridge, answer)
    }

    #[test]
    fn a_hook_reading_stdin_gets_an_empty_one_and_the_protocol_goes_on() {
        let (mut bridge, answer) = signal(
            "import sys\nfrom gcdt import gcdt_signals\n\ndef ask(params):\n    params[0]['read'] = sys.stdin.read()\n    \
             print('printed by the hook')\n\ndef register():\n    gcdt_signals.command_init.connect(ask)\n",
            LIMIT,
        );
        assert_eq!(answer.unwrap()["context"], json!({"read": ""}));
        // The bridge still answers.
        let again = bridge.ask(&json!({"op": "signal", "signal": "command_init", "context": {}, "config": {}}), LIMIT);
        assert_eq!(again.unwrap()["ok"], true);
        bridge.stop();
    }

    #[test]
    fn nan_and_other_values_json_cannot_carry_are_named() {
        let code = |value: &str| {
            format!(
                "from gcdt import gcdt_signals\n\ndef put(params):\n    params[1]['cloud'] = {{'ratio': {value}}}\n\n\
                 def register():\n    gcdt_signals.command_init.connect(put)\n"
            )
        };
        for (value, detail) in [
            ("float('nan')", "config['cloud']['ratio'] is nan, which JSON cannot carry (it has no NaN or infinities)"),
            (
                "[1, float('-inf')]",
                "config['cloud']['ratio'][1] is -inf, which JSON cannot carry (it has no NaN or infinities)",
            ),
            ("{1, 2}", "config['cloud']['ratio'] is a set, which JSON cannot carry"),
        ] {
            let (mut bridge, answer) = signal(&code(value), LIMIT);
            let answer = answer.unwrap();
            assert_eq!(answer["ok"], false, "{answer}");
            assert_eq!(answer["error"]["not_json"], detail);
            assert_eq!(
                (&answer["error"]["file"], &answer["error"]["function"]),
                (&json!("hookfile.py"), &json!("put"))
            );
            // Not a dead bridge: it answers the next request.
            let again = bridge.ask(&json!({"op": "signal", "signal": "error", "context": {}, "config": {}}), LIMIT);
            assert_eq!(again.unwrap()["ok"], true);
            bridge.stop();
        }
    }

    #[test]
    fn a_call_over_the_limit_names_the_function_it_is_in() {
        let started = Instant::now();
        let (bridge, answer) = signal(
            "import time\nfrom gcdt import gcdt_signals\n\ndef slow(params):\n    time.sleep(60)\n\n\
             def register():\n    gcdt_signals.command_init.connect(slow)\n",
            Duration::from_millis(500),
        );
        match answer {
            Err(Broken::TimedOut { running }) => {
                assert_eq!(running, Some(("hookfile.py".to_string(), "slow".to_string())))
            }
            other => panic!("{other:?}"),
        }
        bridge.kill();
        assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    }
}
