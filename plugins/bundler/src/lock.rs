//! One run per project and env at a time. Before the preBundle scripts the bundler takes an
//! advisory lock (flock) on `.fink/bundle/<env>/.lock` and keeps it until fink exits, so the
//! env's staging folder and bundle are never built by two runs at once; the deploy that reads the
//! bundle afterwards runs under the same lock. A second run for the same env fails at once, naming
//! the holder (pid, command, since when) written into the lock file. The operating system
//! releases the lock when the holding process ends, however it ends: a crashed run leaves nothing
//! stale behind. Runs for different envs use different folders and locks.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use fink_plugin_api::{json, warn, Error, Result, Value};

/// The lock file's name in the env folder.
pub const LOCK_FILE: &str = ".lock";

/// The locks this process holds, by path: kept open (so locked) until the process exits, and
/// taken only once per path (a second flock on another descriptor would block on our own lock).
static HELD: Mutex<BTreeMap<PathBuf, File>> = Mutex::new(BTreeMap::new());

/// Who holds a lock, as written into the lock file.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub pid: u32,
    /// `fink lambda deploy -e dev`.
    pub command: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
}

impl Holder {
    /// This process, running `command`, from now.
    pub fn me(command: &str) -> Holder {
        Holder { pid: std::process::id(), command: command.to_string(), since: now() }
    }

    fn to_json(&self) -> String {
        json!({"pid": self.pid, "command": self.command, "since": self.since}).to_string()
    }

    fn from_json(text: &str) -> Option<Holder> {
        let value: Value = serde_json::from_str(text.trim()).ok()?;
        Some(Holder {
            pid: u32::try_from(value.get("pid")?.as_u64()?).ok()?,
            command: value.get("command")?.as_str()?.to_string(),
            since: value.get("since")?.as_u64()?,
        })
    }

    /// `pid 4242, `fink lambda deploy -e dev`, since 2026-12-08 01:32:05 UTC (12 s ago)`.
    fn describe(&self, now: u64) -> String {
        let ago = fink_plugin_api::human::seconds(std::time::Duration::from_secs(now.saturating_sub(self.since)));
        format!("pid {}, `{}`, since {} ({ago} ago)", self.pid, self.command, utc(self.since))
    }
}

/// Takes the lock of the env folder `folder` (`<project>/.fink/bundle/<env>`, created private)
/// for this process, or fails at once naming the run that holds it. `env` names the env in the
/// message. Holding it already is fine.
pub fn hold(folder: &Path, env: &str, me: &Holder) -> Result<()> {
    let path = folder.join(LOCK_FILE);
    let mut held = HELD.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if held.contains_key(&path) {
        return Ok(());
    }
    private_folder(folder)?;
    let cannot = |e: std::io::Error| Error::new(format!("cannot open the lock file {}: {e}", path.display()));
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(cannot)?;
    // `lambda clean` removes a free env folder, lock file last: a lock taken on a file that was
    // removed meanwhile guards nothing, so the file is opened again until the lock is on the one
    // at the path (a few tries; a folder removed over and over is not worth waiting for).
    let mut tries = 0;
    let locked = loop {
        match file.try_lock() {
            Ok(()) if tries >= 5 || same_file(&file, &path) => break Ok(()),
            Ok(()) => {
                let _ = file.unlock();
                tries += 1;
                private_folder(folder)?;
                file = options.open(&path).map_err(cannot)?;
            }
            Err(error) => break Err(error),
        }
    };
    match locked {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match Holder::from_json(&text) {
                Some(holder) => holder.describe(now()),
                None => "a run that has not said who it is yet".to_string(),
            };
            return Err(Error::new(format!("another fink run is building env {env} of this project: {holder}"))
                .with_help(format!(
                    "wait for it to end and run again; runs for other envs are not held up (lock: {})",
                    path.display()
                )));
        }
        Err(TryLockError::Error(e)) => {
            // A file system without locks (some network mounts): go on as before locks existed.
            warn!("cannot lock {} ({e}): two runs for env {env} at once would share its bundle", path.display());
            return Ok(());
        }
    }
    let write = |file: &mut File| -> std::io::Result<()> {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(me.to_json().as_bytes())?;
        file.write_all(b"\n")
    };
    write(&mut file).map_err(|e| Error::new(format!("cannot write the lock file {}: {e}", path.display())))?;
    held.insert(path, file);
    Ok(())
}

/// Whether the open `file` is the one at `path` now (not one removed or replaced since).
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(open), Ok(there)) => open.dev() == there.dev() && open.ino() == there.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Creates `folder` (and its parents) and makes it readable by its owner only: it holds the
/// staging folders and bundles, whose `settings.json` may carry looked-up secrets.
pub fn private_folder(folder: &Path) -> Result<()> {
    let cannot = |e: std::io::Error| Error::new(format!("cannot create {}: {e}", folder.display()));
    std::fs::create_dir_all(folder).map_err(cannot)?;
    private(folder, 0o700)
}

/// Sets `mode` on `path` (Unix only).
pub fn private(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::new(format!("cannot set the mode of {}: {e}", path.display())))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `2026-12-08 01:32:05 UTC` for seconds since the Unix epoch (civil-from-days, proleptic
/// Gregorian calendar).
pub fn utc(secs: u64) -> String {
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

    #[cfg(unix)]
    #[test]
    fn a_lock_file_removed_and_made_again_is_not_the_one_held() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".lock");
        std::fs::write(&path, b"").unwrap();
        let open = File::open(&path).unwrap();
        assert!(same_file(&open, &path));
        std::fs::remove_file(&path).unwrap();
        assert!(!same_file(&open, &path), "removed");
        std::fs::write(&path, b"").unwrap();
        assert!(!same_file(&open, &path), "another file at the same path");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_693_525), "2026-12-08 01:32:05 UTC");
    }

    #[test]
    fn the_holder_round_trips_and_reads_naturally() {
        let holder = Holder { pid: 4242, command: "fink lambda deploy -e dev".into(), since: 1_796_693_525 };
        assert_eq!(Holder::from_json(&format!("{}\n", holder.to_json())), Some(holder.clone()));
        assert_eq!(
            holder.describe(1_796_693_537),
            "pid 4242, `fink lambda deploy -e dev`, since 2026-12-08 01:32:05 UTC (12 s ago)"
        );
        assert_eq!(Holder::from_json(""), None);
    }

    #[cfg(unix)]
    #[test]
    fn a_second_holder_is_refused_naming_the_first_and_the_folder_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join(".fink/bundle/dev");
        let me = Holder::me("fink lambda bundle -e dev");
        hold(&folder, "dev", &me).unwrap();
        hold(&folder, "dev", &me).unwrap();
        assert_eq!(std::fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
        // Another open file description of the same file: what another process would get.
        let other = File::open(folder.join(LOCK_FILE)).unwrap();
        assert!(matches!(other.try_lock(), Err(TryLockError::WouldBlock)));
        let text = std::fs::read_to_string(folder.join(LOCK_FILE)).unwrap();
        assert_eq!(Holder::from_json(&text), Some(me));
    }
}
