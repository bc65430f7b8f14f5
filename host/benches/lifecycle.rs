//! Benchmarks with targets from the foundation issue:
//! - median wall time of `fink version` and `fink --help` with all bundled plugins installed
//!   (target ≤ 20 ms), taken from the plugin metadata cache (issue 22), beside `fink version`
//!   loading every plugin (the cache removed) and with no plugins at all;
//! - median time of the 16-signal lifecycle with 10 plugins subscribed to every signal (≤ 1 ms);
//! - the part of `fink version` that the header check before dlopen takes (issue 16): the check of
//!   every bundled plugin file, warm, as `fink version` does it (≤ 1 ms, 5% of the budget);
//! - `fink version` with a `plugins.lock` pinning every bundled plugin (issue 14), with the hashes
//!   remembered from an earlier run (≤ 20 ms), and what hashing every file costs on a run that
//!   remembers nothing (no target: it happens once after each install).
//!
//! Run with `cargo bench -p fink --bench lifecycle`. Plugins are built in release mode by cargo.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{build, median, report};

use fink::lifecycle;
use fink::plugin_path::SearchDir;
use fink::registry::Registry;
use fink::session::Session;
use serde_json::{json, Map, Value};

/// Every plugin crate under plugins/ (the bundled plugins, as scripts/install.sh installs them).
fn bundled() -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(common::repo_root().join("plugins")).expect("plugins/").flatten() {
        let manifest = std::fs::read_to_string(entry.path().join("Cargo.toml")).unwrap_or_default();
        // Examples (`bundled = false`, say-hello) are not part of an install.
        if !manifest.contains("\"cdylib\"") || manifest.lines().any(|l| l.replace(' ', "") == "bundled=false") {
            continue;
        }
        let name = manifest.lines().find_map(|l| l.strip_prefix("name = \"")).map(|n| n.trim_end_matches('"'));
        names.extend(name.map(String::from));
    }
    names.sort();
    names
}

fn bench_version(tmp: &Path) -> bool {
    // Lay out an install: <prefix>/bin/fink and <prefix>/lib/fink/plugins/*.so.
    let prefix = tmp.join("prefix");
    let plugins = prefix.join("lib/fink/plugins");
    std::fs::create_dir_all(prefix.join("bin")).expect("bin dir");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    let bundled = bundled();
    let packages: Vec<&str> = bundled.iter().map(String::as_str).collect();
    for lib in build(&packages, &[]) {
        std::fs::copy(&lib, plugins.join(lib.file_name().expect("file name"))).expect("copy plugin");
    }
    common::trust(&plugins);
    let fink = prefix.join("bin/fink");
    std::fs::copy(env!("CARGO_BIN_EXE_fink"), &fink).expect("copy fink");
    let home = tmp.join("home");
    let run = || run_fink(&fink, &home, tmp, "version");
    let help = || run_fink(&fink, &home, tmp, "--help");
    let listed =
        Command::new(&fink).arg("version").env("HOME", &home).env_remove("XDG_CACHE_HOME").output().expect("fink runs");
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("hocon-reader") && listed.contains("config-reader") && !listed.contains("rejected"),
        "{listed}"
    );
    let timed = |runs: usize, what: &dyn Fn(), before: &dyn Fn()| {
        for _ in 0..5 {
            before();
            what();
        }
        let samples = (0..runs)
            .map(|_| {
                before();
                let start = Instant::now();
                what();
                start.elapsed()
            })
            .collect();
        median(samples)
    };
    // What the plugins declared comes from the metadata cache (issue 22): no plugin is loaded.
    let version = timed(50, &run, &|| ());
    let ok =
        report(&format!("fink version with {} bundled plugins", bundled.len()), version, Duration::from_millis(20));
    let help_time = timed(50, &help, &|| ());
    let ok = ok & report("fink --help with the bundled plugins", help_time, Duration::from_millis(20));
    let metadata = home.join(".cache/fink/plugin-metadata.json");
    let uncached = timed(20, &run, &|| {
        let _ = std::fs::remove_file(&metadata);
    });
    println!(
        "fink version loading every plugin (metadata cache removed before each run): median {:.3} ms (once after each install)",
        uncached.as_secs_f64() * 1000.0
    );
    let bare_prefix = tmp.join("bare");
    std::fs::create_dir_all(bare_prefix.join("bin")).expect("bin dir");
    std::fs::create_dir_all(bare_prefix.join("lib/fink/plugins")).expect("plugins dir");
    let bare = bare_prefix.join("bin/fink");
    std::fs::copy(env!("CARGO_BIN_EXE_fink"), &bare).expect("copy fink");
    common::trust(&bare_prefix.join("lib/fink/plugins"));
    let none = timed(50, &|| run_fink(&bare, &home, tmp, "version"), &|| ());
    println!(
        "fink version with no plugins: median {:.3} ms; with the {} bundled ones {:.2}x that",
        none.as_secs_f64() * 1000.0,
        bundled.len(),
        version.as_secs_f64() / none.as_secs_f64()
    );
    let ok = ok & bench_header_check(&plugins, version);

    // Pinned: a plugins.lock listing every file (as `fink plugin install` writes it).
    let mut lock = String::new();
    for file in libraries(&plugins) {
        let checked = fink::checked_file::CheckedFile::open(&file).expect("a bundled plugin opens");
        let (_, info) = fink::loader::open(checked).expect("a bundled plugin loads");
        let hash = fink::pins::sha256_file(&file).expect("readable");
        lock.push_str(&format!("{} {hash}\n", info.name));
    }
    std::fs::write(plugins.join(fink::pins::LOCK_FILE), lock).expect("write plugins.lock");
    common::trust(&plugins);
    let cache = home.join(".cache/fink/plugin-hashes");
    let pinned = timed(50, &run, &|| ());
    assert!(cache.is_file(), "the hashes are remembered in {}", cache.display());
    let ok = ok & report("fink version with plugins.lock (hashes remembered)", pinned, Duration::from_millis(20));
    let cold = timed(10, &run, &|| {
        let _ = std::fs::remove_file(&cache);
    });
    let size: u64 = libraries(&plugins).iter().map(|f| f.metadata().map(|m| m.len()).unwrap_or(0)).sum();
    println!(
        "fink version with plugins.lock, nothing remembered (hashes {:.0} MB): median {:.3} ms (no target: once per install)",
        size as f64 / 1e6,
        cold.as_secs_f64() * 1000.0
    );
    let more = |d: Duration| (d.as_secs_f64() - version.as_secs_f64()) * 1000.0;
    println!(
        "  so pinning costs {:+.3} ms a run once the hashes are remembered, {:+.3} ms when every file is hashed",
        more(pinned),
        more(cold)
    );
    let _ = std::fs::remove_file(plugins.join(fink::pins::LOCK_FILE));
    ok
}

/// Runs `fink <arg>` as a user would, output discarded.
fn run_fink(fink: &Path, home: &Path, dir: &Path, arg: &str) {
    let status = Command::new(fink)
        .arg(arg)
        .env("HOME", home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("FINK_PLUGIN_PATH")
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("fink runs");
    assert!(status.success());
}

/// The plugin libraries in `dir`.
fn libraries(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("plugins dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == std::env::consts::DLL_EXTENSION))
        .collect();
    files.sort();
    files
}

/// The header check `fink version` runs on each plugin file before dlopen, alone: what the
/// command costs more than it did without the check.
fn bench_header_check(plugins: &Path, version: Duration) -> bool {
    let files = libraries(plugins);
    let once = || {
        let start = Instant::now();
        for file in &files {
            assert!(fink::library_check::check(file).is_ok(), "{} fails the check", file.display());
        }
        start.elapsed()
    };
    for _ in 0..5 {
        once();
    }
    let check = median((0..200).map(|_| once()).collect());
    let ok = report(&format!("header check of {} plugin files", files.len()), check, Duration::from_millis(1));
    println!(
        "  so fink version takes about {:.3} ms without the check ({:.1}% of it is the check)",
        (version.saturating_sub(check)).as_secs_f64() * 1000.0,
        check.as_secs_f64() / version.as_secs_f64() * 100.0
    );
    ok
}

fn bench_lifecycle(tmp: &Path) -> bool {
    let dir = tmp.join("bench-plugins");
    std::fs::create_dir_all(&dir).expect("plugin dir");
    for i in 0..10 {
        let name = format!("bench-{i}");
        let lib = build(&["fink-fixture-bench"], &[("FINK_BENCH_PLUGIN_NAME", &name)]);
        let lib = lib.first().expect("bench plugin built");
        std::fs::copy(lib, dir.join(format!("lib{name}.{}", std::env::consts::DLL_EXTENSION))).expect("copy");
    }
    common::trust(&dir);
    fink::logging::init(fink_plugin_api::Level::WARN);
    let search_dirs = vec![SearchDir { path: dir, origin: "bench" }];
    let trust = fink::project_trust::ProjectTrust { dir: tmp.to_path_buf(), grant: None };
    let mut registry = Registry::load(&search_dirs, &trust);
    registry.activate(Some("cloud"));
    let session =
        Session { env: Some("dev".into()), project_dir: tmp.to_path_buf(), verbosity: -1, search_dirs, trust };
    let reasons: Vec<String> =
        registry.rejected.iter().map(|r| format!("{}: {} {:?}", r.path.display(), r.error, r.error.detail())).collect();
    assert_eq!(registry.plugins.len(), 10, "rejected: {reasons:#?}");
    let context: Map<String, Value> = json!({"tool": "cloud", "command": "deploy", "env": "dev", "user": "bench",
        "arguments": {}, "plugins": (0..10).map(|i| format!("bench-{i}")).collect::<Vec<_>>()})
    .as_object()
    .cloned()
    .unwrap_or_default();
    let mut once = || {
        let context = context.clone();
        let start = Instant::now();
        lifecycle::fire_every_signal(&mut registry, &session, context).expect("handlers succeed");
        start.elapsed()
    };
    for _ in 0..20 {
        once();
    }
    let samples = (0..500).map(|_| once()).collect();
    report("16-signal lifecycle, 10 plugins on every signal", median(samples), Duration::from_millis(1))
}

fn main() {
    // `cargo bench` passes --bench; a plain `cargo test --benches` run only checks it builds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let a = bench_version(tmp.path());
    let b = bench_lifecycle(tmp.path());
    if !(a && b) {
        std::process::exit(1);
    }
}
