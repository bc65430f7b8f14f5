//! Test support for fink: a real AWS-compatible server (moto in server mode) on a free loopback
//! port, started once per test binary (or privately, for tests that count requests), warmed up,
//! and the environment that points fink and the AWS SDK at it.
//!
//! moto is installed into the repo's `.venv` by `scripts/moto.sh` (the test script runs it);
//! `FINK_MOTO_SERVER` may name another `moto_server` executable.

mod recorder;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub use recorder::Call;

/// The region tests run in unless they say otherwise.
pub const REGION: &str = "eu-west-1";

/// A running moto server. The process ends with the test binary (a watchdog) or when dropped.
pub struct Moto {
    port: u16,
    child: Child,
}

impl Moto {
    /// The server shared by every test in this test binary. Isolate tests by unique names.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(Moto::start)
    }

    /// A server of one's own, e.g. to count the requests a command makes.
    pub fn start() -> Moto {
        let server = moto_server();
        let port = free_port();
        let parent = std::process::id();
        // The watchdog stops moto when the test binary exits, even if nothing drops this value.
        // Each server records requests into its own file (moto's default is ./moto_recording).
        let recording = std::env::temp_dir().join(format!("fink-moto-recording-{parent}-{port}"));
        let script = format!(
            "MOTO_RECORDER_FILEPATH=\"{}\" \"{}\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & m=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.5; done; kill $m 2>/dev/null",
            recording.display(),
            server.display()
        );
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("sh starts moto_server");
        let moto = Moto { port, child };
        moto.wait_until_up();
        moto.post("/moto-api/config", r#"{"lambda": {"use_docker": false}}"#);
        moto.warm_up();
        moto
    }

    /// `http://127.0.0.1:<port>` (127.0.0.1, not localhost: S3 path-style addressing).
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment fink and the SDK need: endpoint, dummy credentials, region. (Runs should also
    /// use a HOME of their own, so nothing comes from the developer's `~/.aws`.)
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_DEFAULT_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// SDK config for seeding test data in `region`.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(aws_sdk_sts::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await
    }

    /// POSTs to moto's own API (`/moto-api/...`) and returns the body.
    pub fn post(&self, path: &str, body: &str) -> String {
        ureq::post(&format!("{}{path}", self.endpoint()))
            .set("Content-Type", "application/json")
            .send_string(body)
            .unwrap_or_else(|e| panic!("moto {path}: {e}"))
            .into_string()
            .unwrap_or_default()
    }

    /// GETs from moto's own API.
    pub fn get(&self, path: &str) -> String {
        ureq::get(&format!("{}{path}", self.endpoint()))
            .call()
            .unwrap_or_else(|e| panic!("moto {path}: {e}"))
            .into_string()
            .unwrap_or_default()
    }

    /// Runs `f` while moto records requests, and returns the AWS calls made meanwhile.
    /// Recordings are serialised (moto keeps one, and a reset by another test would empty this
    /// one); calls of tests running meanwhile still show up, so callers filter by their names.
    pub fn record<T>(&self, f: impl FnOnce() -> T) -> (T, Vec<Call>) {
        static RECORDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one = RECORDING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        self.post("/moto-api/recorder/reset-recording", "");
        self.post("/moto-api/recorder/start-recording", "");
        let value = f();
        self.post("/moto-api/recorder/stop-recording", "");
        let log = self.get("/moto-api/recorder/download-recording");
        (value, recorder::parse(&log))
    }

    fn wait_until_up(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && ureq::get(&format!("{}/moto-api/data.json", self.endpoint())).call().is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not answer on port {} within 60 s", self.port);
    }

    /// The first call to each service is slow (moto loads it lazily); make it here.
    fn warm_up(&self) {
        block_on(async {
            let config = self.sdk_config(REGION).await;
            let _ = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await;
            let _ = aws_sdk_cloudformation::Client::new(&config).list_stacks().send().await;
            let _ = aws_sdk_ssm::Client::new(&config).describe_parameters().send().await;
            let _ = aws_sdk_secretsmanager::Client::new(&config).list_secrets().send().await;
            let _ = aws_sdk_acm::Client::new(&config).list_certificates().send().await;
            let _ = aws_sdk_lambda::Client::new(&config).list_functions().send().await;
        });
    }

    /// The ARN of an IAM role Lambda functions can use (moto requires the role to exist).
    pub fn lambda_role(&self) -> String {
        const NAME: &str = "fink-test-lambda";
        block_on(async {
            let iam = aws_sdk_iam::Client::new(&self.sdk_config(REGION).await);
            if let Ok(found) = iam.get_role().role_name(NAME).send().await {
                if let Some(role) = found.role() {
                    return role.arn().to_string();
                }
            }
            let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
            match iam.create_role().role_name(NAME).assume_role_policy_document(policy).send().await {
                Ok(out) => out.role().map(|r| r.arn().to_string()).expect("created role has an ARN"),
                // Another test created it meanwhile.
                Err(_) => iam
                    .get_role()
                    .role_name(NAME)
                    .send()
                    .await
                    .expect("role exists")
                    .role()
                    .expect("role")
                    .arn()
                    .to_string(),
            }
        })
    }

    /// Queues responses moto's Lambda (without Docker) returns for the next invocations in `region`,
    /// in order; afterwards it echoes the payload. The queue is per server: use a private server.
    pub fn queue_lambda_responses(&self, region: &str, responses: &[&str]) {
        let body = serde_json::json!({"account_id": "123456789012", "region": region, "results": responses});
        self.post("/moto-api/static/lambda-simple/response", &body.to_string());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Kill the watchdog's process group: the shell and moto.
        let _ = Command::new("kill").args(["-TERM", "--", &format!("-{}", self.child.id())]).status();
        let _ = self.child.wait();
    }
}

/// Runs a future to completion on a fresh runtime (tests are synchronous).
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(future)
}

fn moto_server() -> PathBuf {
    if let Some(path) = std::env::var_os("FINK_MOTO_SERVER") {
        return PathBuf::from(path);
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    assert!(path.exists(), "moto is not installed at {}: run `bash scripts/moto.sh` first", path.display());
    path
}

/// Sets this process's umask to 022, whatever the machine's (often 002): files and folders the
/// tests create, and those of the builds and scripts they start, are then writable by their owner
/// only. fink refuses plugin files and folders that group or others may write (docs/install.md),
/// and the tests lay out plugin folders. Files copied from elsewhere keep their mode: set it.
pub fn owner_writes_only() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "macos")]
        type Mode = u16;
        #[cfg(not(target_os = "macos"))]
        type Mode = u32;
        extern "C" {
            fn umask(mask: Mode) -> Mode;
        }
        // SAFETY: umask only replaces the process's file creation mask; it cannot fail.
        unsafe {
            umask(0o022);
        }
    });
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// A `cargo` command for building from inside a test or a benchmark, with the environment the
/// outer cargo gave this process taken out again. cargo sets `CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, ... for the test binary; a nested cargo would pass them on to build
/// scripts, and build scripts that watch them (ring's does) would then count as changed, so
/// ring, rustls and the whole AWS SDK would be compiled again at every switch between a test run
/// and a plain `cargo build`.
pub fn cargo() -> Command {
    builder(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `program` (e.g. `bash` for a script that runs cargo) with the same variables taken out as
/// [`cargo`] does.
pub fn builder(program: impl AsRef<std::ffi::OsStr>) -> Command {
    owner_writes_only();
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if is_set_for_the_crate(name) {
            cmd.env_remove(name);
        }
    }
    cmd
}

/// Whether cargo sets `name` for the crate being run, rather than the user for cargo.
fn is_set_for_the_crate(name: &str) -> bool {
    const EXACT: &[&str] = &[
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
    ];
    EXACT.contains(&name) || name.starts_with("CARGO_PKG_") || name.starts_with("CARGO_BIN_EXE_")
}

#[cfg(test)]
mod cargo_tests {
    use super::*;

    #[test]
    fn the_crate_variables_go_and_the_users_stay() {
        assert!(is_set_for_the_crate("CARGO_MANIFEST_DIR"));
        assert!(is_set_for_the_crate("CARGO_PKG_NAME"));
        assert!(is_set_for_the_crate("CARGO_BIN_EXE_fink"));
        assert!(!is_set_for_the_crate("CARGO_HOME"));
        assert!(!is_set_for_the_crate("CARGO_TARGET_DIR"));
        assert!(!is_set_for_the_crate("CARGO"));
        // Set for this very test binary by cargo, and removed from the nested command.
        let removed: Vec<_> = cargo()
            .get_envs()
            .filter(|(_, value)| value.is_none())
            .map(|(name, _)| name.to_string_lossy().into_owned())
            .collect();
        assert!(removed.contains(&"CARGO_MANIFEST_DIR".to_string()), "{removed:?}");
        assert!(removed.contains(&"CARGO_PKG_NAME".to_string()), "{removed:?}");
    }
}
