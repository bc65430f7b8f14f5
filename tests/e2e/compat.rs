//! Plugins built against other plugin-API releases: the frozen 1.0.0 copy must load; a newer
//! minor and another major are rejected with a clear line.

use crate::support::{example_plugin, legacy_plugin, Project};

#[test]
fn a_plugin_built_against_the_frozen_1_0_0_api_loads_and_runs() {
    let project = Project::with(&["fink-fixture-alpha"]);
    project.install(&legacy_plugin("1.0.0"));
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains("legacy 1.0.0 [enabled]"), "{}", run.stdout);
    assert!(run.stdout.contains("built against plugin API 1.0.0"), "{}", run.stdout);
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("legacy: legacy plugin sees env dev");
}

#[test]
fn a_tool_built_against_the_frozen_1_0_0_api_gets_every_argument_kind_and_its_schema() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    project.install(&legacy_plugin("1.0.0"));
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
    let lib = project.install(&legacy_plugin("1.2.0"));
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&format!(
        "plugin {}: needs plugin API 1.2.0, newer than this fink's 1.1.0; upgrade fink",
        lib.display()
    ));
}

#[test]
fn a_plugin_for_another_api_major_is_rejected() {
    let project = Project::new();
    let lib = project.install(&legacy_plugin("2.0.0"));
    project.fink(&["version"]).ok().stdout_has("rejected: ");
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&format!(
        "plugin {}: built for plugin API 2.0.0, but this fink supports 1.x; rebuild it against fink-plugin-api 1.1.0",
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
