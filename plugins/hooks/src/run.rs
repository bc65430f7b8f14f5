//! Running one hook: `sh -c <run>` in the project folder, the context and config as one JSON
//! object on stdin, `FINK_SIGNAL`, `FINK_TOOL`, `FINK_COMMAND` and `FINK_ENV` in its environment.
//! Its output is shown line by line, prefixed, with secret values masked; a last stdout line that
//! is `{"context": {...}, "config": {...}}` is handed back instead. A non-zero exit, a signal or
//! the time limit is an error naming the hook, its key and the signal, with its stderr's last lines.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fink_plugin_api::{info, Error, Event, Result, Secrets, Value};
use serde_json::Map;

use crate::spec::Hook;

/// How many stderr lines a failure shows.
const TAIL_LINES: usize = 20;

/// The exit code of a run stopped by Ctrl-C.
const EXIT_INTERRUPTED: i32 = 130;

/// The last SIGINT or SIGTERM that arrived while a hook ran (0: none).
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(signal: libc::c_int) {
    INTERRUPTED.store(signal, Ordering::SeqCst);
}

/// While a hook runs, Ctrl-C and SIGTERM are caught and passed on to its process group (it has
/// its own, so that the time limit can end everything it started); the old handlers come back
/// when it ends.
struct Forwarding {
    old: [libc::sighandler_t; 2],
}

impl Forwarding {
    fn start() -> Forwarding {
        INTERRUPTED.store(0, Ordering::SeqCst);
        let handler = note_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `note_signal` only stores into an atomic, which is async-signal-safe.
        let old = unsafe { [libc::signal(libc::SIGINT, handler), libc::signal(libc::SIGTERM, handler)] };
        Forwarding { old }
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        // SAFETY: puts back the handlers that were there before.
        unsafe {
            libc::signal(libc::SIGINT, self.old[0]);
            libc::signal(libc::SIGTERM, self.old[1]);
        }
    }
}

/// Sends `signal` to the process group `group`.
fn signal_group(group: u32, signal: libc::c_int) {
    // SAFETY: a plain kill(2) of the hook's own process group.
    unsafe {
        libc::kill(-(group as libc::pid_t), signal);
    }
}

/// What a hook handed back on its last stdout line.
#[derive(Debug, Default, PartialEq)]
pub struct HandedBack {
    pub context: Map<String, Value>,
    pub config: Option<Value>,
}

/// Reads `{"context": {...}, "config": {...}}` (either part may be left out); anything else is
/// ordinary output.
fn handed_back(line: &str) -> Option<HandedBack> {
    let value: Value = serde_json::from_str(line.trim()).ok()?;
    let object = value.as_object()?;
    if object.is_empty() || object.keys().any(|k| k != "context" && k != "config") {
        return None;
    }
    let context = match object.get("context") {
        None => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return None,
    };
    let config = match object.get("config") {
        None => None,
        Some(config @ Value::Object(_)) => Some(config.clone()),
        Some(_) => return None,
    };
    Some(HandedBack { context, config })
}

/// The hook as messages name it: its command line, cut to 60 characters.
fn label(hook: &Hook) -> String {
    let run = hook.run.trim();
    if run.chars().count() > 60 {
        format!("{}...", run.chars().take(57).collect::<String>())
    } else {
        run.to_string()
    }
}

/// Runs `hook` at `signal` with `input` on stdin; returns what it handed back.
pub fn run(hook: &Hook, signal: &str, input: &Value, event: &Event) -> Result<Option<HandedBack>> {
    let name = label(hook);
    let secrets = event.secret_values();
    let started = Instant::now();
    // Caught before the hook starts, so a Ctrl-C right after it began reaches it too.
    let forwarding = Forwarding::start();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&hook.run)
        .current_dir(event.project_path())
        .env("FINK_SIGNAL", signal)
        .env("FINK_TOOL", event.tool().unwrap_or_default())
        .env("FINK_COMMAND", event.command().unwrap_or_default())
        .env("FINK_ENV", event.env().unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| Error::new(format!("hook '{name}' ({}) at {signal}: cannot start sh: {e}", hook.key)))?;

    // stdin, stdout and stderr on their own threads, so a hook that writes a lot before reading
    // (or never reads) cannot block fink.
    let mut stdin = child.stdin.take();
    let text = input.to_string();
    let writer = std::thread::spawn(move || {
        if let Some(stdin) = stdin.as_mut() {
            // A hook that does not read its stdin closes the pipe: that is fine.
            let _ = stdin.write_all(text.as_bytes()).and_then(|_| stdin.write_all(b"\n"));
        }
    });
    let stdout = child.stdout.take().map(BufReader::new);
    let (out_name, out_secrets) = (name.clone(), secrets.clone());
    let reader = std::thread::spawn(move || {
        let mut last: Option<String> = None;
        for line in stdout.into_iter().flat_map(|s| s.lines().map_while(|l| l.ok())) {
            if let Some(previous) = last.replace(line) {
                show(&out_name, &previous, &out_secrets);
            }
        }
        match last {
            Some(line) => match handed_back(&line) {
                Some(changes) => Some(changes),
                None => {
                    show(&out_name, &line, &out_secrets);
                    None
                }
            },
            None => None,
        }
    });
    let tail: Arc<Mutex<VecDeque<String>>> = Arc::default();
    let stderr = child.stderr.take().map(BufReader::new);
    let (err_name, err_secrets, err_tail) = (name.clone(), secrets.clone(), tail.clone());
    let errors = std::thread::spawn(move || {
        for line in stderr.into_iter().flat_map(|s| s.lines().map_while(|l| l.ok())) {
            show(&err_name, &line, &err_secrets);
            if let Ok(mut tail) = err_tail.lock() {
                tail.push_back(err_secrets.mask(&line));
                if tail.len() > TAIL_LINES {
                    tail.pop_front();
                }
            }
        }
    });

    let group = child.id();
    let mut interrupted = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= hook.timeout => {
                signal_group(group, libc::SIGKILL);
                let _ = child.wait();
                break None;
            }
            Ok(None) => {
                let caught = INTERRUPTED.swap(0, Ordering::SeqCst);
                if caught != 0 {
                    interrupted = true;
                    signal_group(group, caught);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(Error::new(format!("hook '{name}' ({}) at {signal}: {e}", hook.key))),
        }
    };
    drop(forwarding);
    let _ = writer.join();
    let changes = reader.join().ok().flatten();
    let _ = errors.join();
    if interrupted {
        return Err(Error::new(format!("interrupted: hook '{name}' ({}) at {signal} was stopped", hook.key))
            .with_exit_code(EXIT_INTERRUPTED));
    }
    let how = match status {
        Some(status) if status.success() => return Ok(changes),
        Some(status) => match status.code() {
            Some(code) => format!("failed with exit code {code}"),
            None => "was ended by a signal".to_string(),
        },
        None => format!("timed out after {}", fink_plugin_api::human::seconds(hook.timeout)),
    };
    let tail: Vec<String> = tail.lock().map(|t| t.iter().map(|l| format!("  {l}")).collect()).unwrap_or_default();
    let mut message = format!("hook '{name}' ({}) at {signal} {how}", hook.key);
    if !tail.is_empty() {
        message.push_str("; its stderr ends with:\n");
        message.push_str(&tail.join("\n"));
    }
    Err(Error::new(message))
}

fn show(name: &str, line: &str, secrets: &Secrets) {
    info!("{name}: {}", secrets.mask(line));
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn only_a_context_and_config_object_is_handed_back() {
        let back = handed_back(r#"{"context": {"built": "yes"}, "config": {"a": 1}}"#).unwrap();
        assert_eq!(back.context.get("built"), Some(&json!("yes")));
        assert_eq!(back.config, Some(json!({"a": 1})));
        assert_eq!(handed_back(r#"{"context": {"x": 1}}"#).unwrap().config, None);
        for other in [r#"{"status": "ok"}"#, "done", "{}", r#"{"config": 3}"#, "[1]"] {
            assert_eq!(handed_back(other), None, "{other}");
        }
    }
}
