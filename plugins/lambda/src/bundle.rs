//! The lambda tool's side of bundling: it asks the bundler plugin for a bundle (the context key
//! `bundle_request`, set at `bundle_pre` before the bundler runs) and reads the result (`bundle`).
//! The contract is documented in docs/bundler.md.

use std::path::{Path, PathBuf};

use fink_plugin_api::payload::OverLimit;
use fink_plugin_api::{info, outln, warn, Bundle, BundleRequest, Error, Event, Invocation, Result, Value};

use crate::settings::{Section, Settings};

/// Lambda's limit for a zip uploaded directly with the API call (larger ones go through S3).
pub const DIRECT_UPLOAD_LIMIT: u64 = 50 * 1024 * 1024;

/// Where the bundler keeps each env's staging folder, lock and bundle, relative to the project
/// directory.
pub const STAGING: &str = ".fink/bundle";

/// Where this env's bundle goes: `<project>/.fink/bundle/<env>/<zip>`, apart from every other
/// env's, so two envs deployed at once never ship each other's `settings.json`.
pub fn output(dir: &Path, env: Option<&str>, zip: &str) -> PathBuf {
    dir.join(STAGING).join(env.unwrap_or("_")).join(zip)
}

/// What `bundle` and `deploy` need built: the config's folders, the handler file and settings.
pub fn request(event: &mut Event) -> Result<()> {
    if event.tool() != Some("lambda") || !matches!(event.command(), Some("bundle" | "deploy")) {
        return Ok(());
    }
    if event.config().get("lambda").is_none() {
        return Ok(());
    }
    let settings = event.section::<Section>("lambda")?.settings()?;
    let dir = event.project_path();
    let keep = event.context().pointer("/arguments/keep").and_then(Value::as_bool).unwrap_or(false);
    let request = BundleRequest {
        tool: "lambda".into(),
        section: Some("lambda".into()),
        output: output(&dir, event.env(), &settings.zip),
        handler_file: settings.function.handler_file.clone(),
        runtime: settings.runtime().to_string(),
        keep,
        direct_upload_limit: Some(DIRECT_UPLOAD_LIMIT),
        bucket_key: "lambda.deployment.artifactBucket".into(),
        bucket_set: settings.deployment.artifact_bucket.is_some(),
        // The limit is the deploy's: `lambda bundle` only builds the zip, so it only warns.
        over_limit: if event.command() == Some("deploy") { OverLimit::Fail } else { OverLimit::Warn },
        ..BundleRequest::default()
    };
    event.set_payload(&request);
    Ok(())
}

/// Reads the bundle the bundler built for this run from the context (`sha256` is base64, Lambda's
/// CodeSha256 format).
pub fn built(call: &Invocation) -> Result<Bundle> {
    call.bundle_for("lambda")
}

/// `lambda bundle`: the bundler wrote the zip; say what is in it.
pub fn report(call: &Invocation) -> Result<()> {
    let built = built(call)?;
    outln!("{}, sha256 {}", built.summary(), built.sha256);
    Ok(())
}

/// `lambda clean`: removes every env's bundle and staging folder (`.fink/bundle`) and a zip an
/// older fink left in the project directory; says what it removed. An env folder whose lock
/// another run holds (a bundle or deploy under way) is kept, naming that run.
pub fn clean(dir: &Path, settings: &Settings) -> Result<()> {
    let mut removed = Vec::new();
    let zip = dir.join(&settings.zip);
    if zip.is_file() {
        std::fs::remove_file(&zip).map_err(|e| Error::new(format!("cannot remove {}: {e}", zip.display())))?;
        removed.push(settings.zip.clone());
    }
    let staging = dir.join(STAGING);
    if staging.is_dir() {
        let cannot = |path: &Path, e: std::io::Error| Error::new(format!("cannot remove {}: {e}", path.display()));
        let (mut envs, mut kept) = (Vec::new(), false);
        for entry in std::fs::read_dir(&staging).map_err(|e| cannot(&staging, e))? {
            let entry = entry.map_err(|e| cannot(&staging, e))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            // Not followed: a link is removed, not what it points at.
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_file(&path).map_err(|e| cannot(&path, e))?;
                continue;
            }
            match lock::clean_env(&path)? {
                None => envs.push(format!("{STAGING}/{name}/")),
                Some(holder) => {
                    kept = true;
                    warn!("kept {STAGING}/{name}/: another fink run is using it: {holder}");
                }
            }
        }
        // The whole folder, unless a run keeps (or started meanwhile in) an env folder.
        let whole = !kept
            && match std::fs::remove_dir(&staging) {
                Ok(()) => true,
                Err(e) if e.kind() == std::io::ErrorKind::DirectoryNotEmpty => false,
                Err(e) => return Err(cannot(&staging, e)),
            };
        if whole {
            removed.push(format!("{STAGING}/"));
        } else {
            removed.extend(envs);
        }
    }
    if removed.is_empty() {
        info!("nothing to clean");
    } else {
        info!("removed {}", removed.join(", "));
    }
    Ok(())
}

/// The bundler's per-env lock (plugins/bundler/src/lock.rs), as `lambda clean` needs it: the
/// bundler takes an advisory lock (flock) on `.fink/bundle/<env>/.lock` for the whole run and
/// writes its holder into the file. The bundler is a plugin library of its own, so this reads the
/// same file format and words the holder the same way.
mod lock {
    use std::fs::{OpenOptions, TryLockError};
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::path::Path;
    use std::time::{SystemTime, UNIX_EPOCH};

    use fink_plugin_api::{json, warn, Error, Result, Value};

    /// The lock file's name in the env folder.
    const LOCK_FILE: &str = ".lock";

    /// Removes the env folder `folder` under its lock: `None` when removed, else who holds the
    /// lock (`pid 4242, `fink lambda deploy -e dev`, since ... (12 s ago)`), the folder kept.
    pub fn clean_env(folder: &Path) -> Result<Option<String>> {
        let path = folder.join(LOCK_FILE);
        let cannot = |p: &Path, e: std::io::Error| Error::new(format!("cannot remove {}: {e}", p.display()));
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&path)
            .map_err(|e| Error::new(format!("cannot open the lock file {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => {
                // Who holds it, for a run that starts while the folder goes.
                let me = json!({"pid": std::process::id(), "command": "fink lambda clean", "since": now()});
                let _ = file.set_len(0).and_then(|()| file.seek(SeekFrom::Start(0)).map(drop));
                let _ = file.write_all(format!("{me}\n").as_bytes());
            }
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Ok(Some(match holder(&text) {
                    Some(holder) => holder,
                    None => "a run that has not said who it is yet".to_string(),
                }));
            }
            // A file system without locks (some network mounts): remove it as before locks existed.
            Err(TryLockError::Error(e)) => warn!("cannot lock {} ({e}): removing it anyway", path.display()),
        }
        // The lock file goes last, while still held, so no run starts in a half-removed folder.
        for entry in std::fs::read_dir(folder).map_err(|e| cannot(folder, e))? {
            let entry = entry.map_err(|e| cannot(folder, e))?;
            let inner = entry.path();
            if inner == path {
                continue;
            }
            let removed = if entry.file_type().is_ok_and(|t| t.is_dir()) {
                std::fs::remove_dir_all(&inner)
            } else {
                std::fs::remove_file(&inner)
            };
            removed.map_err(|e| cannot(&inner, e))?;
        }
        std::fs::remove_file(&path).map_err(|e| cannot(&path, e))?;
        std::fs::remove_dir(folder).map_err(|e| cannot(folder, e))?;
        drop(file);
        Ok(None)
    }

    /// The holder the bundler wrote, `{"pid": .., "command": "..", "since": <epoch seconds>}`, in
    /// the bundler's words.
    fn holder(text: &str) -> Option<String> {
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        let pid = value.get("pid")?.as_u64()?;
        let command = value.get("command")?.as_str()?;
        let since = value.get("since")?.as_u64()?;
        Some(describe(pid, command, since, now()))
    }

    /// `pid 4242, `fink lambda deploy -e dev`, since 2026-12-08 01:32:05 UTC (12 s ago)`.
    fn describe(pid: u64, command: &str, since: u64, now: u64) -> String {
        let ago = fink_plugin_api::human::seconds(std::time::Duration::from_secs(now.saturating_sub(since)));
        let command = crate::shown::escaped(command);
        format!("pid {pid}, `{command}`, since {} ({ago} ago)", utc(since))
    }

    fn now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }

    /// `2026-12-08 01:32:05 UTC` for seconds since the Unix epoch (civil-from-days).
    fn utc(secs: u64) -> String {
        let days = (secs / 86_400) as i64;
        let rest = secs % 86_400;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC", rest / 3600, rest % 3600 / 60, rest % 60)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_holder_reads_as_the_bundler_words_it() {
            // The bundler's own test (plugins/bundler/src/lock.rs) expects the same line.
            assert_eq!(
                describe(4242, "fink lambda deploy -e dev", 1_796_693_525, 1_796_693_537),
                "pid 4242, `fink lambda deploy -e dev`, since 2026-12-08 01:32:05 UTC (12 s ago)"
            );
            assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
            assert!(holder(r#"{"pid": 7, "command": "fink lambda bundle", "since": 0}"#)
                .is_some_and(|h| h.starts_with("pid 7, `fink lambda bundle`, since 1970-01-01 00:00:00 UTC (")));
            assert_eq!(holder(""), None);
        }

        #[test]
        fn a_held_env_folder_is_kept_and_a_free_one_removed() {
            let dir = tempfile::tempdir().unwrap();
            let (held, free) = (dir.path().join("dev"), dir.path().join("prod"));
            for folder in [&held, &free] {
                std::fs::create_dir_all(folder.join("lambda/sub")).unwrap();
                std::fs::write(folder.join("bundle.zip"), "zip").unwrap();
            }
            std::fs::write(
                held.join(LOCK_FILE),
                "{\"pid\": 9, \"command\": \"fink lambda deploy -e dev\", \"since\": 1}\n",
            )
            .unwrap();
            // Another open file description: what another process's lock is.
            let other = std::fs::File::open(held.join(LOCK_FILE)).unwrap();
            other.try_lock().unwrap();
            let holder = clean_env(&held).unwrap().unwrap();
            assert!(
                holder.starts_with("pid 9, `fink lambda deploy -e dev`, since 1970-01-01 00:00:01 UTC ("),
                "{holder}"
            );
            assert!(held.join("bundle.zip").is_file() && held.join(LOCK_FILE).is_file());
            assert_eq!(clean_env(&free).unwrap(), None);
            assert!(!free.exists());
            drop(other);
            assert_eq!(clean_env(&held).unwrap(), None);
            assert!(!held.exists());
        }
    }
}
