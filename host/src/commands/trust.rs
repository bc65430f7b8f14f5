//! `fink trust [DIR]`, `fink trust --list` and `fink untrust [DIR]`: which folders' projects may
//! run their own code (see [`crate::project_trust`]).

use std::path::{Path, PathBuf};

use crate::error::Failure;
use crate::hash_cache::HashCache;
use crate::project_trust::{self, Grant, Store};
use crate::session::Session;

/// `DIR` made absolute against the current directory, or the project directory.
fn folder(session: &Session, dir: Option<&Path>) -> Result<PathBuf, Failure> {
    let Some(dir) = dir else { return Ok(project_trust::canonical(&session.project_dir)) };
    let cwd = std::env::current_dir().map_err(|e| Failure::new(format!("cannot read the current directory: {e}")))?;
    let dir = cwd.join(dir);
    if !dir.is_dir() {
        return Err(Failure::usage(format!("{} is not a folder", dir.display())));
    }
    Ok(project_trust::canonical(&dir))
}

/// Trusts a folder with the project plugin libraries below it as they are now.
pub fn trust(session: &Session, dir: Option<&Path>) -> Result<(), Failure> {
    let dir = folder(session, dir)?;
    let mut store = Store::read();
    let entry = store
        .trust(&dir, &mut HashCache::new())
        .map_err(|e| Failure::new(format!("cannot read the plugin libraries below {}: {e}", dir.display())))?;
    let path = store.write().map_err(|e| Failure::new(format!("cannot record the trust: {e}")))?;
    let mut out = String::new();
    outln!(
        out,
        "trusted {}: fink runs the code of the projects in it (plugins, hooks, Python files, generators, scripts)",
        dir.display()
    );
    for (file, hash) in &entry.plugins {
        outln!(out, "  plugin library {} (sha256 {})", file.display(), &hash[..16.min(hash.len())]);
    }
    if !entry.plugins.is_empty() {
        outln!(out, "  a library added or changed later needs `fink trust` again");
    }
    outln!(out, "  recorded in {}", path.display());
    super::emit(&out);
    Ok(())
}

/// Takes back the trust of exactly `DIR`, saying if a folder above still covers it.
pub fn untrust(session: &Session, dir: Option<&Path>) -> Result<(), Failure> {
    let dir = folder(session, dir)?;
    let mut store = Store::read();
    let removed = store.untrust(&dir);
    if removed {
        store.write().map_err(|e| Failure::new(format!("cannot record the change: {e}")))?;
    }
    let mut out = String::new();
    if removed {
        outln!(out, "untrusted {}", dir.display());
    } else {
        outln!(out, "{} was not trusted itself", dir.display());
    }
    super::emit(&out);
    match store.verdict(&dir).grant {
        Some(Grant::Recorded(entry)) => tracing::warn!(
            "{} is still trusted through {}; `fink untrust {}` takes that back",
            dir.display(),
            entry.path.display(),
            crate::trust::shell_quote(&entry.path.display().to_string())
        ),
        Some(Grant::Environment(path)) => tracing::warn!(
            "{} is still trusted through {} in {}",
            dir.display(),
            path.display(),
            project_trust::TRUSTED_PATHS_VAR
        ),
        None => {}
    }
    Ok(())
}

/// Lists the trusted folders: those `fink trust` recorded and those the environment names.
pub fn list(_dir: Option<&Path>) -> Result<(), Failure> {
    let store = Store::read();
    let mut out = String::new();
    for entry in &store.projects {
        let count = entry.plugins.len();
        let libraries = match count {
            0 => String::new(),
            1 => ", 1 project plugin library".to_string(),
            n => format!(", {n} project plugin libraries"),
        };
        outln!(out, "{}  (since {}{libraries})", entry.path.display(), date(entry.trusted_at));
    }
    for path in project_trust::environment_paths() {
        outln!(out, "{}  (from {})", path.display(), project_trust::TRUSTED_PATHS_VAR);
    }
    if out.is_empty() {
        outln!(out, "no trusted folders; `fink trust [DIR]` trusts one");
    }
    super::emit(&out);
    Ok(())
}

/// `YYYY-MM-DD` (UTC) of seconds since the epoch.
fn date(seconds: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let days = (seconds / 86_400) as i64 + 719_468;
    let era = days.div_euclid(146_097);
    let doe = days.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_796_000_000), "2026-11-30");
        assert_eq!(date(951_782_400), "2000-02-29");
    }
}
