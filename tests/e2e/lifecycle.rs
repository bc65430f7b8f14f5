//! The lifecycle through the real binary: signal order, handler order, data pipelines, failures,
//! per-project switches and config schemas.

use fink_plugin_api::Signal;
use serde_json::json;

use crate::support::Project;

const ALL: &[&str] = &["fink-plugin-config-reader", "fink-fixture-alpha", "fink-fixture-beta"];

fn project() -> Project {
    let project = Project::with(ALL);
    project.file("fink_dev.json", r#"{"demo": {"timeout": 30}}"#);
    project
}

/// The (plugin, signal) pairs the recorders saw, in order.
fn calls(project: &Project) -> Vec<(String, String)> {
    project
        .recorded()
        .iter()
        .map(|l| {
            let mut words = l.split(' ');
            (words.next().unwrap().to_string(), words.next().unwrap().to_string())
        })
        .collect()
}

#[test]
fn a_tool_command_fires_all_16_signals_in_order_with_ties_by_plugin_name() {
    let project = project();
    project.fink(&["demo", "run", "-e", "dev"]).ok();
    let mut expected = Vec::new();
    for signal in Signal::ALL.iter().filter(|s| **s != Signal::ERROR) {
        let name = signal.name().unwrap().to_string();
        expected.push(("alpha".to_string(), name.clone()));
        expected.push(("beta".to_string(), name.clone()));
        if *signal == Signal::COMMAND_INIT {
            expected.push(("alpha".to_string(), "command".to_string()));
        }
    }
    assert_eq!(calls(&project), expected);
}

#[test]
fn a_lower_order_runs_first() {
    let project = project().env("FINK_FIXTURE_BETA_ORDER", "10");
    project.fink(&["config", "-e", "dev"]).ok();
    let calls = calls(&project);
    assert_eq!(calls[0], ("beta".into(), "initialized".into()));
    assert_eq!(calls[1], ("alpha".into(), "initialized".into()));
}

#[test]
fn handlers_see_what_earlier_handlers_changed() {
    let project = project();
    let run = project.fink(&["config", "-e", "dev"]).ok();
    let lines = project.recorded();
    assert_eq!(lines[0], "alpha initialized trail= error=-");
    assert_eq!(lines[1], "beta initialized trail=alpha:initialized error=-");
    assert_eq!(lines[2], "alpha config_read_init trail=alpha:initialized,beta:initialized error=-");
    // Config changes travel too, and into the printed config.
    assert_eq!(run.json()["visited"], json!(["alpha", "beta"]));
    assert_eq!(run.json()["demo"]["timeout"], json!(30));
}

#[test]
fn fink_config_stops_after_validation_and_finalizes() {
    let project = project();
    project.fink(&["config", "-e", "dev"]).ok();
    let signals: Vec<String> = calls(&project).into_iter().filter(|(p, _)| p == "alpha").map(|(_, s)| s).collect();
    assert_eq!(
        signals,
        [
            "initialized",
            "config_read_init",
            "config_read_finalized",
            "check_credentials_init",
            "check_credentials_finalized",
            "lookup_init",
            "lookup_finalized",
            "config_validation_init",
            "config_validation_finalized",
            "finalized"
        ]
    );
}

#[test]
fn a_handler_error_stops_at_its_step_then_error_and_finalized_fire() {
    let project = project().env("FINK_FIXTURE_ALPHA_FAIL_AT", "lookup_init");
    project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("error: alpha (lookup_init): alpha fails on purpose at lookup_init")
        .stderr_has("help: unset the fixture's FAIL_AT");
    let calls = calls(&project);
    let after: Vec<_> = calls.iter().skip_while(|(_, s)| s != "lookup_init").collect();
    let names: Vec<String> = after.iter().map(|(p, s)| format!("{p} {s}")).collect();
    // beta never saw lookup_init; nothing after it ran but error and finalized, for both plugins.
    assert_eq!(names, ["alpha lookup_init", "alpha error", "beta error", "alpha finalized", "beta finalized"]);
    let lines = project.recorded();
    assert!(
        lines.iter().any(|l| l == "beta error trail=alpha:initialized,beta:initialized,alpha:config_read_init,beta:config_read_init,alpha:config_read_finalized,beta:config_read_finalized,alpha:check_credentials_init,beta:check_credentials_init,alpha:check_credentials_finalized,beta:check_credentials_finalized,alpha:error error=alpha (lookup_init): alpha fails on purpose at lookup_init"),
        "{lines:#?}"
    );
}

#[test]
fn a_panicking_handler_becomes_an_error_naming_plugin_and_signal() {
    let project = project().env("FINK_FIXTURE_BETA_PANIC_AT", "config_read_finalized");
    let run = project
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("error: beta (config_read_finalized): panicked: beta panics at config_read_finalized (at ");
    assert!(!run.stderr.contains("thread '"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no config is printed after a failure: {}", run.stdout);
    assert!(calls(&project).contains(&("beta".into(), "finalized".into())));
}

#[test]
fn a_panicking_command_is_reported_with_tool_and_command() {
    let project = project().env("FINK_FIXTURE_ALPHA_PANIC_AT", "command");
    project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("error: alpha (demo run): panicked: alpha panics in command run");
    let calls = calls(&project);
    assert!(!calls.contains(&("alpha".into(), "command_finalized".into())));
    assert!(calls.contains(&("alpha".into(), "error".into())));
}

#[test]
fn what_a_failing_command_set_reaches_the_error_handlers() {
    let project = project().env("FINK_FIXTURE_ALPHA_FAIL_AT", "command");
    project.fink(&["demo", "run", "-e", "dev"]).code(3).stderr_has("the demo command failed on purpose");
    let lines = project.recorded();
    for plugin in ["alpha", "beta"] {
        let line = format!(r#"{plugin} error demo_result="failed""#);
        assert!(lines.contains(&line), "{line} in {lines:#?}");
    }
}

#[test]
fn a_command_may_choose_its_exit_code() {
    let project = project().env("FINK_FIXTURE_ALPHA_FAIL_AT", "command");
    project
        .fink(&["demo", "run", "-e", "dev"])
        .code(3)
        .stderr_has("alpha (demo run): the demo command failed on purpose");
}

#[test]
fn a_command_gets_its_parsed_arguments_and_config() {
    let project = project();
    let run = project.fink(&["demo", "run", "-e", "dev", "--name", "x", "-k", "a.txt", "b.txt"]).ok();
    assert!(
        run.stdout.contains(r#"demo run name=x keep=true files=["a.txt", "b.txt"] memorySize=128"#),
        "{}",
        run.stdout
    );
    let lines = project.recorded();
    assert!(
        lines.contains(
            &r#"alpha command run args={"files":["a.txt","b.txt"],"keep":true,"mode":"fast","name":"x"}"#.to_string()
        ),
        "{lines:#?}"
    );
}

#[test]
fn a_disabled_plugin_stops_after_config_reading_and_shows_as_disabled() {
    let project = Project::with(ALL);
    project.file("fink_dev.json", r#"{"demo": {}, "plugins": {"beta": {"enabled": false}}}"#);
    project.fink(&["demo", "run", "-e", "dev"]).ok();
    let beta: Vec<String> = calls(&project).into_iter().filter(|(p, _)| p == "beta").map(|(_, s)| s).collect();
    assert_eq!(beta, ["initialized", "config_read_init", "config_read_finalized"]);
    project.fink(&["plugins", "-e", "dev"]).ok().stdout_has("beta 0.3.1 [disabled by project config]");
    project.fink(&["plugins"]).ok().stdout_has("beta 0.3.1 [enabled]");
}

#[test]
fn a_tool_of_a_disabled_plugin_does_not_run() {
    let project = Project::with(ALL);
    project.file("fink_dev.json", r#"{"demo": {}, "plugins": {"alpha": {"enabled": false}}}"#);
    project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("tool 'demo' is provided by plugin 'alpha', which the project config switches off (plugins.alpha.enabled: false)");
}

#[test]
fn a_non_boolean_switch_is_an_error_naming_the_key() {
    let project = Project::with(ALL);
    project.file("fink_dev.json", r#"{"plugins": {"beta": {"enabled": "no"}}}"#);
    project
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("plugins.beta.enabled: expected true or false, got \"no\"");
}

#[test]
fn schema_defaults_are_applied_to_the_sections_a_project_has() {
    let project = Project::with(ALL);
    project.file("fink_dev.json", r#"{"demo": {"timeout": 30}, "plugins": {"beta": {}}}"#);
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert_eq!(config["demo"], json!({"timeout": 30, "memorySize": 128}));
    assert_eq!(config["plugins"]["beta"], json!({"greeting": "hi"}));
    // Sections a project doesn't have stay absent.
    project.file("fink_dev.json", "{}");
    let config = project.fink(&["config", "-e", "dev"]).ok().json();
    assert!(config.get("demo").is_none() && config.get("plugins").is_none(), "{config}");
}

#[test]
fn every_schema_violation_is_reported_with_its_path() {
    let project = Project::with(ALL);
    project.file(
        "fink_dev.json",
        r#"{"demo": {"memorySize": "128", "timeout": 1.5, "mode": "turbo"}, "plugins": {"beta": {"greeting": 5}}}"#,
    );
    let run =
        project.fink(&["config", "-e", "dev"]).code(1).stderr_has("invalid config in fink_dev.json (4 problems):");
    for line in [
        r#"demo.memorySize: expected integer, got "128""#,
        "demo.timeout: expected integer, got 1.5",
        "demo.mode: ",
        "plugins.beta.greeting: expected string, got 5",
    ] {
        assert!(run.stderr.contains(line), "missing {line:?} in {}", run.stderr);
    }
    // Validation failures stop before config_validation_init handlers.
    assert!(!calls(&project).contains(&("alpha".into(), "config_validation_init".into())));
}

#[test]
fn defaults_validate_false_skips_validation() {
    let project = Project::with(ALL);
    project.file("fink_dev.json", r#"{"demo": {"memorySize": "128", "defaults": {"validate": false}}}"#);
    project.fink(&["config", "-e", "dev"]).ok();
}

#[test]
fn a_missing_tool_section_fails_before_any_aws_step() {
    let project = Project::with(ALL);
    project.file("fink_dev.json", "{}");
    project.fink(&["demo", "run", "-e", "dev"]).code(1).stderr_has("configuration missing for 'demo'");
    assert!(!calls(&project).iter().any(|(_, s)| s == "check_credentials_init"));
    // Commands that need no config section run anyway.
    project.fink(&["demo", "nocfg", "-e", "dev"]).ok();
}

#[test]
fn a_failing_finalized_handler_after_a_success_fails_the_run_without_error() {
    let project = project().env("FINK_FIXTURE_ALPHA_FAIL_AT", "finalized");
    let run = project
        .fink(&["demo", "run", "-e", "dev"])
        .code(1)
        .stderr_has("error: alpha (finalized): alpha fails on purpose at finalized");
    assert!(run.stdout.contains("demo run name=-"), "the command ran: {}", run.stdout);
    let calls = calls(&project);
    assert!(!calls.iter().any(|(_, s)| s == "error"), "{calls:#?}");
    // The first failure stops the signal: beta's finalized handler (later by name) is skipped.
    assert_eq!(calls.last(), Some(&("alpha".to_string(), "finalized".to_string())));
}

#[test]
fn failing_error_and_finalized_handlers_after_a_failure_are_warnings_and_finalized_still_fires() {
    let project = project().env("FINK_FIXTURE_ALPHA_FAIL_AT", "lookup_init").env("FINK_FIXTURE_BETA_FAIL_AT", "error");
    for args in [&["config", "-e", "dev"][..], &["demo", "run", "-e", "dev"]] {
        let run = project
            .fink(args)
            .code(1)
            .stderr_has("warning: beta (error): beta fails on purpose at error")
            .stderr_has("error: alpha (lookup_init): alpha fails on purpose at lookup_init");
        assert!(run.stdout.is_empty(), "{}", run.stdout);
    }
    let finalized = calls(&project).iter().filter(|(_, s)| s == "finalized").count();
    assert_eq!(finalized, 4, "alpha and beta, in both runs");
}
