//! Dependencies: `requirements.txt` installed with pip for Python runtimes, `package.json` with
//! npm for Node.js runtimes, into the staging folder `.fink/bundle/<env>/<tool>`. With `keep`, an
//! unchanged manifest (its sha256 is kept in the staging folder) reuses the last install.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use fink_plugin_api::{info, Error, Result};
use sha2::{Digest, Sha256};

use crate::process;
use crate::request::Request;

/// The staging folders' parent, relative to the project dir (`lambda clean` removes it); one
/// folder per env below it ([`Request::staging`]), so two envs never share a staging folder.
pub const STAGING_ROOT: &str = ".fink/bundle";

/// The file in a staging folder that holds the sha256 of what was installed; never bundled.
pub const MARKER: &str = ".fink-deps.sha256";

/// Installed dependencies and where in the zip they go.
#[derive(Debug, Clone, PartialEq)]
pub struct Installed {
    /// The staging folder (`<project>/.fink/bundle/<env>/<tool>`).
    pub staging: PathBuf,
    /// The folder whose files are bundled (the staging folder, or its `node_modules`).
    pub bundle_dir: PathBuf,
    /// Where they go in the zip (`""` for the root).
    pub target: String,
}

/// A package manager and how fink runs it.
struct Manager {
    /// `pip` or `npm`, for messages.
    name: &'static str,
    /// The manifest it installs (`requirements.txt`, `package.json`).
    manifest: &'static str,
    /// Extra files copied and hashed with the manifest.
    companions: &'static [&'static str],
    /// The environment variable that may name the command.
    env: &'static str,
    /// The environment variable that limits an install (seconds, default 600).
    timeout_env: &'static str,
    /// Commands tried in order when the variable is unset.
    candidates: &'static [&'static [&'static str]],
}

const PIP: Manager = Manager {
    name: "pip",
    manifest: "requirements.txt",
    companions: &[],
    env: "FINK_PIP",
    timeout_env: "FINK_PIP_TIMEOUT",
    candidates: &[&["pip3"], &["pip"], &["python3", "-m", "pip"]],
};

const NPM: Manager = Manager {
    name: "npm",
    manifest: "package.json",
    companions: &["package-lock.json", ".npmrc"],
    env: "FINK_NPM",
    timeout_env: "FINK_NPM_TIMEOUT",
    candidates: &[&["npm"]],
};

/// Installs the project's dependencies for `request.runtime`, if it has any.
/// The dependency manifest (`requirements.txt`, `package.json`) [`install`] would install for
/// `request`, if the project has one.
pub fn manifest(request: &Request, dir: &Path) -> Option<&'static str> {
    let manager = if request.runtime.starts_with("python") {
        &PIP
    } else if request.runtime.starts_with("nodejs") {
        &NPM
    } else {
        return None;
    };
    dir.join(manager.manifest).is_file().then_some(manager.manifest)
}

pub fn install(request: &Request, dir: &Path) -> Result<Option<Installed>> {
    let manager = if request.runtime.starts_with("python") {
        &PIP
    } else if request.runtime.starts_with("nodejs") {
        &NPM
    } else {
        return Ok(None);
    };
    if !dir.join(manager.manifest).is_file() {
        return Ok(None);
    }
    let staging = request.staging(dir);
    let installed = if manager.name == "pip" {
        Installed { staging: staging.clone(), bundle_dir: staging.clone(), target: String::new() }
    } else {
        Installed { staging: staging.clone(), bundle_dir: staging.join("node_modules"), target: "node_modules".into() }
    };
    let digest = digest(manager, dir, &request.runtime)?;
    let shown = request.staging_shown();
    if request.keep && fs::read_to_string(staging.join(MARKER)).ok().as_deref() == Some(digest.as_str()) {
        info!("{} unchanged: reusing the dependencies in {shown}", manager.manifest);
        return Ok(Some(installed));
    }
    let command = find(manager, &request.runtime)?;
    let limit = process::Limit::from_env(manager.timeout_env)?;
    fresh(&staging)?;
    info!("installing {} with {} into {shown}", manager.manifest, manager.name);
    let done = if manager.name == "pip" {
        let mut pip = program(&command);
        pip.args(["install", "-r", "requirements.txt", "-t"]).arg(&staging).args([
            "--no-compile",
            "--disable-pip-version-check",
            "--quiet",
        ]);
        process::run(pip, dir, "pip", limit)?
    } else {
        for name in std::iter::once(&manager.manifest).chain(manager.companions) {
            if dir.join(name).is_file() {
                fs::copy(dir.join(name), staging.join(name)).map_err(|e| cannot("copy", &dir.join(name), e))?;
            }
        }
        let mut npm = program(&command);
        npm.args(["install", "--omit=dev", "--no-audit", "--no-fund"]);
        process::run(npm, &staging, "npm", limit)?
    };
    if !done.success() {
        return Err(Error::new(format!(
            "{} could not install {} ({}); its output:\n{}",
            manager.name,
            manager.manifest,
            done.how(),
            done.tail()
        ))
        .with_help(format!("the command was: {} (in {})", describe(manager, &command), shown)));
    }
    fs::write(staging.join(MARKER), &digest).map_err(|e| cannot("write", &staging.join(MARKER), e))?;
    Ok(Some(installed))
}

/// The sha256 (hex) of the runtime and the manifest with its companions.
fn digest(manager: &Manager, dir: &Path, runtime: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(runtime.as_bytes());
    for name in std::iter::once(&manager.manifest).chain(manager.companions) {
        let path = dir.join(name);
        hasher.update([0u8]);
        hasher.update(name.as_bytes());
        if path.is_file() {
            hasher.update([1u8]);
            hasher.update(fs::read(&path).map_err(|e| cannot("read", &path, e))?);
        }
    }
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The command to run: `$FINK_PIP`/`$FINK_NPM` split on spaces, else the first candidate found.
fn find(manager: &Manager, runtime: &str) -> Result<Vec<String>> {
    if let Some(custom) = std::env::var(manager.env).ok().filter(|v| !v.trim().is_empty()) {
        let parts: Vec<String> = custom.split_whitespace().map(String::from).collect();
        return match process::which(&parts[0]) {
            Some(path) => Ok(resolved(path, &parts[1..])),
            None => Err(Error::new(format!("{} names {}, which is not found on PATH", manager.env, parts[0]))
                .with_help(format!("set {} to the {} command, or unset it", manager.env, manager.name))),
        };
    }
    for candidate in manager.candidates {
        let Some(path) = process::which(candidate[0]) else { continue };
        let args: Vec<String> = candidate[1..].iter().map(|a| a.to_string()).collect();
        // `python3 -m pip` only counts when python3 has pip.
        if !args.is_empty() && !works(&path, &args) {
            continue;
        }
        return Ok(resolved(path, &args));
    }
    Err(Error::new(format!(
        "{} is needed to install {} for runtime {runtime}: not found on PATH",
        manager.name, manager.manifest
    ))
    .with_help(format!(
        "install {} (tried {}) or set {} to the command to use",
        manager.name,
        manager.candidates.iter().map(|c| c.join(" ")).collect::<Vec<_>>().join(", "),
        manager.env
    )))
}

fn resolved(path: PathBuf, args: &[String]) -> Vec<String> {
    std::iter::once(path.to_string_lossy().into_owned()).chain(args.iter().cloned()).collect()
}

/// Whether `path args --version` succeeds (within a minute: it is a quick check).
fn works(path: &Path, args: &[String]) -> bool {
    let mut check = Command::new(path);
    check.args(args).arg("--version");
    let limit = process::Limit::fixed(std::time::Duration::from_secs(60));
    process::run(check, Path::new("."), &format!("{} --version", path.display()), limit).is_ok_and(|d| d.success())
}

fn program(command: &[String]) -> Command {
    let mut program = Command::new(&command[0]);
    program.args(&command[1..]);
    program
}

fn describe(manager: &Manager, command: &[String]) -> String {
    let args = if manager.name == "pip" {
        "install -r requirements.txt -t <staging> --no-compile --disable-pip-version-check --quiet"
    } else {
        "install --omit=dev --no-audit --no-fund"
    };
    format!("{} {args}", command.join(" "))
}

/// An empty staging folder.
fn fresh(staging: &Path) -> Result<()> {
    if staging.exists() {
        fs::remove_dir_all(staging).map_err(|e| cannot("remove", staging, e))?;
    }
    fs::create_dir_all(staging).map_err(|e| cannot("create", staging, e))
}

fn cannot(what: &str, path: &Path, err: std::io::Error) -> Error {
    Error::new(format!("cannot {what} {}: {err}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(runtime: &str, keep: bool) -> Request {
        Request {
            tool: "lambda".into(),
            section: "lambda".into(),
            output: PathBuf::from("/nowhere/bundle.zip"),
            handler_file: None,
            runtime: runtime.into(),
            keep,
            direct_upload_limit: None,
            bucket_key: String::new(),
            bucket_set: false,
            over_limit: crate::request::OverLimit::Fail,
            format: Default::default(),
            extra_files: Default::default(),
            env: Some("dev".into()),
        }
    }

    #[test]
    fn no_manifest_or_another_runtime_installs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(install(&request("python3.12", false), dir.path()).unwrap(), None);
        fs::write(dir.path().join("requirements.txt"), "x\n").unwrap();
        assert_eq!(install(&request("java21", false), dir.path()).unwrap(), None);
    }

    #[test]
    fn keep_reuses_an_install_of_the_same_requirements() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("requirements.txt"), "somepkg==1.0\n").unwrap();
        let staging = dir.path().join(STAGING_ROOT).join("dev/lambda");
        fs::create_dir_all(&staging).unwrap();
        fs::write(staging.join("installed.py"), "").unwrap();
        fs::write(staging.join(MARKER), digest(&PIP, dir.path(), "python3.12").unwrap()).unwrap();
        let installed = install(&request("python3.12", true), dir.path()).unwrap().unwrap();
        assert_eq!(installed.bundle_dir, staging);
        assert!(staging.join("installed.py").exists(), "the staging folder was kept");
    }

    #[test]
    fn the_digest_changes_with_the_manifest_and_the_runtime() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("requirements.txt"), "a\n").unwrap();
        let first = digest(&PIP, dir.path(), "python3.12").unwrap();
        assert_ne!(first, digest(&PIP, dir.path(), "python3.13").unwrap());
        fs::write(dir.path().join("requirements.txt"), "b\n").unwrap();
        assert_ne!(first, digest(&PIP, dir.path(), "python3.12").unwrap());
    }

    #[test]
    fn describe_shows_the_whole_command() {
        let command = vec!["/usr/bin/pip3".to_string()];
        assert!(describe(&PIP, &command).starts_with("/usr/bin/pip3 install -r requirements.txt -t <staging>"));
    }
}
