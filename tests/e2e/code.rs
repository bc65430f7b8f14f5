//! The code tool (CodeDeploy) through the real binary, with the bundler building the tar.gz and
//! the lookups plugin resolving `codedeploy` values. moto holds the application, the group, the
//! deployments and the S3 bucket; it never runs a deployment, so the deploy tests put the
//! fault-injection proxy (proxy.rs) in front of it to play the deployment's progress.

use std::io::Read;
use std::process::Child;
use std::time::Duration;

use fink_test_support::{block_on, Moto, REGION};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::aws::{self, unique};
use crate::proxy::{CodeDeploy, End, Proxy};
use crate::support::{Project, Run};
use crate::webhook::{Reply, Webhook};

const PLUGINS: &[&str] =
    &["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-bundler", "fink-plugin-code"];

const APPSPEC: &str = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /opt/app\nhooks:\n  \
                       BeforeInstall:\n    - location: scripts/install.sh\n";

/// A project with `codedeploy/` (appspec, an executable hook, a data file) whose `fink_dev.json`
/// reads application, group and bucket from the stack `<name>-infra` by lookups.
fn project(moto: &Moto, name: &str) -> Project {
    project_with(moto, name, PLUGINS, json!({}))
}

/// [`project`] with other plugins and more top-level config keys (`extra`).
fn project_with(moto: &Moto, name: &str, plugins: &[&str], extra: Value) -> Project {
    let stack = format!("{name}-infra");
    aws::stack(
        moto,
        REGION,
        &stack,
        &[
            ("ApplicationName", &format!("{name}-app")),
            ("DeploymentGroup", &format!("{name}-group")),
            ("Bucket", &name.to_lowercase()),
        ],
    );
    let project = Project::with(plugins).aws(moto);
    project.file("codedeploy/appspec.yml", APPSPEC);
    let script = project.file("codedeploy/scripts/install.sh", "#!/bin/sh\nmkdir -p /opt/app\n");
    set_mode(&script, 0o755);
    project.file("codedeploy/index.html", "<h1>hello</h1>\n");
    let mut config = json!({"code": {
        "codedeploy": {
            "applicationName": format!("lookup:stack:{stack}:ApplicationName"),
            "deploymentGroupName": format!("lookup:stack:{stack}:DeploymentGroup"),
            "artifactsBucket": format!("lookup:stack:{stack}:Bucket")
        },
        "stack_output": format!("lookup:stack:{stack}"),
        "settings": {"greeting": "moin"},
        "deployment": {"LogGroup": format!("/{name}/messages")}
    }});
    for (key, value) in extra.as_object().into_iter().flatten() {
        config[key] = value.clone();
    }
    project.file("fink_dev.json", &config.to_string());
    project
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The application, its group and the bucket, in moto.
fn seed(moto: &Moto, name: &str) {
    aws::bucket(moto, &name.to_lowercase());
    block_on(async {
        let client = aws_sdk_codedeploy::Client::new(&moto.sdk_config(REGION).await);
        client.create_application().application_name(format!("{name}-app")).send().await.expect("create application");
        client
            .create_deployment_group()
            .application_name(format!("{name}-app"))
            .deployment_group_name(format!("{name}-group"))
            .service_role_arn("arn:aws:iam::123456789012:role/codedeploy")
            .send()
            .await
            .expect("create deployment group");
    });
}

/// (path, mode, uid, gid, mtime, content) of every file in the tar.gz.
fn members(path: &std::path::Path) -> Vec<(String, u32, u64, u64, u64, String)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()));
    let mut found = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        found.push((
            entry.path().unwrap().to_string_lossy().into_owned(),
            header.mode().unwrap(),
            header.uid().unwrap(),
            header.gid().unwrap(),
            header.mtime().unwrap(),
            content,
        ));
    }
    found
}

/// The id in `deployment <id> created: ...` (moto's ids are UUIDs, AWS's `d-...`).
fn deployment_id(run: &Run) -> String {
    let line = run.stdout.lines().find(|l| l.starts_with("deployment ") && l.contains(" created: "));
    line.and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or_else(|| panic!("no deployment id in {}", run.stdout))
        .to_string()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn bundle_writes_a_deterministic_tar_gz_with_modes_stack_output_and_settings() {
    let moto = Moto::shared();
    let name = unique("cdbundle");
    let project = project(moto, &name);
    let run = project.fink(&["code", "bundle", "-e", "dev"]).ok();
    let path = project.dir().join(".fink/bundle/dev/bundle.tar.gz");
    let bytes = std::fs::read(&path).unwrap();
    run.stdout_has("bundle.tar.gz: 5 files, ").stdout_has(&format!("sha256 {}", sha256_hex(&bytes)));

    let files: Vec<(String, u32, u64, u64, u64)> =
        members(&path).into_iter().map(|(p, mode, uid, gid, mtime, _)| (p, mode, uid, gid, mtime)).collect();
    let at = 315_532_800;
    assert_eq!(
        files,
        vec![
            ("appspec.yml".to_string(), 0o644, 0, 0, at),
            ("index.html".to_string(), 0o644, 0, 0, at),
            ("scripts/".to_string(), 0o755, 0, 0, at),
            ("scripts/install.sh".to_string(), 0o755, 0, 0, at),
            ("settings.json".to_string(), 0o644, 0, 0, at),
            ("stack_output.yml".to_string(), 0o644, 0, 0, at),
        ]
    );
    let content = |file: &str| members(&path).into_iter().find(|m| m.0 == file).map(|m| m.5).unwrap();
    assert_eq!(
        content("stack_output.yml"),
        format!("ApplicationName: {name}-app\nBucket: {}\nDeploymentGroup: {name}-group\n", name.to_lowercase())
    );
    assert_eq!(content("settings.json"), "{\n  \"greeting\": \"moin\"\n}\n");
    assert_eq!(content("appspec.yml"), APPSPEC);

    // Built again: the same bytes.
    project.fink(&["code", "bundle", "-e", "dev"]).ok();
    assert_eq!(std::fs::read(&path).unwrap(), bytes, "two builds give the same bytes");
}

#[test]
fn a_missing_appspec_fails_before_any_aws_call() {
    let moto = Moto::shared();
    let name = unique("cdnoappspec");
    let project = project(moto, &name);
    std::fs::remove_file(project.dir().join("codedeploy/appspec.yml")).unwrap();
    let (run, calls) = moto.record(|| project.fink(&["code", "deploy", "-e", "dev"]));
    run.code(1)
        .stderr_has("no appspec.yml at the root of the CodeDeploy bundle: looked in ./codedeploy (the default folder)");
    // moto is shared: only this test's calls name its stack, application or bucket.
    let ours: Vec<_> = calls.iter().filter(|c| c.path.contains(&name) || c.body.contains(&name)).collect();
    assert!(ours.is_empty(), "no AWS call, not even the lookups: {ours:?}");
    assert!(!project.dir().join(".fink/bundle/dev/bundle.tar.gz").exists());
}

#[test]
fn a_missing_deployment_group_is_one_line_naming_the_key() {
    let project = Project::with(PLUGINS);
    project.file("codedeploy/appspec.yml", APPSPEC);
    project.file("fink_dev.json", &json!({"code": {"codedeploy": {"applicationName": "app"}}}).to_string());
    let run = project.fink(&["code", "bundle", "-e", "dev"]).code(1).stderr_has("deploymentGroupName");
    assert!(run.stderr.contains("code.codedeploy"), "{}", run.stderr);
    assert_eq!(run.stderr.trim().lines().filter(|l| l.starts_with("error")).count(), 1, "{}", run.stderr);
}

fn through_proxy(project: Project, proxy: &Proxy) -> Project {
    project.env("AWS_ENDPOINT_URL", &proxy.endpoint())
}

#[test]
fn deploy_uploads_once_follows_the_lifecycle_events_and_lists_the_deployments() {
    let moto = Moto::shared();
    let name = unique("cdok");
    seed(moto, &name);
    let proxy = Proxy::start(moto.endpoint());
    proxy.codedeploy(CodeDeploy { instances: vec!["i-0aaa".into(), "i-0bbb".into()], polls: 2, end: End::Succeed });
    let project = through_proxy(project(moto, &name), &proxy);

    let run = project.fink(&["code", "deploy", "-e", "dev"]).ok();
    let bytes = std::fs::read(project.dir().join(".fink/bundle/dev/bundle.tar.gz")).unwrap();
    let key = format!("{name}-app/{}.tar.gz", sha256_hex(&bytes));
    let bucket = name.to_lowercase();
    let run = run
        .stderr_has(&format!("uploading the bundle to s3://{bucket}/{key}"))
        .stdout_has(&format!("created: s3://{bucket}/{key} to group {name}-group"))
        .stderr_has("InProgress (0 pending, 2 in progress, 0 succeeded, 0 failed)")
        .stderr_has("i-0aaa  ApplicationStop  Succeeded (1.5 s)")
        .stderr_has("i-0bbb  ValidateService  Succeeded")
        .stderr_has("Succeeded (0 pending, 0 in progress, 2 succeeded, 0 failed)");
    let id = deployment_id(&run);
    let run = run.stdout_has(&format!("deployment {id} succeeded"));
    run.stderr_has(&format!(
        "console: https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/deployments/{id}?region={REGION}"
    ));
    assert_eq!(aws::object(moto, &bucket, &key), bytes, "the revision in S3 is the bundle");

    // The deployment in moto points at that revision, as a tgz.
    let revision = block_on(async {
        let client = aws_sdk_codedeploy::Client::new(&moto.sdk_config(REGION).await);
        let info = client.get_deployment().deployment_id(&id).send().await.unwrap().deployment_info.unwrap();
        let s3 = info.revision().unwrap().s3_location().unwrap().clone();
        (s3.bucket().map(String::from), s3.key().map(String::from), s3.bundle_type().map(|b| b.as_str().to_string()))
    });
    assert_eq!(revision, (Some(bucket.clone()), Some(key.clone()), Some("tgz".to_string())));

    // Unchanged: not uploaded again, a new deployment all the same.
    let again = project.fink(&["code", "deploy", "-e", "dev"]).ok();
    let again = again.stderr_has(&format!("bundle unchanged: already at s3://{bucket}/{key}, not uploading"));
    assert!(!again.stderr.contains("uploading the bundle"), "{}", again.stderr);
    assert!(proxy.actions().iter().filter(|a| *a == "CreateDeployment").count() == 2, "{:?}", proxy.actions());

    let listed = project.fink(&["code", "list", "-e", "dev", "--json"]).ok().json();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{listed}");
    assert!(
        rows.iter().any(|r| r["id"] == json!(id) && r["revision"] == json!(format!("s3://{bucket}/{key}"))),
        "{listed}"
    );
    project.fink(&["code", "list", "-e", "dev"]).ok().stdout_has(&id).stdout_has("Revision");
}

#[test]
fn a_failed_deployment_names_the_instance_the_event_its_diagnostics_and_log_lines() {
    let moto = Moto::shared();
    let name = unique("cdfail");
    seed(moto, &name);
    // Logged after the deployment starts (its events are read from its start on).
    let later = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64 + 60_000;
    aws::log_events(
        moto,
        &format!("/{name}/messages"),
        "i-0bad",
        &[(later, "systemd: codedeploy-agent: install failed")],
    );
    let proxy = Proxy::start(moto.endpoint());
    proxy.codedeploy(CodeDeploy { instances: vec!["i-0aok".into(), "i-0bad".into()], polls: 1, end: End::Fail });
    let hook = Webhook::start(Reply::Status(200));
    let plugins = [PLUGINS, &["fink-plugin-slack"]].concat();
    let project = project_with(moto, &name, &plugins, json!({"plugins": {"slack": {"webhook": hook.url()}}}));
    let project = through_proxy(project, &proxy);

    let run = project.fink(&["code", "deploy", "-e", "dev"]).code(1);
    // The failure announcement names the deployment the command created before it failed.
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let message = requests[0].json();
    assert_eq!(message["text"], json!(format!("code deploy failed for deployment group '{name}-group' in dev")));
    let fields = message["attachments"][0]["fields"].as_array().cloned().unwrap_or_default();
    let deployment = fields.iter().find(|f| f["title"] == "Deployment").map(|f| f["value"].clone());
    assert_eq!(deployment, Some(json!(deployment_id(&run))), "{message:#}");
    let run = run
        .stderr_has("failed: HEALTH_CONSTRAINTS: The overall deployment failed")
        .stderr_has("instance i-0bad failed in BeforeInstall: ScriptFailed, script scripts/install.sh: Script at specified location")
        .stderr_has("[stderr]install: cannot create /opt/app: Permission denied")
        .stderr_has(&format!("last lines of /{name}/messages / i-0bad:"))
        .stderr_has("systemd: codedeploy-agent: install failed");
    assert!(!run.stderr.contains("instance i-0aok failed"), "only the failed instance: {}", run.stderr);
}

fn interrupt(child: &Child) {
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[test]
fn ctrl_c_stops_the_deployment_with_a_rollback_and_a_second_one_detaches() {
    let moto = Moto::shared();
    let name = unique("cdstop");
    seed(moto, &name);
    let proxy = Proxy::start(moto.endpoint());
    proxy.codedeploy(CodeDeploy { instances: vec!["i-0ccc".into()], polls: 0, end: End::Hold { stop_after: Some(1) } });
    let project = through_proxy(project(moto, &name), &proxy);

    let child = project.spawn(&["code", "deploy", "-e", "dev"]);
    proxy.wait_for("GetDeployment", 1);
    interrupt(&child);
    let run = Run::from(child.wait_with_output().unwrap()).code(130);
    let id = deployment_id(&run);
    run.stderr_has(&format!("stopping deployment {id} with a rollback"))
        .stderr_has(&format!("interrupted: deployment {id} stopped; it is Stopped"));
    assert!(proxy.actions().iter().any(|a| a == "StopDeployment"), "{:?}", proxy.actions());
    assert!(
        proxy.stop_requests().iter().all(|r| r["autoRollbackEnabled"] == json!(true))
            && !proxy.stop_requests().is_empty()
    );

    // A deployment that does not stop: the second Ctrl-C stops waiting and says how to watch it.
    proxy.codedeploy(CodeDeploy { instances: vec!["i-0ccc".into()], polls: 0, end: End::Hold { stop_after: None } });
    let child = project.spawn(&["code", "deploy", "-e", "dev"]);
    proxy.wait_for("StopDeployment", 1);
    let before = proxy.actions().iter().filter(|a| *a == "GetDeployment").count();
    proxy.wait_for("GetDeployment", before + 1);
    interrupt(&child);
    proxy.wait_for("StopDeployment", 2);
    interrupt(&child);
    let run = Run::from(child.wait_with_output().unwrap()).code(130);
    run.stderr_has("interrupted again: stopped waiting").stderr_has("fink code list");
}

#[test]
fn ctrl_c_when_stop_deployment_is_refused_says_the_deployment_goes_on_and_follows_it() {
    let moto = Moto::shared();
    let name = unique("cdnostop");
    seed(moto, &name);
    let proxy = Proxy::start(moto.endpoint());
    proxy.refuse("StopDeployment");
    // Runs for 4 polls (about 8 s) more, then succeeds on its own.
    proxy.codedeploy(CodeDeploy { instances: vec!["i-0ddd".into()], polls: 5, end: End::Succeed });
    let project = through_proxy(project(moto, &name), &proxy);

    let child = project.spawn(&["code", "deploy", "-e", "dev"]);
    proxy.wait_for("GetDeployment", 1);
    interrupt(&child);
    let run = crate::faults::finish_within(child, Duration::from_secs(120)).ok();
    let id = deployment_id(&run);
    let run = run
        .stderr_has(&format!("could not stop deployment {id} (AccessDeniedException: User: "))
        .stderr_has("not authorized to perform: StopDeployment (fink test proxy)): it goes on unchanged; following it")
        .stderr_has("Succeeded (0 pending, 0 in progress, 1 succeeded, 0 failed)")
        .stdout_has(&format!("deployment {id} succeeded"));
    assert!(!run.stderr.contains("stopped; it is"), "no stop happened: {}", run.stderr);
    assert!(proxy.actions().iter().any(|a| a == "StopDeployment"), "{:?}", proxy.actions());

    // A deployment that goes on: the second Ctrl-C stops following, saying it was not stopped.
    proxy.codedeploy(CodeDeploy { instances: vec!["i-0ddd".into()], polls: 0, end: End::Hold { stop_after: None } });
    let child = project.spawn(&["code", "deploy", "-e", "dev"]);
    let polls = proxy.actions().iter().filter(|a| *a == "GetDeployment").count();
    proxy.wait_for("GetDeployment", polls + 1);
    interrupt(&child);
    proxy.wait_for("StopDeployment", 2);
    interrupt(&child);
    let run = crate::faults::finish_within(child, Duration::from_secs(120)).code(130);
    let id = deployment_id(&run);
    let run = run
        .stderr_has(&format!("could not stop deployment {id} (AccessDeniedException"))
        .stderr_has(&format!("interrupted again: stopped following; deployment {id} goes on (it could not be stopped)"))
        .stderr_has(&format!("aws deploy get-deployment --deployment-id {id}"));
    assert!(!run.stderr.contains("goes on stopping"), "no stop happened: {}", run.stderr);
}

#[test]
fn no_wait_returns_after_creating_the_deployment() {
    let moto = Moto::shared();
    let name = unique("cdnowait");
    seed(moto, &name);
    // Straight to moto: its deployment stays Created, and --no-wait does not wait for it.
    let project = project(moto, &name);
    let run = project.fink(&["code", "deploy", "-e", "dev", "--no-wait"]).ok();
    let id = deployment_id(&run);
    run.stdout_has("not waiting; follow it with `fink code list -e <env>`");
    let listed: Value = project.fink(&["code", "list", "-e", "dev", "--json"]).ok().json();
    assert_eq!((&listed[0]["id"], &listed[0]["status"]), (&json!(id), &json!("Created")), "{listed}");
}

#[test]
fn slack_announces_the_deploy_naming_the_deployment_group() {
    let moto = Moto::shared();
    let name = unique("cdslack");
    seed(moto, &name);
    let hook = Webhook::start(Reply::Status(200));
    let plugins = [PLUGINS, &["fink-plugin-slack"]].concat();
    let project = project_with(moto, &name, &plugins, json!({"plugins": {"slack": {"webhook": hook.url()}}}));

    let run = project.fink(&["code", "deploy", "-e", "dev", "--no-wait"]).ok();
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let message = requests[0].json();
    assert_eq!(
        message["text"],
        json!(format!("code deploy succeeded for deployment group '{name}-group' in dev")),
        "{message:#}"
    );
    let fields = message["attachments"][0]["fields"].as_array().cloned().unwrap_or_default();
    let group = fields.iter().find(|f| f["title"] == "Deployment group").map(|f| f["value"].clone());
    assert_eq!(group, Some(json!(format!("{name}-group"))), "{message:#}");
    let deployment = fields.iter().find(|f| f["title"] == "Deployment").map(|f| f["value"].clone());
    assert_eq!(deployment, Some(json!(deployment_id(&run))), "{message:#}");
}
