//! The bundler's archive against `zip -r` (`cargo bench -p fink-plugin-bundler`).
//!
//! Tree 1: ~20,000 files / ~200 MB of code-like text and half-random blobs. Tree 2: tree 1 plus
//! six 30 MB files (alternating text and random MBs), ~375 MB. Each bundler run and each
//! `zip -r -q` runs in a child process, so its peak RSS (`wait4`'s `ru_maxrss`) is its own.
//! Targets: on tree 1 at least 1.5× faster than `zip -r -q` (2 cores) and byte-identical output
//! from two runs; the bundler's peak RSS on tree 2 at most [`MEMORY_SLACK`] above tree 1's (it does
//! not grow with the bundle). Exits with 1 when a target is missed.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use fink_plugin_bundler::archive;
use fink_plugin_bundler::collect::{self, Skip};
use sha2::{Digest, Sha256};

const SMALL_FILES: usize = 19_800;
const LARGE_FILES: usize = 200;
const HUGE_FILES: usize = 6;
/// Just below the 32 MB above which the previous archiver streamed files: the size that cost it the
/// most memory.
const HUGE_SIZE: usize = 30 * 1024 * 1024;
const TARGET_SPEEDUP: f64 = 1.5;
/// How much more the bundler may use on tree 2 than on tree 1 (allocator noise, more zip entries).
const MEMORY_SLACK: f64 = 1.15;
/// The argument that makes this binary the measured bundler child: `<exe> CHILD <tree> <zip>`.
const CHILD: &str = "--bundle-child";

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

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
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
    out.extend(rng.bytes(len - len / 2));
    out
}

/// Writes tree 1 (the files of the speed target); returns (files, bytes).
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

/// Adds the huge files that make tree 2, one MB at a time (this process stays small, see
/// [`measure`]); returns (files, bytes) added.
fn grow(root: &Path) -> (usize, u64) {
    let mut rng = Rng(0xb16_f11e5);
    let dir = root.join("huge");
    fs::create_dir_all(&dir).expect("create dir");
    for i in 0..HUGE_FILES {
        let mut file = BufWriter::new(File::create(dir.join(format!("huge{i}.bin"))).expect("create file"));
        for mb in 0..HUGE_SIZE / (1024 * 1024) {
            let chunk = if mb % 2 == 0 { text(&mut rng, 1024 * 1024) } else { rng.bytes(1024 * 1024) };
            file.write_all(&chunk).expect("write file");
        }
        file.flush().expect("write file");
    }
    (HUGE_FILES, (HUGE_FILES * HUGE_SIZE) as u64)
}

/// One run of a child process: wall time and peak RSS in bytes.
struct Run {
    time: Duration,
    rss: u64,
}

/// Runs `command` and reads its own peak RSS from `wait4`. A child started with vfork inherits the
/// parent's high-water mark at exec, so this process never holds much (files are compared and
/// generated in chunks).
// wait4 reaps the child; clippy only knows Child::wait.
#[allow(clippy::zombie_processes)]
fn measure(command: &mut Command) -> Run {
    let start = Instant::now();
    let child = command.spawn().expect("start child");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 fills it for the child we just started (and reaps it).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let time = start.elapsed();
    assert_eq!(pid, child.id() as libc::pid_t, "wait4 failed");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{command:?} failed");
    // Linux reports KiB, macOS bytes.
    let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    Run { time, rss: usage.ru_maxrss as u64 * unit }
}

fn bundler(tree: &Path, output: &Path) -> Run {
    let exe = std::env::current_exe().expect("own path");
    measure(Command::new(exe).arg(CHILD).arg(tree).arg(output))
}

fn zip_r(tree: &Path, output: &Path) -> Run {
    let _ = fs::remove_file(output);
    measure(Command::new("zip").args(["-r", "-q"]).arg(output).arg(".").current_dir(tree))
}

/// The measured child: collect and write the zip, as the plugin does.
fn child(tree: &Path, output: &Path) {
    let entries = collect::folder(tree, "", &[], &Skip::default()).expect("collect");
    archive::write_file(entries, output, fink_plugin_api::payload::ArchiveFormat::Zip).expect("write zip");
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn size(path: &Path) -> u64 {
    fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// The base64 of a file's sha256 (as the bundler reports it).
fn sha256(path: &Path) -> String {
    let mut hasher = Sha256::new();
    std::io::copy(&mut File::open(path).expect("open zip"), &mut hasher).expect("read zip");
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}

/// Whether two files hold the same bytes, read a MB at a time.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (Ok(mut a), Ok(mut b)) = (File::open(a), File::open(b)) else { return false };
    let (mut x, mut y) = (vec![0; 1 << 20], vec![0; 1 << 20]);
    loop {
        let n = a.read(&mut x).expect("read zip");
        if n == 0 {
            return b.read(&mut y[..1]).expect("read zip") == 0;
        }
        if b.read_exact(&mut y[..n]).is_err() || x[..n] != y[..n] {
            return false;
        }
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "FAIL"
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(CHILD) {
        child(Path::new(&args[2]), Path::new(&args[3]));
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let work_dir = fs::canonicalize(work.path()).expect("canonical");
    let tree = work_dir.join("tree");
    let out = |name: &str| -> PathBuf { work_dir.join(name) };
    let (files, bytes) = generate(&tree);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let has_zip = Command::new("which").arg("zip").output().map(|o| o.status.success()).unwrap_or(false);
    let floor = measure(&mut Command::new("true"));
    println!(
        "tree 1: {files} files, {:.1} MB; {threads} cores; a child running `true`: {:.1} MiB",
        mb(bytes),
        mb(floor.rss)
    );

    let first = bundler(&tree, &out("first.zip"));
    let second = bundler(&tree, &out("second.zip"));
    let best = first.time.min(second.time);
    let rss1 = first.rss.max(second.rss);
    println!(
        "bundler: {:.2} s, {:.2} s (best {:.2} s, {:.0} MB/s) -> {:.1} MB; peak RSS {:.1} MiB",
        first.time.as_secs_f64(),
        second.time.as_secs_f64(),
        best.as_secs_f64(),
        mb(bytes) / best.as_secs_f64(),
        mb(size(&out("first.zip"))),
        mb(rss1)
    );
    let identical = same_bytes(&out("first.zip"), &out("second.zip"));
    if identical {
        println!("deterministic: PASS (two runs, identical bytes, sha256 {})", sha256(&out("first.zip")));
    } else {
        println!("deterministic: FAIL (bytes differ)");
    }
    let mut ok = identical;

    if has_zip {
        let zip_first = zip_r(&tree, &out("zip-r.zip"));
        let zip_second = zip_r(&tree, &out("zip-r.zip"));
        let zip_best = zip_first.time.min(zip_second.time);
        println!(
            "zip -r -q: {:.2} s, {:.2} s (best {:.2} s) -> {:.1} MB; peak RSS {:.1} MiB",
            zip_first.time.as_secs_f64(),
            zip_second.time.as_secs_f64(),
            zip_best.as_secs_f64(),
            mb(size(&out("zip-r.zip"))),
            mb(zip_first.rss.max(zip_second.rss))
        );
        let speedup = zip_best.as_secs_f64() / best.as_secs_f64();
        println!("speedup: {speedup:.2}x (target >= {TARGET_SPEEDUP}x): {}", verdict(speedup >= TARGET_SPEEDUP));
        ok &= speedup >= TARGET_SPEEDUP;
    } else {
        println!("zip -r: skipped (zip is not installed)");
    }

    let (more_files, more_bytes) = grow(&tree);
    let bytes2 = bytes + more_bytes;
    println!("tree 2: tree 1 + {more_files} files of {} MB, {:.1} MB", HUGE_SIZE >> 20, mb(bytes2));
    let big = bundler(&tree, &out("big.zip"));
    println!(
        "bundler: {:.2} s ({:.0} MB/s) -> {:.1} MB; peak RSS {:.1} MiB",
        big.time.as_secs_f64(),
        mb(bytes2) / big.time.as_secs_f64(),
        mb(size(&out("big.zip"))),
        mb(big.rss)
    );
    if has_zip {
        let zip_big = zip_r(&tree, &out("zip-r.zip"));
        println!(
            "zip -r -q: {:.2} s -> {:.1} MB; peak RSS {:.1} MiB (speedup {:.2}x)",
            zip_big.time.as_secs_f64(),
            mb(size(&out("zip-r.zip"))),
            mb(zip_big.rss),
            zip_big.time.as_secs_f64() / big.time.as_secs_f64()
        );
    }
    let flat = big.rss as f64 <= rss1 as f64 * MEMORY_SLACK;
    println!(
        "memory: bundler peak RSS {:.1} MiB at {:.0} MB, {:.1} MiB at {:.0} MB (target: at most {:.0}% more): {}",
        mb(rss1),
        mb(bytes),
        mb(big.rss),
        mb(bytes2),
        (MEMORY_SLACK - 1.0) * 100.0,
        verdict(flat)
    );
    ok &= flat;
    if !ok {
        std::process::exit(1);
    }
}
