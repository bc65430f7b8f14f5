//! Whether fink may use a plugins folder or open a plugin file, by ssh's rule for key files:
//! nobody but its owner may write it, and its owner is the user running fink or root. Checked
//! before a file is opened; the refusal names the `chmod` (or `chown`) that fixes it.

use std::path::Path;

use crate::error::LoadError;

/// Checks a plugins folder (the folder itself, not the folders above it).
pub fn check_folder(dir: &Path) -> Result<(), LoadError> {
    check(dir, "this plugins folder")
}

/// Checks a folder's `plugins.lock` (whoever may write it decides what loads).
pub fn check_lock(path: &Path) -> Result<(), LoadError> {
    check(path, "it")
}

/// Checks a plugin file and, for a symlink, the folder its target is in (whoever may write that
/// folder can swap the target).
pub fn check_file(path: &Path) -> Result<(), LoadError> {
    check(path, "it")?;
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        if let Some(folder) = path.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
            check(&folder, &format!("the folder of its target, {},", folder.display()))?;
        }
    }
    Ok(())
}

/// Checks an open plugin file by its own metadata (`fstat` of the open file, so the file judged
/// is the file loaded), and for a symlink the folder of its target and the folders above that.
pub fn check_open_file(path: &Path, meta: &std::fs::Metadata) -> Result<(), LoadError> {
    judged(path, "it", meta)?;
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        if let Some(folder) = path.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
            check(&folder, &format!("the folder of its target, {},", folder.display()))?;
            check_ancestors(&folder)?;
        }
    }
    Ok(())
}

/// Checks every folder above `dir` (canonical) up to the root: whoever may write one of them can
/// rename the folders below it and put others in their place. A sticky folder that others may
/// write (`/tmp`) is fine when root or you own it: there only an entry's owner may rename it.
pub fn check_ancestors(dir: &Path) -> Result<(), LoadError> {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    for folder in dir.ancestors().skip(1) {
        check_ancestor(folder)?;
    }
    Ok(())
}

#[cfg(unix)]
fn check_ancestor(folder: &Path) -> Result<(), LoadError> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(folder) else { return Ok(()) };
    let me = effective_uid();
    let sticky = meta.mode() & 0o1000 != 0;
    let owner_ok = meta.uid() == me || meta.uid() == 0;
    if sticky && owner_ok {
        return Ok(());
    }
    let subject = format!("the folder above it, {},", folder.display());
    judged(folder, &subject, &meta)
}

#[cfg(not(unix))]
fn check_ancestor(_folder: &Path) -> Result<(), LoadError> {
    Ok(())
}

/// Why someone else could change a file or folder.
#[derive(Debug, PartialEq, Eq)]
enum Problem {
    /// `group-`, `world-` or `group- and world-`.
    Writable(&'static str),
    /// Owned by this uid, which is neither the user running fink nor root.
    Owner { owner: u32, me: u32 },
}

/// The verdict on a mode and owner, for the user `me`.
fn judge(mode: u32, owner: u32, me: u32) -> Option<Problem> {
    let writable = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("group- and world-"),
        (true, false) => Some("group-"),
        (false, true) => Some("world-"),
        (false, false) => None,
    };
    if let Some(who) = writable {
        return Some(Problem::Writable(who));
    }
    if owner != me && owner != 0 {
        return Some(Problem::Owner { owner, me });
    }
    None
}

#[cfg(unix)]
fn check(path: &Path, subject: &str) -> Result<(), LoadError> {
    // Not readable: the loader says why when it opens it.
    let Ok(meta) = std::fs::metadata(path) else { return Ok(()) };
    judged(path, subject, &meta)
}

#[cfg(unix)]
fn judged(path: &Path, subject: &str, meta: &std::fs::Metadata) -> Result<(), LoadError> {
    use std::os::unix::fs::MetadataExt;
    let quoted = shell_quote(&path.display().to_string());
    match judge(meta.mode(), meta.uid(), effective_uid()) {
        None => Ok(()),
        Some(Problem::Writable(who)) => Err(LoadError::Untrusted {
            problem: format!("{subject} is {who}writable"),
            fix: format!("chmod go-w {quoted}"),
        }),
        Some(Problem::Owner { owner, me }) => Err(LoadError::Untrusted {
            problem: format!("{subject} is owned by uid {owner}, neither you (uid {me}) nor root"),
            fix: format!("sudo chown {me} {quoted}"),
        }),
    }
}

#[cfg(not(unix))]
fn check(_path: &Path, _subject: &str) -> Result<(), LoadError> {
    Ok(())
}

#[cfg(not(unix))]
fn judged(_path: &Path, _subject: &str, _meta: &std::fs::Metadata) -> Result<(), LoadError> {
    Ok(())
}

/// The user fink runs as.
#[cfg(unix)]
pub fn effective_uid() -> u32 {
    extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: geteuid takes no arguments, always succeeds and touches no memory of ours.
    unsafe { geteuid() }
}

/// `text` as one shell word: as it is when that is safe, else in single quotes.
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+@%=:,".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_by_group_or_others_or_owned_by_a_stranger_is_refused() {
        assert_eq!(judge(0o100644, 1000, 1000), None);
        assert_eq!(judge(0o040755, 0, 1000), None, "root's files are trusted");
        assert_eq!(judge(0o100664, 1000, 1000), Some(Problem::Writable("group-")));
        assert_eq!(judge(0o040757, 1000, 1000), Some(Problem::Writable("world-")));
        assert_eq!(judge(0o041777, 0, 1000), Some(Problem::Writable("group- and world-")), "sticky /tmp too");
        assert_eq!(judge(0o100644, 1001, 1000), Some(Problem::Owner { owner: 1001, me: 1000 }));
        assert_eq!(judge(0o100644, 1001, 0), Some(Problem::Owner { owner: 1001, me: 0 }));
    }

    #[cfg(unix)]
    #[test]
    fn a_folder_above_that_others_may_write_is_refused_unless_it_is_sticky() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let open = tmp.path().join("open");
        let plugins = open.join("team/plugins");
        std::fs::create_dir_all(&plugins).unwrap();
        for dir in [tmp.path().to_path_buf(), open.join("team"), plugins.clone()] {
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let error = check_ancestors(&plugins).unwrap_err().to_string();
        let open = open.canonicalize().unwrap();
        assert_eq!(
            error,
            format!(
                "not trusted: the folder above it, {}, is group- and world-writable; fix with `chmod go-w {}`",
                open.display(),
                open.display()
            )
        );
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(check_ancestors(&plugins).is_ok(), "a sticky folder like /tmp is fine");
    }

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_quote("/home/ana/.local/share/fink/plugins"), "/home/ana/.local/share/fink/plugins");
        assert_eq!(shell_quote("/tmp/my plugins"), "'/tmp/my plugins'");
        assert_eq!(shell_quote("/tmp/it's"), r"'/tmp/it'\''s'");
    }

    #[cfg(unix)]
    #[test]
    fn a_group_writable_file_names_the_chmod_and_a_symlink_checks_its_targets_folder() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("libx.so");
        std::fs::write(&file, b"x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        let error = check_file(&file).unwrap_err().to_string();
        assert_eq!(error, format!("not trusted: it is group-writable; fix with `chmod go-w {}`", file.display()));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(check_file(&file).is_ok());

        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let target = shared.join("liby.so");
        std::fs::write(&target, b"y").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let link = tmp.path().join("liby.so");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let error = check_file(&link).unwrap_err().to_string();
        let shared = shared.canonicalize().unwrap();
        assert!(
            error.contains(&format!("the folder of its target, {}, is group- and world-writable", shared.display()))
        );
        assert!(check_folder(&shared)
            .unwrap_err()
            .to_string()
            .contains("this plugins folder is group- and world-writable"));
    }
}
