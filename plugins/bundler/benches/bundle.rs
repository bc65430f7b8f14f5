//! The bundler's archive against `zip -r` on a generated tree of ~20,000 files / ~200 MB
//! (`cargo bench -p fink-plugin-bundler`). Target: at least 1.5× faster than `zip -r -q` on a
//! 2-core machine, and byte-identical output from two runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fink_plugin_bundler::archive;
use fink_plugin_bundler::collect::{self, Skip};

const SMALL_FILES: usize = 19_800;
const LARGE_FILES: usize = 200;
const TARGET_SPEEDUP: f64 = 1.5;

/// xorshift64: deterministic pseudo-random numbers without a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "def", "return", "import", "self", "value", "event", "context", "handler", "config", "result", "for", "in", "if",
    "else", "None", "True", "False", "print", "json", "data", "items", "key", "name", "lambda", "bucket", "object",
    "request", "response", "status", "error", "message", "class", "with", "open", "path", "join", "format", "list",
];

/// Code-like text: lines of words, compresses roughly 3-4×.
fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        let indent = rng.below(4) as usize * 4;
        out.resize(out.len() + indent, b' ');
        for _ in 0..2 + rng.below(8) {
            out.extend_from_slice(WORDS[rng.below(WORDS.len() as u64) as usize].as_bytes());
            out.push(if rng.below(5) == 0 { b'.' } else { b' ' });
        }
        out.extend_from_slice(format!("{}\n", rng.below(1000)).as_bytes());
    }
    out.truncate(len);
    out
}

/// Half text, half random bytes.
fn mixed(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut out = text(rng, len / 2);
    out.extend((0..len - len / 2).map(|_| rng.next() as u8));
    out
}

/// Writes the tree; returns (files, bytes).
fn generate(root: &Path) -> (usize, u64) {
    let mut rng = Rng(0x5eed_f1e1_d00d_cafe);
    let mut bytes = 0;
    for i in 0..SMALL_FILES {
        let dir = root.join(format!("pkg{:02}/mod{:03}", i % 40, i % 400));
        fs::create_dir_all(&dir).expect("create dir");
        let len = 1024 + rng.below(8 * 1024) as usize;
        let content = text(&mut rng, len);
        bytes += content.len() as u64;
        fs::write(dir.join(format!("file{i:05}.py")), content).expect("write file");
    }
    for i in 0..LARGE_FILES {
        let dir = root.join(format!("data{:02}", i % 10));
        fs::create_dir_all(&dir).expect("create dir");
        let len = 256 * 1024 + rng.below(512 * 1024) as usize;
        let content = mixed(&mut rng, len);
        bytes += content.len() as u64;
        fs::write(dir.join(format!("blob{i:03}.bin")), content).expect("write file");
    }
    (SMALL_FILES + LARGE_FILES, bytes)
}

fn bundler(tree: &Path, output: &Path) -> Duration {
    let start = Instant::now();
    let entries = collect::folder(tree, "", &[], &Skip::default()).expect("collect");
    archive::write_file(entries, output).expect("write zip");
    start.elapsed()
}

fn zip_r(tree: &Path, output: &Path) -> Duration {
    let _ = fs::remove_file(output);
    let start = Instant::now();
    let status = Command::new("zip").args(["-r", "-q"]).arg(output).arg(".").current_dir(tree).status().expect("zip");
    assert!(status.success(), "zip -r failed");
    start.elapsed()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn main() {
    let work = tempfile::tempdir().expect("temp dir");
    let tree = fs::canonicalize(work.path()).expect("canonical").join("tree");
    let out = |name: &str| -> PathBuf { work.path().join(name) };
    let (files, bytes) = generate(&tree);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("tree: {files} files, {:.1} MB; {threads} cores", mb(bytes));

    let first = bundler(&tree, &out("first.zip"));
    let second = bundler(&tree, &out("second.zip"));
    let best = first.min(second);
    println!(
        "bundler: {:.2} s, {:.2} s (best {:.2} s, {:.0} MB/s) -> {:.1} MB",
        first.as_secs_f64(),
        second.as_secs_f64(),
        best.as_secs_f64(),
        mb(bytes) / best.as_secs_f64(),
        mb(size(&out("first.zip")))
    );
    let identical = fs::read(out("first.zip")).ok() == fs::read(out("second.zip")).ok();
    println!("deterministic: {}", if identical { "PASS (two runs, identical bytes)" } else { "FAIL (bytes differ)" });

    if Command::new("which").arg("zip").output().map(|o| !o.status.success()).unwrap_or(true) {
        println!("zip -r: skipped (zip is not installed)");
        return;
    }
    let zip_first = zip_r(&tree, &out("zip-r.zip"));
    let zip_second = zip_r(&tree, &out("zip-r.zip"));
    let zip_best = zip_first.min(zip_second);
    println!(
        "zip -r -q: {:.2} s, {:.2} s (best {:.2} s) -> {:.1} MB",
        zip_first.as_secs_f64(),
        zip_second.as_secs_f64(),
        zip_best.as_secs_f64(),
        mb(size(&out("zip-r.zip")))
    );
    let speedup = zip_best.as_secs_f64() / best.as_secs_f64();
    let verdict = if speedup >= TARGET_SPEEDUP { "PASS" } else { "FAIL" };
    println!("speedup: {speedup:.2}x (target >= {TARGET_SPEEDUP}x): {verdict}");
}
