//! Benchmark from the packaging issue: `fink cloud deploy` of a parent template with 5 local
//! nested templates, each with 2 Lambda functions whose code is a local folder (300 files, about
//! 1 MB each), against a private moto. Prints the first deploy (packaging: 10 zips and 5 nested
//! templates hashed in parallel and uploaded 8 at once; then the stacks), packaging alone
//! (`cloud generate --no-upload`), and the no-op redeploy, which must upload nothing and change
//! nothing. Target: the no-op redeploy within 3 s.
//!
//! Run with `cargo bench -p fink --bench packaging` (needs moto: `bash scripts/moto.sh`).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::build;
use fink_test_support::{block_on, Moto, REGION};
use serde_json::json;

const NESTED: usize = 5;
const FUNCTIONS: usize = 2;
const FILES: usize = 300;
const NOOP_TARGET: Duration = Duration::from_secs(3);

fn write_project(dir: &Path, stack: &str, bucket: &str) {
    let mut parent = serde_json::Map::new();
    for n in 0..NESTED {
        parent.insert(
            format!("Service{n}"),
            json!({"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": format!("stacks/service{n}.json")}}),
        );
        let mut child = serde_json::Map::new();
        child.insert(
            "Role".into(),
            json!({"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}}),
        );
        for f in 0..FUNCTIONS {
            let code = format!("../src/service{n}/fn{f}");
            child.insert(
                format!("Fn{f}"),
                json!({"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Handler": "app.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Code": code}}),
            );
            let folder = dir.join(format!("src/service{n}/fn{f}"));
            std::fs::create_dir_all(folder.join("lib")).expect("code folder");
            for i in 0..FILES {
                // Code-like text: compressible, different per file.
                let text: String =
                    (0..60).map(|l| format!("def f{i}_{l}(x):\n    return x * {} + {n}{f}\n", l * i + 7)).collect();
                std::fs::write(folder.join(format!("lib/m{i:03}.py")), text).expect("code file");
            }
            std::fs::write(folder.join("app.py"), "def handler(e, c):\n    return 1\n").expect("handler");
        }
        std::fs::create_dir_all(dir.join("stacks")).expect("stacks");
        std::fs::write(dir.join(format!("stacks/service{n}.json")), json!({"Resources": child}).to_string())
            .expect("child");
    }
    std::fs::write(dir.join("cloudformation.json"), json!({"Resources": parent}).to_string()).expect("parent");
    let config = json!({"cloud": {"stack": {"StackName": stack, "artifactBucket": bucket}}});
    std::fs::write(dir.join("fink_bench.json"), config.to_string()).expect("config");
}

fn fink(dir: &Path, plugins: &Path, home: &Path, moto: &Moto, args: &[&str]) -> (Duration, String) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_fink"))
        .args(["--plugins-dir"])
        .arg(plugins)
        .args(args)
        .current_dir(dir)
        .env("HOME", home)
        .envs(moto.env())
        .output()
        .expect("fink runs");
    let took = start.elapsed();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    (took, text)
}

/// The line `cloud: packaged: ...` fink printed.
fn summary(text: &str) -> String {
    text.lines().find(|l| l.contains("packaged:")).unwrap_or("(no packaging summary)").trim().to_string()
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let moto = Moto::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let plugins = tmp.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    for lib in build(&["fink-plugin-config-reader", "fink-plugin-cloud"], &[]) {
        std::fs::copy(&lib, plugins.join(lib.file_name().expect("name"))).expect("copy plugin");
    }
    common::trust(&plugins);
    let bucket = "fink-bench-artifacts";
    block_on(async {
        aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await)
            .create_bucket()
            .bucket(bucket)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                    .build(),
            )
            .send()
            .await
            .expect("create bucket");
    });
    let dir = tmp.path().join("project");
    write_project(&dir, "bench-packaging", bucket);
    let run = |args: &[&str]| fink(&dir, &plugins, tmp.path(), &moto, args);

    let (plan, _) = run(&["cloud", "generate", "--no-upload", "-e", "bench", "plan.json"]);
    let (first, first_out) = run(&["cloud", "deploy", "-e", "bench"]);
    let (noop, noop_out) = run(&["cloud", "deploy", "-e", "bench"]);
    println!(
        "cloud deploy of a parent with {NESTED} local nested templates, {} code folders of {} files:",
        NESTED * FUNCTIONS,
        FILES + 1
    );
    println!("  packaging alone (generate --no-upload: zip and hash everything): {:.2} s", plan.as_secs_f64());
    println!("  first deploy: {:.2} s ({})", first.as_secs_f64(), summary(&first_out));
    let uploaded_nothing = summary(&noop_out).contains("packaged: 0 uploaded") && noop_out.contains("up to date");
    let ok = uploaded_nothing && noop <= NOOP_TARGET;
    println!(
        "  no-op redeploy: {:.2} s ({}) (target: nothing uploaded, <= {} s): {}",
        noop.as_secs_f64(),
        summary(&noop_out),
        NOOP_TARGET.as_secs(),
        if ok { "OK" } else { "MISSED" }
    );
    if !ok {
        std::process::exit(1);
    }
}
