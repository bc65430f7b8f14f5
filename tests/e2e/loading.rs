//! Plugin discovery and every way a plugin file can be rejected.

use crate::support::{bundled_plugins, is_example, lib_file, plugin, repo_root, Project};

const RECORDERS: &[&str] = &["fink-fixture-alpha", "fink-fixture-beta"];

#[test]
fn plugins_lists_name_version_file_signals_and_tools() {
    let project = Project::with(&["fink-fixture-alpha", "fink-plugin-say-hello"]);
    let run = project.fink(&["plugins"]).ok();
    let out = &run.stdout;
    assert!(out.contains("alpha 0.3.1 [enabled]"), "{out}");
    assert!(
        out.contains(&format!("file: {}", project.plugins_dir().join(lib_file("fink_fixture_alpha")).display())),
        "{out}"
    );
    assert!(out.contains("signals: initialized (1000), config_read_init (1000)"), "{out}");
    assert!(out.contains("tool: demo (run, nocfg)"), "{out}");
    assert!(out.contains("say-hello 0.1.0 [enabled]"), "{out}");
    assert!(out.contains("signals: initialized (1000), finalized (2000)"), "{out}");
    assert!(out.contains("[--plugins-dir]"), "{out}");
}

#[test]
fn every_bundled_plugin_loads_and_its_tool_helps() {
    // Every crate under plugins/ is a plugin (shared libraries live under crates/); all but the
    // examples (say-hello) are bundled.
    let bundled = bundled_plugins();
    let manifests: Vec<String> = std::fs::read_dir(repo_root().join("plugins"))
        .unwrap()
        .map(|e| e.unwrap().path().join("Cargo.toml"))
        .filter(|m| m.is_file())
        .map(|m| std::fs::read_to_string(m).unwrap())
        .collect();
    let examples = manifests.iter().filter(|m| m.lines().any(|l| l.replace(' ', "") == "bundled=false")).count();
    assert_eq!(examples, 1, "say-hello is the one example");
    assert!(is_example("fink-plugin-say-hello") && !bundled.contains(&"fink-plugin-say-hello"), "{bundled:?}");
    assert_eq!(bundled.len(), manifests.len() - examples, "every bundled plugin is built for the tests: {bundled:?}");
    let project = Project::with(&bundled);
    let run = project.fink(&["plugins"]).ok();
    assert!(!run.stdout.contains("[rejected]") && !run.stderr.contains("rejected"), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.stdout.matches("[enabled]").count(), bundled.len(), "{}", run.stdout);
    assert!(run.stdout.contains("cloud 0.1.0 [enabled]") && !run.stdout.contains("say-hello"), "{}", run.stdout);
    for tool in ["cloud", "lambda"] {
        project.fink(&[tool, "--help"]).ok().stdout_has("Usage:");
    }
}

#[test]
fn random_bytes_named_so_are_rejected_as_not_a_library() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let junk = project.plugins_dir().join(lib_file("junk"));
    std::fs::write(&junk, (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<_>>()).unwrap();
    let line = format!("{}: not a loadable library", junk.display());
    project.fink(&["plugins"]).ok().stdout_has(&format!("{} [rejected]", junk.display()));
    project.fink(&["version"]).ok().stdout_has(&format!("rejected: {line}"));
    project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has(&format!("error: plugin {line}"))
        .stderr_has("1 plugin file could not be loaded; nothing was done");
    // Nothing ran: say-hello did not greet.
    let run = project.fink(&["config", "-e", "dev"]);
    assert!(!run.stderr.contains("MoinMoin"), "{}", run.stderr);
}

#[test]
fn a_plain_shared_library_is_not_a_fink_plugin() {
    let project = Project::with(&["fink-fixture-plain"]);
    let path = project.plugins_dir().join(lib_file("fink_fixture_plain"));
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&format!("plugin {}: not a fink plugin", path.display()));
    // -v adds abi_stable's detail.
    project.fink(&["-v", "plugins"]).ok().stdout_has("detail: ");
}

#[test]
fn a_panicking_register_rejects_the_plugin_with_its_message() {
    let project = Project::with(RECORDERS).env("FINK_FIXTURE_ALPHA_PANIC_AT", "register");
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains("failed to register: panicked: alpha panics in register"), "{}", run.stdout);
    assert!(run.stdout.contains("beta 0.3.1 [enabled]"), "{}", run.stdout);
    let run = project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has("failed to register: panicked: alpha panics in register");
    assert!(!run.stderr.contains("thread '"), "the plugin's panic message must not leak: {}", run.stderr);
    assert!(project.recorded().is_empty(), "no handler may run: {:?}", project.recorded());
}

#[test]
fn the_first_of_two_plugins_with_one_name_wins_with_a_warning() {
    let project = Project::with(&["fink-fixture-alpha"]);
    let second_dir = project.dir().join(".fink/plugins");
    let second = project.install_into(&second_dir, &plugin("fink-fixture-alpha"));
    project.trust();
    let first = project.plugins_dir().join(lib_file("fink_fixture_alpha"));
    let run = project.fink(&["plugins"]).ok();
    assert!(
        run.stderr.contains(&format!(
            "plugin 'alpha' found twice: using {}, ignoring {}",
            first.display(),
            second.display()
        )),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("[shadowed]"), "{}", run.stdout);
    // A shadowed copy is not an error: the lifecycle runs with the first.
    project.fink(&["config", "-e", "dev"]).ok();
}

#[test]
fn plugin_path_variable_and_project_folder_are_searched() {
    let project = Project::new();
    let extra = project.dir().join("extra");
    project.install_into(&extra, &plugin("fink-fixture-alpha"));
    project.install_into(&project.dir().join(".fink/plugins"), &plugin("fink-plugin-say-hello"));
    project.trust();
    let project = project.env("FINK_PLUGIN_PATH", extra.to_str().unwrap());
    let run = project.fink(&["plugins"]).ok();
    assert!(run.stdout.contains("alpha 0.3.1 [enabled]"), "{}", run.stdout);
    assert!(run.stdout.contains("say-hello 0.1.0 [enabled]"), "{}", run.stdout);
    assert!(run.stdout.contains("[FINK_PLUGIN_PATH]"), "{}", run.stdout);
}

#[test]
fn user_data_dir_is_searched() {
    let project = Project::new();
    let user_dir = project.home().join(".local/share/fink/plugins");
    project.install_into(&user_dir, &plugin("fink-plugin-say-hello"));
    project.fink(&["plugins"]).ok().stdout_has("say-hello 0.1.0 [enabled]");
}

#[test]
fn a_half_copied_plugin_is_rejected_naming_the_file_instead_of_crashing_fink() {
    // An interrupted copy: the first half of a real plugin library. dlopen of it used to SIGBUS.
    let project = Project::with(&["fink-plugin-say-hello"]);
    let whole = std::fs::read(plugin("fink-plugin-say-hello")).unwrap();
    let cut = project.plugins_dir().join(lib_file("half"));
    // Cut inside the loadable segments (debug info may follow them).
    let segments_end = {
        use object::{Object, ObjectSegment};
        let file = object::File::parse(whole.as_slice()).unwrap();
        file.segments().map(|s| s.file_range()).map(|(o, l)| o + l).max().unwrap() as usize
    };
    let half = segments_end / 2;
    std::fs::write(&cut, &whole[..half]).unwrap();
    let line = format!("{}: damaged library, truncated: segment ends at byte ", cut.display());
    let size = format!(", file has {half};");
    let run = project.fink(&["version"]).ok().stdout_has(&format!("rejected: {line}")).stdout_has(&size);
    assert!(run.stdout.contains("say-hello 0.1.0"), "the whole plugin still loads: {}", run.stdout);
    project
        .fink(&["plugins"])
        .ok()
        .stdout_has(&format!("{} [rejected]", cut.display()))
        .stdout_has("say-hello 0.1.0 [enabled]");
    project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has(&format!("error: plugin {line}"))
        .stderr_has("1 plugin file could not be loaded; nothing was done");
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_warns_and_a_folder_named_like_a_library_is_noted_at_v() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let link = project.plugins_dir().join(lib_file("gone"));
    let target = project.dir().join("build").join(lib_file("gone"));
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let folder = project.plugins_dir().join(lib_file("folder"));
    std::fs::create_dir(&folder).unwrap();

    let warning =
        format!("broken plugin install: {} is a symlink to {}, which does not exist", link.display(), target.display());
    let run = project.fink(&["version"]).ok().stderr_has(&warning).stdout_has("say-hello 0.1.0");
    assert!(!run.stderr.contains(&folder.display().to_string()), "a folder is noted only at -v: {}", run.stderr);
    project
        .fink(&["-v", "version"])
        .ok()
        .stderr_has(&format!("skipping {}: a folder, not a plugin library", folder.display()));
    // A warning, not a rejection: the lifecycle still runs, and say-hello greets.
    project.fink(&["config", "-e", "dev"]).ok().stderr_has(&warning);
}

#[test]
fn without_a_config_reading_plugin_fink_config_says_so() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    project.file("fink_dev.json", r#"{"demo": {"x": 1}}"#);
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert!(
        run.stderr.contains("no plugin read a config for env 'dev'")
            && run.stderr.contains(&project.plugins_dir().display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(run.json(), serde_json::json!({}));
    // With the config-reader there is no such warning, and the file's content is printed.
    let project = Project::with(&["fink-plugin-say-hello", "fink-plugin-config-reader"]);
    project.file("fink_dev.json", r#"{"demo": {"x": 1}}"#);
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert!(!run.stderr.contains("no plugin read a config"), "{}", run.stderr);
    assert_eq!(run.json()["demo"]["x"], 1);
}

#[test]
fn a_command_loads_only_the_plugins_that_take_part_in_it() {
    let project = Project::with(&bundled_plugins());
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    project.file(
        "fink_dev.json",
        r#"{"lambda": {"lambda": {"name": "f", "handlerFile": "handler.py", "runtime": "python3.12"}}}"#,
    );
    // The first run fills the metadata cache (it loads every plugin once to learn what it declares).
    project.fink(&["version"]).ok();
    let loaded = |run: &crate::support::Run| -> Vec<String> {
        let mut names: Vec<String> = run
            .stderr
            .lines()
            .filter_map(|l| l.split("loading plugin '").nth(1))
            .filter_map(|rest| rest.split('\'').next())
            .map(String::from)
            .collect();
        names.sort();
        names
    };
    let bundle = project.fink(&["lambda", "bundle", "-e", "dev", "-v"]).ok();
    let names = loaded(&bundle);
    for name in ["lambda", "bundler", "config-reader", "hooks", "lookups", "hocon-reader"] {
        assert!(names.contains(&name.to_string()), "{name} is needed: {names:?}");
    }
    for name in ["cloud", "code", "apigateway"] {
        assert!(!names.contains(&name.to_string()), "{name} takes no part in lambda bundle: {names:?}");
    }
    let config = project.fink(&["config", "-e", "dev", "-v"]).ok();
    let names = loaded(&config);
    assert!(names.contains(&"config-reader".to_string()), "{names:?}");
    for name in ["cloud", "lambda", "code", "apigateway", "bundler"] {
        assert!(!names.contains(&name.to_string()), "{name} takes no part in fink config: {names:?}");
    }
    // `fink plugins` shows for which runs a subscription is.
    project
        .fink(&["plugins"])
        .ok()
        .stdout_has("config_validation_finalized (100, cloud only)")
        .stdout_has("bundle_pre (1000, tool commands)");
}
