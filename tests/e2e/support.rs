//! Test support: builds the real plugin libraries with cargo, lays out throwaway projects and runs
//! the real `fink` binary in them.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Workspace crates built as plugins for the tests.
const WORKSPACE_PLUGINS: &[&str] = &[
    "fink-plugin-say-hello",
    "fink-plugin-config-reader",
    "fink-plugin-hocon-reader",
    "fink-fixture-alpha",
    "fink-fixture-beta",
    "fink-fixture-plain",
    "fink-plugin-lookups",
    "fink-plugin-credentials",
    "fink-plugin-slack",
    "fink-plugin-datadog",
    "fink-plugin-hooks",
    "fink-plugin-cloud",
    "fink-plugin-bundler",
    "fink-plugin-lambda",
    "fink-plugin-code",
    "fink-plugin-apigateway",
];

/// The bundled plugins among them (what `scripts/install.sh` installs): every crate under
/// plugins/ but the examples ([`is_example`]).
pub fn bundled_plugins() -> Vec<&'static str> {
    WORKSPACE_PLUGINS.iter().copied().filter(|p| p.starts_with("fink-plugin-") && !is_example(p)).collect()
}

/// Whether the plugin crate `package` (`fink-plugin-<dir>`) is an example that install.sh leaves
/// out: its Cargo.toml says `bundled = false` under `[package.metadata.fink]` (say-hello).
pub fn is_example(package: &str) -> bool {
    let dir = package.trim_start_matches("fink-plugin-");
    let manifest =
        std::fs::read_to_string(repo_root().join("plugins").join(dir).join("Cargo.toml")).unwrap_or_default();
    manifest.lines().any(|l| l.replace(' ', "") == "bundled=false")
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf()
}

/// Runs `cargo build` with JSON messages and returns package name → library path.
fn cargo_build(dir: &Path, args: &[&str]) -> HashMap<String, PathBuf> {
    let out = fink_test_support::cargo()
        .current_dir(dir)
        .arg("build")
        .args(args)
        .args(["--message-format=json-render-diagnostics"])
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "cargo build failed in {}:\n{}", dir.display(), String::from_utf8_lossy(&out.stderr));
    let mut found = HashMap::new();
    for line in stdout.lines() {
        let Ok(msg) = serde_json::from_str::<Value>(line) else { continue };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let name = msg["target"]["name"].as_str().unwrap_or_default().replace('_', "-");
        for file in msg["filenames"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            if file.ends_with(std::env::consts::DLL_SUFFIX) {
                found.insert(name.clone(), PathBuf::from(file));
            }
        }
    }
    found
}

/// The file name of a plugin library on this system: `lib_file("fink_fixture_alpha")` is
/// `libfink_fixture_alpha.so` on Linux, `libfink_fixture_alpha.dylib` on macOS.
pub fn lib_file(stem: &str) -> String {
    format!("{}{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// The path of a workspace plugin library, e.g. `plugin("fink-fixture-alpha")`.
pub fn plugin(package: &str) -> PathBuf {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut args = Vec::new();
        for p in WORKSPACE_PLUGINS {
            args.extend(["-p", p]);
        }
        cargo_build(&repo_root(), &args)
    });
    built.get(package).unwrap_or_else(|| panic!("{package} was not built: {built:?}")).clone()
}

/// Builds the out-of-tree `legacy` fixture against the frozen API copy of `api_version`
/// (`tests/fixtures/api-<version>`), or against the newest frozen copy with its version rewritten
/// to `api_version` (a release that does not exist: too new, another major).
pub fn legacy_plugin(api_version: &str) -> PathBuf {
    const NEWEST_FROZEN: &str = "1.2.0";
    // One build at a time: the variants share a target dir.
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let work = tmp.join("compat").join(api_version);
    let fixtures = repo_root().join("tests/fixtures");
    let frozen = fixtures.join(format!("api-{api_version}"));
    let (source, frozen_version) = if frozen.is_dir() {
        (frozen, api_version)
    } else {
        (fixtures.join(format!("api-{NEWEST_FROZEN}")), NEWEST_FROZEN)
    };
    copy_dir(&source, &work.join("api"));
    copy_dir(&fixtures.join("out-of-tree/legacy"), &work.join("legacy"));
    let manifest = work.join("api/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let rewritten =
        text.replacen(&format!("version = \"{frozen_version}\""), &format!("version = \"{api_version}\""), 1);
    assert!(rewritten.contains(&format!("version = \"{api_version}\"")), "{}", manifest.display());
    std::fs::write(&manifest, rewritten).unwrap();
    let manifest = work.join("legacy/Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("../../api-1.0.0", "../api")).unwrap();
    // Same dependency versions as the workspace, so the shared target dir is reused.
    std::fs::copy(repo_root().join("Cargo.lock"), work.join("legacy/Cargo.lock")).unwrap();
    let target = tmp.join("compat-target");
    let built = cargo_build(&work.join("legacy"), &["--target-dir", target.to_str().unwrap()]);
    let lib = built.get("fink-fixture-legacy").expect("legacy plugin built");
    // Variants share a file name: keep each under its own name.
    let kept = work.join(lib.file_name().unwrap());
    std::fs::copy(lib, &kept).unwrap();
    kept
}

/// Builds the out-of-tree example plugin from `examples/hello-tool`.
pub fn example_plugin() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compat-target");
            let built =
                cargo_build(&repo_root().join("examples/hello-tool"), &["--target-dir", target.to_str().unwrap()]);
            built.get("fink-plugin-hello-tool").expect("example built").clone()
        })
        .clone()
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&entry.path(), &dest);
            }
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

/// Sets the permission bits of `path`.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What a fink run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success:\n{self:#?}");
        self
    }

    pub fn code(self, code: i32) -> Self {
        assert_eq!(self.code, code, "unexpected exit code:\n{self:#?}");
        self
    }

    pub fn stderr_has(self, text: &str) -> Self {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}:\n{}", self.stderr);
        self
    }

    pub fn stdout_has(self, text: &str) -> Self {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}:\n{}", self.stdout);
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
}

/// A throwaway project with its own plugins folder and an empty home.
pub struct Project {
    root: tempfile::TempDir,
    envs: Vec<(String, String)>,
}

impl Project {
    /// A project its user trusts: the harness runs `fink trust` in it, as a user would before
    /// working in a project of their own (see docs/security.md). Tests of untrusted projects use
    /// [`Project::untrusted`].
    pub fn new() -> Self {
        let project = Project::untrusted();
        project.trust();
        project
    }

    /// A project nobody has trusted yet, like a fresh clone of someone else's repository.
    pub fn untrusted() -> Self {
        fink_test_support::owner_writes_only();
        let root = tempfile::tempdir().unwrap();
        for dir in ["project", "plugins", "home"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
            set_mode(&root.path().join(dir), 0o755);
        }
        Project { root, envs: Vec::new() }
    }

    /// `fink trust` in the project dir (again after its `.fink/plugins` changed).
    pub fn trust(&self) -> Run {
        self.fink(&["trust"]).ok()
    }

    /// A trusted project with the given workspace plugins installed.
    pub fn with(packages: &[&str]) -> Self {
        let project = Project::new();
        for p in packages {
            project.install(&plugin(p));
        }
        project
    }

    /// An untrusted project with the given workspace plugins installed.
    pub fn untrusted_with(packages: &[&str]) -> Self {
        let project = Project::untrusted();
        for p in packages {
            project.install(&plugin(p));
        }
        project
    }

    pub fn dir(&self) -> PathBuf {
        self.root.path().join("project")
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.root.path().join("plugins")
    }

    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// Copies a library into the plugins folder.
    pub fn install(&self, lib: &Path) -> PathBuf {
        self.install_into(&self.plugins_dir(), lib)
    }

    /// Copies a library into `dir`, both with the modes fink trusts (0755, 0644): a copy keeps
    /// the mode of cargo's output, which is group-writable under umask 002.
    pub fn install_into(&self, dir: &Path, lib: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        set_mode(dir, 0o755);
        let dest = dir.join(lib.file_name().unwrap());
        std::fs::copy(lib, &dest).unwrap();
        set_mode(&dest, 0o644);
        dest
    }

    /// Writes a file relative to the project dir.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.dir().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Points the run at a moto server (endpoint, dummy credentials, region).
    pub fn aws(mut self, moto: &fink_test_support::Moto) -> Self {
        self.envs.extend(moto.env());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.into(), value.into()));
        self
    }

    pub fn record_file(&self) -> PathBuf {
        self.root.path().join("record.txt")
    }

    /// The lines the recorder fixtures wrote.
    pub fn recorded(&self) -> Vec<String> {
        std::fs::read_to_string(self.record_file()).unwrap_or_default().lines().map(String::from).collect()
    }

    /// `fink --plugins-dir <plugins> <args>` in the project dir, with the test environment.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_as(Path::new(env!("CARGO_BIN_EXE_fink")), args)
    }

    /// [`Project::command`] run as `program`, e.g. a link to fink named after a tool.
    pub fn command_as(&self, program: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir())
            .arg("--plugins-dir")
            .arg(self.plugins_dir())
            .args(args)
            .env("HOME", self.home())
            .env("XDG_DATA_HOME", self.home().join(".local/share"))
            .env_remove("XDG_CACHE_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("FINK_TRUSTED_PATHS")
            .env("USER", "tester")
            .env("FINK_FIXTURE_RECORD", self.record_file())
            .env("NO_COLOR", "1")
            .env_remove("ENV")
            .env_remove("FINK_PLUGIN_PATH")
            .env_remove("RUST_BACKTRACE")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for key in [
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_ENDPOINT_URL",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_DEFAULT_PROFILE",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(key);
        }
        for (k, v) in &self.envs {
            // An empty value in a test means "unset".
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        cmd
    }

    /// Runs `fink --plugins-dir <plugins> <args>` in the project dir, killed and failed after
    /// [`RUN_LIMIT`] so that a regression that hangs fails the test instead of blocking CI.
    pub fn fink(&self, args: &[&str]) -> Run {
        self.fink_within(RUN_LIMIT, args)
    }

    /// [`Project::fink`] with its own time limit: the run must end within `limit`, else the test
    /// fails naming the command and what it printed so far.
    pub fn fink_within(&self, limit: Duration, args: &[&str]) -> Run {
        run_within(self.command(args), limit, &args.join(" "))
    }

    /// Starts fink without waiting (for tests that signal it).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("fink starts")
    }
}

impl From<std::process::Output> for Run {
    fn from(out: std::process::Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// How long any one fink run of a test may take (deploys against moto take seconds).
pub const RUN_LIMIT: Duration = Duration::from_secs(300);

/// Runs `command` with stdin closed, killing it (and its process group) when it outlives `limit`.
pub fn run_within(mut command: Command, limit: Duration, what: &str) -> Run {
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("fink starts");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buffer = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buffer);
            }
            buffer
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("fink can be waited for") {
            break status;
        }
        if started.elapsed() > limit {
            #[cfg(unix)]
            // SAFETY: kill(2) with a negative pid signals the process group the child leads.
            unsafe {
                kill(-(child.id() as i32), 9);
            }
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "`fink {what}` still ran after {} s and was killed; stderr so far:\n{}",
                limit.as_secs(),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = std::process::Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    };
    Run::from(out)
}

#[cfg(unix)]
extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}
