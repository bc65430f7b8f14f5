//! `fink plugin install`, `remove` and `new` through the real binary: checked before copying,
//! refusals naming the file, modes whatever the umask, the folder's plugins.lock kept in step, and
//! a crate from `fink plugin new` built, installed and run.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::support::{lib_file, plugin, repo_root, set_mode, Project};

/// A project whose fink finds no plugins of the test's own: install puts them into its user or
/// project folder.
fn project() -> Project {
    Project::new()
}

fn user_folder(project: &Project) -> PathBuf {
    project.home().join(".local/share/fink/plugins")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// A copy of a workspace plugin that is group-writable, as cargo leaves its output under umask 002.
fn group_writable_copy(project: &Project, package: &str) -> PathBuf {
    let built = plugin(package);
    let copy = project.dir().join("build").join(built.file_name().unwrap());
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::copy(&built, &copy).unwrap();
    set_mode(&copy, 0o775);
    copy
}

#[test]
fn install_checks_the_file_copies_it_with_mode_0644_and_refuses_a_second_copy_without_force() {
    let project = project();
    let source = group_writable_copy(&project, "fink-plugin-say-hello");
    let dest = user_folder(&project).join(lib_file("fink_plugin_say_hello"));
    project.fink(&["plugin", "install", "--allow-unsigned", source.to_str().unwrap()]).ok().stdout_has(&format!(
        "installed say-hello 0.1.0 as {} (from {})",
        dest.display(),
        source.display()
    ));
    assert_eq!(mode(&dest), 0o644);
    assert_eq!(mode(&user_folder(&project)), 0o755);
    assert_eq!(entries(&user_folder(&project)), vec![lib_file("fink_plugin_say_hello")], "no temporary file left");
    project.fink(&["plugins"]).ok().stdout_has(&format!("file: {}", dest.display()));
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");

    let run = project.fink(&["plugin", "install", "--allow-unsigned", source.to_str().unwrap()]).code(1).stderr_has(
        &format!(
            "error: plugin 'say-hello' is already installed in {} as {}; pass --force to replace it",
            user_folder(&project).display(),
            dest.display()
        ),
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    project
        .fink(&["plugin", "install", "--allow-unsigned", "--force", source.to_str().unwrap()])
        .ok()
        .stdout_has(&format!("replaced {} (plugin say-hello)", dest.display()));
}

#[test]
fn a_plugin_of_the_same_name_under_another_file_name_is_named_and_replaced_with_force() {
    let project = project();
    let old = project.install_into(&user_folder(&project), &plugin("fink-fixture-alpha"));
    let renamed = user_folder(&project).join(lib_file("old_alpha"));
    std::fs::rename(&old, &renamed).unwrap();
    let source = plugin("fink-fixture-alpha");
    project.fink(&["plugin", "install", "--allow-unsigned", source.to_str().unwrap()]).code(1).stderr_has(&format!(
        "plugin 'alpha' is already installed in {} as {}; pass --force to replace it",
        user_folder(&project).display(),
        renamed.display()
    ));
    project.fink(&["plugin", "install", "--allow-unsigned", "--force", source.to_str().unwrap()]).ok();
    assert_eq!(entries(&user_folder(&project)), vec![lib_file("fink_fixture_alpha")]);
}

#[test]
fn a_file_that_does_not_load_is_not_installed_and_neither_are_the_others_given_with_it() {
    let project = project();
    let junk = project.file(&lib_file("junk"), "not a library");
    let hello = plugin("fink-plugin-say-hello");
    let run = project
        .fink(&["plugin", "install", "--allow-unsigned", hello.to_str().unwrap(), junk.to_str().unwrap()])
        .code(1)
        .stderr_has(&format!("cannot install {}: not a loadable library", junk.display()))
        .stderr_has("nothing was installed");
    assert!(!run.stdout.contains("installed"), "{}", run.stdout);
    assert!(entries(&user_folder(&project)).is_empty(), "{:?}", entries(&user_folder(&project)));
    let text = project.file("notes.txt", "x");
    project
        .fink(&["plugin", "install", "--allow-unsigned", text.to_str().unwrap()])
        .code(1)
        .stderr_has("not a .so file");
    project
        .fink(&["plugin", "install", "--allow-unsigned", "/nonexistent/libx.so"])
        .code(1)
        .stderr_has("/nonexistent/libx.so: no such file");
    // A plugin that fails to register is refused with its message.
    let plain = plugin("fink-fixture-plain");
    project
        .fink(&["plugin", "install", "--allow-unsigned", plain.to_str().unwrap()])
        .code(1)
        .stderr_has("not a fink plugin");
}

#[test]
fn project_installs_go_into_dot_fink_plugins_and_remove_takes_them_out() {
    let project = project();
    let folder = project.dir().join(".fink/plugins");
    let hello = plugin("fink-plugin-say-hello");
    project.fink(&["plugin", "install", "--allow-unsigned", "--project", hello.to_str().unwrap()]).ok();
    assert_eq!(entries(&folder), vec![lib_file("fink_plugin_say_hello")]);
    assert!(entries(&user_folder(&project)).is_empty());
    project.fink(&["plugins"]).ok().stdout_has("say-hello 0.1.0 [enabled]").stdout_has("[project]");

    // Not in the user folder: the error says what is where.
    project
        .fink(&["plugin", "remove", "say-hello"])
        .code(1)
        .stderr_has(&format!("error: no plugin 'say-hello' in {}", user_folder(&project).display()));
    project
        .fink(&["plugin", "remove", "--project", "say-hello"])
        .ok()
        .stdout_has(&format!("removed say-hello: {}", folder.join(lib_file("fink_plugin_say_hello")).display()));
    assert!(entries(&folder).is_empty());
    project.fink(&["plugins"]).ok().stdout_has("no plugins found");
    project.fink(&["plugin", "install", "--allow-unsigned", "--project", "--user", hello.to_str().unwrap()]).code(2);
}

#[test]
fn a_file_fink_cannot_load_is_removed_by_its_file_name() {
    let project = project();
    let folder = user_folder(&project);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(lib_file("broken")), b"x").unwrap();
    project.fink(&["plugin", "remove", &lib_file("broken")]).ok();
    assert!(entries(&folder).is_empty());
}

#[test]
fn install_and_remove_keep_an_existing_plugins_lock_in_step() {
    let project = project();
    let folder = user_folder(&project);
    std::fs::create_dir_all(&folder).unwrap();
    let lock = folder.join("plugins.lock");
    std::fs::write(&lock, "# our pins\n").unwrap();
    let hello = plugin("fink-plugin-say-hello");
    project
        .fink(&[
            "plugin",
            "install",
            "--allow-unsigned",
            hello.to_str().unwrap(),
            plugin("fink-fixture-alpha").to_str().unwrap(),
        ])
        .ok()
        .stdout_has(&format!("pinned in {}", lock.display()));
    let text = std::fs::read_to_string(&lock).unwrap();
    let hash = |path: &Path| {
        use sha2::{Digest, Sha256};
        Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    assert_eq!(
        text,
        format!("# our pins\nsay-hello {}\nalpha {}\n", hash(&hello), hash(&plugin("fink-fixture-alpha")))
    );
    assert_eq!(mode(&lock), 0o644);
    let run = project.fink(&["config", "-e", "dev"]).ok();
    assert!(!run.stderr.contains("not pinned"), "{}", run.stderr);

    project.fink(&["plugin", "remove", "alpha"]).ok().stdout_has(&format!("unpinned in {}", lock.display()));
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), format!("# our pins\nsay-hello {}\n", hash(&hello)));
    // A file put there by hand is refused until it is installed (which pins it).
    let alpha = project.install_into(&folder, &plugin("fink-fixture-alpha"));
    project.fink(&["plugins"]).ok().stdout_has(&format!("{} [rejected]\n  not pinned", alpha.display()));
    project.fink(&["plugin", "install", "--allow-unsigned", "--force", alpha.to_str().unwrap()]).ok();
    project.fink(&["plugins"]).ok().stdout_has("alpha 0.3.1 [enabled]");
}

#[test]
fn install_refuses_a_plugins_folder_others_may_write() {
    let project = project();
    let folder = user_folder(&project);
    std::fs::create_dir_all(&folder).unwrap();
    set_mode(&folder, 0o775);
    let hello = plugin("fink-plugin-say-hello");
    project.fink(&["plugin", "install", "--allow-unsigned", hello.to_str().unwrap()]).code(1).stderr_has(&format!(
        "error: plugins folder {}: not trusted: this plugins folder is group-writable; fix with `chmod go-w {}`",
        folder.display(),
        folder.display()
    ));
    assert!(entries(&folder).is_empty());
}

/// `fink plugin new` in `project`'s dir, then `cargo build` and `cargo test` of the crate in a
/// target dir of its own under the repo's `target/` (warm on the next run). Returns the library.
fn new_plugin(project: &Project, name: &str, args: &[&str]) -> PathBuf {
    // One build at a time: the crates share a target dir.
    static LOCK: Mutex<()> = Mutex::new(());
    let mut command = vec!["plugin", "new", name];
    command.extend(args);
    project.fink(&command).ok().stdout_has(&format!("created the plugin crate fink-plugin-{name}"));
    let dir = project.dir().join(name);
    for file in ["Cargo.toml", "src/lib.rs", "README.md", ".gitignore"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    // The workspace's versions, so the build reuses what is built and needs no registry.
    std::fs::copy(repo_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let target = repo_root().join("target/plugin-new");
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    for step in ["build", "test"] {
        let out = fink_test_support::cargo()
            .current_dir(&dir)
            .args([step, "--quiet", "--target-dir"])
            .arg(&target)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo {step} of the new plugin failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let lib = target.join("debug").join(lib_file(&format!("fink_plugin_{}", name.replace('-', "_"))));
    // The copy is ours (the next test run rebuilds the same file).
    let kept = project.dir().join(lib.file_name().unwrap());
    std::fs::copy(&lib, &kept).unwrap();
    kept
}

#[test]
fn a_new_plugin_builds_as_written_installs_and_greets() {
    let project = project();
    let lib = new_plugin(&project, "greeter", &[]);
    let readme = std::fs::read_to_string(project.dir().join("greeter/README.md")).unwrap();
    assert!(readme.contains("fink plugin install target/release/libfink_plugin_greeter"), "{readme}");
    project
        .fink(&["plugin", "install", "--allow-unsigned", lib.to_str().unwrap()])
        .ok()
        .stdout_has("installed greeter 0.1.0");
    project.fink(&["version"]).ok().stdout_has("greeter 0.1.0");
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("greeter: Hello tester, from greeter!");
    // The folder is taken.
    project.fink(&["plugin", "new", "greeter"]).code(1).stderr_has("already exists");
    project.fink(&["plugin", "new", "Bad_Name"]).code(2).stderr_has("invalid plugin name 'Bad_Name'");
}

#[test]
fn a_new_plugin_with_a_tool_builds_installs_and_runs_its_command() {
    let project = project();
    let lib = new_plugin(&project, "hi-tool", &["--tool"]);
    project.fink(&["plugin", "install", "--allow-unsigned", "--project", lib.to_str().unwrap()]).ok();
    project.fink(&["hi-tool", "greet", "-e", "dev"]).ok().stdout_has("Hello, tester!");
    project.fink(&["hi-tool", "greet", "-e", "dev", "-n", "ana"]).ok().stdout_has("Hello, ana!");
    project.fink(&["plugin", "new", "--tool", "config"]).code(2).stderr_has("'config' is a built-in command");
}

#[test]
fn installing_a_plugin_that_an_earlier_folder_also_has_warns_which_one_is_used() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let first = project.plugins_dir().join(lib_file("fink_plugin_say_hello"));
    let hello = plugin("fink-plugin-say-hello");
    project.fink(&["plugin", "install", "--allow-unsigned", hello.to_str().unwrap()]).ok().stderr_has(&format!(
        "warning: plugin 'say-hello' is also in {}, which fink searches first, so that one is used",
        first.display()
    ));
}
