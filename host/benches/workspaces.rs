//! Benchmark from the many-stacks issue: `fink cloud deploy --all` of 20 projects in 3 layers
//! (1 → 6 → 13) against moto, with the fault-injection proxy holding each stack in progress for
//! 2 s (moto completes stacks at once; CloudFormation takes its time). Prints the wall time next
//! to one after another (measured with --max-parallel 1, and 20 × 2 s) and next to the ideal
//! schedule for --max-parallel 4 computed from the graph; then fink's own cost per project.
//! Target: wall <= 1.25 x ideal.
//!
//! Run with `cargo bench -p fink --bench workspaces` (needs moto: `bash scripts/moto.sh`).

mod common;

// Test code: unwrap is how it reports a broken test setup.
#[allow(dead_code, unused_imports, clippy::unwrap_used)]
#[path = "../../tests/e2e/proxy.rs"]
mod proxy;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::build;
use fink_test_support::Moto;
use serde_json::json;

const HOLD: Duration = Duration::from_secs(2);
const PARALLEL: usize = 4;

/// (folder, the folder it needs): 1 base, 6 services on it, 13 apps each on one service.
fn tree() -> Vec<(String, Option<String>)> {
    let mut projects = vec![("base".to_string(), None)];
    projects.extend((0..6).map(|i| (format!("services/s{i}"), Some("base".to_string()))));
    projects.extend((0..13).map(|i| (format!("apps/a{i:02}"), Some(format!("services/s{}", i % 6)))));
    projects
}

fn stack(prefix: &str, folder: &str) -> String {
    format!("{prefix}-{}", folder.replace('/', "-"))
}

fn write_tree(root: &Path, prefix: &str) {
    for (folder, needs) in tree() {
        let dir = root.join(&folder);
        std::fs::create_dir_all(&dir).expect("project dir");
        let mut parameters = serde_json::Map::new();
        let mut template_params = serde_json::Map::new();
        if let Some(needs) = needs {
            parameters.insert("Needs".into(), json!(format!("lookup:stack:{}:TopicArn", stack(prefix, &needs))));
            template_params.insert("Needs".into(), json!({"Type": "String"}));
        }
        let template = json!({"Parameters": template_params, "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                              "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}}}});
        std::fs::write(dir.join("cloudformation.json"), template.to_string()).expect("template");
        let config = json!({"cloud": {"stack": {"StackName": stack(prefix, &folder)}, "parameters": parameters}});
        std::fs::write(dir.join("fink_bench.json"), config.to_string()).expect("config");
    }
}

/// The best a scheduler with no cost of its own can do: each job takes `hold`, at most
/// `parallel` at once, each starting when what it needs is done (greedy list scheduling).
fn ideal(parallel: usize, hold: Duration) -> Duration {
    let projects = tree();
    let mut done_at: Vec<Option<Duration>> = vec![None; projects.len()];
    let mut running: Vec<(usize, Duration)> = Vec::new();
    let mut now = Duration::ZERO;
    let index = |folder: &str| projects.iter().position(|(f, _)| f == folder);
    loop {
        for (i, (_, needs)) in projects.iter().enumerate() {
            if running.len() >= parallel || done_at[i].is_some() || running.iter().any(|(r, _)| *r == i) {
                continue;
            }
            let ready = needs.as_deref().and_then(index).map_or(true, |j| done_at[j].is_some_and(|t| t <= now));
            if ready {
                running.push((i, now + hold));
            }
        }
        let Some(&(_, next)) = running.iter().min_by_key(|(_, end)| *end) else { break };
        now = next;
        running.retain(|&(i, end)| {
            if end <= now {
                done_at[i] = Some(end);
                false
            } else {
                true
            }
        });
    }
    now
}

fn fink(root: &Path, plugins: &Path, home: &Path, endpoint: &str, moto: &Moto, args: &[&str]) -> Duration {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_fink"))
        .args(["--plugins-dir"])
        .arg(plugins)
        .args(args)
        .current_dir(root)
        .env("HOME", home)
        .envs(moto.env())
        .env("AWS_ENDPOINT_URL", endpoint)
        .output()
        .expect("fink runs");
    let took = start.elapsed();
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    took
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let moto = Moto::start();
    let proxy = proxy::Proxy::start(moto.endpoint());
    proxy.hold_each(HOLD);
    let tmp = tempfile::tempdir().expect("temp dir");
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    for lib in build(&["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-cloud"], &[]) {
        let to = plugins.join(lib.file_name().expect("name"));
        std::fs::copy(&lib, &to).expect("copy plugin");
    }
    common::trust(&plugins);
    let (parallel_root, serial_root) = (tmp.path().join("parallel"), tmp.path().join("serial"));
    write_tree(&parallel_root, "par");
    write_tree(&serial_root, "ser");
    let run = |root: &Path, args: &[&str]| fink(root, &plugins, tmp.path(), &proxy.endpoint(), &moto, args);

    // fink's own cost: reading the 20 configs (one `fink config --raw` each) for the graph.
    let graph = run(&parallel_root, &["cloud", "graph", "--all", "-e", "bench"]);
    let wall =
        run(&parallel_root, &["cloud", "deploy", "--all", "-e", "bench", "--max-parallel", &PARALLEL.to_string()]);
    let serial = run(&serial_root, &["cloud", "deploy", "--all", "-e", "bench", "--max-parallel", "1"]);
    let ideal = ideal(PARALLEL, HOLD);
    let count = tree().len() as u32;
    let held = HOLD * count;
    println!(
        "cloud deploy --all: {count} stacks in 3 layers (1 -> 6 -> 13), each held {} s by the proxy:",
        HOLD.as_secs()
    );
    println!("  --max-parallel {PARALLEL}: wall {:.1} s", wall.as_secs_f64());
    println!("  ideal schedule for --max-parallel {PARALLEL}: {:.1} s", ideal.as_secs_f64());
    println!(
        "  one after another: {:.1} s measured (--max-parallel 1), {:.1} s of holds alone",
        serial.as_secs_f64(),
        held.as_secs_f64()
    );
    println!(
        "  fink's own cost per project: {:.2} s (measured serial time minus the holds, / {count}); reading the {count} configs: {:.2} s",
        (serial.saturating_sub(held)).as_secs_f64() / f64::from(count),
        graph.as_secs_f64()
    );
    let ratio = wall.as_secs_f64() / ideal.as_secs_f64();
    let speedup = serial.as_secs_f64() / wall.as_secs_f64();
    let ok = ratio <= 1.25;
    println!(
        "  wall / ideal = {ratio:.2} (target <= 1.25): {}; {speedup:.1}x faster than one after another",
        if ok { "OK" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
