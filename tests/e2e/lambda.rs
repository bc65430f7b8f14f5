//! The lambda tool (deploy, rollback, delete, list, info, invoke, ping) against moto through the
//! real binary, with the bundler building the code.

use base64::Engine;
use fink_test_support::{block_on, Call, Moto, REGION};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::aws::unique;
use crate::support::{Project, Run};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-bundler", "fink-plugin-lambda"];

const HANDLER: &str = "def handle(event, context):\n    return 'alive'\n";

fn config(moto: &Moto, name: &str, extra: Value) -> Value {
    let mut function = json!({
        "name": name,
        "role": moto.lambda_role(),
        "handlerFunction": "handler.handle",
        "handlerFile": "handler.py",
        "runtime": "python3.12",
        "timeout": 3,
        "memorySize": 128,
    });
    let mut section = json!({"lambda": {}, "settings": {"greeting": "moin"}});
    if let Some(more) = extra.get("lambda").and_then(Value::as_object) {
        for (k, v) in more {
            function[k] = v.clone();
        }
    }
    if let Some(more) = extra.as_object() {
        for (k, v) in more.iter().filter(|(k, _)| *k != "lambda") {
            section[k] = v.clone();
        }
    }
    section["lambda"] = function;
    json!({ "lambda": section })
}

fn project(moto: &Moto, name: &str, extra: Value) -> Project {
    let project = Project::with(PLUGINS).aws(moto);
    project.file("handler.py", HANDLER);
    project.file("fink_dev.json", &config(moto, name, extra).to_string());
    project
}

fn deploy(project: &Project) -> Run {
    project.fink(&["lambda", "deploy", "-e", "dev"])
}

fn lambda(moto: &Moto) -> aws_sdk_lambda::Client {
    block_on(async { aws_sdk_lambda::Client::new(&moto.sdk_config(REGION).await) })
}

fn active(moto: &Moto, name: &str) -> Option<String> {
    let client = lambda(moto);
    block_on(async {
        client.get_alias().function_name(name).name("ACTIVE").send().await.ok()?.function_version().map(String::from)
    })
}

fn function(
    moto: &Moto,
    name: &str,
) -> Option<aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput> {
    let client = lambda(moto);
    block_on(async { client.get_function_configuration().function_name(name).send().await.ok() })
}

/// The Lambda calls among `calls` whose path ends with `suffix` (e.g. `/code`).
fn lambda_calls<'a>(calls: &'a [Call], method: &str, suffix: &str) -> Vec<&'a Call> {
    calls.iter().filter(|c| c.service == "lambda" && c.method == method && c.path.ends_with(suffix)).collect()
}

fn sha256_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

#[test]
fn deploy_creates_updates_code_or_config_and_skips_what_did_not_change() {
    let moto = Moto::start();
    let name = unique("fn");
    let project = project(&moto, &name, json!({}));

    let run = deploy(&project).ok();
    assert!(run.stdout.contains(&format!("function '{name}' created: ACTIVE at version 1")), "{}", run.stdout);
    assert_eq!(active(&moto, &name).as_deref(), Some("1"), "ACTIVE points at the published version, not $LATEST");
    let zip = std::fs::read(project.dir().join(".fink/bundle/dev/bundle.zip")).unwrap();
    let created = function(&moto, &name).unwrap();
    assert_eq!(created.code_sha256(), Some(sha256_b64(&zip).as_str()), "CodeSha256 is the bundle's sha256");

    // Unchanged: no code upload, no configuration update, ACTIVE stays.
    let (run, calls) = moto.record(|| deploy(&project));
    let run = run.ok().stdout_has("unchanged: ACTIVE stays at version 1");
    assert!(lambda_calls(&calls, "PUT", "/code").is_empty(), "no UpdateFunctionCode: {calls:?}");
    assert!(lambda_calls(&calls, "PUT", "/configuration").is_empty(), "no UpdateFunctionConfiguration: {calls:?}");
    assert!(run.stderr.contains("unchanged"), "{}", run.stderr);

    // New code: uploaded, a new version becomes ACTIVE.
    project.file("handler.py", "def handle(event, context):\n    return 'alive!'\n");
    let (run, calls) = moto.record(|| deploy(&project));
    run.ok().stdout_has("updated (code): ACTIVE now at version 2 (was 1)");
    assert_eq!(lambda_calls(&calls, "PUT", "/code").len(), 1, "{calls:?}");
    assert!(lambda_calls(&calls, "PUT", "/configuration").is_empty(), "{calls:?}");
    assert_eq!(active(&moto, &name).as_deref(), Some("2"));

    // Only configuration: no code upload.
    project.file(
        "fink_dev.json",
        &config(&moto, &name, json!({"lambda": {"memorySize": 256, "environment": {"MODE": "x"}}})).to_string(),
    );
    let (run, calls) = moto.record(|| deploy(&project));
    run.ok().stdout_has("updated (memorySize, environment): ACTIVE now at version 3 (was 2)");
    assert!(lambda_calls(&calls, "PUT", "/code").is_empty(), "{calls:?}");
    assert_eq!(lambda_calls(&calls, "PUT", "/configuration").len(), 1, "{calls:?}");
    let updated = function(&moto, &name).unwrap();
    assert_eq!(updated.memory_size(), Some(256));
    assert_eq!(active(&moto, &name).as_deref(), Some("3"));

    // Rollback: to the previous version, to a given one, and clear errors when there is none.
    project.fink(&["lambda", "rollback", &name, "-e", "dev"]).ok().stdout_has("ACTIVE now at version 2 (was 3)");
    assert_eq!(active(&moto, &name).as_deref(), Some("2"));
    project.fink(&["lambda", "rollback", &name, "1", "-e", "dev"]).ok();
    assert_eq!(active(&moto, &name).as_deref(), Some("1"));
    project.fink(&["lambda", "rollback", &name, "-e", "dev"]).code(1).stderr_has("has no version before 1");
    project
        .fink(&["lambda", "rollback", &name, "9", "-e", "dev"])
        .code(1)
        .stderr_has(&format!("function '{name}' has no version 9"));
}

#[test]
fn the_bundle_holds_the_handler_and_settings_json() {
    let moto = Moto::shared();
    let name = unique("bundled");
    let project = project(moto, &name, json!({}));
    project.fink(&["lambda", "bundle", "-e", "dev"]).ok().stdout_has("bundle.zip");
    let file = std::fs::File::open(project.dir().join(".fink/bundle/dev/bundle.zip")).unwrap();
    let mut zip = zip::ZipArchive::new(file).unwrap();
    let names: Vec<String> = zip.file_names().map(String::from).collect();
    assert!(names.contains(&"handler.py".to_string()), "{names:?}");
    let mut settings = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("settings.json").unwrap(), &mut settings).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&settings).unwrap(), json!({"greeting": "moin"}));
    // No AWS call was needed, and nothing was deployed.
    assert!(function(moto, &name).is_none());

    project.fink(&["lambda", "clean", "-e", "dev"]).ok();
    assert!(!project.dir().join(".fink/bundle/dev/bundle.zip").exists());
}

#[test]
fn clean_keeps_an_env_folder_another_run_holds_and_removes_it_once_released() {
    let project = Project::with(PLUGINS);
    project.file("handler.py", HANDLER);
    // dev's bundle waits in its preBundle script (with fink's pid, its parent, in `started`) until
    // released, 60 s at most.
    let wait = "echo $PPID > started; i=0; while [ ! -f release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done";
    let function = json!({"name": "cleaned", "handlerFile": "handler.py", "runtime": "python3.12"});
    let config = |bundling: Value| json!({"lambda": {"lambda": function, "bundling": bundling}}).to_string();
    project.file("fink_dev.json", &config(json!({"preBundle": [wait]})));
    project.file("fink_prod.json", &config(json!({})));
    let bundle = project.dir().join(".fink/bundle");
    project.fink(&["lambda", "bundle", "-e", "prod"]).ok();
    assert!(bundle.join("prod/bundle.zip").is_file());

    let limit = std::time::Duration::from_secs(120);
    std::thread::scope(|s| {
        let first = s.spawn(|| project.fink_within(limit, &["lambda", "bundle", "-e", "dev"]));
        let started = project.dir().join("started");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !std::fs::read_to_string(&started).is_ok_and(|t| t.ends_with('\n')) {
            assert!(std::time::Instant::now() < deadline && !first.is_finished(), "the dev bundle did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let pid = std::fs::read_to_string(&started).unwrap().trim().to_string();

        project
            .fink(&["lambda", "clean", "-e", "prod"])
            .ok()
            .stderr_has(&format!(
                "kept .fink/bundle/dev/: another fink run is using it: pid {pid}, `fink lambda bundle -e dev`, since "
            ))
            .stderr_has("removed .fink/bundle/prod/");
        assert!(bundle.join("dev/.lock").is_file(), "the running bundle's lock stays");
        assert!(bundle.join("dev").is_dir() && !bundle.join("prod").exists());

        std::fs::write(project.dir().join("release"), "").unwrap();
        first.join().unwrap().ok();
    });
    assert!(bundle.join("dev/bundle.zip").is_file(), "the held run finished its bundle");

    // A lock held by another process (here the test), naming the run it last wrote.
    let lock = std::fs::File::open(bundle.join("dev/.lock")).unwrap();
    lock.try_lock().unwrap();
    project
        .fink(&["lambda", "clean", "-e", "dev"])
        .ok()
        .stderr_has("kept .fink/bundle/dev/: another fink run is using it: pid ");
    assert!(bundle.join("dev/bundle.zip").is_file());
    drop(lock);
    project.fink(&["lambda", "clean", "-e", "dev"]).ok().stderr_has("removed .fink/bundle/\n");
    assert!(project.dir().join("handler.py").is_file() && !bundle.exists());
}

#[test]
fn deploy_uploads_through_s3_when_an_artifact_bucket_is_set() {
    let moto = Moto::shared();
    let name = unique("viabucket");
    let bucket = name.to_lowercase();
    crate::aws::bucket(moto, &bucket);
    let project = project(moto, &name, json!({"deployment": {"artifactBucket": bucket}}));
    deploy(&project).ok().stderr_has(&format!("uploading bundle to s3://{bucket}/fink/lambda/{REGION}/{name}/"));
    let keys = block_on(async {
        let s3 = aws_sdk_s3::Client::new(&moto.sdk_config(REGION).await);
        let out = s3.list_objects_v2().bucket(&bucket).send().await.unwrap();
        out.contents().iter().filter_map(|o| o.key().map(String::from)).collect::<Vec<_>>()
    });
    assert_eq!(keys.len(), 1, "{keys:?}");
    let zip = std::fs::read(project.dir().join(".fink/bundle/dev/bundle.zip")).unwrap();
    assert_eq!(function(moto, &name).unwrap().code_sha256(), Some(sha256_b64(&zip).as_str()));
    assert_eq!(active(moto, &name).as_deref(), Some("1"));
}

/// `len` bytes that deflate cannot shrink (xorshift64), written to `path`.
fn write_noise(path: &std::path::Path, len: usize) {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bytes.extend_from_slice(&seed.to_le_bytes());
    }
    bytes.truncate(len);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn a_bundle_above_50_mb_is_built_with_a_warning_and_deploying_it_needs_an_artifact_bucket() {
    let moto = Moto::shared();
    let name = unique("bigfn");
    let project = project(moto, &name, json!({"bundling": {"folders": [{"source": "data"}]}}));
    write_noise(&project.dir().join("data/blob.bin"), 51 * 1024 * 1024);

    // `lambda bundle` only builds: the zip is written, the limit is a warning naming the key.
    let run = project.fink(&["lambda", "bundle", "-e", "dev"]).ok().stdout_has("bundle.zip: 3 files, 51 MB, sha256 ");
    run.stderr_has("bundle.zip is 51 MB, above the 50 MB limit for direct upload")
        .stderr_has("lambda.deployment.artifactBucket");
    let zip = project.dir().join(".fink/bundle/dev/bundle.zip");
    assert!(std::fs::metadata(&zip).unwrap().len() > 50 * 1024 * 1024);
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    assert_eq!(archive.by_name("data/blob.bin").unwrap().size(), 51 * 1024 * 1024);

    // `lambda deploy` without an artifact bucket fails before anything is uploaded.
    let (run, calls) = moto.record(|| deploy(&project));
    run.code(1)
        .stderr_has("bundle.zip is 51 MB, above the 50 MB limit for direct upload")
        .stderr_has("set lambda.deployment.artifactBucket to upload it through S3");
    // moto is shared: only this test's calls name its function.
    let ours: Vec<_> = calls.iter().filter(|c| c.path.contains(&name) || c.body.contains(&name)).collect();
    assert!(ours.is_empty(), "no upload, no function: {ours:?}");
    assert!(function(moto, &name).is_none());
}

#[test]
fn delete_needs_f_and_removes_the_function_and_its_logs() {
    let moto = Moto::shared();
    let name = unique("doomedfn");
    let project = project(moto, &name, json!({"lambda": {"logs": {"retentionInDays": 7}}}));
    deploy(&project).ok();
    let logs = block_on(async { aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config(REGION).await) });
    let group = format!("/aws/lambda/{name}");
    let retention = |logs: &aws_sdk_cloudwatchlogs::Client| {
        block_on(async {
            let out = logs.describe_log_groups().log_group_name_prefix(&group).send().await.unwrap();
            out.log_groups().iter().find(|g| g.log_group_name() == Some(group.as_str())).map(|g| g.retention_in_days())
        })
    };
    assert_eq!(retention(&logs), Some(Some(7)), "the log group keeps events for lambda.logs.retentionInDays");

    project.fink(&["lambda", "delete", &name, "-e", "dev"]).code(1).stderr_has("without -f");
    assert!(function(moto, &name).is_some());
    project.fink(&["lambda", "delete", "-f", &name, "--delete-logs", "-e", "dev"]).ok().stdout_has("deleted");
    assert!(function(moto, &name).is_none());
    assert_eq!(retention(&logs), None, "--delete-logs removes the log group");
    project
        .fink(&["lambda", "delete", "-f", &name, "-e", "dev"])
        .code(1)
        .stderr_has(&format!("function '{name}' does not exist"));
}

#[test]
fn list_and_info_show_functions_versions_and_aliases() {
    let moto = Moto::shared();
    let name = unique("listedfn");
    let project = project(moto, &name, json!({"lambda": {"environment": {"TOKEN": "hidden-value"}}}));
    deploy(&project).ok();
    project.fink(&["lambda", "list", "-e", "dev"]).ok().stdout_has(&name).stdout_has("python3.12");
    let list = project.fink(&["lambda", "list", "--json", "-e", "dev"]).ok().json();
    let entry = list.as_array().unwrap().iter().find(|f| f["name"] == json!(name)).cloned().unwrap();
    assert_eq!(entry["active_version"], json!("1"), "{entry}");
    assert_eq!(entry["memory"], json!(128));

    let run =
        project.fink(&["lambda", "info", "-e", "dev"]).ok().stdout_has(&name).stdout_has("ACTIVE").stdout_has("TOKEN");
    assert!(!run.stdout.contains("hidden-value"), "environment values are not printed: {}", run.stdout);
    let info = project.fink(&["lambda", "info", "--json", "-e", "dev"]).ok().json();
    assert_eq!(info["aliases"], json!([{"name": "ACTIVE", "version": "1"}]), "{info}");
    assert_eq!(info["versions"].as_array().unwrap().len(), 1, "{info}");
}

#[test]
fn invoke_and_ping_use_the_active_version() {
    // moto's Docker-less Lambda answers from one queue per server: a server of our own.
    let moto = Moto::start();
    let name = unique("pinged");
    let project = project(&moto, &name, json!({}));
    deploy(&project).ok();

    // Without a queued answer moto echoes the payload.
    project
        .fink(&["lambda", "invoke", &name, "--payload", r#"{"hello": "world"}"#, "-e", "dev"])
        .ok()
        .stdout_has(r#"{"hello": "world"}"#);
    project.file("event.json", r#"{"from": "file"}"#);
    project
        .fink(&["lambda", "invoke", &name, "--payload", "file://event.json", "--outfile", "out.json", "-e", "dev"])
        .ok();
    assert_eq!(std::fs::read_to_string(project.dir().join("out.json")).unwrap(), r#"{"from": "file"}"#);
    project
        .fink(&["lambda", "invoke", &name, "--payload", "{oops", "-e", "dev"])
        .code(1)
        .stderr_has("--payload is not valid JSON");
    project
        .fink(&["lambda", "invoke", &name, "--invocation-type", "Event", "--payload", "{}", "-e", "dev"])
        .ok()
        .stdout_has("invoked asynchronously");

    moto.queue_lambda_responses(REGION, &["\"alive\""]);
    project.fink(&["lambda", "ping", &name, "-e", "dev"]).ok().stdout_has("alive");
    moto.queue_lambda_responses(REGION, &["\"sleeping\""]);
    project
        .fink(&["lambda", "ping", &name, "1", "-e", "dev"])
        .code(1)
        .stderr_has("expected \"alive\", got \"sleeping\"");
    // Without a queued answer moto echoes the event: gcdt's and the Python fink's ping key both.
    project
        .fink(&["lambda", "ping", &name, "-e", "dev"])
        .code(1)
        .stderr_has(r#"got {"ramuda_action": "ping", "lambda_action": "ping"}"#);
}

#[test]
fn a_failed_ping_with_fail_deployment_leaves_active_where_it_was() {
    let moto = Moto::start();
    let name = unique("guarded");
    let guarded = json!({"lambda": {"failDeploymentOnUnsuccessfulPing": true}});
    let project = project(&moto, &name, guarded.clone());
    moto.queue_lambda_responses(REGION, &["\"alive\""]);
    deploy(&project).ok().stderr_has("answered the ping");
    assert_eq!(active(&moto, &name).as_deref(), Some("1"));

    project.file("handler.py", "def handle(event, context):\n    raise Exception('broken')\n");
    moto.queue_lambda_responses(REGION, &["\"broken\""]);
    deploy(&project).code(1).stderr_has("ping of function").stderr_has("ACTIVE stays at version 1");
    assert_eq!(active(&moto, &name).as_deref(), Some("1"), "a failed ping must not move ACTIVE");
}

#[test]
fn bad_config_types_are_reported_with_their_paths() {
    let moto = Moto::shared();
    let name = unique("badtypes");
    let project =
        project(moto, &name, json!({"lambda": {"memorySize": "128", "timeout": "3", "logs": {"retentionInDays": 2}}}));
    let run = deploy(&project).code(1);
    for text in ["lambda.lambda.memorySize", "lambda.lambda.timeout", "lambda.lambda.logs.retentionInDays"] {
        assert!(run.stderr.contains(text), "{text} in {}", run.stderr);
    }
    assert!(function(moto, &name).is_none());
}

#[test]
fn without_the_bundler_deploy_says_what_is_missing() {
    let moto = Moto::shared();
    let name = unique("nobundler");
    let project = Project::with(&["fink-plugin-config-reader", "fink-plugin-lambda"]).aws(moto);
    project.file("handler.py", HANDLER);
    project.file("fink_dev.json", &config(moto, &name, json!({})).to_string());
    deploy(&project).code(1).stderr_has("no bundle was built for the lambda tool");
}

#[test]
fn commands_by_function_name_run_anywhere_without_env_or_config() {
    let moto = Moto::shared();
    let name = unique("anywhere");
    deploy(&project(moto, &name, json!({}))).ok();
    // Another directory: no fink_<env> file, no ENV.
    let elsewhere = Project::with(PLUGINS).aws(moto);
    elsewhere.fink(&["lambda", "list"]).ok().stdout_has(&name);
    elsewhere.fink(&["lambda", "rollback", &name]).code(1).stderr_has("has no version before 1");
    // Commands that work on the configured function still need an env.
    elsewhere.fink(&["lambda", "deploy"]).code(2).stderr_has("no environment given");
}

fn args(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// `project`'s fink run under `sh` with a file size limit of a few KB (and SIGXFSZ ignored, so a
/// write past it fails with "File too large" instead of killing fink): a write failure that
/// root, who writes into any folder, meets too.
pub fn fink_with_small_files(project: &Project, args: &[&str]) -> Run {
    let inner = project.command(args);
    let mut command = std::process::Command::new("sh");
    command.arg("-c").arg(r#"trap "" XFSZ; ulimit -f 2; exec "$@""#).arg("sh").arg(inner.get_program());
    command.args(inner.get_args());
    for (key, value) in inner.get_envs() {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command.current_dir(inner.get_current_dir().unwrap());
    crate::support::run_within(command, std::time::Duration::from_secs(120), &args.join(" "))
}

#[test]
fn invoke_replaces_the_outfile_whole_or_not_at_all_and_escapes_control_characters() {
    // An own server: the queued answer below must not reach another test's invoke.
    let moto = Moto::start();
    let name = unique("outfile");
    let project = project(&moto, &name, json!({}));
    deploy(&project).ok();

    // An existing, longer file is replaced whole by the response.
    project.file("out.json", &format!("{{\"old\": \"{}\"}}\n", "o".repeat(500)));
    let invoke = |payload: &str| -> Vec<String> {
        ["lambda", "invoke", &name, "--payload", payload, "--outfile", "out.json", "-e", "dev"]
            .map(String::from)
            .to_vec()
    };
    project.fink(&args(&invoke(r#"{"new": 1}"#))).ok();
    assert_eq!(std::fs::read_to_string(project.dir().join("out.json")).unwrap(), r#"{"new": 1}"#);

    // A response the file system refuses to store: the old file stays as it was, the error names it.
    let big = format!(r#"{{"big": "{}"}}"#, "b".repeat(8 * 1024));
    let run = fink_with_small_files(&project, &args(&invoke(&big)));
    let out = project.dir().join("out.json");
    run.code(1).stderr_has(&format!("cannot write --outfile {}: ", out.display()));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), r#"{"new": 1}"#, "the old file is intact");
    let left: Vec<String> = std::fs::read_dir(project.dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "no temporary file is left: {left:?}");

    // A response with terminal escape sequences is shown escaped; the outfile keeps its bytes.
    let answer = "\"\u{1b}[31mred\u{1b}[0m \u{1b}]0;owned\u{7} \u{9b}2J\rdone\"";
    moto.queue_lambda_responses(REGION, &[answer]);
    let run = project.fink(&["lambda", "invoke", &name, "--payload", "{}", "-e", "dev"]).ok();
    let run = run.stdout_has(r#""\x1b[31mred\x1b[0m \x1b]0;owned\x07 \x9b2J\x0ddone""#);
    assert!(!run.stdout.contains(['\u{1b}', '\u{7}', '\u{9b}', '\r']), "{:?}", run.stdout);
    moto.queue_lambda_responses(REGION, &[answer]);
    project.fink(&["lambda", "invoke", &name, "--payload", "{}", "--outfile", "raw.json", "-e", "dev"]).ok();
    assert_eq!(std::fs::read_to_string(project.dir().join("raw.json")).unwrap(), answer);
}
