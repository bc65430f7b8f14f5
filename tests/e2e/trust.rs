//! Trust and pins through the real binary: plugin files and folders others may change are refused
//! naming the chmod that fixes them, and a folder's plugins.lock refuses files it does not pin,
//! before they are opened.

use std::path::Path;

use crate::support::{lib_file, plugin, set_mode, Project};

fn sha256(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(std::fs::read(path).unwrap()).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_group_writable_plugin_file_is_refused_naming_the_chmod() {
    let project = Project::with(&["fink-plugin-say-hello", "fink-fixture-alpha"]);
    let file = project.plugins_dir().join(lib_file("fink_plugin_say_hello"));
    set_mode(&file, 0o664);
    let reason = format!("not trusted: it is group-writable; fix with `chmod go-w {}`", file.display());
    let run = project.fink(&["plugins"]).ok().stdout_has(&format!("{} [rejected]\n  {reason}", file.display()));
    assert!(run.stdout.contains("alpha 0.3.1 [enabled]"), "the other file still loads: {}", run.stdout);
    project.fink(&["version"]).ok().stdout_has(&format!("rejected: {}: {reason}", file.display()));
    let run = project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has(&format!("error: plugin {}: {reason}", file.display()))
        .stderr_has("1 plugin file could not be loaded; nothing was done");
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    set_mode(&file, 0o644);
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");
}

#[test]
fn a_world_writable_plugins_folder_loads_none_of_its_files() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let folder = project.dir().join(".fink/plugins");
    project.install_into(&folder, &plugin("fink-fixture-alpha"));
    set_mode(&folder, 0o777);
    let reason = format!(
        "not trusted: this plugins folder is group- and world-writable; fix with `chmod go-w {}`",
        folder.display()
    );
    let run = project.fink(&["plugins"]).ok().stdout_has(&format!("{} [rejected]\n  {reason}", folder.display()));
    assert!(!run.stdout.contains("alpha 0.3.1"), "{}", run.stdout);
    assert!(run.stdout.contains("say-hello 0.1.0 [enabled]"), "{}", run.stdout);
    project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has(&format!("error: plugins folder {}: {reason}", folder.display()))
        .stderr_has("1 plugins folder could not be loaded; nothing was done");
    // An empty folder others may write is no risk and no error.
    let empty = Project::with(&["fink-plugin-say-hello"]);
    let folder = empty.dir().join(".fink/plugins");
    std::fs::create_dir_all(&folder).unwrap();
    set_mode(&folder, 0o777);
    empty.fink(&["config", "-e", "dev"]).ok();
}

#[test]
fn a_symlink_into_a_group_writable_folder_is_refused_naming_that_folder() {
    let project = Project::new();
    let shared = project.dir().join("shared");
    let target = project.install_into(&shared, &plugin("fink-plugin-say-hello"));
    set_mode(&shared, 0o775);
    let link = project.plugins_dir().join(lib_file("fink_plugin_say_hello"));
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let shared = shared.canonicalize().unwrap();
    project.fink(&["plugins"]).ok().stdout_has(&format!(
        "not trusted: the folder of its target, {}, is group-writable; fix with `chmod go-w {}`",
        shared.display(),
        shared.display()
    ));
    set_mode(&shared, 0o755);
    project.fink(&["plugins"]).ok().stdout_has("say-hello 0.1.0 [enabled]");
}

#[test]
fn a_plugin_file_owned_by_another_user_is_refused() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let file = project.plugins_dir().join(lib_file("fink_plugin_say_hello"));
    let chown = std::process::Command::new("chown").arg("4242").arg(&file).output().unwrap();
    if !chown.status.success() {
        eprintln!("skipped: only root can give a file to another user here");
        return;
    }
    let me = String::from_utf8(std::process::Command::new("id").arg("-u").output().unwrap().stdout).unwrap();
    let me = me.trim();
    project.fink(&["plugins"]).ok().stdout_has(&format!(
        "not trusted: it is owned by uid 4242, neither you (uid {me}) nor root; fix with `sudo chown {me} {}`",
        file.display()
    ));
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has("owned by uid 4242");
}

#[test]
fn with_a_plugins_lock_only_pinned_files_load_and_others_are_refused_with_both_hashes() {
    let project = Project::with(&["fink-plugin-say-hello", "fink-fixture-alpha"]);
    let hello = project.plugins_dir().join(lib_file("fink_plugin_say_hello"));
    let alpha = project.plugins_dir().join(lib_file("fink_fixture_alpha"));
    let lock = project.plugins_dir().join("plugins.lock");
    let (hello_hash, alpha_hash) = (sha256(&hello), sha256(&alpha));
    std::fs::write(&lock, format!("# pinned by the team\nsay-hello {hello_hash}\nalpha {alpha_hash}\n")).unwrap();
    let run = project.fink(&["plugins"]).ok().stdout_has("[--plugins-dir] (pinned by plugins.lock)");
    assert!(!run.stdout.contains("[rejected]"), "{}", run.stdout);
    project.fink(&["config", "-e", "dev"]).ok().stderr_has("MoinMoin tester!");
    // The hashes were remembered for the next run (in the test's own home).
    assert!(project.home().join(".cache/fink/plugin-hashes").is_file());

    // Another build under the pinned file's name: both hashes are named. The file is rewritten in
    // place, so the remembered hash must not be used.
    std::fs::copy(plugin("fink-fixture-beta"), &alpha).unwrap();
    set_mode(&alpha, 0o644);
    let beta_hash = sha256(&alpha);
    let mismatch = format!(
        "plugin {}: plugin 'alpha' does not match {}: the file's sha256 is {beta_hash}, the lock pins {alpha_hash}",
        alpha.display(),
        lock.display()
    );
    project.fink(&["config", "-e", "dev"]).code(2).stderr_has(&mismatch);

    // A file the lock does not know is refused before it is opened: random bytes are not even
    // looked at as a library.
    let junk = project.plugins_dir().join(lib_file("junk"));
    std::fs::write(&junk, b"not a library").unwrap();
    let junk_hash = sha256(&junk);
    project.fink(&["plugins"]).ok().stdout_has(&format!(
        "{} [rejected]\n  not pinned: {} lists no plugin with its sha256 {junk_hash}; if you trust it, add the line `<plugin name> {junk_hash}` there",
        junk.display(),
        lock.display()
    ));
    // A lock pins only its own folder.
    let elsewhere = project.dir().join(".fink/plugins");
    project.install_into(&elsewhere, &plugin("fink-plugin-config-reader"));
    project.trust();
    project.fink(&["plugins"]).ok().stdout_has("config-reader 0.1.0 [enabled]");
}

#[test]
fn an_unreadable_or_untrusted_lock_loads_nothing_from_its_folder() {
    let project = Project::with(&["fink-plugin-say-hello"]);
    let lock = project.plugins_dir().join("plugins.lock");
    std::fs::write(&lock, "say-hello 1234\n").unwrap();
    project
        .fink(&["config", "-e", "dev"])
        .code(2)
        .stderr_has(&format!(
            "error: plugins folder {}: {}: line 1: `1234` is not a sha256 (64 hex digits); no plugin in this folder loads until it is fixed",
            project.plugins_dir().display(),
            lock.display()
        ));
    let hello = project.plugins_dir().join(lib_file("fink_plugin_say_hello"));
    std::fs::write(&lock, format!("say-hello {}\n", sha256(&hello))).unwrap();
    project.fink(&["config", "-e", "dev"]).ok();
    set_mode(&lock, 0o666);
    project.fink(&["plugins"]).ok().stdout_has(&format!(
        "{}: not trusted: it is group- and world-writable; fix with `chmod go-w {}`",
        lock.display(),
        lock.display()
    ));
}
