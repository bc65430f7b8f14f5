//! Command hooks (the hooks plugin) through the real binary: shell and python3 hooks at several
//! signals of the alpha fixture's `demo run`, what they get, what they hand back, and how a
//! failing or slow hook ends the run.

use aws_sdk_ssm::types::ParameterType;
use fink_test_support::{Moto, REGION};
use serde_json::{json, Value};

use crate::aws::{parameter, unique};
use crate::support::Project;

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-hooks", "fink-fixture-alpha"];

fn project(hooks: Value) -> Project {
    let project = Project::with(PLUGINS);
    project.file("fink_dev.json", &json!({"demo": {"memorySize": 128}, "hooks": hooks}).to_string());
    project
}

fn read(project: &Project, file: &str) -> String {
    std::fs::read_to_string(project.dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn hooks_run_in_order_at_their_signals_with_the_run_on_stdin_and_in_their_environment() {
    let project = project(json!({
        "command_init": ["echo \"$FINK_SIGNAL $FINK_TOOL $FINK_COMMAND $FINK_ENV\" >> hooks.log; cat > stdin.json",
                         "echo second >> hooks.log"],
        "command_finalized": [{"run": "echo \"$FINK_SIGNAL\" >> hooks.log", "tools": ["demo"], "commands": ["run"]},
                              {"run": "echo never >> hooks.log", "commands": ["deploy"]}],
        "finalized": ["echo done >> hooks.log; echo all done"]
    }));
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok().stdout_has("demo run");
    run.stderr_has("hooks: echo done >> hooks.log; echo all done: all done");
    assert_eq!(read(&project, "hooks.log"), "command_init demo run dev\nsecond\ncommand_finalized\ndone\n");
    let stdin: Value = serde_json::from_str(&read(&project, "stdin.json")).unwrap();
    assert_eq!((&stdin["context"]["tool"], &stdin["context"]["env"]), (&json!("demo"), &json!("dev")));
    assert_eq!(stdin["config"]["demo"]["memorySize"], 128);
    let context = stdin["context"].as_object().unwrap();
    assert!(context.contains_key("project_dir") && !context.keys().any(|k| k.starts_with('_')), "{stdin:#}");
}

#[test]
fn a_python_hook_hands_back_config_and_context_changes() {
    let change = "python3 -c 'import json, sys; d = json.load(sys.stdin); d[\"config\"][\"demo\"][\"memorySize\"] = 512; \
                  print(\"changing the memory size\"); print(json.dumps({\"config\": d[\"config\"], \"context\": {\"release\": \"r42\"}}))'";
    let project = project(json!({
        "config_validation_finalized": [change],
        "command_finalized": ["grep -o '\"release\":\"r42\"' > release.txt"]
    }));
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok();
    // The command saw the changed config; a later hook saw the changed context.
    let run = run.stdout_has("memorySize=512").stderr_has(": changing the memory size");
    assert!(!run.stderr.contains("\"release\""), "the handed-back line is data, not output: {}", run.stderr);
    assert_eq!(read(&project, "release.txt"), "\"release\":\"r42\"\n");
}

#[test]
fn a_failing_hook_stops_the_run_and_error_and_finalized_still_fire() {
    let project = project(json!({
        "command_init": ["echo checking; echo 'no ticket for this deploy' >&2; exit 4"],
        "error": ["echo error >> end.log"],
        "finalized": ["echo finalized >> end.log"]
    }));
    let run = project.fink(&["demo", "run", "-e", "dev"]).code(1).stderr_has(
        "hook 'echo checking; echo 'no ticket for this deploy' >&2; exit 4' (hooks.command_init[0]) at command_init failed with exit code 4; its stderr ends with:",
    );
    let run = run.stderr_has("  no ticket for this deploy");
    assert!(!run.stdout.contains("demo run"), "the command did not run: {}", run.stdout);
    assert_eq!(read(&project, "end.log"), "error\nfinalized\n");
}

#[test]
fn a_hook_over_its_time_limit_is_stopped() {
    let project = project(json!({"command_init": [{"run": "sleep 30", "timeout": 1}]}));
    project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("hook 'sleep 30' (hooks.command_init[0]) at command_init timed out after 1 s");
}

#[test]
fn signals_that_cannot_be_hooked_and_bad_entries_name_the_key() {
    project(json!({"initialized": ["true"]}))
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("hooks.initialized: initialized comes before the config is read, so no hook can run at it");
    project(json!({"comand_finalized": ["true"]}))
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("hooks.comand_finalized: unknown signal")
        .stderr_has("command_finalized");
    project(json!({"finalized": [{"tools": ["demo"]}]}))
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("hooks.finalized[0].run is missing");
}

#[test]
fn secret_values_are_masked_in_a_hooks_output() {
    let moto = Moto::shared();
    let p = unique("hooks");
    let secret = format!("pw-{p}-s3cr3t");
    parameter(moto, REGION, &format!("/{p}/password"), &secret, ParameterType::SecureString);
    let project =
        Project::with(&["fink-plugin-config-reader", "fink-plugin-lookups", "fink-plugin-hooks", "fink-fixture-alpha"])
            .aws(moto);
    let print = "python3 -c 'import json, sys; print(\"password is\", json.load(sys.stdin)[\"config\"][\"app\"][\"password\"])'";
    project.file(
        "fink_dev.json",
        &json!({"demo": {}, "app": {"password": format!("lookup:parameter:/{p}/password")},
                "hooks": {"command_init": [print], "command_finalized": ["env > env.txt"]}})
        .to_string(),
    );
    let run = project.fink(&["demo", "run", "-e", "dev", "-vv"]).ok().stderr_has(": password is ****");
    assert!(!run.stderr.contains(&secret) && !run.stdout.contains(&secret), "{run:#?}");
    let env = read(&project, "env.txt");
    assert!(env.contains("FINK_SIGNAL=command_finalized") && !env.contains(&secret), "{env}");
}

#[test]
fn ctrl_c_reaches_the_hook_and_ends_the_run_with_130() {
    let project = project(json!({
        "command_init": ["trap 'echo interrupted >> int.log; kill $!; exit 5' INT; touch started; sleep 20 & wait"],
        "finalized": ["echo finalized >> int.log"]
    }));
    let child = project.spawn(&["demo", "run", "-e", "dev"]);
    let started = project.dir().join("started");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !started.exists() {
        assert!(std::time::Instant::now() < deadline, "the hook did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let run = crate::support::Run::from(child.wait_with_output().unwrap()).code(130);
    run.stderr_has("interrupted: hook 'trap ");
    assert_eq!(read(&project, "int.log"), "interrupted\nfinalized\n");
}
