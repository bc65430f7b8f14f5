//! Benchmark from the lookups issue: wall time of resolving 500 lookups over 20 stacks and 100
//! parameters against moto with `fink config` (batched, concurrent), next to the same lookups
//! resolved one call at a time in sequence (the gcdt way). Target: at least 5x faster.
//!
//! Run with `cargo bench -p fink --bench lookups` (needs moto: `bash scripts/moto.sh`).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_ssm::types::ParameterType;
use common::{build, median};
use fink_test_support::{block_on, Moto, REGION};
use serde_json::{json, Map, Value};

const STACKS: usize = 20;
const OUTPUTS: usize = 5;
const PARAMETERS: usize = 100;
const LOOKUPS: usize = 500;

/// (kind, name, output) for each lookup: 300 stack outputs and 200 parameter reads.
fn lookups() -> Vec<(bool, String, String)> {
    (0..LOOKUPS)
        .map(|i| {
            if i < 300 {
                (true, format!("bench-stack-{}", i % STACKS), format!("Out{}", i % OUTPUTS))
            } else {
                (false, format!("/bench/param-{}", i % PARAMETERS), String::new())
            }
        })
        .collect()
}

fn seed(moto: &Moto) {
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        for s in 0..STACKS {
            let outputs: Map<String, Value> =
                (0..OUTPUTS).map(|o| (format!("Out{o}"), json!({"Value": format!("value-{s}-{o}")}))).collect();
            let template = json!({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": outputs});
            cfn.create_stack()
                .stack_name(format!("bench-stack-{s}"))
                .template_body(template.to_string())
                .send()
                .await
                .expect("create stack");
        }
        let ssm = aws_sdk_ssm::Client::new(&config);
        for p in 0..PARAMETERS {
            ssm.put_parameter()
                .name(format!("/bench/param-{p}"))
                .value(format!("pv-{p}"))
                .r#type(ParameterType::String)
                .send()
                .await
                .expect("put parameter");
        }
    });
}

/// The gcdt way: one call per lookup, one after another.
fn sequential(moto: &Moto) -> Duration {
    block_on(async {
        let config = moto.sdk_config(REGION).await;
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let ssm = aws_sdk_ssm::Client::new(&config);
        let start = Instant::now();
        for (is_stack, name, output) in lookups() {
            if is_stack {
                let out = cfn.describe_stacks().stack_name(&name).send().await.expect("describe");
                let found = out.stacks()[0].outputs().iter().any(|o| o.output_key() == Some(output.as_str()));
                assert!(found);
            } else {
                let out = ssm.get_parameter().name(&name).send().await.expect("get parameter");
                assert!(out.parameter().is_some());
            }
        }
        start.elapsed()
    })
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let moto = Moto::start();
    seed(&moto);
    let tmp = tempfile::tempdir().expect("temp dir");
    let plugins = tmp.path().join("plugins");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::create_dir_all(&project).expect("project dir");
    for lib in build(&["fink-plugin-config-reader", "fink-plugin-lookups"], &[]) {
        std::fs::copy(&lib, plugins.join(lib.file_name().expect("name"))).expect("copy plugin");
    }
    common::trust(&plugins);
    let config: Map<String, Value> = lookups()
        .into_iter()
        .enumerate()
        .map(|(i, (is_stack, name, output))| {
            let lookup =
                if is_stack { format!("lookup:stack:{name}:{output}") } else { format!("lookup:parameter:{name}") };
            (format!("k{i}"), Value::String(lookup))
        })
        .collect();
    std::fs::write(project.join("fink_bench.json"), json!({ "values": config }).to_string()).expect("config");

    let batched = || {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_fink"))
            .args(["config", "-e", "bench", "--plugins-dir"])
            .arg(&plugins)
            .current_dir(&project)
            .env("HOME", tmp.path())
            .envs(moto.env())
            .output()
            .expect("fink runs");
        let elapsed = start.elapsed();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let printed: Value = serde_json::from_slice(&out.stdout).expect("config JSON");
        assert_eq!(printed["values"]["k0"], json!("value-0-0"));
        assert_eq!(printed["values"]["k499"], json!("pv-99"));
        elapsed
    };
    batched();
    let fast = median((0..5).map(|_| batched()).collect());
    let slow = median((0..3).map(|_| sequential(&moto)).collect());
    let ratio = slow.as_secs_f64() / fast.as_secs_f64();
    println!("500 lookups over {STACKS} stacks and {PARAMETERS} parameters against moto:");
    println!("  fink config (batched, concurrent): median {:.1} ms", fast.as_secs_f64() * 1000.0);
    println!("  one call per lookup, in sequence:  median {:.1} ms", slow.as_secs_f64() * 1000.0);
    let ok = ratio >= 5.0;
    println!("  speed-up {ratio:.1}x (target >= 5x): {}", if ok { "OK" } else { "MISSED" });
    if !ok {
        std::process::exit(1);
    }
}
