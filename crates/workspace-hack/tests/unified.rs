//! Every command builds the third-party crates with the features `cargo test --workspace` builds
//! them with, so no command compiles the AWS SDK a second time (see docs/testing.md).
//!
//! `cargo test --workspace`, `scripts/install.sh` (`-p fink -p <plugins>`), the e2e harness
//! (`-p <plugins and fixtures>`), `cargo bench -p fink` and the benchmarks' own release builds each
//! resolve features for the packages they name. For each workspace member, alone, with and without
//! its dev-dependencies, every third-party crate must come out with a feature set that the whole
//! workspace's test build also has; then any set of members does too. `fink-plugin-api` is left
//! out: it is published and does not depend on the hack crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Crate `name vX.Y.Z` (proc macros marked) → the feature sets it is built with.
type Features = BTreeMap<String, BTreeSet<String>>;

const NOT_CHECKED: &[&str] = &["fink-plugin-api", "fink-workspace-hack"];

fn cargo_tree(args: &[&str]) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["tree", "--prefix", "none", "--color", "never"])
        .args(args)
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "cargo tree {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("cargo tree prints UTF-8")
}

fn features(args: &[&str]) -> Features {
    let mut found = Features::new();
    for line in cargo_tree(&[args, &["-f", "{p}|{f}"]].concat()).lines() {
        let line = line.trim_end().trim_end_matches(" (*)");
        let Some((package, features)) = line.split_once('|') else { continue };
        // Workspace members print their path: `fink v0.1.0 (/.../host)`.
        if package.contains(" (/") || package.contains(" (\\") || package.contains(":\\") {
            continue;
        }
        found.entry(package.trim().to_string()).or_default().insert(features.trim().to_string());
    }
    found
}

fn members() -> Vec<String> {
    cargo_tree(&["--workspace", "--depth", "0", "-e", "normal", "-f", "{p}"])
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[test]
fn every_package_set_resolves_the_features_of_the_workspace_test_build() {
    let workspace = features(&["--workspace", "-e", "normal,build,dev"]);
    assert!(workspace.keys().any(|p| p.starts_with("aws-sdk-s3 ")), "cargo tree lists the SDK: {workspace:?}");
    let members = members();
    assert!(members.iter().any(|m| m == "fink"), "members: {members:?}");

    let mut queries = vec![("--workspace".to_string(), "normal,build")];
    for member in members.iter().filter(|m| !NOT_CHECKED.contains(&m.as_str())) {
        queries.push((member.clone(), "normal,build"));
        queries.push((member.clone(), "normal,build,dev"));
    }
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = queries
            .iter()
            .map(|(package, edges)| {
                s.spawn(move || {
                    let args = if package == "--workspace" {
                        vec!["--workspace", "-e", edges]
                    } else {
                        vec!["-p", package.as_str(), "-e", edges]
                    };
                    (format!("{} -e {edges}", args[..args.len() - 2].join(" ")), features(&args))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("cargo tree thread")).collect()
    });

    let mut problems = Vec::new();
    for (query, found) in &results {
        for (package, sets) in found {
            for set in sets {
                if !workspace.get(package).is_some_and(|w| w.contains(set)) {
                    problems.push(format!(
                        "`cargo tree {query}` builds {package} with features [{set}]; `cargo test --workspace` with {:?}",
                        workspace.get(package)
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "these builds would compile third-party crates a second time; run \
         `cargo hakari generate && cargo hakari manage-deps` (docs/testing.md):\n{}",
        problems.join("\n")
    );
}
