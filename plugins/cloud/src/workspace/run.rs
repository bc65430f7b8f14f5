//! Running one fink per project in dependency order, at most N at once: a project starts when
//! what it needs has finished (for delete: when what needs it is gone). A failure skips every
//! project that depends on it; independent ones go on. The first Ctrl-C is passed to the
//! running finks (each cancels its update, as a single deploy does) and nothing new starts; the
//! second one is passed on too and stops waiting.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use fink_aws::interrupt::Interrupts;
use fink_plugin_api::{Error, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use super::board::Board;
use super::graph::Graph;

/// What the run does to each project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Deploy,
    Preview,
    Delete,
}

impl Mode {
    pub fn command(self) -> &'static str {
        match self {
            Mode::Deploy => "deploy",
            Mode::Preview => "preview",
            Mode::Delete => "delete",
        }
    }

    /// The board's word for a running project.
    pub fn doing(self) -> &'static str {
        match self {
            Mode::Deploy => "deploying",
            Mode::Preview => "previewing",
            Mode::Delete => "deleting",
        }
    }
}

/// How a project ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    UpToDate,
    Created,
    Updated,
    Changes,
    NoChanges,
    Deleted,
    Absent,
    Failed(String),
    Skipped(String),
    /// Not started: the run was interrupted first.
    NotStarted,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        !matches!(self, Outcome::Failed(_) | Outcome::Skipped(_) | Outcome::NotStarted)
    }

    pub fn text(&self) -> String {
        match self {
            Outcome::UpToDate => "up to date".into(),
            Outcome::Created => "created".into(),
            Outcome::Updated => "updated".into(),
            Outcome::Changes => "changes".into(),
            Outcome::NoChanges => "no changes".into(),
            Outcome::Deleted => "deleted".into(),
            Outcome::Absent => "not there".into(),
            Outcome::Failed(why) => format!("failed: {why}"),
            Outcome::Skipped(why) => format!("skipped ({why})"),
            Outcome::NotStarted => "not started (interrupted)".into(),
        }
    }

    /// Reads a child fink's exit code and output.
    fn of(mode: Mode, code: Option<i32>, output: &[String]) -> Outcome {
        let has = |text: &str| output.iter().any(|l| l.contains(text));
        match (mode, code) {
            (Mode::Deploy, Some(0)) if has("is up to date") => Outcome::UpToDate,
            (Mode::Deploy, Some(0)) if has("creating stack") => Outcome::Created,
            (Mode::Deploy, Some(0)) => Outcome::Updated,
            (Mode::Preview, Some(0)) if has("Changes: no resource changes") || has(": no changes") => {
                Outcome::NoChanges
            }
            (Mode::Preview, Some(0)) => Outcome::Changes,
            (Mode::Delete, Some(0)) => Outcome::Deleted,
            (Mode::Delete, _) if has("does not exist") => Outcome::Absent,
            (_, Some(130)) => Outcome::Failed("interrupted".into()),
            (_, code) => {
                let error =
                    output.iter().rev().find_map(|l| l.trim().strip_prefix("error:").map(|e| e.trim().to_string()));
                Outcome::Failed(error.unwrap_or_else(|| match code {
                    Some(code) => format!("exit code {code}"),
                    None => "killed by a signal".into(),
                }))
            }
        }
    }
}

/// One project's result.
#[derive(Debug, Clone)]
pub struct Finished {
    pub outcome: Outcome,
    pub duration: Duration,
    /// For preview: the dependencies that have changes, so this one may change after them.
    pub after: Vec<String>,
}

/// What to run.
pub struct Plan<'g> {
    pub graph: &'g Graph,
    pub selected: Vec<bool>,
    pub mode: Mode,
    pub max_parallel: usize,
    pub fink: PathBuf,
    pub env: String,
    /// Passed to each child after the command, e.g. `-f`.
    pub args: Vec<String>,
}

enum Message {
    Line(usize, String),
    Done(usize, Option<i32>),
}

/// Runs the plan; returns each selected project's result (None for unselected ones) and whether
/// it was interrupted.
pub async fn run(plan: &Plan<'_>, board: &mut Board) -> Result<(Vec<Option<Finished>>, bool)> {
    let graph = plan.graph;
    let count = graph.projects.len();
    let mut results: Vec<Option<Finished>> = vec![None; count];
    let mut started: Vec<Option<Instant>> = vec![None; count];
    let mut pids: Vec<Option<u32>> = vec![None; count];
    let mut output: Vec<Vec<String>> = vec![Vec::new(); count];
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    let mut interrupts = Interrupts::listen()?;
    let mut presses = 0;
    let mut running = 0;
    // Deploy and preview wait for what a project needs; delete for what needs it.
    let waits_for = |i: usize| -> Vec<usize> {
        match plan.mode {
            Mode::Delete => (0..count).filter(|&j| graph.needs[j].contains(&i)).collect(),
            _ => graph.needs[i].clone(),
        }
    };
    loop {
        if presses == 0 {
            for i in 0..count {
                if running >= plan.max_parallel.max(1) {
                    break;
                }
                if !plan.selected[i] || started[i].is_some() || results[i].is_some() {
                    continue;
                }
                let deps: Vec<usize> = waits_for(i).into_iter().filter(|&j| plan.selected[j]).collect();
                if !deps.iter().all(|&j| results[j].as_ref().is_some_and(|r| r.outcome.ok())) {
                    continue;
                }
                let pid = start(plan, i, tx.clone())?;
                pids[i] = Some(pid);
                started[i] = Some(Instant::now());
                running += 1;
                board.started(i);
            }
        }
        if running == 0 {
            break;
        }
        tokio::select! {
            Some(message) = rx.recv() => match message {
                Message::Line(i, line) => {
                    board.line(i, &line);
                    output[i].push(line);
                }
                Message::Done(i, code) => {
                    running -= 1;
                    pids[i] = None;
                    let duration = started[i].map(|s| s.elapsed()).unwrap_or_default();
                    let outcome = Outcome::of(plan.mode, code, &output[i]);
                    let after = match plan.mode {
                        Mode::Preview => graph.needs[i]
                            .iter()
                            .filter(|&&j| results[j].as_ref().is_some_and(|r| r.outcome == Outcome::Changes || !r.after.is_empty()))
                            .map(|&j| graph.projects[j].name.clone())
                            .collect(),
                        _ => Vec::new(),
                    };
                    if !outcome.ok() {
                        skip_behind(plan, i, &mut results, &started, board);
                        board.failed_output(i, &output[i]);
                    }
                    board.done(i, &outcome, duration, &after);
                    results[i] = Some(Finished { outcome, duration, after });
                }
            },
            _ = interrupts.next() => {
                presses += 1;
                for pid in pids.iter().flatten() {
                    // Each child fink handles it as a single deploy does: cancel, then detach.
                    unsafe { libc::kill(*pid as libc::pid_t, libc::SIGINT) };
                }
                board.note(if presses == 1 {
                    "interrupted: the running projects cancel their updates; nothing new starts (Ctrl-C again to stop waiting)"
                } else {
                    "interrupted again: stopped waiting; the running finks go on detaching"
                });
                if presses > 1 {
                    break;
                }
            }
        }
    }
    for i in 0..count {
        if plan.selected[i] && results[i].is_none() && started[i].is_none() {
            results[i] = Some(Finished { outcome: Outcome::NotStarted, duration: Duration::ZERO, after: Vec::new() });
            board.done(i, &Outcome::NotStarted, Duration::ZERO, &[]);
        }
    }
    Ok((results, presses > 0))
}

/// Marks what cannot run once `i` failed: its dependents (delete: what it needs).
fn skip_behind(
    plan: &Plan<'_>,
    i: usize,
    results: &mut [Option<Finished>],
    started: &[Option<Instant>],
    board: &mut Board,
) {
    let graph = plan.graph;
    let name = &graph.projects[i].name;
    let behind: Vec<usize> = match plan.mode {
        Mode::Delete => {
            let mut found = std::collections::BTreeSet::new();
            let mut stack = graph.needs[i].clone();
            while let Some(j) = stack.pop() {
                if found.insert(j) {
                    stack.extend(&graph.needs[j]);
                }
            }
            found.into_iter().collect()
        }
        _ => graph.dependents(i),
    };
    for j in behind {
        if plan.selected[j] && results[j].is_none() && started[j].is_none() {
            let why = match plan.mode {
                Mode::Delete => format!("needed by {name}, which failed"),
                _ => format!("needs {name}, which failed"),
            };
            let outcome = Outcome::Skipped(why);
            board.done(j, &outcome, Duration::ZERO, &[]);
            results[j] = Some(Finished { outcome, duration: Duration::ZERO, after: Vec::new() });
        }
    }
}

/// Starts the child fink for project `i`, in its own process group (so a terminal's Ctrl-C
/// reaches it once, from us); its lines and its end arrive as messages.
fn start(plan: &Plan<'_>, i: usize, tx: mpsc::UnboundedSender<Message>) -> Result<u32> {
    let project = &plan.graph.projects[i];
    let mut command = tokio::process::Command::new(&plan.fink);
    command
        .args(["cloud", plan.mode.command(), "-e", &plan.env, "-C"])
        .arg(&project.dir)
        .args(&plan.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command
        .spawn()
        .map_err(|e| Error::new(format!("{}: cannot start {}: {e}", project.name, plan.fink.display())))?;
    let pid = child.id().unwrap_or(0);
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    tokio::spawn(async move {
        let lines = |stream: Option<Box<dyn tokio::io::AsyncRead + Unpin + Send>>,
                     tx: mpsc::UnboundedSender<Message>| async move {
            let Some(stream) = stream else { return };
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = tx.send(Message::Line(i, line));
            }
        };
        let out = stdout.map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
        let err = stderr.map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>);
        tokio::join!(lines(out, tx.clone()), lines(err, tx.clone()));
        let code = child.wait().await.ok().and_then(|s| s.code());
        let _ = tx.send(Message::Done(i, code));
    });
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn outcomes_are_read_from_the_child() {
        assert_eq!(
            Outcome::of(Mode::Deploy, Some(0), &lines("cloud: stack 'a' is up to date: no changes to deploy")),
            Outcome::UpToDate
        );
        assert_eq!(Outcome::of(Mode::Deploy, Some(0), &lines("cloud: creating stack 'a'")), Outcome::Created);
        assert_eq!(Outcome::of(Mode::Deploy, Some(0), &lines("cloud: updating stack 'a'")), Outcome::Updated);
        assert_eq!(
            Outcome::of(Mode::Deploy, Some(1), &lines("x\nerror: cloud (cloud deploy): boom\n  help: y")),
            Outcome::Failed("cloud (cloud deploy): boom".into())
        );
        assert_eq!(Outcome::of(Mode::Delete, Some(1), &lines("error: stack 'a' does not exist")), Outcome::Absent);
        assert_eq!(Outcome::of(Mode::Preview, Some(0), &lines("Changes: no resource changes")), Outcome::NoChanges);
        assert_eq!(Outcome::of(Mode::Preview, Some(0), &lines("Changes:\n| Add |")), Outcome::Changes);
        assert!(!Outcome::Skipped("x".into()).ok());
    }
}
