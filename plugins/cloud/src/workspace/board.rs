//! What a many-project run shows while it runs: on a terminal a live board, one line per
//! project (waiting, deploying with its time, and how it ended), the projects' own output only
//! with `-v`; elsewhere (CI logs, pipes) plain lines prefixed with the project. At the end, a
//! summary table and the wall time against the sum of the projects' times.

use std::io::IsTerminal;
use std::time::Duration;

use comfy_table::Table;
use fink_plugin_api::human;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::graph::Graph;
use super::run::{Finished, Mode, Outcome};

pub struct Board {
    names: Vec<String>,
    mode: Mode,
    verbose: bool,
    live: Option<(MultiProgress, Vec<ProgressBar>)>,
}

impl Board {
    /// A live board when stderr is a terminal.
    pub fn new(graph: &Graph, selected: &[bool], mode: Mode, verbose: bool) -> Board {
        let names: Vec<String> = graph.projects.iter().map(|p| p.name.clone()).collect();
        let live = std::io::stderr().is_terminal().then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let width = names.iter().map(String::len).max().unwrap_or(8);
            let style = ProgressStyle::with_template(&format!("{{prefix:<{width}}}  {{spinner}} {{msg}}"))
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bars = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let bar = if selected[i] { multi.add(ProgressBar::new_spinner()) } else { ProgressBar::hidden() };
                    bar.set_style(style.clone());
                    bar.set_prefix(name.clone());
                    bar.set_message("waiting");
                    bar
                })
                .collect();
            (multi, bars)
        });
        Board { names, mode, verbose, live }
    }

    pub fn started(&mut self, i: usize) {
        match &self.live {
            Some((_, bars)) => {
                bars[i].set_message(self.mode.doing());
                bars[i].enable_steady_tick(Duration::from_millis(200));
                let doing = self.mode.doing();
                bars[i].set_style(
                    ProgressStyle::with_template(&format!(
                        "{{prefix:<{}}}  {{spinner}} {doing} {{elapsed}}",
                        self.names.iter().map(String::len).max().unwrap_or(8)
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
            }
            None => eprintln!("[{}] {}", self.names[i], self.mode.doing()),
        }
    }

    pub fn line(&mut self, i: usize, line: &str) {
        match &self.live {
            Some((multi, _)) if self.verbose => {
                let _ = multi.println(format!("[{}] {line}", self.names[i]));
            }
            Some(_) => {}
            None => eprintln!("[{}] {line}", self.names[i]),
        }
    }

    /// On a terminal the output of a failed project is shown after all (plain mode showed it).
    pub fn failed_output(&mut self, i: usize, output: &[String]) {
        if let Some((multi, _)) = &self.live {
            if !self.verbose {
                for line in output.iter().rev().take(20).rev() {
                    let _ = multi.println(format!("[{}] {line}", self.names[i]));
                }
            }
        }
    }

    pub fn done(&mut self, i: usize, outcome: &Outcome, duration: Duration, after: &[String]) {
        let text = describe(outcome, after);
        let took = if duration.is_zero() { String::new() } else { format!(" ({})", human::duration(duration)) };
        match &self.live {
            Some((_, bars)) => {
                let width = self.names.iter().map(String::len).max().unwrap_or(8);
                bars[i].set_style(
                    ProgressStyle::with_template(&format!("{{prefix:<{width}}}  {{msg}}"))
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                bars[i].finish_with_message(format!("{text}{took}"));
            }
            None => eprintln!("[{}] {text}{took}", self.names[i]),
        }
    }

    pub fn note(&mut self, text: &str) {
        match &self.live {
            Some((multi, _)) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }
}

fn describe(outcome: &Outcome, after: &[String]) -> String {
    match (outcome, after) {
        (_, []) => outcome.text(),
        (_, after) => format!("{} (may change after {})", outcome.text(), after.join(", ")),
    }
}

/// The summary: each selected project's outcome and time, then the wall time against the sum.
pub fn summary(graph: &Graph, results: &[Option<Finished>], wall: Duration) -> String {
    let mut table = Table::new();
    table.set_header(["Project", "Stack", "Outcome", "Time"]);
    let mut sum = Duration::ZERO;
    for (i, result) in results.iter().enumerate() {
        let Some(result) = result else { continue };
        sum += result.duration;
        let took = if result.duration.is_zero() { "-".to_string() } else { human::duration(result.duration) };
        let project = &graph.projects[i];
        table.add_row([project.name.clone(), project.stack.clone(), describe(&result.outcome, &result.after), took]);
    }
    format!("{table}\nwall time {} for {} of project time", human::duration(wall), human::duration(sum))
}
