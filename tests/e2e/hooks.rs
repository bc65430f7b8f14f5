//! Command hooks (the hooks plugin) through the real binary: shell and python3 hooks at several
//! signals of the alpha fixture's `demo run`, what they get, what they hand back, and how a
//! failing or slow hook ends the run.

use std::time::{Duration, Instant};

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

/// Whether process `pid` runs (a zombie, ended but not yet reaped, does not).
fn running(pid: &str) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    !stat.is_empty() && !stat.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z'))
}

/// Waits up to 10 s for process `pid` to end; false if it still runs.
fn ends(pid: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while running(pid) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}

#[test]
fn a_hook_that_leaves_a_background_process_is_done_when_it_exits() {
    let hook = "sleep 300 & echo $! > bg.pid; echo started";
    let project = project(json!({
        "command_init": [hook],
        // A later hook still finds the background process: it lives as long as the run.
        "command_finalized": ["kill -0 $(cat bg.pid) && echo the background process still runs"]
    }));
    let started = Instant::now();
    let run = project.fink_within(Duration::from_secs(60), &["demo", "run", "-e", "dev"]).ok().stdout_has("demo run");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let run = run
        .stderr_has(&format!("hooks: {hook}: started"))
        .stderr_has(&format!(
            "hook '{hook}' (hooks.command_init[0]) at command_init left processes running in the background: fink ends them when the run ends"
        ))
        .stderr_has(": the background process still runs");
    let pid = read(&project, "bg.pid");
    assert!(ends(&pid), "the background sleep {pid} outlived the run:\n{}", run.stderr);
}

#[test]
fn output_after_the_hook_exits_is_still_shown_and_never_ended_by_sigpipe() {
    // The background writer prints after the hook has exited, then records that it lived on.
    let hook = "(sleep 1; echo late; echo lived > late.txt) & echo early";
    let project = project(json!({
        "command_init": [hook],
        "command_finalized": ["for i in $(seq 1 100); do [ -f late.txt ] && break; sleep 0.1; done; cat late.txt"]
    }));
    let run = project.fink_within(Duration::from_secs(60), &["demo", "run", "-e", "dev"]).ok();
    run.stderr_has(&format!("hooks: {hook}: early\n"))
        .stderr_has(&format!("hooks: {hook}: late\n"))
        .stderr_has("...: lived\n");
}

#[test]
fn a_hook_over_its_time_limit_is_ended_with_everything_in_its_group() {
    let project =
        project(json!({"command_init": [{"run": "sleep 300 & echo $! > child.pid; sleep 300", "timeout": 1}]}));
    let started = Instant::now();
    let run = project.fink_within(Duration::from_secs(60), &["demo", "run", "-e", "dev"]).code(1).stderr_has(
        "hook 'sleep 300 & echo $! > child.pid; sleep 300' (hooks.command_init[0]) at command_init timed out after 1 s",
    );
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let pid = read(&project, "child.pid");
    assert!(ends(&pid), "the hook's child {pid} outlived the time limit:\n{}", run.stderr);
}

#[test]
fn output_that_is_not_utf8_is_shown_lossily() {
    let project =
        project(json!({"command_init": ["printf 'caf\\351 au lait\\n'; printf 'bytes \\377\\376 on stderr\\n' >&2"]}));
    project
        .fink_within(Duration::from_secs(60), &["demo", "run", "-e", "dev"])
        .ok()
        .stdout_has("demo run")
        .stderr_has(": caf\u{FFFD} au lait")
        .stderr_has(": bytes \u{FFFD}\u{FFFD} on stderr");
}

#[test]
fn a_timeout_too_large_for_a_duration_is_a_config_error() {
    for (timeout, shown) in [(json!(1e30), "1e+30"), (json!(u64::MAX), "18446744073709551615"), (json!(-3), "-3")] {
        project(json!({"command_init": [{"run": "echo never", "timeout": timeout}]}))
            .fink_within(Duration::from_secs(60), &["demo", "run", "-e", "dev"])
            .code(1)
            .stderr_has(&format!(
                "hooks.command_init[0].timeout must be a number of seconds above 0 and at most 31536000 (a year), got {shown}"
            ));
    }
}
