//! The release archive: `scripts/dist.sh` (debug profile here) builds
//! `fink-<version>-<target>.tar.gz`; unpacked into a fresh folder, its `bin/fink` finds every
//! bundled plugin next to it (not the say-hello example: a command runs without a greeting, and
//! say-hello still loads when installed on purpose), and `SHA256SUMS` checks out. Given a signing key (a throwaway one
//! here), every bundled plugin is signed, and `fink plugins` names the publisher once the user
//! trusts its key.

use std::process::Command;

use crate::support::{bundled_plugins, lib_file, plugin, repo_root};

#[test]
fn the_archive_unpacks_into_a_fink_that_finds_its_plugins() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let release_key = fink_sign::KeyPair::generate().unwrap();
    let secret = tmp.path().join("release.key");
    std::fs::write(&secret, release_key.secret_file()).unwrap();
    let built = fink_test_support::builder("bash")
        .current_dir(repo_root())
        .args(["scripts/dist.sh", "--debug", "--out"])
        .arg(&out)
        .env("FINK_SIGNING_KEY_FILE", &secret)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&built.stdout).to_string();
    assert!(built.status.success(), "dist.sh failed:\n{printed}\n{}", String::from_utf8_lossy(&built.stderr));
    let archives: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(archives.len(), 1, "{archives:?}");
    let archive = &archives[0];
    let name = archive.file_name().unwrap().to_string_lossy().trim_end_matches(".tar.gz").to_string();
    assert!(name.starts_with(&format!("fink-{}-", env!("CARGO_PKG_VERSION"))), "{name}");
    assert!(printed.contains("plugins:") && printed.contains("libfink_plugin_cloud"), "{printed}");

    let unpacked = tmp.path().join("anywhere");
    std::fs::create_dir_all(&unpacked).unwrap();
    let status = Command::new("tar").arg("-xzf").arg(archive).arg("-C").arg(&unpacked).status().unwrap();
    assert!(status.success());
    let dir = unpacked.join(&name);
    for file in [
        "bin/fink",
        "README.md",
        "LICENSE",
        "SHA256SUMS",
        "share/bash-completion/completions/fink",
        "share/zsh/site-functions/_fink",
        "share/fish/vendor_completions.d/fink.fish",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing in the archive");
    }
    let check = Command::new("sha256sum").args(["-c", "--quiet", "SHA256SUMS"]).current_dir(&dir).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));

    let home = tmp.path().join("home");
    let fink = |args: &[&str]| {
        let out = Command::new(dir.join("bin/fink"))
            .args(args)
            .env("HOME", &home)
            .env_remove("FINK_PLUGIN_PATH")
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "fink {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let version = fink(&["version"]);
    for package in bundled_plugins() {
        let plugin = package.trim_start_matches("fink-plugin-");
        assert!(version.contains(&format!("\n  {plugin} ")), "{plugin} not listed:\n{version}");
    }
    assert!(!version.contains("rejected"), "{version}");
    // The example plugin is not installed: a command runs without a greeting.
    let bundled_dir = dir.join("lib/fink/plugins");
    assert!(bundled_dir.join(lib_file("fink_plugin_cloud")).is_file());
    assert!(!bundled_dir.join(lib_file("fink_plugin_say_hello")).exists(), "say-hello is an example, not bundled");
    assert!(!version.contains("say-hello"), "{version}");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(project.join("fink_dev.json"), r#"{"cloud": {"stack": {"StackName": "quiet"}}}"#).unwrap();
    let config = |extra: &[&str]| {
        let out = Command::new(dir.join("bin/fink"))
            .args(extra)
            .args(["config", "-e", "dev"])
            .env("HOME", &home)
            .env("USER", "ana")
            .env_remove("FINK_PLUGIN_PATH")
            .current_dir(&project)
            .output()
            .unwrap();
        let (stdout, stderr) =
            (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
        assert!(out.status.success(), "fink config: {stderr}");
        (stdout, stderr)
    };
    let (stdout, stderr) = config(&[]);
    assert!(stdout.contains("\"quiet\""), "the config was read: {stdout}");
    assert!(!stderr.contains("MoinMoin") && !stderr.contains("say-hello"), "a quiet install: {stderr}");
    // Still built and loadable when a user installs it on purpose.
    let extra = tmp.path().join("extra-plugins");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::copy(plugin("fink-plugin-say-hello"), extra.join(lib_file("fink_plugin_say_hello"))).unwrap();
    let (stdout, stderr) = config(&["--plugins-dir", extra.to_str().unwrap()]);
    assert!(stdout.contains("\"quiet\""), "{stdout}");
    assert!(stderr.contains("say-hello: MoinMoin ana!") && stderr.contains("say-hello: Bye ana."), "{stderr}");
    let plugins = fink(&["plugins"]);
    assert!(plugins.contains(&dir.join("lib/fink/plugins").display().to_string()), "{plugins}");
    // Signed by the release key, which this user does not trust yet.
    let unknown = format!("publisher: unverified (signed with key {}", release_key.key_id());
    assert_eq!(plugins.matches(&unknown).count(), bundled_plugins().len(), "{plugins}");
    let public = tmp.path().join("release.pub");
    std::fs::write(&public, release_key.public_file()).unwrap();
    fink(&["plugin", "key", "add", public.to_str().unwrap(), "--name", "fink-release"]);
    let plugins = fink(&["plugins"]);
    let named = format!("publisher: fink-release (key {})", release_key.key_id());
    assert_eq!(plugins.matches(&named).count(), bundled_plugins().len(), "{plugins}");
    let bash = std::fs::read_to_string(dir.join("share/bash-completion/completions/fink")).unwrap();
    assert!(bash.contains("cloud") && bash.contains("lambda") && bash.contains("code"), "the bundled tools complete");
}
