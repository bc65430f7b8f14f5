//! Running one hook: `sh -c <run>` in the project folder, the context and config as one JSON
//! object on stdin, `FINK_SIGNAL`, `FINK_TOOL`, `FINK_COMMAND` and `FINK_ENV` in its environment.
//! Its output is shown line by line, prefixed, with secret values masked; a last stdout line that
//! is `{"context": {...}, "config": {...}}` is handed back instead. A non-zero exit, a signal or
//! the time limit is an error naming the hook, its key and the signal, with its stderr's last lines.
//!
//! The hook runs in its own process group. fink reads its output without blocking and is done
//! with the hook when the hook process exits: it reads what is buffered then, and does not wait
//! for a background process that still holds the output open. Such processes (anything left in
//! the hook's group) keep running, their output still shown, until the run ends, when fink ends
//! them ([`end_left_behind`]). The time limit and Ctrl-C reach the whole group.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use fink_plugin_api::{debug, info, warn, Error, Event, Result, Secrets, Value};
use serde_json::Map;

use crate::spec::Hook;

/// How many stderr lines a failure shows.
const TAIL_LINES: usize = 20;

/// The exit code of a run stopped by Ctrl-C.
pub(crate) const EXIT_INTERRUPTED: i32 = 130;

/// Between SIGTERM and SIGKILL when fink ends a process group.
pub(crate) const GRACE: Duration = Duration::from_secs(5);

/// At most this long reading what an ended hook left in its pipes (a background process that
/// keeps writing could otherwise hold fink).
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

/// How long one wait for output lasts before fink looks at the hook's state again.
const SLICE: Duration = Duration::from_millis(20);

/// A line longer than this is shown in parts (a hook printing without newlines cannot make fink
/// hold all of it).
const MAX_LINE: usize = 64 * 1024;

/// The last SIGINT or SIGTERM that arrived while a hook ran (0: none).
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(signal: libc::c_int) {
    INTERRUPTED.store(signal, Ordering::SeqCst);
}

/// While a hook (or a call into Python) runs, Ctrl-C and SIGTERM are caught and passed on to its
/// process group (it has its own, so that the time limit can end everything it started); the old
/// handlers come back when it ends.
pub(crate) struct Forwarding {
    old: [libc::sighandler_t; 2],
}

impl Forwarding {
    pub(crate) fn start() -> Forwarding {
        INTERRUPTED.store(0, Ordering::SeqCst);
        let handler = note_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        // SAFETY: `note_signal` only stores into an atomic, which is async-signal-safe.
        let old = unsafe { [libc::signal(libc::SIGINT, handler), libc::signal(libc::SIGTERM, handler)] };
        Forwarding { old }
    }

    /// The signal caught since the last look (0: none).
    pub(crate) fn caught(&self) -> libc::c_int {
        INTERRUPTED.swap(0, Ordering::SeqCst)
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
pub(crate) fn signal_group(group: u32, signal: libc::c_int) {
    // SAFETY: a plain kill(2) of a process group fink started.
    unsafe {
        libc::kill(-(group as libc::pid_t), signal);
    }
}

/// Whether any process of the group is left (zombies count until they are reaped).
fn group_alive(group: u32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the group exists.
    unsafe { libc::kill(-(group as libc::pid_t), 0) == 0 }
}

/// Ends the process groups: SIGTERM, then SIGKILL to those still there after [`GRACE`]. `child`
/// (the group's leader, fink's child) is reaped on the way, so that it does not linger as a zombie.
pub(crate) fn end_groups(groups: &[u32], mut child: Option<&mut Child>) {
    for group in groups {
        signal_group(*group, libc::SIGTERM);
    }
    let deadline = Instant::now() + GRACE;
    loop {
        if let Some(child) = child.as_mut() {
            let _ = child.try_wait();
        }
        let left: Vec<u32> = groups.iter().copied().filter(|g| group_alive(*g)).collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            for group in left {
                debug!("process group {group} outlived SIGTERM: SIGKILL");
                signal_group(group, libc::SIGKILL);
            }
            if let Some(child) = child {
                let _ = child.wait();
            }
            return;
        }
        std::thread::sleep(SLICE);
    }
}

/// A process group a hook left running, ended when the run ends.
struct LeftBehind {
    group: u32,
    hook: String,
}

static LEFT_BEHIND: Mutex<Vec<LeftBehind>> = Mutex::new(Vec::new());

/// `finalized`, last: ends the processes hooks left running in the background.
pub fn end_left_behind(_event: &mut Event) -> Result<()> {
    let left = std::mem::take(&mut *LEFT_BEHIND.lock().unwrap_or_else(|p| p.into_inner()));
    let groups: Vec<u32> = left
        .iter()
        .filter(|l| group_alive(l.group))
        .map(|l| {
            debug!("ending the background processes {} left (process group {})", l.hook, l.group);
            l.group
        })
        .collect();
    if !groups.is_empty() {
        end_groups(&groups, None);
    }
    Ok(())
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
    let group = child.id();

    // stdin on its own thread, not waited for: a hook that never reads it (or a background
    // process that keeps it open) cannot block fink.
    if let Some(mut stdin) = child.stdin.take() {
        let text = format!("{input}\n");
        std::thread::spawn(move || {
            // A hook that does not read its stdin closes the pipe: that is fine.
            let _ = stdin.write_all(text.as_bytes());
        });
    }
    let mut output = Output::new(name.clone(), event.secret_values());
    let mut streams = [
        Stream::new(child.stdout.take().map(OwnedFd::from), false),
        Stream::new(child.stderr.take().map(OwnedFd::from), true),
    ];

    let mut interrupted = false;
    let status = loop {
        pump(&mut streams, &mut output, SLICE);
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= hook.timeout => {
                end_groups(&[group], Some(&mut child));
                break None;
            }
            Ok(None) => {
                let caught = forwarding.caught();
                if caught != 0 {
                    interrupted = true;
                    signal_group(group, caught);
                }
            }
            Err(e) => {
                end_groups(&[group], Some(&mut child));
                return Err(Error::new(format!("hook '{name}' ({}) at {signal}: {e}", hook.key)));
            }
        }
    };
    drop(forwarding);

    // The hook has ended, so all it wrote is in the pipes: read that, and no more.
    let deadline = Instant::now() + DRAIN_LIMIT;
    for stream in streams.iter_mut() {
        while Instant::now() < deadline && stream.read(&mut output) == Got::Data {}
        stream.flush(&mut output);
    }
    let changes = output.finish();
    if lingers(group) {
        warn!(
            "hook '{name}' ({}) at {signal} left processes running in the background: fink ends them when the run ends",
            hook.key
        );
        LEFT_BEHIND
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(LeftBehind { group, hook: format!("hook '{name}' ({})", hook.key) });
    }
    let tail: Vec<String> = output.tail.iter().map(|l| format!("  {l}")).collect();
    if streams.iter().any(Stream::open) {
        // Something still holds the output open: keep showing it (and never close the pipes on a
        // writer, which would end it with SIGPIPE) until it ends.
        std::thread::spawn(move || {
            while streams.iter().any(Stream::open) {
                pump(&mut streams, &mut output, Duration::from_secs(1));
            }
            for stream in streams.iter_mut() {
                stream.flush(&mut output);
            }
        });
    }

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
    let mut message = format!("hook '{name}' ({}) at {signal} {how}", hook.key);
    if !tail.is_empty() {
        message.push_str("; its stderr ends with:\n");
        message.push_str(&tail.join("\n"));
    }
    Err(Error::new(message))
}

/// Whether processes of the hook's group outlived it. A process that ended just before the
/// hook may still be on its way to being reaped, so give it a moment.
fn lingers(group: u32) -> bool {
    let deadline = Instant::now() + Duration::from_millis(200);
    while group_alive(group) {
        if Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

/// What a read brought.
#[derive(Debug, PartialEq)]
enum Got {
    Data,
    /// Nothing there right now.
    Nothing,
    /// The pipe is closed (or failed): no more from it.
    End,
}

/// One of the hook's output pipes, read without blocking.
struct Stream {
    pipe: Option<File>,
    pending: Vec<u8>,
    stderr: bool,
}

impl Stream {
    fn new(pipe: Option<OwnedFd>, stderr: bool) -> Stream {
        let pipe = pipe.map(|fd| {
            // SAFETY: fcntl(2) on a pipe end fink owns; O_NONBLOCK only changes how fink reads it.
            unsafe {
                let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
            File::from(fd)
        });
        Stream { pipe, pending: Vec::new(), stderr }
    }

    fn open(&self) -> bool {
        self.pipe.is_some()
    }

    /// Reads what is there (one buffer full) and passes on the whole lines.
    fn read(&mut self, output: &mut Output) -> Got {
        let Some(pipe) = self.pipe.as_mut() else { return Got::End };
        let mut chunk = [0u8; 16 * 1024];
        match pipe.read(&mut chunk) {
            Ok(0) => {
                self.pipe = None;
                self.flush(output);
                Got::End
            }
            Ok(n) => {
                self.pending.extend_from_slice(&chunk[..n]);
                while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = self.pending.drain(..=end).collect();
                    output.line(&line[..end], self.stderr);
                }
                if self.pending.len() >= MAX_LINE {
                    self.flush(output);
                }
                Got::Data
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => Got::Nothing,
            Err(e) if e.kind() == ErrorKind::Interrupted => Got::Data,
            Err(e) => {
                debug!("reading a hook's output: {e}");
                self.pipe = None;
                self.flush(output);
                Got::End
            }
        }
    }

    /// Passes on a last line that has no newline.
    fn flush(&mut self, output: &mut Output) {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            output.line(&line, self.stderr);
        }
    }
}

/// Waits up to `slice` for output, then reads what came (a bounded amount, so that the caller
/// looks at the hook again soon).
fn pump(streams: &mut [Stream; 2], output: &mut Output, slice: Duration) {
    let mut fds: Vec<libc::pollfd> = streams
        .iter()
        .filter_map(|s| s.pipe.as_ref())
        .map(|p| libc::pollfd { fd: p.as_raw_fd(), events: libc::POLLIN, revents: 0 })
        .collect();
    if fds.is_empty() {
        std::thread::sleep(slice);
        return;
    }
    // SAFETY: `fds` is a live array of `fds.len()` pollfd structs for the whole call.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, slice.as_millis() as libc::c_int);
    }
    for stream in streams.iter_mut() {
        for _ in 0..64 {
            if stream.read(output) != Got::Data {
                break;
            }
        }
    }
}

/// Where the hook's lines go: shown as they come, except the last stdout line, which may be
/// handed back; stderr's last lines are kept for an error.
struct Output {
    name: String,
    secrets: Secrets,
    /// The last stdout line so far, held back until the next one (or the end) shows it is not the last.
    last: Option<String>,
    tail: VecDeque<String>,
    /// Once the hook has ended, every line is just shown.
    finished: bool,
}

impl Output {
    fn new(name: String, secrets: Secrets) -> Output {
        Output { name, secrets, last: None, tail: VecDeque::new(), finished: false }
    }

    fn line(&mut self, bytes: &[u8], stderr: bool) {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        // Not UTF-8: shown with U+FFFD for what cannot be read.
        let line = String::from_utf8_lossy(bytes).into_owned();
        if self.finished {
            show(&self.name, &line, &self.secrets);
        } else if stderr {
            show(&self.name, &line, &self.secrets);
            self.tail.push_back(self.secrets.mask(&line));
            if self.tail.len() > TAIL_LINES {
                self.tail.pop_front();
            }
        } else if let Some(previous) = self.last.replace(line) {
            show(&self.name, &previous, &self.secrets);
        }
    }

    /// The hook has ended: its last stdout line is handed back or shown.
    fn finish(&mut self) -> Option<HandedBack> {
        self.finished = true;
        let line = self.last.take()?;
        let changes = handed_back(&line);
        if changes.is_none() {
            show(&self.name, &line, &self.secrets);
        }
        changes
    }
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
