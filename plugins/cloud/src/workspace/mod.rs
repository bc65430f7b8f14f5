//! Many stacks at once (`--all`): `cloud deploy|preview|delete --all [DIR]` and `cloud graph`
//! find the projects under DIR (`discover`), order them by what they look up (`graph`) and run
//! one child fink per project, in parallel where the graph allows (`run`), showing progress and
//! a summary (`board`). Each child is a whole fink run: its own plugins, hooks, notifications
//! and exit code, so everything a single deploy does is unchanged.

mod board;
mod discover;
mod graph;
mod run;

use std::path::PathBuf;
use std::time::Instant;

use fink_plugin_api::{json, outln, ArgSpec, CommandSpec, Error, Invocation, Result};

pub use run::Mode;

use graph::Graph;

/// The default of `--max-parallel`.
const MAX_PARALLEL: &str = "4";

/// Adds `--all [DIR]`, `--max-parallel`, `--only` and `--exclude` to a command.
pub fn args(spec: CommandSpec) -> CommandSpec {
    spec.arg(
        ArgSpec::flag("all", "Every project under DIR (default: here), in dependency order, in parallel").standalone(),
    )
    .arg(
        ArgSpec::positional("root", "With --all: the folder to search for projects (default: the current one)")
            .value_name("DIR"),
    )
    .arg(
        ArgSpec::option("max-parallel", "With --all: at most N projects at once")
            .value_name("N")
            .default_value(MAX_PARALLEL),
    )
    .arg(
        ArgSpec::option("only", "With --all: only PROJECT (a folder) and what it needs")
            .value_name("PROJECT")
            .multiple(),
    )
    .arg(ArgSpec::option("exclude", "With --all: leave PROJECT out").value_name("PROJECT").multiple())
}

/// The tree's graph and the selected projects.
struct Tree {
    graph: Graph,
    selected: Vec<bool>,
    env: String,
    fink: PathBuf,
    max_parallel: usize,
}

fn tree(call: &Invocation) -> Result<Tree> {
    let env = call.env().filter(|e| !e.is_empty()).ok_or_else(|| Error::new("--all needs an env (-e)"))?.to_string();
    let root = call.project_path().join(call.value("root").unwrap_or("."));
    if !root.is_dir() {
        return Err(Error::new(format!("{} is not a folder", root.display())));
    }
    let root = root.canonicalize().unwrap_or(root);
    let max_parallel = match call.value("max-parallel").unwrap_or(MAX_PARALLEL).parse::<usize>() {
        Ok(n) if n > 0 => n,
        _ => return Err(Error::new("--max-parallel must be a number above 0")),
    };
    let fink = std::env::current_exe().map_err(|e| Error::new(format!("cannot find the fink binary: {e}")))?;
    let projects = discover::projects(&fink, &root, &env, max_parallel)?;
    if projects.is_empty() {
        return Err(Error::new(format!(
            "no projects under {}: no folder has a fink_{env}.* or gcdt_{env}.* config with a cloud section",
            root.display()
        )));
    }
    let graph = Graph::build(projects)?;
    let only: Vec<String> = call.values("only").into_iter().map(String::from).collect();
    let exclude: Vec<String> = call.values("exclude").into_iter().map(String::from).collect();
    let selected = graph.select(&only, &exclude)?;
    if !selected.iter().any(|s| *s) {
        return Err(Error::new("--only/--exclude left no project to run"));
    }
    Ok(Tree { graph, selected, env, fink, max_parallel })
}

/// `cloud deploy|preview|delete --all`.
pub fn run(call: &mut Invocation, mode: Mode, args: Vec<String>) -> Result<()> {
    let tree = tree(call)?;
    if mode == Mode::Delete && !args.iter().any(|a| a == "-f") {
        let mut order: Vec<usize> = tree.graph.layers(&tree.selected).into_iter().flatten().collect();
        order.reverse();
        let listed: Vec<String> = order
            .iter()
            .map(|&i| format!("{} ({})", tree.graph.projects[i].name, tree.graph.projects[i].stack))
            .collect();
        return Err(Error::new(format!(
            "not deleting {} stack(s) without -f, in this order: {}",
            listed.len(),
            listed.join(", ")
        ))
        .with_help(format!("run `fink cloud delete --all -f -e {}` to delete them", tree.env)));
    }
    let plan = run::Plan {
        graph: &tree.graph,
        selected: tree.selected.clone(),
        mode,
        max_parallel: tree.max_parallel,
        fink: tree.fink.clone(),
        env: tree.env.clone(),
        args,
    };
    let mut board = board::Board::new(&tree.graph, &tree.selected, mode, call.verbosity() >= 1);
    let began = Instant::now();
    let (results, interrupted) = fink_aws::runtime()?.block_on(run::run(&plan, &mut board))?;
    outln!("{}", board::summary(&tree.graph, &results, began.elapsed()));
    if interrupted {
        return Err(Error::new("interrupted").with_exit_code(fink_aws::interrupt::EXIT_INTERRUPTED));
    }
    let failed: Vec<&str> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| r.as_ref().is_some_and(|r| matches!(r.outcome, run::Outcome::Failed(_))))
        .map(|(i, _)| tree.graph.projects[i].name.as_str())
        .collect();
    let skipped = results.iter().flatten().filter(|r| matches!(r.outcome, run::Outcome::Skipped(_))).count();
    if failed.is_empty() {
        return Ok(());
    }
    let skipped = if skipped > 0 { format!("; {skipped} skipped") } else { String::new() };
    Err(Error::new(format!("{} of the projects failed: {}{skipped}", failed.len(), failed.join(", "))))
}

/// `cloud graph [--all] [DIR] [--dot|--json]`.
pub fn show_graph(call: &mut Invocation) -> Result<()> {
    let tree = tree(call)?;
    if call.flag("json") {
        outln!(
            "{}",
            serde_json::to_string_pretty(&tree.graph.json(&tree.selected)).unwrap_or_else(|_| json!({}).to_string())
        );
    } else if call.flag("dot") {
        outln!("{}", tree.graph.dot(&tree.selected).trim_end());
    } else {
        outln!("{}", tree.graph.text(&tree.selected).trim_end());
    }
    Ok(())
}
