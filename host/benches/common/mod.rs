//! Helpers shared by the benchmarks: building plugins in release mode and reporting figures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repo root").to_path_buf()
}

/// Builds packages in release mode and returns their plugin libraries (not proc-macro ones).
pub fn build(packages: &[&str], envs: &[(&str, &str)]) -> Vec<PathBuf> {
    let mut cmd = fink_test_support::cargo();
    cmd.current_dir(repo_root()).args(["build", "--release", "--message-format=json-render-diagnostics"]);
    for p in packages {
        cmd.args(["-p", p]);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["kind"][0] == "cdylib")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .filter(|f| f.to_string_lossy().ends_with(std::env::consts::DLL_SUFFIX))
        .collect()
}

pub fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

pub fn report(what: &str, value: Duration, target: Duration) -> bool {
    let ok = value <= target;
    println!(
        "{what}: median {:.3} ms (target <= {:.0} ms): {}",
        value.as_secs_f64() * 1000.0,
        target.as_secs_f64() * 1000.0,
        if ok { "OK" } else { "MISSED" }
    );
    ok
}

/// Gives a plugins folder and its files the modes fink trusts (0755, 0644), whatever the umask
/// they were written under.
pub fn trust(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("set mode")
    };
    set(dir, 0o755);
    for entry in std::fs::read_dir(dir).expect("plugins dir").flatten() {
        set(&entry.path(), 0o644);
    }
}
