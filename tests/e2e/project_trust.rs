//! Project trust: an untrusted checkout runs none of its own code (not even a library's
//! constructor on `fink --help`), `fink trust` lets it, a changed library needs trusting again,
//! CI trusts through FINK_TRUSTED_PATHS, a project plugin may not replace a user's plugin, the
//! folders above a plugins folder are checked, and a warm metadata cache loads no plugin at all.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{lib_file, plugin, set_mode, Project, Run};

/// A plain C library whose constructor writes the file `$FINK_MARKER`: code that runs as soon as
/// the dynamic loader maps it, before fink could look for a plugin module.
fn constructor_library(dir: &Path) -> PathBuf {
    let source = dir.join("marker.c");
    std::fs::write(
        &source,
        r#"#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void ran(void) {
    const char *path = getenv("FINK_MARKER");
    if (path) { FILE *f = fopen(path, "w"); if (f) { fputs("constructor ran\n", f); fclose(f); } }
}
"#,
    )
    .unwrap();
    let lib = dir.join(lib_file("anything"));
    let status = Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&source).status().expect("cc runs");
    assert!(status.success(), "cc failed");
    set_mode(&lib, 0o644);
    lib
}

fn marker(project: &Project) -> PathBuf {
    project.home().join("marker")
}

#[test]
fn an_untrusted_checkouts_library_never_runs_until_its_user_trusts_it() {
    let project = Project::untrusted_with(&["fink-plugin-config-reader", "fink-fixture-alpha"]);
    let build = tempfile::tempdir().unwrap();
    let lib = constructor_library(build.path());
    project.install_into(&project.dir().join(".fink/plugins"), &lib);
    project.file("fink_dev.json", r#"{"demo": {}}"#);
    let marker_file = marker(&project);
    let project = project.env("FINK_MARKER", marker_file.to_str().unwrap());
    let dir = project.dir().canonicalize().unwrap();
    let warning = format!(
        "is not a trusted project, so fink skipped its plugin libraries in .fink/plugins ({}); if you trust its code, run `fink trust {}`",
        lib_file("anything"),
        dir.display()
    );

    let runs: Vec<(&[&str], Run)> = vec![
        (&["--help"], project.fink(&["--help"]).ok()),
        (&["version"], project.fink(&["version"]).ok()),
        (&["plugins"], project.fink(&["plugins"]).ok()),
        (&["config", "-e", "dev"], project.fink(&["config", "-e", "dev"]).ok()),
        (&["demo", "nocfg"], project.fink(&["demo", "nocfg"]).ok()),
    ];
    for (args, run) in &runs {
        assert!(run.stderr.contains(&warning), "{args:?}: {}", run.stderr);
        assert_eq!(run.stderr.matches("is not a trusted project").count(), 1, "one warning: {}", run.stderr);
        assert!(!marker(&project).exists(), "{args:?} ran the project's library");
    }
    // The rest of fink works: its own plugins loaded.
    assert!(runs[1].1.stdout.contains("alpha 0.3.1"), "{}", runs[1].1.stdout);
    assert!(runs[2].1.stdout.contains("config-reader 0.1.0 [enabled]"), "{}", runs[2].1.stdout);
    assert!(
        runs[2].1.stdout.contains(&format!(
            "/.fink/plugins [project] (not trusted: 1 file(s) not opened; `fink trust {}`)",
            dir.display()
        )),
        "{}",
        runs[2].1.stdout
    );

    // Trusted, the library is opened (and refused: it is no fink plugin), its constructor ran.
    project.trust().stdout_has(&format!("trusted {}", dir.display())).stdout_has(&lib_file("anything"));
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains("not a fink plugin"), "{}", run.stdout);
    assert!(!run.stderr.contains("is not a trusted project"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(marker(&project)).unwrap(), "constructor ran\n");
    project
        .fink(&["trust", "--list"])
        .ok()
        .stdout_has(&format!("{}  (since ", dir.display()))
        .stdout_has("1 project plugin library");

    // Untrusted again, it is skipped again (`untrust` itself still ran in a trusted project).
    project.fink(&["untrust"]).ok().stdout_has(&format!("untrusted {}", dir.display()));
    std::fs::remove_file(marker(&project)).unwrap();
    project.fink(&["version"]).ok().stderr_has(&warning);
    assert!(!marker(&project).exists());
    project.fink(&["trust", "--list"]).ok().stdout_has("no trusted folders");
}

#[test]
fn a_project_plugin_added_or_changed_after_the_trust_needs_trusting_again() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    let folder = project.dir().join(".fink/plugins");
    let hello = project.install_into(&folder, &plugin("fink-plugin-say-hello"));
    project.file("fink_dev.json", "{}");
    let dir = project.dir().canonicalize().unwrap();
    let fix = format!("if you trust it, run `fink trust {}`", dir.display());
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&format!(
        "error: plugin {}: was added since you trusted {}; {fix}",
        hello.display(),
        dir.display()
    ));
    project.trust();
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");

    // Another library under the same name: its content is not what was trusted.
    std::fs::copy(plugin("fink-fixture-alpha"), &hello).unwrap();
    set_mode(&hello, 0o644);
    let run = project.fink(&["plugins"]).ok();
    assert!(
        run.stdout.contains(&format!(
            "{} [rejected]\n  changed since you trusted {}; {fix}",
            hello.display(),
            dir.display()
        )),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("config-reader 0.1.0 [enabled]"), "{}", run.stdout);
    project.trust();
    project.fink(&["plugins"]).ok().stdout_has("alpha 0.3.1 [enabled]");

    // `fink plugin install --project` in a trusted project trusts what it installs.
    let run = project
        .fink(&[
            "plugin",
            "install",
            "--allow-unsigned",
            "--project",
            "--force",
            plugin("fink-plugin-say-hello").to_str().unwrap(),
        ])
        .ok();
    assert!(!run.stderr.contains("not a trusted project"), "{}", run.stderr);
    project.fink(&["plugins"]).ok().stdout_has("say-hello 0.1.0 [enabled]");
}

#[test]
fn ci_trusts_without_a_prompt_through_fink_trusted_paths_or_fink_trust() {
    let project = Project::untrusted_with(&["fink-plugin-config-reader"]);
    project.install_into(&project.dir().join(".fink/plugins"), &plugin("fink-plugin-say-hello"));
    project.file("fink_dev.json", "{}");
    // No terminal (the harness gives fink an empty stdin): skipped, no prompt, no wait.
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert!(!run.stderr.contains("MoinMoin"), "{}", run.stderr);
    assert!(run.stderr.contains("is not a trusted project"), "{}", run.stderr);

    let parent = project.dir().parent().unwrap().to_str().unwrap().to_string();
    let ci = project.env("FINK_TRUSTED_PATHS", &parent);
    let run = ci.fink(&["config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");
    assert!(!run.stderr.contains("is not a trusted project"), "{}", run.stderr);
    ci.fink(&["trust", "--list"]).ok().stdout_has("(from FINK_TRUSTED_PATHS)");
}

#[test]
fn trusting_a_folder_covers_the_projects_below_it() {
    let project = Project::untrusted_with(&["fink-plugin-config-reader"]);
    let child = project.dir().join("services/shop");
    project.install_into(&child.join(".fink/plugins"), &plugin("fink-plugin-say-hello"));
    project.file("services/shop/fink_dev.json", "{}");
    project.fink(&["trust", project.dir().to_str().unwrap()]).ok().stdout_has("services/shop/.fink/plugins");
    project.fink(&["-C", "services/shop", "config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");
    // Untrusting the child alone says the parent still covers it.
    project
        .fink(&["untrust", child.to_str().unwrap()])
        .ok()
        .stdout_has("was not trusted itself")
        .stderr_has("is still trusted through");
}

#[test]
fn a_project_plugin_may_not_replace_a_user_plugin_unless_the_users_settings_allow_it() {
    let project = Project::with(&["fink-plugin-config-reader"]);
    let user =
        project.install_into(&project.home().join(".local/share/fink/plugins"), &plugin("fink-plugin-say-hello"));
    let mine = project.install_into(&project.dir().join(".fink/plugins"), &plugin("fink-plugin-say-hello"));
    project.trust();
    project.file("fink_dev.json", "{}");
    let reason = format!("a project plugin may not replace plugin 'say-hello' of {}", user.display());
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains(&format!("{} [rejected]\n  {reason}", mine.display())), "{}", run.stdout);
    assert!(run.stdout.contains("say-hello 0.1.0 [enabled]"), "the user's one is used: {}", run.stdout);
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&reason).stderr_has("projectPluginOverrides");

    // The user's own settings may allow it by name; then the project's copy wins.
    let settings = project.home().join(".config/fink/settings.json");
    std::fs::create_dir_all(settings.parent().unwrap()).unwrap();
    std::fs::write(&settings, r#"{"projectPluginOverrides": ["say-hello"]}"#).unwrap();
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains(&format!("say-hello [shadowed]\n  file: {}", user.display())), "{}", run.stdout);
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");
}

#[test]
fn a_project_plugin_named_like_a_bundled_one_is_refused_naming_both_files() {
    // An install as scripts/install.sh lays it out: <prefix>/bin/fink beside lib/fink/plugins.
    let project = Project::new();
    let prefix = project.home().join("prefix");
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    let fink = prefix.join("bin/fink");
    std::fs::copy(env!("CARGO_BIN_EXE_fink"), &fink).unwrap();
    set_mode(&prefix.join("bin"), 0o755);
    set_mode(&prefix, 0o755);
    std::fs::create_dir_all(prefix.join("lib/fink")).unwrap();
    set_mode(&prefix.join("lib"), 0o755);
    set_mode(&prefix.join("lib/fink"), 0o755);
    let bundled = project.install_into(&prefix.join("lib/fink/plugins"), &plugin("fink-plugin-credentials"));
    // A repository's own "credentials" would see every deploy's AWS credentials.
    let theirs = project.dir().join(".fink/plugins").join(lib_file("credentials"));
    std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
    std::fs::copy(plugin("fink-plugin-credentials"), &theirs).unwrap();
    set_mode(&theirs, 0o644);
    project.trust();
    let run = crate::support::run_within(project.command_as(&fink, &["plugins"]), crate::support::RUN_LIMIT, "plugins");
    let reason = format!("a project plugin may not replace plugin 'credentials' of {}", bundled.display());
    assert!(run.stdout.contains(&format!("{} [rejected]\n  {reason}", theirs.display())), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("credentials 0.1.0 [enabled]\n")), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("file: {}", bundled.display())), "the bundled one is used: {}", run.stdout);
}

#[test]
fn a_plugins_folder_below_a_folder_others_may_write_loads_none_of_its_files() {
    let project = Project::new();
    let open = project.home().join("open");
    let plugins = open.join("team/plugins");
    project.install_into(&plugins, &plugin("fink-plugin-say-hello"));
    set_mode(&open.join("team"), 0o755);
    set_mode(&open, 0o777);
    let open = open.canonicalize().unwrap();
    let run = project.fink(&["--plugins-dir", plugins.to_str().unwrap(), "plugins"]).ok();
    let reason = format!(
        "not trusted: the folder above it, {}, is group- and world-writable; fix with `chmod go-w {}`",
        open.display(),
        open.display()
    );
    assert!(run.stdout.contains(&reason), "{}", run.stdout);
    assert!(run.stdout.contains("no plugins found"), "{}", run.stdout);
    set_mode(&open, 0o1777);
    project.fink(&["--plugins-dir", plugins.to_str().unwrap(), "plugins"]).ok().stdout_has("say-hello 0.1.0 [enabled]");
}

#[cfg(target_os = "linux")]
#[test]
fn with_a_warm_cache_fink_version_and_help_initialise_no_plugin_library() {
    let project = Project::with(&["fink-plugin-say-hello", "fink-plugin-config-reader", "fink-fixture-alpha"]);
    let traced = project.env("LD_DEBUG", "files");
    // The cache is cold after the plugins were copied in: this run loads them, from the open files.
    let cold = traced.fink(&["version"]).ok();
    assert!(
        cold.stderr.contains("calling init: /proc/self/fd/"),
        "the loader maps the checked open file: {}",
        cold.stderr
    );
    for args in [&["version"][..], &["--help"], &["completions", "bash"], &["plugins"]] {
        let warm = traced.fink(args).ok();
        assert!(!warm.stderr.contains("calling init: /proc/self/fd/"), "{args:?} loaded a plugin: {}", warm.stderr);
        assert!(warm.stderr.contains("calling init: "), "LD_DEBUG works: {}", warm.stderr);
    }
    let warm = traced.fink(&["version"]).ok();
    for line in ["say-hello 0.1.0", "config-reader 0.1.0", "alpha 0.3.1", "demo (plugin alpha 0.3.1"] {
        assert!(warm.stdout.contains(line), "{line} from the cache: {}", warm.stdout);
    }
    traced.fink(&["--help"]).ok().stdout_has("demo");
    // A command that runs the lifecycle loads the plugins it needs.
    let run = traced.fink(&["demo", "nocfg"]).ok();
    assert!(run.stderr.contains("calling init: /proc/self/fd/"), "{}", run.stderr);
}

/// What an untrusted project's config asks to run: command hooks, a Python hookfile, a
/// generator, pre-bundle scripts, a pip install, a Python config and template. None of it runs.
#[test]
fn an_untrusted_project_runs_none_of_its_hooks_scripts_generators_or_python() {
    let plugins = [
        "fink-plugin-config-reader",
        "fink-plugin-hooks",
        "fink-plugin-cloud",
        "fink-plugin-bundler",
        "fink-plugin-lambda",
        "fink-fixture-alpha",
    ];
    let project = Project::untrusted_with(&plugins);
    let dir = project.dir().canonicalize().unwrap();
    let fix = format!("if you trust its code, run `fink trust {}`", dir.display());
    project.file("hooks.py", "from gcdt import gcdt_signals\nopen('python-ran', 'w').write('x')\n");
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    project.file(
        "fink_dev.json",
        &serde_json::json!({
            "demo": {},
            "hooks": {"command_init": ["touch hook-ran"], "finalized": ["touch hook-ran-too"]},
            "hookfile": "hooks.py",
            "cloud": {"stack": {"StackName": "gen", "generator": "touch generator-ran; echo '{}'"}},
            "lambda": {"lambda": {"name": "f", "handlerFile": "handler.py", "runtime": "python3.12"},
                       "bundling": {"preBundle": ["touch prebundle-ran"]}},
        })
        .to_string(),
    );
    let ran = |file: &str| project.dir().join(file).exists();

    // Hooks are extras: the command runs without them, and one warning names them.
    let run = project.fink(&["demo", "run", "-e", "dev"]).ok().stdout_has("demo run");
    let warning = run
        .stderr
        .lines()
        .find(|l| l.contains("is not a trusted project"))
        .unwrap_or_else(|| panic!("no warning: {}", run.stderr))
        .to_string();
    for part in [
        "its command hooks (hooks.command_init)",
        "its command hooks (hooks.finalized)",
        "its Python hooks (hooks.py)",
        &fix,
    ] {
        assert!(warning.contains(part), "{part} in {warning}");
    }
    assert_eq!(run.stderr.matches("is not a trusted project").count(), 1, "{}", run.stderr);

    // Commands that cannot work without the project's code stop with exit 2, naming it.
    project
        .fink(&["cloud", "generate", "-", "-e", "dev"])
        .code(2)
        .stderr_has("cloud.stack.generator (`touch generator-ran; echo '{}'`) is the project's own code")
        .stderr_has(&fix);
    project
        .fink(&["lambda", "bundle", "-e", "dev"])
        .code(2)
        .stderr_has("lambda.bundling.preBundle (the pre-bundle scripts) is the project's own code")
        .stderr_has(&fix);
    for file in ["hook-ran", "hook-ran-too", "python-ran", "generator-ran", "prebundle-ran"] {
        assert!(!ran(file), "{file}");
    }

    // Dependencies: installing them runs code the project names.
    project.file("requirements.txt", "six\n");
    project.file(
        "fink_dev.json",
        &serde_json::json!({"lambda": {"lambda": {"name": "f", "handlerFile": "handler.py", "runtime": "python3.12"}}})
            .to_string(),
    );
    project
        .fink(&["lambda", "bundle", "-e", "dev"])
        .code(2)
        .stderr_has("installing its requirements.txt is the project's own code");

    // A Python config and a Python template.
    std::fs::remove_file(project.dir().join("fink_dev.json")).unwrap();
    project.file("fink_dev.py", "open('config-ran', 'w').write('x')\ndef generate_config():\n    return {}\n");
    project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has("the Python config fink_dev.py is the project's own code");
    assert!(!ran("config-ran"));
    std::fs::remove_file(project.dir().join("fink_dev.py")).unwrap();
    project.file("fink_dev.json", r#"{"cloud": {"stack": {"StackName": "py"}}}"#);
    project.file(
        "cloudformation.py",
        "open('template-ran', 'w').write('x')\ndef generate_template():\n    return {'Resources': {'T': {'Type': 'AWS::SNS::Topic'}}}\n",
    );
    project
        .fink(&["cloud", "generate", "-", "-e", "dev"])
        .code(2)
        .stderr_has("cloudformation.py (the stack's template) is the project's own code");
    assert!(!ran("template-ran"));

    // Trusted, the same project runs its code.
    project.trust();
    project.fink(&["cloud", "generate", "-", "-e", "dev"]).ok().stdout_has("AWS::SNS::Topic");
    assert!(ran("template-ran"));
}
