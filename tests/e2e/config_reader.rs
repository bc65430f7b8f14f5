//! The real config-reader plugin driven through `fink config`: file formats, baseconfig chains,
//! ignore patterns and its one-line error messages.

use serde_json::json;

use crate::support::{Project, Run};

fn project() -> Project {
    Project::with(&["fink-plugin-config-reader"])
}

/// `fink config -e dev` in a project holding `files`.
fn config_dev(files: &[(&str, &str)]) -> Run {
    let project = project();
    for (name, text) in files {
        project.file(name, text);
    }
    project.fink(&["config", "-e", "dev"])
}

/// Asserts exit code 1 and that stderr has exactly the plugin's error line for `message`.
fn fails_with(run: Run, message: &str) {
    let run = run.code(1);
    let line = format!("error: config-reader (config_read_init): {message}");
    assert!(run.stderr.lines().any(|l| l == line), "stderr lacks the line {line:?}:\n{}", run.stderr);
}

const EXPECTED_CLOUD: &str = r#"{"cloud": {"stack": "app", "tags": ["a", "b"], "size": 2, "on": true}}"#;

fn expected_config() -> serde_json::Value {
    json!({"cloud": {"stack": "app", "tags": ["a", "b"], "size": 2, "on": true}, "ignore": []})
}

#[test]
fn json_yaml_yml_and_toml_give_the_same_config() {
    let yaml = "cloud:\n  stack: app\n  tags: [a, b]\n  size: 2\n  on: true\n";
    let toml = "[cloud]\nstack = \"app\"\ntags = [\"a\", \"b\"]\nsize = 2\non = true\n";
    for (name, text) in
        [("fink_dev.json", EXPECTED_CLOUD), ("fink_dev.yaml", yaml), ("fink_dev.yml", yaml), ("fink_dev.toml", toml)]
    {
        let run = config_dev(&[(name, text)]).ok();
        assert_eq!(run.json(), expected_config(), "{name}");
    }
}

#[test]
fn gcdt_prefixed_file_is_accepted() {
    assert_eq!(config_dev(&[("gcdt_dev.json", EXPECTED_CLOUD)]).ok().json(), expected_config());
}

#[test]
fn baseconfig_chain_merges_deeply_with_the_nearer_file_winning() {
    let run = config_dev(&[
        ("fink_dev.json", r#"{"baseconfig": "common", "cloud": {"stack": "dev", "tags": ["d"]}, "level": "dev"}"#),
        (
            "common.yaml",
            "baseconfig: root.toml\ncloud:\n  stack: common\n  region: eu-west-1\n  tags: [c1, c2]\nlevel: common\n",
        ),
        (
            "root.toml",
            "level = \"root\"\nowner = \"ops\"\n[cloud]\nregion = \"us-east-1\"\nsize = 3\n[cloud.nested]\nx = 1\n",
        ),
    ])
    .ok();
    assert_eq!(
        run.json(),
        json!({
            "cloud": {"stack": "dev", "region": "eu-west-1", "size": 3, "tags": ["d"], "nested": {"x": 1}},
            "level": "dev",
            "owner": "ops",
            "ignore": []
        })
    );
}

#[test]
fn baseconfig_cycle_is_reported_with_the_chain() {
    let run =
        config_dev(&[("fink_dev.json", r#"{"baseconfig": "base"}"#), ("base.json", r#"{"baseconfig": "fink_dev"}"#)]);
    fails_with(run, "baseconfig cycle: fink_dev.json -> base.json -> fink_dev.json");
}

#[test]
fn missing_base_names_the_file_that_referenced_it() {
    let project = project();
    project.file("fink_dev.json", r#"{"baseconfig": "base"}"#);
    project.file("base.yaml", "baseconfig: gone\n");
    let run = project.fink(&["config", "-e", "dev"]);
    let message = format!(
        "base.yaml: baseconfig 'gone' not found in {}: looked for gone.json, gone.yaml, gone.yml, gone.toml, gone.conf",
        project.dir().display()
    );
    fails_with(run, &message);
}

#[test]
fn ignore_is_the_ordered_union_of_config_project_files_and_home_files() {
    let project = project();
    project.file("fink_dev.json", r#"{"ignore": ["conf", "*.pyc"]}"#);
    project.file(".finkignore", "# fink\na\nshared\n");
    project.file(".gcdtignore", "b\nconf\n\n");
    project.file(".npmignore", "  node_modules  \nshared\n");
    std::fs::write(project.home().join(".finkignore"), ".DS_Store\na\n").unwrap();
    // gcdt's (ramuda's) home file, which gcdt itself never found (it did not expand `~`).
    std::fs::write(project.home().join(".ramudaignore"), "*.swp\n.DS_Store\n").unwrap();
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert_eq!(
        run.json()["ignore"],
        json!(["conf", "*.pyc", "a", "shared", "b", "node_modules", ".DS_Store", "*.swp"])
    );
}

#[test]
fn two_candidate_files_are_an_error_naming_both() {
    let run = config_dev(&[("fink_dev.json", "{}"), ("fink_dev.toml", "")]);
    fails_with(run, "two config files for env 'dev': fink_dev.json and fink_dev.toml; keep one");
}

#[test]
fn missing_config_file_lists_every_name_looked_for() {
    let project = project();
    let run = project.fink(&["config", "-e", "dev"]);
    let message = format!(
        "no config file for env 'dev' in {}: looked for fink_dev.json, fink_dev.yaml, fink_dev.yml, fink_dev.toml, \
         fink_dev.conf, gcdt_dev.json, gcdt_dev.yaml, gcdt_dev.yml, gcdt_dev.toml, gcdt_dev.conf",
        project.dir().display()
    );
    fails_with(run, &message);
}

#[test]
fn json_parse_error_has_file_line_and_column() {
    fails_with(
        config_dev(&[("fink_dev.json", "{\n  \"a\": 1\n  \"b\": 2\n}")]),
        "fink_dev.json:3:3: expected `,` or `}`",
    );
}

#[test]
fn yaml_parse_error_has_file_line_and_column() {
    fails_with(
        config_dev(&[("fink_dev.yaml", "a: 1\nb: [1, 2\nc: 3\n")]),
        "fink_dev.yaml:3:2: did not find expected ',' or ']', while parsing a flow sequence at line 2 column 4",
    );
}

#[test]
fn toml_parse_error_has_file_line_and_column() {
    fails_with(
        config_dev(&[("fink_dev.toml", "a = 1\n[cloud]\nstack = \n")]),
        "fink_dev.toml:3:9: invalid string; expected `\"`, `'`",
    );
}

#[test]
fn top_level_list_is_rejected() {
    fails_with(
        config_dev(&[("fink_dev.json", "[1, 2]")]),
        "fink_dev.json: the top level must be an object of keys and values, found a list",
    );
}

#[test]
fn ignore_that_is_not_a_list_is_rejected() {
    fails_with(
        config_dev(&[("fink_dev.yml", "ignore: '*.pyc'\n")]),
        "fink_dev.yml: 'ignore' must be a list of strings, found a string",
    );
}

#[test]
fn env_variable_picks_the_file_and_is_lowercased() {
    let project = project().env("ENV", "DEV");
    project.file("fink_dev.json", EXPECTED_CLOUD);
    assert_eq!(project.fink(&["config"]).ok().json(), expected_config());
}

#[test]
fn no_env_at_all_is_a_usage_error_pointing_at_the_env_flag() {
    let project = project();
    project.file("fink_dev.json", "{}");
    project.fink(&["config"]).code(2).stderr_has("--env");
}
