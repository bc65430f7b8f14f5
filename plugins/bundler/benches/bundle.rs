//! The bundler's archive against `zip -r` (`cargo bench -p fink-plugin-bundler`).
//!
//! Tree 1: ~20,000 files / ~200 MB (243 MB on disk) of code-like text and half-random blobs.
//! Tree 2: tree 1 plus six 30 MB files (alternating text and random MBs), ~375 MB. Each run is a
//! child process, so its peak RSS (`wait4`'s `ru_maxrss`) is its own:
//! - the library (`collect::folder` + `archive::write_file`), twice on all cores and once on one
//!   core (`taskset -c 0`, when installed);
//! - the whole `fink lambda bundle` (fink, the config-reader, bundler and lambda plugins, built in
//!   release by cargo; skipped with `FINK_BENCH_NO_FINK=1` or when the build fails), twice;
//! - `zip -r -q`, twice; the bundler's tar.gz (`code bundle`'s format) once.
//!
//! Targets (issue 28): `fink lambda bundle` on tree 1 at least [`TARGET_SPEEDUP`]× faster than
//! `zip -r -q` and a whole-process peak RSS of at most [`TARGET_RSS_MIB`] MiB; byte-identical zips
//! from every library run, on one core as on all; a zip no larger than `zip -r`'s; the library's
//! peak RSS on tree 2 at most [`MEMORY_SLACK_MIB`] above tree 1's (it does not grow with the bundle).
//! Exits with 1 when a target is missed.

use std::fs::{self, File};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use base64::Engine;
use fink_plugin_api::payload::ArchiveFormat;
use fink_plugin_bundler::archive;
use fink_plugin_bundler::collect::{self, Skip};
use sha2::{Digest, Sha256};

const SMALL_FILES: usize = 19_800;
const LARGE_FILES: usize = 200;
const HUGE_FILES: usize = 6;
/// Just below the 32 MB above which the previous archiver streamed files: the size that cost it the
/// most memory.
const HUGE_SIZE: usize = 30 * 1024 * 1024;
const TARGET_SPEEDUP: f64 = 2.5;
const TARGET_RSS_MIB: f64 = 64.0;
/// How much more the bundler may use on tree 2 than on tree 1: the archive's window of parts
/// waiting to be written (16 MB, reached when small files finish while a large one streams), and
/// allocator noise. It does not grow with the bundle's size.
const MEMORY_SLACK_MIB: f64 = 16.0 + 2.0;
/// The argument that makes this binary the measured bundler child: `<exe> CHILD <tree> <zip>`.
const CHILD: &str = "--bundle-child";
/// The same for a tar.gz: `<exe> TGZ_CHILD <tree> <tar.gz>`.
const TGZ_CHILD: &str = "--tgz-child";

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

/// One run of a child process: wall time, CPU time (user + system) and peak RSS in bytes. The CPU
/// time tells more than the wall time when other work shares the machine.
struct Run {
    time: Duration,
    cpu: Duration,
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
    let seconds = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run { time, cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime), rss: usage.ru_maxrss as u64 * unit }
}

fn bundler(tree: &Path, output: &Path) -> Run {
    let exe = std::env::current_exe().expect("own path");
    measure(Command::new(exe).arg(CHILD).arg(tree).arg(output))
}

/// The library on one core: `taskset` limits the child's CPUs, so `available_parallelism` (the
/// bundler's thread count) is 1. `None` without `taskset`.
fn bundler_one_core(tree: &Path, output: &Path) -> Option<Run> {
    let exe = std::env::current_exe().expect("own path");
    installed("taskset")
        .then(|| measure(Command::new("taskset").args(["-c", "0"]).arg(exe).arg(CHILD).arg(tree).arg(output)))
}

fn tgz(tree: &Path, output: &Path) -> Run {
    let exe = std::env::current_exe().expect("own path");
    measure(Command::new(exe).arg(TGZ_CHILD).arg(tree).arg(output))
}

fn installed(program: &str) -> bool {
    Command::new("which").arg(program).output().map(|o| o.status.success()).unwrap_or(false)
}

/// A release fink with the plugins `lambda bundle` loads, laid out in `dir`: `(fink, plugins)`.
fn fink_install(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    if std::env::var_os("FINK_BENCH_NO_FINK").is_some() {
        println!("fink lambda bundle: skipped (FINK_BENCH_NO_FINK is set)");
        return None;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(&root).args(["build", "--release", "--message-format=json-render-diagnostics", "-p", "fink"]);
    // Every bundled plugin, as the install and the other benchmarks build them: the same set
    // gives the same feature unification, so an earlier release build is reused.
    for package in bundled(&root) {
        command.args(["-p", &package]);
    }
    println!("building fink and its bundled plugins in release (cargo build --release) ...");
    let output = command.stderr(std::process::Stdio::inherit()).output().ok()?;
    if !output.status.success() {
        println!("fink lambda bundle: skipped (the release build failed)");
        return None;
    }
    let plugins = dir.join("plugins");
    fs::create_dir_all(&plugins).expect("plugins dir");
    let mut fink = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        if let Some(exe) = message["executable"].as_str().filter(|_| message["target"]["name"] == "fink") {
            fink = Some(PathBuf::from(exe));
        }
        let needed = ["fink_plugin_config_reader", "fink_plugin_bundler", "fink_plugin_lambda"];
        if message["target"]["kind"][0] == "cdylib" && needed.iter().any(|n| message["target"]["name"] == *n) {
            for file in message["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str()) {
                if file.ends_with(std::env::consts::DLL_SUFFIX) {
                    let to = plugins.join(Path::new(file).file_name().expect("file name"));
                    fs::copy(file, &to).expect("copy plugin");
                }
            }
        }
    }
    // The modes fink trusts in a plugins folder.
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&plugins, fs::Permissions::from_mode(0o755)).expect("mode");
    for entry in fs::read_dir(&plugins).expect("plugins").flatten() {
        fs::set_permissions(entry.path(), fs::Permissions::from_mode(0o644)).expect("mode");
    }
    Some((fink?, plugins))
}

/// The plugin crates under plugins/ that scripts/install.sh installs (examples such as say-hello,
/// marked `bundled = false`, are left out).
fn bundled(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in fs::read_dir(root.join("plugins")).expect("plugins/").flatten() {
        let manifest = fs::read_to_string(entry.path().join("Cargo.toml")).unwrap_or_default();
        if manifest.contains("\"cdylib\"") && !manifest.contains("bundled = false") {
            let name = manifest.lines().find_map(|l| l.strip_prefix("name = \"")).map(|n| n.trim_end_matches('"'));
            names.extend(name.map(String::from));
        }
    }
    names.sort();
    names
}

/// `fink lambda bundle -e dev` in `project` (whose `fink_dev.json` bundles `src/`).
fn fink_bundle(fink: &Path, plugins: &Path, project: &Path, home: &Path) -> Run {
    let mut command = Command::new(fink);
    command
        .current_dir(project)
        .arg("--plugins-dir")
        .arg(plugins)
        .args(["lambda", "bundle", "-e", "dev"])
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("FINK_PLUGIN_PATH")
        .env_remove("ENV")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    measure(&mut command)
}

fn zip_r(tree: &Path, output: &Path) -> Run {
    let _ = fs::remove_file(output);
    measure(Command::new("zip").args(["-r", "-q"]).arg(output).arg(".").current_dir(tree))
}

/// The measured child: collect and write the archive, as the plugin does.
fn child(tree: &Path, output: &Path, format: ArchiveFormat) {
    let entries = collect::folder(tree, "", &[], &Skip::default()).expect("collect");
    archive::write_file(entries, output, format).expect("write archive");
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

fn secs(run: &Run) -> f64 {
    run.time.as_secs_f64()
}

/// The CPU seconds of runs, as `cpu 2.41 s, 2.39 s`.
fn cpu(runs: &[&Run]) -> String {
    let each: Vec<String> = runs.iter().map(|r| format!("{:.2} s", r.cpu.as_secs_f64())).collect();
    format!("cpu {}", each.join(", "))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some(CHILD) => return child(Path::new(&args[2]), Path::new(&args[3]), ArchiveFormat::Zip),
        Some(TGZ_CHILD) => return child(Path::new(&args[2]), Path::new(&args[3]), ArchiveFormat::Tgz),
        _ => {}
    }
    let work = tempfile::tempdir().expect("temp dir");
    let work_dir = fs::canonicalize(work.path()).expect("canonical");
    // A lambda project whose bundle is the tree: `src/` at the zip's root, plus handler.py.
    let project = work_dir.join("project");
    let tree = project.join("src");
    let home = work_dir.join("home");
    fs::create_dir_all(&home).expect("home");
    let out = |name: &str| -> PathBuf { work_dir.join(name) };
    let (files, bytes) = generate(&tree);
    fs::write(project.join("handler.py"), "def handle(event, context):\n    return 1\n").expect("handler");
    let config = r#"{"lambda": {"lambda": {"name": "bench", "handlerFile": "handler.py", "runtime": "python3.12"},
        "bundling": {"folders": [{"source": "src", "target": "."}]}}}"#;
    fs::write(project.join("fink_dev.json"), config).expect("config");
    let fink_zip = project.join(".fink/bundle/dev/bundle.zip");
    // Built before anything is timed.
    let install = fink_install(&work_dir);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let has_zip = installed("zip");
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
    let zip_size = size(&out("first.zip"));
    println!(
        "library: {:.2} s, {:.2} s (best {:.2} s, {:.0} MB/s; {}) -> {:.1} MB; peak RSS {:.1} MiB",
        secs(&first),
        secs(&second),
        best.as_secs_f64(),
        mb(bytes) / best.as_secs_f64(),
        cpu(&[&first, &second]),
        mb(zip_size),
        mb(rss1)
    );
    let one_core = bundler_one_core(&tree, &out("one-core.zip"));
    if let Some(run) = &one_core {
        println!("library on 1 core: {:.2} s ({}); peak RSS {:.1} MiB", secs(run), cpu(&[run]), mb(run.rss));
    }
    let identical = same_bytes(&out("first.zip"), &out("second.zip"))
        && (one_core.is_none() || same_bytes(&out("first.zip"), &out("one-core.zip")));
    let runs =
        if one_core.is_some() { format!("two runs on {threads} cores and one on 1 core") } else { "two runs".into() };
    if identical {
        println!("deterministic: PASS ({runs}, identical bytes, sha256 {})", sha256(&out("first.zip")));
    } else {
        println!("deterministic: FAIL ({runs}: bytes differ)");
    }
    let mut ok = identical;

    let mut zip_best = None;
    if has_zip {
        let zip_first = zip_r(&tree, &out("zip-r.zip"));
        let zip_second = zip_r(&tree, &out("zip-r.zip"));
        let best_zip = zip_first.time.min(zip_second.time);
        zip_best = Some(best_zip);
        let zip_r_size = size(&out("zip-r.zip"));
        println!(
            "zip -r -q: {:.2} s, {:.2} s (best {:.2} s; {}) -> {:.1} MB; peak RSS {:.1} MiB",
            secs(&zip_first),
            secs(&zip_second),
            best_zip.as_secs_f64(),
            cpu(&[&zip_first, &zip_second]),
            mb(zip_r_size),
            mb(zip_first.rss.max(zip_second.rss))
        );
        println!("library speedup: {:.2}x", best_zip.as_secs_f64() / best.as_secs_f64());
        let smaller = zip_size <= zip_r_size;
        println!(
            "size: {:.2} MB against zip -r's {:.2} MB ({:+.2}%): {}",
            mb(zip_size),
            mb(zip_r_size),
            (zip_size as f64 / zip_r_size as f64 - 1.0) * 100.0,
            verdict(smaller)
        );
        ok &= smaller;
    } else {
        println!("zip -r: skipped (zip is not installed)");
    }

    if let Some((fink, plugins)) = &install {
        let runs = [fink_bundle(fink, plugins, &project, &home), fink_bundle(fink, plugins, &project, &home)];
        let fink_best = runs[0].time.min(runs[1].time);
        let peak = runs[0].rss.max(runs[1].rss);
        println!(
            "fink lambda bundle: {:.2} s, {:.2} s (best {:.2} s; {}) -> {:.1} MB; whole-process peak RSS {:.1} MiB",
            secs(&runs[0]),
            secs(&runs[1]),
            fink_best.as_secs_f64(),
            cpu(&[&runs[0], &runs[1]]),
            mb(size(&fink_zip)),
            mb(peak)
        );
        if let Some(zip_best) = zip_best {
            let speedup = zip_best.as_secs_f64() / fink_best.as_secs_f64();
            println!("speedup: {speedup:.2}x (target >= {TARGET_SPEEDUP}x): {}", verdict(speedup >= TARGET_SPEEDUP));
            ok &= speedup >= TARGET_SPEEDUP;
        }
        let small = mb(peak) <= TARGET_RSS_MIB;
        println!("peak RSS: {:.1} MiB (target <= {TARGET_RSS_MIB:.0} MiB): {}", mb(peak), verdict(small));
        ok &= small;
    }

    let tar = tgz(&tree, &out("bundle.tar.gz"));
    println!(
        "tar.gz (code bundle's format): {:.2} s ({}) -> {:.1} MB; peak RSS {:.1} MiB",
        secs(&tar),
        cpu(&[&tar]),
        mb(size(&out("bundle.tar.gz"))),
        mb(tar.rss)
    );

    let (more_files, more_bytes) = grow(&tree);
    let bytes2 = bytes + more_bytes;
    println!("tree 2: tree 1 + {more_files} files of {} MB, {:.1} MB", HUGE_SIZE >> 20, mb(bytes2));
    let big = bundler(&tree, &out("big.zip"));
    println!(
        "library: {:.2} s ({:.0} MB/s) -> {:.1} MB; peak RSS {:.1} MiB",
        secs(&big),
        mb(bytes2) / big.time.as_secs_f64(),
        mb(size(&out("big.zip"))),
        mb(big.rss)
    );
    if let Some((fink, plugins)) = &install {
        let run = fink_bundle(fink, plugins, &project, &home);
        println!("fink lambda bundle: {:.2} s; whole-process peak RSS {:.1} MiB", secs(&run), mb(run.rss));
    }
    if has_zip {
        let zip_big = zip_r(&tree, &out("zip-r.zip"));
        println!(
            "zip -r -q: {:.2} s -> {:.1} MB; peak RSS {:.1} MiB (library speedup {:.2}x)",
            secs(&zip_big),
            mb(size(&out("zip-r.zip"))),
            mb(zip_big.rss),
            zip_big.time.as_secs_f64() / big.time.as_secs_f64()
        );
    }
    let flat = mb(big.rss) <= mb(rss1) + MEMORY_SLACK_MIB;
    println!(
        "memory: library peak RSS {:.1} MiB at {:.0} MB, {:.1} MiB at {:.0} MB (target: at most {MEMORY_SLACK_MIB:.0} MiB more, the window): {}",
        mb(rss1),
        mb(bytes),
        mb(big.rss),
        mb(bytes2),
        verdict(flat)
    );
    ok &= flat;
    if !ok {
        std::process::exit(1);
    }
}
