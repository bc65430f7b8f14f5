//! The bundler through the real binary: `fink lambda bundle` asks for a bundle and the bundler
//! builds it. No AWS involved.

use std::io::{Cursor, Read, Write};
use std::path::Path;

use serde_json::{json, Value};

use crate::support::{Project, Run};

const PLUGINS: &[&str] = &["fink-plugin-config-reader", "fink-plugin-bundler", "fink-plugin-lambda"];

/// A lambda config with the given `bundling` section and extra top-level keys.
fn config(bundling: Value, top: Value) -> String {
    let mut config = json!({"lambda": {
        "lambda": {"name": "bundled", "handlerFile": "handler.py", "runtime": "python3.12"},
        "bundling": bundling,
    }});
    for (key, value) in top.as_object().into_iter().flatten() {
        if key == "settings" {
            config["lambda"]["settings"] = value.clone();
        } else {
            config[key] = value.clone();
        }
    }
    config.to_string()
}

fn project(bundling: Value, top: Value) -> Project {
    let project = Project::with(PLUGINS);
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    project.file("fink_dev.json", &config(bundling, top));
    project
}

fn bundle(project: &Project) -> Run {
    project.fink(&["lambda", "bundle", "-e", "dev"])
}

fn zip_bytes(project: &Project) -> Vec<u8> {
    std::fs::read(project.dir().join(".fink/bundle/dev/bundle.zip")).expect("bundle.zip was written")
}

fn names(project: &Project) -> Vec<String> {
    let archive = zip::ZipArchive::new(Cursor::new(zip_bytes(project))).unwrap();
    archive.file_names().map(String::from).collect()
}

fn read(project: &Project, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip_bytes(project))).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap_or_else(|_| panic!("{name} is in the zip")).read_to_string(&mut text).unwrap();
    text
}

#[test]
fn folders_handler_file_and_settings_json_are_bundled_in_order() {
    let project = project(
        json!({"folders": [{"source": "src/app"}, {"source": "lib", "target": "."}, {"source": "assets", "target": "static/img"}]}),
        json!({"settings": {"zeta": "last", "alpha": {"b": 2, "a": 1}}}),
    );
    project.file("src/app/main.py", "import util\n");
    project.file("src/app/pkg/util.py", "X = 1\n");
    project.file("lib/shared.py", "S = 1\n");
    project.file("assets/logo.svg", "<svg/>\n");
    let run = bundle(&project).ok().stdout_has("wrote ").stdout_has("bundle.zip: 6 files");
    assert!(run.stdout.contains("sha256 "), "{}", run.stdout);
    assert_eq!(
        names(&project),
        vec!["app/main.py", "app/pkg/util.py", "handler.py", "settings.json", "shared.py", "static/img/logo.svg"]
    );
    assert_eq!(read(&project, "handler.py"), "def handle(event, context):\n    return 'alive'\n");
    assert_eq!(
        read(&project, "settings.json"),
        "{\n  \"alpha\": {\n    \"a\": 1,\n    \"b\": 2\n  },\n  \"zeta\": \"last\"\n}\n"
    );
}

#[test]
fn ignore_patterns_come_from_the_config_the_bundling_section_and_finkignore_files() {
    let project = project(json!({"folders": [{"source": "src"}], "ignore": ["tests/"]}), json!({"ignore": ["*.pyc"]}));
    // The project's .finkignore is merged into the config's `ignore` by the config-reader.
    project.file(".finkignore", "*.log\n");
    project.file("src/.finkignore", "secret.txt\n");
    for file in ["app.py", "app.pyc", "debug.log", "secret.txt", "tests/test_app.py", "deep/tests/t.py", ".hidden"] {
        project.file(&format!("src/{file}"), "x\n");
    }
    bundle(&project).ok();
    assert_eq!(names(&project), vec!["handler.py", "src/.hidden", "src/app.py"]);
}

#[test]
fn prebundle_scripts_run_in_order_before_the_bundle_is_built() {
    let project = project(
        json!({"preBundle": ["mkdir -p build && echo one > build/order.txt", "echo two >> build/order.txt"],
               "folders": [{"source": "build"}]}),
        json!({}),
    );
    bundle(&project).ok();
    assert_eq!(read(&project, "build/order.txt"), "one\ntwo\n");
}

#[test]
fn a_failing_prebundle_script_stops_the_run_naming_it_with_its_output() {
    let project = project(
        json!({"preBundle": ["echo first", "echo compiling; echo 'syntax error in app.ts' >&2; exit 3", "touch never"]}),
        json!({}),
    );
    let run = bundle(&project).code(1);
    let run = run
        .stderr_has("lambda.bundling.preBundle[1] `echo compiling; echo 'syntax error in app.ts' >&2; exit 3`")
        .stderr_has("failed with exit code 3")
        .stderr_has("  compiling\n  syntax error in app.ts");
    assert!(!project.dir().join("never").exists(), "later scripts did not run:\n{}", run.stderr);
    assert!(!project.dir().join(".fink/bundle/dev/bundle.zip").exists());
}

#[test]
fn bundling_twice_gives_the_same_bytes_even_after_files_are_touched() {
    let project = project(json!({"folders": [{"source": "src"}]}), json!({"settings": {"k": "v"}}));
    project.file("src/a.py", "A = 1\n");
    project.file("src/pkg/b.py", "B = 2\n".repeat(200).as_str());
    let first_run = bundle(&project).ok();
    let first = zip_bytes(&project);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    project.file("src/a.py", "A = 1\n");
    std::fs::write(project.dir().join("handler.py"), "def handle(event, context):\n    return 'alive'\n").unwrap();
    let second_run = bundle(&project).ok();
    assert_eq!(first, zip_bytes(&project));
    let sha = |run: &Run| run.stdout.rsplit("sha256 ").next().unwrap_or_default().trim().to_string();
    assert_eq!(sha(&first_run), sha(&second_run));
}

#[test]
fn a_missing_source_folder_names_its_key_and_path() {
    let project = project(json!({"folders": [{"source": "src"}, {"source": "vendor/libs"}]}), json!({}));
    project.file("src/a.py", "A = 1\n");
    bundle(&project).code(1).stderr_has("lambda.bundling.folders[1].source: ").stderr_has("vendor/libs does not exist");
    assert!(!project.dir().join(".fink/bundle/dev/bundle.zip").exists());
}

#[test]
fn requirements_without_pip_on_path_is_one_clear_error() {
    let project = project(json!({}), json!({}));
    project.file("requirements.txt", "requests==2.32.3\n");
    let empty = project.dir().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let project = project.env("PATH", empty.to_str().unwrap()).env("FINK_PIP", "");
    bundle(&project)
        .code(1)
        .stderr_has("pip is needed to install requirements.txt for runtime python3.12: not found on PATH")
        .stderr_has("FINK_PIP");
}

/// A pure-Python wheel made on the spot, so pip installs it without the network.
fn write_wheel(path: &Path) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let files = [
        ("finkdemo/__init__.py", "GREETING = 'moin'\n"),
        ("finkdemo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: finkdemo\nVersion: 1.0\n"),
        ("finkdemo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: fink-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
        (
            "finkdemo-1.0.dist-info/RECORD",
            "finkdemo/__init__.py,,\nfinkdemo-1.0.dist-info/METADATA,,\nfinkdemo-1.0.dist-info/WHEEL,,\nfinkdemo-1.0.dist-info/RECORD,,\n",
        ),
    ];
    for (name, text) in files {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
}

fn has_pip() -> bool {
    ["pip3", "pip"].iter().any(|pip| {
        std::process::Command::new(pip).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
    })
}

#[test]
fn requirements_are_installed_with_pip_and_reused_with_keep() {
    if !has_pip() {
        eprintln!("skipped: no pip on PATH");
        return;
    }
    let project = project(json!({"ignore": ["*.dist-info/INSTALLER"]}), json!({}));
    std::fs::create_dir_all(project.dir().join("wheels")).unwrap();
    write_wheel(&project.dir().join("wheels/finkdemo-1.0-py3-none-any.whl"));
    project.file("requirements.txt", "--no-index\n./wheels/finkdemo-1.0-py3-none-any.whl\n");
    let run = bundle(&project).ok();
    assert!(run.stderr.contains("installing requirements.txt with pip into .fink/bundle/dev/lambda"), "{}", run.stderr);
    let names = names(&project);
    assert!(names.contains(&"finkdemo/__init__.py".to_string()), "{names:?}");
    assert!(names.contains(&"finkdemo-1.0.dist-info/METADATA".to_string()), "{names:?}");
    assert!(!names.contains(&"finkdemo-1.0.dist-info/INSTALLER".to_string()), "bundling.ignore applies: {names:?}");
    assert!(!names.iter().any(|n| n.contains(".fink-deps")), "{names:?}");
    assert_eq!(read(&project, "finkdemo/__init__.py"), "GREETING = 'moin'\n");
    let first = zip_bytes(&project);

    // --keep with the same requirements reuses the staging folder and gives the same zip.
    let run = project.fink(&["lambda", "bundle", "-e", "dev", "--keep"]).ok();
    assert!(run.stderr.contains("requirements.txt unchanged: reusing"), "{}", run.stderr);
    assert_eq!(first, zip_bytes(&project));

    // `lambda clean` removes the zip and the staging folder.
    project.fink(&["lambda", "clean", "-e", "dev"]).ok();
    assert!(!project.dir().join(".fink/bundle").exists());
}

#[test]
fn a_failing_pip_install_shows_its_output() {
    if !has_pip() {
        eprintln!("skipped: no pip on PATH");
        return;
    }
    let project = project(json!({}), json!({}));
    project.file("requirements.txt", "--no-index\n./wheels/missing-1.0-py3-none-any.whl\n");
    bundle(&project).code(1).stderr_has("pip could not install requirements.txt (exit code").stderr_has("missing-1.0");
}

fn has_npm() -> bool {
    std::process::Command::new("npm").arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
}

#[test]
fn package_json_dependencies_are_installed_with_npm_for_node_runtimes() {
    if !has_npm() {
        eprintln!("skipped: no npm on PATH");
        return;
    }
    let project = Project::with(PLUGINS);
    project.file("index.js", "exports.handler = async () => require('finknpm');\n");
    project.file(
        "fink_dev.json",
        &json!({"lambda": {"lambda": {"name": "node", "handlerFile": "index.js", "runtime": "nodejs20.x"}}})
            .to_string(),
    );
    // Local package tarballs, so npm needs no registry: one dependency, one dev dependency.
    let pack = |name: &str| {
        project.file(
            &format!("vendor/{name}/package.json"),
            &json!({"name": name, "version": "1.0.0", "main": "index.js"}).to_string(),
        );
        project.file(&format!("vendor/{name}/index.js"), "module.exports = 'moin';\n");
        let packed = std::process::Command::new("npm")
            .args(["pack", "--silent", "--pack-destination", ".."])
            .current_dir(project.dir().join("vendor").join(name))
            .output()
            .unwrap();
        assert!(packed.status.success(), "{}", String::from_utf8_lossy(&packed.stderr));
        format!("file:{}", project.dir().join(format!("vendor/{name}-1.0.0.tgz")).display())
    };
    let (dependency, dev_dependency) = (pack("finknpm"), pack("finkdevonly"));
    project.file(
        "package.json",
        &json!({"name": "app", "version": "1.0.0",
                "dependencies": {"finknpm": dependency},
                "devDependencies": {"finkdevonly": dev_dependency}})
        .to_string(),
    );
    bundle(&project).ok();
    let names = names(&project);
    assert!(names.contains(&"index.js".to_string()), "{names:?}");
    assert!(names.contains(&"node_modules/finknpm/index.js".to_string()), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("finkdevonly")), "dev dependencies stay out: {names:?}");
    assert_eq!(read(&project, "node_modules/finknpm/index.js"), "module.exports = 'moin';\n");
}

/// The settings.json in `env`'s bundle.
fn settings_of(project: &Project, env: &str) -> Value {
    let zip = project.dir().join(format!(".fink/bundle/{env}/bundle.zip"));
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).expect("the env's bundle")).unwrap();
    let mut text = String::new();
    archive.by_name("settings.json").unwrap().read_to_string(&mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn two_envs_bundled_at_once_each_get_their_own_settings_in_a_private_bundle() {
    let project = Project::with(PLUGINS);
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    project.file("vendor/big.py", &"X = 1\n".repeat(20_000));
    for env in ["dev", "prod"] {
        // The pause makes the two runs overlap: both are bundling at the same time.
        let bundling = json!({"preBundle": ["sleep 1"], "folders": [{"source": "vendor", "target": "."}]});
        let config = config(bundling, json!({"settings": {"env": env, "db_password": format!("{env}-s3cret")}}));
        project.file(&format!("fink_{env}.json"), &config);
    }
    let limit = std::time::Duration::from_secs(120);
    let (dev, prod) = std::thread::scope(|s| {
        let dev = s.spawn(|| project.fink_within(limit, &["lambda", "bundle", "-e", "dev"]));
        let prod = s.spawn(|| project.fink_within(limit, &["lambda", "bundle", "-e", "prod"]));
        (dev.join().unwrap(), prod.join().unwrap())
    });
    for (env, run) in [("dev", dev), ("prod", prod)] {
        let zip = project.dir().join(format!(".fink/bundle/{env}/bundle.zip"));
        run.ok().stdout_has(&format!("wrote {}: 3 files", zip.display()));
        assert_eq!(settings_of(&project, env), json!({"env": env, "db_password": format!("{env}-s3cret")}));
        assert_eq!(mode(&zip), 0o600, "{env}'s bundle holds its secrets: readable by its owner only");
        assert_eq!(mode(&project.dir().join(format!(".fink/bundle/{env}"))), 0o700);
    }
    assert!(!project.dir().join("bundle.zip").exists(), "no bundle shared by the envs");
}

#[test]
fn a_second_run_for_the_same_env_fails_at_once_naming_the_first_and_other_envs_go_on() {
    let project = Project::with(PLUGINS);
    project.file("handler.py", "def handle(event, context):\n    return 'alive'\n");
    // dev's script says it started (with fink's pid, its parent) and waits to be released, 60 s at most.
    let wait = "echo $PPID > started; i=0; while [ ! -f release ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done";
    project.file("fink_dev.json", &config(json!({"preBundle": [wait]}), json!({"settings": {"env": "dev"}})));
    project.file("fink_prod.json", &config(json!({}), json!({"settings": {"env": "prod"}})));
    let limit = std::time::Duration::from_secs(120);
    std::thread::scope(|s| {
        let first = s.spawn(|| project.fink_within(limit, &["lambda", "bundle", "-e", "dev"]));
        let started = project.dir().join("started");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !std::fs::read_to_string(&started).is_ok_and(|t| t.ends_with('\n')) {
            assert!(std::time::Instant::now() < deadline && !first.is_finished(), "the first run did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let pid = std::fs::read_to_string(&started).unwrap().trim().to_string();

        let began = std::time::Instant::now();
        let second = project.fink_within(std::time::Duration::from_secs(60), &["lambda", "bundle", "-e", "dev"]);
        let second = second
            .code(1)
            .stderr_has(&format!("another fink run is building env dev of this project: pid {pid}, "))
            .stderr_has("`fink lambda bundle -e dev`, since ")
            .stderr_has(" UTC (")
            .stderr_has(".fink/bundle/dev/.lock");
        assert!(began.elapsed() < std::time::Duration::from_secs(30), "failed at once: {second:?}");
        // Another env is not held up.
        project.fink_within(std::time::Duration::from_secs(60), &["lambda", "bundle", "-e", "prod"]).ok();
        assert_eq!(settings_of(&project, "prod"), json!({"env": "prod"}));

        std::fs::write(project.dir().join("release"), "").unwrap();
        first.join().unwrap().ok();
    });
    assert_eq!(settings_of(&project, "dev"), json!({"env": "dev"}));
    // The first run ended, and its lock with it: the next run goes ahead.
    std::fs::remove_file(project.dir().join("started")).unwrap();
    std::fs::write(project.dir().join("release"), "").unwrap();
    bundle(&project).ok();
}

#[test]
fn a_prebundle_script_over_its_time_limit_is_ended_with_its_children() {
    let project =
        project(json!({"preBundle": ["sleep 300 & echo $! > child.pid; echo building; sleep 300"]}), json!({}))
            .env("FINK_PREBUNDLE_TIMEOUT", "1");
    let started = std::time::Instant::now();
    let run = project
        .fink_within(std::time::Duration::from_secs(60), &["lambda", "bundle", "-e", "dev"])
        .code(1)
        .stderr_has(
            "lambda.bundling.preBundle[0] `sleep 300 & echo $! > child.pid; echo building; sleep 300` timed out after 1 s: fink ended it; its output:\n  building",
        )
        .stderr_has("FINK_PREBUNDLE_TIMEOUT sets the limit in seconds (default 600)");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    let pid = std::fs::read_to_string(project.dir().join("child.pid")).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    assert!(stat.is_empty() || stat.contains(") Z"), "the script's child {pid} still runs:\n{}", run.stderr);

    let project = project.env("FINK_PREBUNDLE_TIMEOUT", "forever");
    bundle(&project).code(1).stderr_has(
        "FINK_PREBUNDLE_TIMEOUT must be a number of seconds above 0 and at most 31536000 (a year), got 'forever'",
    );
}
