//! Running the outside programs bundling needs (preBundle scripts, pip, npm): their stdout and
//! stderr go to one file so the output keeps its order, and a failure shows its last lines.
//!
//! Each runs in its own process group with a time limit ([`Limit`]); at the limit fink ends the
//! group (SIGTERM, then SIGKILL), so nothing the program started is left running. Ctrl-C is
//! passed on to the group. Output goes to a file, not a pipe, so a background process the program
//! leaves behind cannot hold fink; fink does not wait for it.

use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use fink_plugin_api::{Error, Result};

/// How long a program may run unless its environment variable says otherwise: ten minutes.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Between SIGTERM and SIGKILL when fink ends a program's process group.
const GRACE: Duration = Duration::from_secs(5);

/// The exit code of a run stopped by Ctrl-C.
const EXIT_INTERRUPTED: i32 = 130;

/// A program's time limit and the environment variable that sets it (for the error's help).
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub duration: Duration,
    pub var: Option<&'static str>,
}

impl Limit {
    /// The limit from the environment variable `var` (seconds), else [`DEFAULT_TIMEOUT`].
    pub fn from_env(var: &'static str) -> Result<Limit> {
        let text = std::env::var(var).unwrap_or_default();
        Ok(Limit { duration: seconds(&text, var)?.unwrap_or(DEFAULT_TIMEOUT), var: Some(var) })
    }

    /// A fixed limit, for quick checks no one needs to configure.
    pub fn fixed(duration: Duration) -> Limit {
        Limit { duration, var: None }
    }
}

/// Seconds from an environment variable: empty is `None` (the default); otherwise a number above
/// 0 and at most a year, or an error naming the variable.
fn seconds(text: &str, var: &str) -> Result<Option<Duration>> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 31_536_000.0)
        .and_then(|s| Duration::try_from_secs_f64(s).ok())
        .map(Some)
        .ok_or_else(|| {
            Error::new(format!("{var} must be a number of seconds above 0 and at most 31536000 (a year), got '{text}'"))
        })
}

/// The last SIGINT or SIGTERM that arrived while a program ran (0: none).
static CAUGHT: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(signal: libc::c_int) {
    CAUGHT.store(signal, Ordering::SeqCst);
}

/// While a program runs, Ctrl-C and SIGTERM are caught and passed on to its process group; the
/// old handlers come back when it ends.
struct Forwarding {
    old: [libc::sighandler_t; 2],
}

impl Forwarding {
    fn start() -> Forwarding {
        CAUGHT.store(0, Ordering::SeqCst);
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

fn signal_group(group: u32, signal: libc::c_int) -> bool {
    // SAFETY: kill(2) of the process group of a program fink started (signal 0 only checks it).
    unsafe { libc::kill(-(group as libc::pid_t), signal) == 0 }
}

/// Ends the program's process group: SIGTERM, then SIGKILL after [`GRACE`]; reaps the program.
fn end_group(child: &mut Child) {
    let group = child.id();
    signal_group(group, libc::SIGTERM);
    let deadline = Instant::now() + GRACE;
    while Instant::now() < deadline {
        let _ = child.try_wait();
        if !signal_group(group, 0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    signal_group(group, libc::SIGKILL);
    let _ = child.wait();
}

/// How many lines of a failed program's output an error shows.
pub const TAIL_LINES: usize = 20;

/// What a finished program printed and how it ended.
#[derive(Debug)]
pub struct Finished {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub output: String,
}

impl Finished {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// "exit code 3" or "a signal".
    pub fn how(&self) -> String {
        match self.code {
            Some(code) => format!("exit code {code}"),
            None => "a signal".to_string(),
        }
    }

    /// The last [`TAIL_LINES`] lines of the output, each indented, or "(no output)".
    pub fn tail(&self) -> String {
        tail(&self.output, TAIL_LINES)
    }
}

/// Runs `command` in `dir` and waits for it, at most `limit`; `what` names it in errors. Over the
/// limit, or stopped by Ctrl-C, it is an error naming `what` with the output's last lines.
pub fn run(mut command: Command, dir: &Path, what: &str, limit: Limit) -> Result<Finished> {
    let mut log =
        tempfile::tempfile().map_err(|e| Error::new(format!("cannot create a file for {what}'s output: {e}")))?;
    let err = log.try_clone().map_err(|e| Error::new(format!("cannot capture {what}'s output: {e}")))?;
    let out = log.try_clone().map_err(|e| Error::new(format!("cannot capture {what}'s output: {e}")))?;
    // Caught before the program starts, so a Ctrl-C right after it began reaches it too.
    let forwarding = Forwarding::start();
    let mut child = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .process_group(0)
        .spawn()
        .map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    let started = Instant::now();
    let mut interrupted = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= limit.duration => {
                end_group(&mut child);
                break None;
            }
            Ok(None) => {
                let caught = CAUGHT.swap(0, Ordering::SeqCst);
                if caught != 0 {
                    interrupted = true;
                    signal_group(child.id(), caught);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                end_group(&mut child);
                return Err(Error::new(format!("{what}: {e}")));
            }
        }
    };
    drop(forwarding);
    let mut bytes = Vec::new();
    log.seek(SeekFrom::Start(0)).and_then(|_| log.read_to_end(&mut bytes))?;
    let finished =
        Finished { code: status.and_then(|s| s.code()), output: String::from_utf8_lossy(&bytes).into_owned() };
    if interrupted {
        return Err(Error::new(format!("interrupted: {what} was stopped")).with_exit_code(EXIT_INTERRUPTED));
    }
    if status.is_none() {
        let shown = fink_plugin_api::human::seconds(limit.duration);
        let error =
            Error::new(format!("{what} timed out after {shown}: fink ended it; its output:\n{}", finished.tail()));
        return Err(match limit.var {
            Some(var) => error.with_help(format!("{var} sets the limit in seconds (default 600)")),
            None => error,
        });
    }
    Ok(finished)
}

/// The last `lines` lines of `text`, indented by two spaces.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    if all.iter().all(|line| line.trim().is_empty()) {
        return "  (no output)".to_string();
    }
    let start = all.len().saturating_sub(lines);
    let mut shown: Vec<String> = all[start..].iter().map(|line| format!("  {line}")).collect();
    if start > 0 {
        shown.insert(0, format!("  ... ({start} earlier lines)"));
    }
    shown.join("\n")
}

/// Finds a program on `PATH` like a shell would: the first executable file of that name.
pub fn which(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_keeps_the_order_of_stdout_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.args(["-c", "echo one; echo two >&2; echo three; exit 3"]);
        let done = run(command, dir.path(), "a script", Limit::fixed(Duration::from_secs(60))).unwrap();
        assert_eq!(done.output, "one\ntwo\nthree\n");
        assert_eq!(done.how(), "exit code 3");
        assert!(!done.success());
    }

    #[test]
    fn over_the_limit_the_whole_group_is_ended() {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("sh");
        command.args(["-c", "sleep 300 & echo $! > child.pid; echo waiting; sleep 300"]);
        let started = Instant::now();
        let limit = Limit { duration: Duration::from_millis(500), var: Some("FINK_PREBUNDLE_TIMEOUT") };
        let err = run(command, dir.path(), "a script", limit).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
        assert_eq!(err.message(), "a script timed out after 0.5 s: fink ended it; its output:\n  waiting");
        let pid: libc::pid_t = std::fs::read_to_string(dir.path().join("child.pid")).unwrap().trim().parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while exists(pid) && !zombie(pid) {
            assert!(Instant::now() < deadline, "the background child {pid} outlived the limit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn exists(pid: libc::pid_t) -> bool {
        // SAFETY: signal 0 only asks whether the process exists.
        unsafe { libc::kill(pid, 0) == 0 }
    }

    /// A process that ended but is not reaped yet (its new parent reaps it).
    fn zombie(pid: libc::pid_t) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'))
    }

    #[test]
    fn limits_from_the_environment_name_the_variable() {
        assert_eq!(seconds("", "FINK_PIP_TIMEOUT").unwrap(), None);
        assert_eq!(seconds(" 90 ", "FINK_PIP_TIMEOUT").unwrap(), Some(Duration::from_secs(90)));
        for bad in ["0", "-1", "1e30", "NaN", "inf", "ten"] {
            assert_eq!(
                seconds(bad, "FINK_PIP_TIMEOUT").unwrap_err().message(),
                format!(
                    "FINK_PIP_TIMEOUT must be a number of seconds above 0 and at most 31536000 (a year), got '{bad}'"
                )
            );
        }
    }

    #[test]
    fn tail_keeps_the_last_lines_and_says_how_many_it_left_out() {
        let text: String = (1..=25).map(|i| format!("line {i}\n")).collect();
        let shown = tail(&text, 20);
        assert!(shown.starts_with("  ... (5 earlier lines)\n  line 6\n"), "{shown}");
        assert!(shown.ends_with("  line 25"));
        assert_eq!(tail("\n", 20), "  (no output)");
    }

    #[test]
    fn which_finds_sh_and_not_nonsense() {
        assert!(which("sh").is_some());
        assert!(which("surely-no-such-program-here").is_none());
    }
}
