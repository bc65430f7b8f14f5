//! Plugins built against other plugin-API releases: the frozen 1.0.0, 1.1.0 and 1.2.0 copies must load
//! and run their tool; a newer minor and another major are rejected with a clear line.

use crate::support::{example_plugin, legacy_plugin, Project};

/// The releases before today's whose frozen copies are in tests/fixtures.
const FROZEN: [&str; 3] = ["1.0.0", "1.1.0", "1.2.0"];

#[test]
fn plugins_built_against_the_frozen_1_0_0_and_1_1_0_apis_load_and_run() {
    for api in FROZEN {
        let project = Project::with(&["fink-fixture-alpha"]);
        project.install(&legacy_plugin(api));
        let run = project.fink(&["plugins"]).ok();
        assert!(run.stdout.contains("legacy 1.0.0 [enabled]"), "{api}: {}", run.stdout);
        assert!(run.stdout.contains(&format!("built against plugin API {api}")), "{}", run.stdout);
        project.fink(&["config", "-e", "dev"]).ok().stderr_has("legacy: legacy plugin sees env dev");
    }
}

#[test]
fn a_failing_tool_built_against_an_older_api_reports_its_error_and_exit_code() {
    for api in FROZEN {
        let project = Project::with(&["fink-plugin-config-reader", "fink-fixture-alpha"]);
        project.install(&legacy_plugin(api));
        project.file("fink_dev.json", r#"{"legacy": {}}"#);
        project
            .fink(&["legacy", "show", "-e", "dev", "fail"])
            .code(4)
            .stderr_has("error: legacy (legacy show): legacy show fails on purpose");
        // The older runner has no run_keeping_changes: what it set is lost, the error handlers still run.
        let lines = project.recorded();
        assert!(lines.iter().any(|l| l.starts_with("alpha error ")), "{api}: {lines:#?}");
        assert!(lines.iter().any(|l| l.starts_with("alpha finalized ")), "{api}: {lines:#?}");
    }
}

#[test]
fn tools_built_against_the_frozen_apis_get_every_argument_kind_and_their_schema() {
    for api in FROZEN {
        tool_gets_every_argument_kind_and_its_schema(api);
    }
}

fn tool_gets_every_argument_kind_and_its_schema(api: &str) {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.install(&legacy_plugin(api));
    project.file("fink_dev.json", r#"{"legacy": {"count": 3}}"#);
    let help = project.fink(&["legacy", "show", "--help"]).ok();
    for text in
        ["--loud", "-l", "--name <NAME>", "[default: anon]", "[possible values: red, green]", "<FIRST>", "[REST]..."]
    {
        assert!(help.stdout.contains(text), "{text} in {}", help.stdout);
    }
    let run = project
        .fink(&[
            "legacy", "show", "-e", "dev", "-l", "--color", "red", "--tag", "a", "--tag", "b", "one", "two", "three",
        ])
        .ok();
    assert_eq!(
        run.json(),
        serde_json::json!({
            "command": "show",
            "arguments": {"loud": true, "name": "anon", "color": "red", "tag": ["a", "b"], "first": "one", "rest": ["two", "three"]},
            // The schema's default is filled in next to the file's value.
            "section": {"count": 3, "greeting": "moin"}
        })
    );
    // The schema is enforced for the old plugin too, and usage errors come from the spec.
    project.file("fink_dev.json", r#"{"legacy": {"count": "three"}}"#);
    project.fink(&["legacy", "show", "-e", "dev", "one"]).code(1).stderr_has("legacy.count");
    project.fink(&["legacy", "show", "-e", "dev", "--color", "blue", "one"]).code(2).stderr_has("blue");
    project.fink(&["legacy", "show", "-e", "dev"]).code(2).stderr_has("<FIRST>");
}

#[test]
fn a_plugin_needing_a_newer_api_minor_is_rejected() {
    let project = Project::new();
    let lib = project.install(&legacy_plugin("1.4.0"));
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&format!(
        "plugin {}: needs plugin API 1.4.0, newer than this fink's 1.3.0; upgrade fink",
        lib.display()
    ));
}

#[test]
fn a_plugin_for_another_api_major_is_rejected() {
    let project = Project::new();
    let lib = project.install(&legacy_plugin("2.0.0"));
    project.fink(&["version"]).ok().stdout_has("rejected: ");
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&format!(
        "plugin {}: built for plugin API 2.0.0, but this fink supports 1.x; rebuild it against fink-plugin-api 1.3.0",
        lib.display()
    ));
}

#[test]
fn the_out_of_tree_example_plugin_builds_and_loads() {
    let project = Project::new();
    project.install(&example_plugin());
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains("hello-tool 0.1.0 [enabled]"), "{}", run.stdout);
    project.fink(&["hello", "info", "-e", "dev"]).ok();
}
