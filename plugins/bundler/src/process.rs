//! Running the outside programs bundling needs (preBundle scripts, pip, npm): their stdout and
//! stderr go to one file so the output keeps its order, and a failure shows its last lines.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use fink_plugin_api::{Error, Result};

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

/// Runs `command` in `dir` and waits for it; `what` names it in the error when it cannot start.
pub fn run(mut command: Command, dir: &Path, what: &str) -> Result<Finished> {
    let mut log =
        tempfile::tempfile().map_err(|e| Error::new(format!("cannot create a file for {what}'s output: {e}")))?;
    let err = log.try_clone().map_err(|e| Error::new(format!("cannot capture {what}'s output: {e}")))?;
    let out = log.try_clone().map_err(|e| Error::new(format!("cannot capture {what}'s output: {e}")))?;
    let status = command
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .status()
        .map_err(|e| Error::new(format!("cannot run {what}: {e}")))?;
    let mut bytes = Vec::new();
    log.seek(SeekFrom::Start(0)).and_then(|_| log.read_to_end(&mut bytes))?;
    Ok(Finished { code: status.code(), output: String::from_utf8_lossy(&bytes).into_owned() })
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
        let done = run(command, dir.path(), "a script").unwrap();
        assert_eq!(done.output, "one\ntwo\nthree\n");
        assert_eq!(done.how(), "exit code 3");
        assert!(!done.success());
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
