//! `fink plugin install` takes only files signed by a publisher the user trusts (`fink plugin
//! key add`), naming why it refuses one (no signature, unknown key, bad signature), unless
//! `--allow-unsigned` is given; the publisher is recorded in plugins.lock and shown by `fink plugins`.

use std::path::{Path, PathBuf};

use fink_sign::KeyPair;

use crate::support::{lib_file, plugin, set_mode, Project};

/// A copy of a workspace plugin in a folder of its own, as a publisher ships it.
fn shipped(dir: &Path, package: &str) -> PathBuf {
    let source = plugin(package);
    let file = dir.join(source.file_name().unwrap());
    std::fs::copy(&source, &file).unwrap();
    file
}

fn sign(pair: &KeyPair, file: &Path, content_of: &Path) {
    let signature = pair.sign(&std::fs::read(content_of).unwrap(), "file:plugin");
    std::fs::write(format!("{}.minisig", file.display()), signature).unwrap();
}

#[test]
fn only_files_signed_by_a_trusted_publisher_install_unless_allow_unsigned() {
    let project = Project::new();
    let shipping = tempfile::tempdir().unwrap();
    let hello = shipped(shipping.path(), "fink-plugin-say-hello");
    let alpha = shipped(shipping.path(), "fink-fixture-alpha");
    let acme = KeyPair::generate().unwrap();
    let user = project.home().join(".local/share/fink/plugins");
    std::fs::create_dir_all(&user).unwrap();
    set_mode(&user, 0o755);
    std::fs::write(user.join("plugins.lock"), "# pinned\n").unwrap();
    set_mode(&user.join("plugins.lock"), 0o644);
    let install = |file: &Path| project.fink(&["plugin", "install", file.to_str().unwrap()]);
    let anyway = "`--allow-unsigned` installs it anyway";

    // No signature.
    install(&hello).code(1).stderr_has(&format!(
        "cannot install {}: no signature ({}.minisig does not exist); {anyway}",
        hello.display(),
        hello.display()
    ));
    // Signed, but with a key the user does not trust.
    sign(&acme, &hello, &hello);
    install(&hello).code(1).stderr_has(&format!(
        "signed with key {}, which is not among your publisher keys (`fink plugin key add` trusts a publisher's key)",
        acme.key_id()
    ));
    // The user trusts acme's key.
    let public = shipping.path().join("acme.pub");
    std::fs::write(&public, acme.public_file()).unwrap();
    project
        .fink(&["plugin", "key", "add", public.to_str().unwrap(), "--name", "acme"])
        .ok()
        .stdout_has(&format!("trusting publisher acme (key {})", acme.key_id()));
    project.fink(&["plugin", "key", "list"]).ok().stdout_has(&format!("acme  key {}", acme.key_id()));
    // A signature of other content is a bad signature.
    sign(&acme, &hello, &alpha);
    install(&hello)
        .code(1)
        .stderr_has(&format!("bad signature: it does not match the file (signed as acme (key {}))", acme.key_id()));
    assert!(!user.join(lib_file("fink_plugin_say_hello")).exists(), "nothing was installed");

    // Signed right: installed, with its signature, and the publisher pinned and shown.
    sign(&acme, &hello, &hello);
    let publisher = format!("acme (key {})", acme.key_id());
    install(&hello).ok().stdout_has("installed say-hello 0.1.0").stdout_has(&format!("  signed by {publisher}"));
    let installed = user.join(lib_file("fink_plugin_say_hello"));
    assert!(Path::new(&format!("{}.minisig", installed.display())).is_file());
    let lock = std::fs::read_to_string(user.join("plugins.lock")).unwrap();
    assert!(lock.contains(&format!("  # publisher: {publisher}\n")), "{lock}");
    assert!(lock.lines().any(|l| l.starts_with("say-hello ")), "{lock}");

    // --allow-unsigned installs an unsigned file and says so.
    project
        .fink(&["plugin", "install", "--allow-unsigned", alpha.to_str().unwrap()])
        .ok()
        .stdout_has("installed alpha 0.3.1")
        .stdout_has(&format!(
            "  unsigned: no signature ({}.minisig does not exist); installed because of --allow-unsigned",
            alpha.display()
        ));
    let plugins = project.fink(&["plugins"]).ok();
    let section = |name: &str| {
        let start = plugins.stdout.find(&format!("{name} ")).unwrap_or_else(|| panic!("{name}: {}", plugins.stdout));
        plugins.stdout[start..].lines().take(5).collect::<Vec<_>>().join("\n")
    };
    assert!(section("say-hello").contains(&format!("publisher: {publisher}")), "{}", plugins.stdout);
    assert!(section("alpha").contains("publisher: unsigned"), "{}", plugins.stdout);

    // Without the key, the recorded publisher stays; removing it works by name.
    project.fink(&["plugin", "key", "remove", "acme"]).ok().stdout_has(&format!("removed publisher {publisher}"));
    project.fink(&["plugin", "key", "remove", "acme"]).code(1).stderr_has("no publisher key named 'acme'");
    project.fink(&["plugin", "key", "list"]).ok().stdout_has("no publisher keys");
}
