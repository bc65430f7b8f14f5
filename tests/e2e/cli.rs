//! The command line: built-in commands, tool help, usage errors and exit codes.

use crate::support::Project;

#[test]
fn version_shows_host_api_tools_and_plugins() {
    let project = Project::with(&["fink-fixture-alpha", "fink-plugin-say-hello"]);
    let run = project.fink(&["version"]).ok();
    assert!(
        run.stdout.starts_with(&format!(
            "fink {} (plugin API {})\n",
            env!("CARGO_PKG_VERSION"),
            fink_plugin_api::API_VERSION
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("tools:\n  demo (plugin alpha 0.3.1)"), "{}", run.stdout);
    assert!(run.stdout.contains("plugins:\n  alpha 0.3.1\n  say-hello 0.1.0\n"), "{}", run.stdout);
    // Version skips the lifecycle: nobody greets.
    assert!(!run.stderr.contains("MoinMoin"), "{}", run.stderr);
    let verbose = project.fink(&["version", "-v"]).ok();
    assert!(verbose.stdout.contains(&project.plugins_dir().join("libfink_fixture_alpha.so").display().to_string()));
}

#[test]
fn tools_appear_in_help_and_their_commands_have_real_help() {
    let project = Project::with(&["fink-fixture-alpha"]);
    project.fink(&["--help"]).ok().stdout_has("demo         A demo tool for tests [plugin alpha]");
    let run = project.fink(&["demo", "run", "--help"]).ok();
    for text in [
        "Runs the demo command and records its arguments.",
        "-k, --keep",
        "--name <NAME>",
        "[possible values: fast, slow]",
        "[FILES]...",
    ] {
        assert!(run.stdout.contains(text), "help lacks {text:?}:\n{}", run.stdout);
    }
}

#[test]
fn unknown_tools_say_which_plugin_to_install() {
    let project = Project::new();
    project
        .fink(&["cloud", "deploy"])
        .code(2)
        .stderr_has("error: unknown tool 'cloud'")
        .stderr_has("comes with the plugin 'cloud'");
    project.fink(&["frobnicate"]).code(2).stderr_has("unknown tool 'frobnicate'");
}

#[test]
fn usage_errors_exit_with_2() {
    let project = Project::with(&["fink-fixture-alpha"]);
    project.fink(&["demo", "run", "-e", "dev", "--mode", "warp"]).code(2).stderr_has("invalid value 'warp'");
    project.fink(&[]).code(2);
    project
        .fink(&["-C", "/does/not/exist", "version"])
        .code(2)
        .stderr_has("project directory /does/not/exist does not exist");
}

#[test]
fn commands_that_need_config_require_an_env() {
    let project = Project::with(&["fink-fixture-alpha"]);
    project
        .fink(&["config"])
        .code(2)
        .stderr_has("no environment given: pass --env <ENV> (e.g. -e dev) or set the ENV variable");
    project.fink(&["demo", "run"]).code(2).stderr_has("no environment given");
    // A command declared without config runs without an env (and without a config file).
    project.fink(&["demo", "nocfg"]).ok();
}

#[test]
fn the_project_dir_can_be_given_with_c() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.file("sub/fink_dev.json", r#"{"x": 1}"#);
    let config = project.fink(&["-C", "sub", "config", "-e", "dev"]).ok().json();
    assert_eq!(config["x"], 1);
}

#[test]
fn say_hello_greets_and_says_goodbye_through_the_host_log() {
    let project = Project::with(&["fink-plugin-say-hello", "fink-fixture-alpha"]);
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert!(run.stderr.starts_with("say-hello: MoinMoin tester!\n"), "{}", run.stderr);
    assert!(run.stderr.ends_with("say-hello: Bye tester. Talk to you soon!\n"), "{}", run.stderr);
    // -q hides normal output; the goodbye after a failure is different.
    let quiet = project.fink(&["config", "-e", "dev", "-q"]).ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let failing = project.env("FINK_FIXTURE_ALPHA_FAIL_AT", "initialized");
    failing
        .fink(&["config", "-e", "dev"])
        .code(1)
        .stderr_has("say-hello: Sorry it didn't work out this time, tester. Bye!");
}

#[test]
fn plugin_debug_logs_appear_with_v() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.file("fink_dev.json", "{}");
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert!(!run.stderr.contains("debug:"), "{}", run.stderr);
    project.fink(&["config", "-e", "dev", "-v"]).ok().stderr_has("debug: config-reader");
}

#[test]
fn help_shows_the_global_options_and_built_in_commands() {
    let run = Project::new().fink(&["--help"]).ok();
    for text in [
        "-e, --env <ENV>",
        "-v, --verbose...",
        "-q, --quiet",
        "--plugins-dir <DIR>",
        "-C <DIR>",
        "-h, --help",
        "-V, --version",
        "version      Show the versions of fink",
        "plugins      List plugins",
        "config       Read, resolve and validate the config",
        "completions  Print the shell completion script",
        "help         Print this message",
    ] {
        assert!(run.stdout.contains(text), "help lacks {text:?}:\n{}", run.stdout);
    }
}

#[test]
fn global_options_work_on_either_side_of_a_tool_command() {
    let project = Project::with(&["fink-plugin-config-reader", "fink-fixture-alpha"]);
    project.file("sub/fink_dev.json", r#"{"demo": {}}"#);
    for args in [
        &["-C", "sub", "-e", "DEV", "demo", "run"][..],
        &["demo", "run", "-C", "sub", "-e", " dev "],
        &["demo", "-e", "dev", "run", "-C", "sub"],
    ] {
        project.fink(args).ok().stdout_has("demo run name=- keep=false files=[] memorySize=128");
    }
}

/// What bash's completion function offers for `words`, the last one being completed.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let (current, previous) = (words[words.len() - 1], words[words.len().saturating_sub(2)]);
    let snippet = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={}; _fink fink '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1
    );
    let out = std::process::Command::new("bash").args(["-c", &snippet]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

#[test]
fn completions_cover_the_installed_tools_and_their_commands() {
    let project = Project::with(&["fink-plugin-cloud", "fink-fixture-alpha"]);
    let script = project.fink(&["completions", "bash"]).ok().stdout;
    let file = project.file("fink.bash", &script);
    assert_eq!(bash_completes(&file, &["fink", "clo"]), ["cloud"]);
    let commands = bash_completes(&file, &["fink", "cloud", "d"]);
    assert_eq!(commands, ["deploy", "delete", "dot"]);
    assert!(bash_completes(&file, &["fink", ""]).iter().any(|w| w == "demo"), "the fixture's tool completes too");
    for shell in ["zsh", "fish", "powershell"] {
        project.fink(&["completions", shell]).ok().stdout_has("cloud").stdout_has("deploy");
    }
    project.fink(&["completions", "tcsh"]).code(2).stderr_has("invalid value 'tcsh'");
}

#[test]
fn hundreds_of_v_flags_are_a_usage_error_not_an_overflow_or_a_panic() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let many = format!("-{}", "v".repeat(200));
    let run = project.fink(&["version", &many]).code(2).stderr_has("error: -v given 200 times; at most 8");
    assert!(!run.stderr.contains("panicked") && run.stdout.is_empty(), "{}", run.stderr);
    let spread: Vec<&str> = std::iter::repeat_n("--verbose", 130).collect();
    project.fink(&[&["version"], spread.as_slice()].concat()).code(2).stderr_has("-v given 130 times");
    // A few are fine: -vv is the most detail there is.
    project.fink(&["version", "-vvv"]).ok().stdout_has("say-hello");
}
