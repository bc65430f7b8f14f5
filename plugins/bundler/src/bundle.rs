//! One bundle from request to result: installs dependencies, collects the folders, adds the
//! handler file, `settings.json` and the tool's extra files, writes the archive (zip or tar.gz)
//! and describes it for the context key `bundle` ([`Bundle`]). The env's folder and staging
//! folder are private (0700) and the archive is readable by its owner only (0600): its
//! `settings.json` may hold secrets the lookups resolved.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use base64::Engine;
use fink_plugin_api::{debug, human, info, warn, Bundle, Error, Result, Value};

use crate::archive::{self, Entry};
use crate::collect::{self, Skip};
use crate::deps;
use crate::lock;
use crate::request::{Bundling, OverLimit, Request};

/// Builds the archive `request` asks for from the project in `dir` (canonical).
pub fn build(request: &Request, bundling: &Bundling, dir: &Path) -> Result<Bundle> {
    let zip_name = request.output.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let skip = Skip {
        paths: vec![canonical(&request.output), dir.join(deps::STAGING_ROOT)],
        names: vec![collect::IGNORE_FILE.to_string(), deps::MARKER.to_string()],
        zip_name,
    };
    // Later entries replace earlier ones of the same name (see `latest`): the project's folders
    // win over dependencies, the handler file, settings.json and the tool's extra files over both.
    let mut entries: Vec<Entry> = Vec::new();
    let mut add = |mut list: Vec<Entry>| entries.append(&mut list);
    lock::private_folder(&dir.join(request.env_folder()))?;
    let installed = deps::install(request, dir)?;
    let started = std::time::Instant::now();
    if let Some(installed) = &installed {
        lock::private(&installed.staging, 0o700)?;
    }
    if let Some(deps) = installed.as_ref().filter(|d| d.bundle_dir.is_dir()) {
        add(collect::folder(&canonical(&deps.bundle_dir), &deps.target, &bundling.ignore, &skip)?);
    }
    for folder in &bundling.folders {
        let source = dir.join(&folder.source);
        let root = match std::fs::canonicalize(&source) {
            Ok(root) if root.is_dir() => root,
            Ok(_) => return Err(Error::new(format!("{}: {} is not a folder", folder.key, source.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::new(format!("{}: {} does not exist", folder.key, source.display()))
                    .with_help(format!("create the folder or fix {}", folder.key)))
            }
            Err(e) => return Err(Error::new(format!("{}: cannot read {}: {e}", folder.key, source.display()))),
        };
        add(collect::folder(&root, &folder.target, &bundling.ignore, &skip)?);
    }
    if let Some(handler) = &request.handler_file {
        let path = dir.join(handler);
        if !path.is_file() {
            return Err(Error::new(format!("handler file {} does not exist", path.display())));
        }
        let name = Path::new(handler).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        add(vec![Entry::file(name, path)?]);
    }
    if let Some(settings) = &bundling.settings {
        add(vec![Entry::bytes("settings.json", settings_json(settings))]);
    }
    add(request.extra_files.iter().map(|(name, text)| Entry::bytes(name.clone(), text.clone().into_bytes())).collect());
    let entries = latest(entries);
    debug!("collected {} files in {:.2} s", entries.len(), started.elapsed().as_secs_f64());
    let written = archive::write_file(entries, &request.output, request.format)?;
    info!("bundled {} files into {}", written.files, request.output.display());
    Ok(Bundle {
        tool: request.tool.clone(),
        path: request.output.clone(),
        size: written.size,
        sha256: base64::engine::general_purpose::STANDARD.encode(written.sha256),
        files: written.files as u64,
        staging: installed.map(|i| i.staging),
    })
}

/// `entries` sorted by name, of each name only the last one added. A list rather than a map keyed
/// by a copy of every name: a bundle may have tens of thousands of files.
fn latest(mut entries: Vec<Entry>) -> Vec<Entry> {
    // Stable: files of the same name stay in the order they were added.
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    entries.dedup_by(|later, kept| {
        if later.name != kept.name {
            return false;
        }
        debug!("{} replaces an earlier file of the same name", later.name);
        std::mem::swap(later, kept);
        true
    });
    entries.shrink_to_fit();
    entries
}

/// A zip too large to upload with the API call when no bucket is configured: an error, or with
/// `over_limit: warn` (the tool only builds the bundle) a warning.
pub fn check_size(request: &Request, built: &Bundle) -> Result<()> {
    let Some(limit) = request.direct_upload_limit else { return Ok(()) };
    if built.size <= limit || request.bucket_set {
        return Ok(());
    }
    let name = built.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let problem =
        format!("{name} is {}, above the {} limit for direct upload", human::bytes(built.size), human::bytes(limit));
    match (request.over_limit, request.bucket_key.as_str()) {
        (OverLimit::Warn, "") => warn!("{problem}"),
        (OverLimit::Warn, key) => warn!("{problem}: deploying it needs {key} (an upload through S3)"),
        (OverLimit::Fail, "") => return Err(Error::new(problem)),
        (OverLimit::Fail, key) => {
            return Err(Error::new(problem).with_help(format!("set {key} to upload it through S3")))
        }
    }
    Ok(())
}

/// `settings` as pretty JSON with sorted keys and a final newline.
pub fn settings_json(settings: &Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(&sorted(settings)).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let sorted: BTreeMap<&String, Value> = map.iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// `path` with its folder resolved (the file itself may not exist yet).
fn canonical(path: &Path) -> PathBuf {
    if let Ok(path) = std::fs::canonicalize(path) {
        return path;
    }
    match (path.parent().and_then(|p| std::fs::canonicalize(p).ok()), path.file_name()) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => path.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use std::fs::File;
    use std::io::Read;

    use sha2::{Digest, Sha256};

    use super::*;
    use fink_plugin_api::json;

    fn request(dir: &Path) -> Request {
        Request {
            tool: "lambda".into(),
            section: "lambda".into(),
            output: dir.join("bundle.zip"),
            handler_file: Some("handler.py".into()),
            runtime: "python3.12".into(),
            keep: false,
            direct_upload_limit: Some(50 * 1024 * 1024),
            bucket_key: "lambda.deployment.artifactBucket".into(),
            bucket_set: false,
            over_limit: OverLimit::Fail,
            format: Default::default(),
            extra_files: Default::default(),
            env: Some("dev".into()),
        }
    }

    fn project() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = std::fs::canonicalize(tmp.path()).unwrap();
        for (file, text) in
            [("handler.py", "def handle(e, c): pass\n"), ("src/app/a.py", "A = 1\n"), ("lib/b.py", "B\n")]
        {
            std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.join(file), text).unwrap();
        }
        (tmp, dir)
    }

    fn bundling(config: Value) -> Bundling {
        Bundling::from_config(&config, "lambda").unwrap()
    }

    fn read(zip: &Path, name: &str) -> String {
        let mut archive = zip::ZipArchive::new(File::open(zip).unwrap()).unwrap();
        let mut text = String::new();
        archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn folders_handler_and_settings_end_up_in_the_zip() {
        let (_tmp, dir) = project();
        let config = json!({"lambda": {"bundling": {"folders": [{"source": "src/app"}, {"source": "lib", "target": "."}]},
            "settings": {"zeta": 1, "alpha": {"y": true, "b": "x"}}}});
        let built = build(&request(&dir), &bundling(config), &dir).unwrap();
        assert_eq!(built.files, 4);
        let archive = zip::ZipArchive::new(File::open(&built.path).unwrap()).unwrap();
        let names: Vec<&str> = archive.file_names().collect();
        assert_eq!(names, vec!["app/a.py", "b.py", "handler.py", "settings.json"]);
        assert_eq!(
            read(&built.path, "settings.json"),
            "{\n  \"alpha\": {\n    \"b\": \"x\",\n    \"y\": true\n  },\n  \"zeta\": 1\n}\n"
        );
        assert_eq!(built.size, std::fs::metadata(&built.path).unwrap().len());
        let digest = Sha256::digest(std::fs::read(&built.path).unwrap());
        assert_eq!(built.sha256, base64::engine::general_purpose::STANDARD.encode(digest), "the file's sha256");
        assert_eq!(built.staging, None);
        assert_eq!(serde_json::to_value(&built).unwrap()["files"], 4);
    }

    #[test]
    fn a_tgz_request_gets_a_tar_gz_with_the_extra_files() {
        let (_tmp, dir) = project();
        let mut request = request(&dir);
        request.output = dir.join("bundle.tar.gz");
        request.handler_file = None;
        request.format = fink_plugin_api::payload::ArchiveFormat::Tgz;
        request.extra_files.insert("stack_output.yml".into(), "Url: https://x\n".into());
        let config =
            json!({"lambda": {"bundling": {"folders": [{"source": "lib", "target": "."}]}, "settings": {"a": 1}}});
        let built = build(&request, &bundling(config), &dir).unwrap();
        assert_eq!(built.files, 3);
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(File::open(&built.path).unwrap()));
        let mut found = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            found.push((entry.path().unwrap().to_string_lossy().into_owned(), text));
        }
        assert_eq!(
            found,
            vec![
                ("b.py".to_string(), "B\n".to_string()),
                ("settings.json".to_string(), "{\n  \"a\": 1\n}\n".to_string()),
                ("stack_output.yml".to_string(), "Url: https://x\n".to_string()),
            ]
        );
    }

    #[test]
    fn building_twice_gives_the_same_bytes() {
        let (_tmp, dir) = project();
        let config = json!({"lambda": {"bundling": {"folders": [{"source": "."}]}}});
        let first = build(&request(&dir), &bundling(config.clone()), &dir).unwrap();
        let bytes = std::fs::read(&first.path).unwrap();
        let second = build(&request(&dir), &bundling(config), &dir).unwrap();
        assert_eq!(bytes, std::fs::read(&second.path).unwrap());
        assert_eq!(first.sha256, second.sha256);
        // The zip itself was not bundled the second time.
        assert_eq!(first.files, second.files);
    }

    #[test]
    fn of_two_files_with_the_same_name_the_later_one_is_bundled() {
        let entries = vec![
            Entry::bytes("b", b"dependency".to_vec()),
            Entry::bytes("a", b"first".to_vec()),
            Entry::bytes("c", b"only".to_vec()),
            Entry::bytes("a", b"second".to_vec()),
            Entry::bytes("b", b"folder".to_vec()),
            Entry::bytes("a", b"third".to_vec()),
        ];
        let kept: Vec<(String, Vec<u8>)> = latest(entries)
            .into_iter()
            .map(|e| match e.source {
                archive::Source::Bytes(bytes) => (e.name, bytes),
                archive::Source::File(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            kept,
            vec![("a".into(), b"third".to_vec()), ("b".into(), b"folder".to_vec()), ("c".into(), b"only".to_vec())]
        );
    }

    #[test]
    fn a_missing_source_folder_names_its_key_and_path() {
        let (_tmp, dir) = project();
        let config = json!({"lambda": {"bundling": {"folders": [{"source": "src/app"}, {"source": "nope"}]}}});
        let err = build(&request(&dir), &bundling(config), &dir).unwrap_err();
        assert_eq!(
            err.message(),
            format!("lambda.bundling.folders[1].source: {} does not exist", dir.join("nope").display())
        );
    }

    #[test]
    fn a_missing_handler_file_is_named() {
        let (_tmp, dir) = project();
        let mut request = request(&dir);
        request.handler_file = Some("main.py".into());
        let err = build(&request, &Bundling::default(), &dir).unwrap_err();
        assert!(err.message().starts_with("handler file ") && err.message().ends_with("main.py does not exist"));
    }

    #[test]
    fn too_large_without_a_bucket_is_refused_with_help() {
        let dir = Path::new("/p");
        let built = Bundle {
            tool: "lambda".into(),
            path: dir.join("bundle.zip"),
            size: 66_270_000,
            sha256: String::new(),
            files: 1,
            staging: None,
        };
        let err = check_size(&request(dir), &built).unwrap_err();
        assert_eq!(err.message(), "bundle.zip is 63.2 MB, above the 50 MB limit for direct upload");
        assert_eq!(err.help(), Some("set lambda.deployment.artifactBucket to upload it through S3"));
        let mut with_bucket = request(dir);
        with_bucket.bucket_set = true;
        assert!(check_size(&with_bucket, &built).is_ok());
        assert!(check_size(&request(dir), &Bundle { size: 1000, ..built.clone() }).is_ok());
        // Only building the bundle: a warning, no error.
        let mut bundle_only = request(dir);
        bundle_only.over_limit = OverLimit::Warn;
        assert!(check_size(&bundle_only, &built).is_ok());
    }
}
